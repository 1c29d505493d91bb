#include "aiops/kube/client.hpp"

#include <curl/curl.h>

#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "aiops/kube/status.hpp"

namespace aiops::kube {

namespace {

// libcurl's global state must be set up once before threads use it.
struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};
void EnsureCurl() {
  static CurlGlobal global;
}

struct CurlHandle {
  CURL* h = curl_easy_init();
  curl_slist* headers = nullptr;
  ~CurlHandle() {
    if (headers != nullptr) curl_slist_free_all(headers);
    curl_easy_cleanup(h);
  }
};

size_t AppendBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t CaptureRetryAfter(char* data, size_t size, size_t n, void* user) {
  std::string line(data, size * n);
  const std::string key = "retry-after:";
  if (line.size() > key.size()) {
    std::string lower = line.substr(0, key.size());
    for (auto& ch : lower)
      ch = static_cast<char>(std::tolower(ch));
    if (lower == key) {
      auto v = line.substr(key.size());
      v.erase(0, v.find_first_not_of(' '));
      v.erase(v.find_last_not_of("\r\n ") + 1);
      *static_cast<std::string*>(user) = v;
    }
  }
  return size * n;
}

bool Retryable(const Client::RawResponse& r) {
  return r.status == 0 || r.status == 429 || r.status >= 500;
}

ApiError ErrorFrom(const Client::RawResponse& r) {
  ApiError e;
  e.code = r.status;
  if (r.status == 0) {
    e.reason = "Transport";
    e.message = r.transport_error;
    return e;
  }
  return ErrorFromBody(r.status, r.body);
}

std::chrono::milliseconds Jitter(std::chrono::milliseconds base) {
  thread_local std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<double> d(0.5, 1.5);
  return std::chrono::milliseconds(static_cast<long>(base.count() * d(rng)));
}

void ApplyTls(CURL* h, const Credentials& c) {
  if (c.insecure_skip_tls_verify) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!c.ca_pem.empty()) {
    curl_blob blob{const_cast<char*>(c.ca_pem.data()), c.ca_pem.size(), CURL_BLOB_COPY};
    curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
  } else if (!c.ca_file.empty()) {
    curl_easy_setopt(h, CURLOPT_CAINFO, c.ca_file.c_str());
  }
  if (!c.client_cert_pem.empty()) {
    curl_blob blob{const_cast<char*>(c.client_cert_pem.data()), c.client_cert_pem.size(),
                   CURL_BLOB_COPY};
    curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &blob);
    curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
  } else if (!c.client_cert_file.empty()) {
    curl_easy_setopt(h, CURLOPT_SSLCERT, c.client_cert_file.c_str());
  }
  if (!c.client_key_pem.empty()) {
    curl_blob blob{const_cast<char*>(c.client_key_pem.data()), c.client_key_pem.size(),
                   CURL_BLOB_COPY};
    curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &blob);
    curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
  } else if (!c.client_key_file.empty()) {
    curl_easy_setopt(h, CURLOPT_SSLKEY, c.client_key_file.c_str());
  }
}

}  // namespace

std::string ApiError::ToString() const {
  std::string out = std::to_string(code) + " " + reason;
  if (!message.empty()) out += ": " + message;
  return out;
}

std::string UrlEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string Path(const std::string& group, const std::string& version, const std::string& resource,
                 const std::string& ns, const std::string& name, const std::string& subresource) {
  std::string p = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  if (!ns.empty()) p += "/namespaces/" + ns;
  p += "/" + resource;
  if (!name.empty()) p += "/" + name;
  if (!subresource.empty()) p += "/" + subresource;
  return p;
}

Client::Client(Credentials credentials, ClientOptions options)
    : credentials_(std::move(credentials)), options_(std::move(options)) {
  EnsureCurl();
  while (!credentials_.server.empty() && credentials_.server.back() == '/') {
    credentials_.server.pop_back();
  }
}

Client::~Client() = default;

std::string Client::BearerToken() {
  if (credentials_.token_file.empty()) return credentials_.token;
  // Projected service-account tokens rotate; re-read the file at most once a minute.
  std::lock_guard lock(token_mu_);
  auto now = std::chrono::steady_clock::now();
  if (cached_token_.empty() || now - token_read_at_ > std::chrono::minutes(1)) {
    std::ifstream in(credentials_.token_file);
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string t = ss.str();
    t.erase(t.find_last_not_of(" \r\n\t") + 1);
    if (!t.empty()) cached_token_ = t;
    token_read_at_ = now;
  }
  return cached_token_;
}

Client::RawResponse Client::Request(const std::string& method, const std::string& path_and_query,
                                    const std::string& body, const std::string& content_type,
                                    const std::string& accept) {
  RawResponse out;
  CurlHandle c;
  std::string url = credentials_.server + path_and_query;
  curl_easy_setopt(c.h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c.h, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(c.h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c.h, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(c.h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout.count()));
  curl_easy_setopt(c.h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(c.h, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(c.h, CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(c.h, CURLOPT_HEADERFUNCTION, CaptureRetryAfter);
  curl_easy_setopt(c.h, CURLOPT_HEADERDATA, &out.retry_after);
  ApplyTls(c.h, credentials_);
  c.headers = curl_slist_append(c.headers, ("Accept: " + accept).c_str());
  if (auto token = BearerToken(); !token.empty()) {
    c.headers = curl_slist_append(c.headers, ("Authorization: Bearer " + token).c_str());
  }
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    c.headers = curl_slist_append(c.headers, ("Content-Type: " + content_type).c_str());
    curl_easy_setopt(c.h, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c.h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(c.h, CURLOPT_HTTPHEADER, c.headers);
  CURLcode rc = curl_easy_perform(c.h);
  if (rc != CURLE_OK) {
    out.transport_error = std::string(curl_easy_strerror(rc)) + " (" + url + ")";
    return out;
  }
  long status = 0;
  curl_easy_getinfo(c.h, CURLINFO_RESPONSE_CODE, &status);
  out.status = static_cast<int>(status);
  return out;
}

Result<Json> Client::RequestJson(const std::string& method, const std::string& path_and_query,
                                 const std::string& body, const std::string& content_type) {
  auto started = std::chrono::steady_clock::now();
  auto backoff = options_.initial_backoff;
  for (int attempt = 0;; ++attempt) {
    auto r = Request(method, path_and_query, body, content_type);
    if (r.status >= 200 && r.status < 300) {
      auto doc = Json::parse(r.body, nullptr, false);
      if (doc.is_discarded()) {
        return ApiError{r.status, "InvalidResponse", "answer is not JSON", {}};
      }
      return doc;
    }
    auto elapsed = std::chrono::steady_clock::now() - started;
    if (!Retryable(r) || attempt >= options_.max_retries || elapsed >= options_.retry_budget) {
      return ErrorFrom(r);
    }
    auto wait = Jitter(backoff);
    if (!r.retry_after.empty()) {
      try {
        wait = std::max(wait, std::chrono::milliseconds(std::stoi(r.retry_after) * 1000));
      } catch (const std::exception&) {
      }
    }
    auto remaining =
        std::chrono::duration_cast<std::chrono::milliseconds>(options_.retry_budget - elapsed);
    if (wait > remaining) return ErrorFrom(r);
    std::this_thread::sleep_for(wait);
    backoff *= 2;
  }
}

Result<Json> Client::Get(const std::string& path) {
  return RequestJson("GET", path, "", "");
}

Result<std::string> Client::ListEach(const std::string& path, const ListOptions& options,
                                     const std::function<void(Json& item)>& on_item) {
  std::string cont;
  std::string resource_version;
  bool first = true;
  do {
    std::string q = path + "?limit=" + std::to_string(options.page_size);
    if (!options.label_selector.empty()) q += "&labelSelector=" + UrlEncode(options.label_selector);
    if (!options.field_selector.empty()) q += "&fieldSelector=" + UrlEncode(options.field_selector);
    if (!cont.empty()) q += "&continue=" + UrlEncode(cont);
    auto page = RequestJson("GET", q, "", "");
    if (!page.ok()) return page.error();
    auto& doc = page.value();
    const Json& meta = doc.contains("metadata") ? doc["metadata"] : Json::object();
    if (first) resource_version = meta.value("resourceVersion", "");
    first = false;
    cont = meta.value("continue", "");
    if (doc.contains("items") && doc["items"].is_array()) {
      for (auto& item : doc["items"])
        on_item(item);
    }
  } while (!cont.empty());
  return resource_version;
}

Result<Json> Client::List(const std::string& path, const ListOptions& options) {
  Json items = Json::array();
  auto rv = ListEach(path, options, [&](Json& item) { items.push_back(std::move(item)); });
  if (!rv.ok()) return rv.error();
  return Json{{"items", std::move(items)}, {"metadata", {{"resourceVersion", rv.value()}}}};
}

Result<Json> Client::Patch(const std::string& path, const Json& body, PatchType type,
                           const PatchOptions& options) {
  std::string q = path + "?fieldManager=" + UrlEncode(options.field_manager);
  std::string content_type;
  switch (type) {
    case PatchType::kApply:
      content_type = "application/apply-patch+yaml";  // JSON is valid YAML
      if (options.force) q += "&force=true";
      break;
    case PatchType::kMerge:
      content_type = "application/merge-patch+json";
      break;
    case PatchType::kStrategicMerge:
      content_type = "application/strategic-merge-patch+json";
      break;
  }
  if (options.dry_run) q += "&dryRun=All";
  return RequestJson("PATCH", q, body.dump(), content_type);
}

Result<std::string> Client::GetText(const std::string& path, const std::string& query) {
  auto r = Request("GET", query.empty() ? path : path + "?" + query, "", "", "*/*");
  if (r.status >= 200 && r.status < 300) return r.body;
  return ErrorFrom(r);
}

namespace {

struct WatchState {
  const std::function<bool(const WatchEvent&)>* on_event;
  const std::atomic<bool>* stop;
  std::string buffer;
  std::string resource_version;
  std::optional<ApiError> error;
  bool gone = false;
  bool callback_stopped = false;
  int http_status = 0;
  std::string error_body;
};

// Splits the chunked stream into lines, one JSON watch event per line.
size_t OnWatchData(char* data, size_t size, size_t n, void* user) {
  auto* st = static_cast<WatchState*>(user);
  size_t len = size * n;
  if (st->http_status == 0) {
    // First bytes of a non-2xx answer: keep the Status body, do not parse as events.
    st->error_body.append(data, len);
    return len;
  }
  st->buffer.append(data, len);
  size_t start = 0;
  for (size_t nl; (nl = st->buffer.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::string line = st->buffer.substr(start, nl - start);
    if (line.empty()) continue;
    auto parsed = ParseWatchLine(line);
    if (!parsed.event) continue;
    if (parsed.error) {
      st->gone = parsed.error->Gone();
      st->error = std::move(parsed.error);
      return 0;  // abort the transfer
    }
    if (!parsed.resource_version.empty()) st->resource_version = parsed.resource_version;
    if (!(*st->on_event)(*parsed.event)) {
      st->callback_stopped = true;
      return 0;
    }
  }
  st->buffer.erase(0, start);
  return len;
}

int OnWatchProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* st = static_cast<WatchState*>(user);
  return st->stop->load() ? 1 : 0;  // non-zero aborts
}

size_t OnWatchHeader(char* data, size_t size, size_t n, void* user) {
  auto* st = static_cast<WatchState*>(user);
  std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    auto sp = line.find(' ');
    int code = sp == std::string::npos ? 0 : std::atoi(line.c_str() + sp + 1);
    // Record 2xx as "streaming"; others stay 0 so the body is kept as the error.
    st->http_status = (code >= 200 && code < 300) ? code : 0;
  }
  return size * n;
}

}  // namespace

WatchEnd Client::Watch(const std::string& path, const std::string& resource_version,
                       const std::string& label_selector,
                       const std::function<bool(const WatchEvent&)>& on_event,
                       const std::atomic<bool>& stop, int timeout_seconds) {
  WatchState st{&on_event, &stop, "", resource_version, std::nullopt, false, false, 0, ""};
  std::string q = path + "?watch=true&allowWatchBookmarks=true&timeoutSeconds=" +
                  std::to_string(timeout_seconds);
  if (!resource_version.empty()) q += "&resourceVersion=" + UrlEncode(resource_version);
  if (!label_selector.empty()) q += "&labelSelector=" + UrlEncode(label_selector);

  CurlHandle c;
  std::string url = credentials_.server + q;
  curl_easy_setopt(c.h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c.h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c.h, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(c.h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  // No total timeout: the server ends the watch after timeoutSeconds. A dead connection is
  // caught by the low-speed limit (bookmarks and events keep a live one above it).
  curl_easy_setopt(c.h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c.h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(timeout_seconds + 30));
  curl_easy_setopt(c.h, CURLOPT_WRITEFUNCTION, OnWatchData);
  curl_easy_setopt(c.h, CURLOPT_WRITEDATA, &st);
  curl_easy_setopt(c.h, CURLOPT_HEADERFUNCTION, OnWatchHeader);
  curl_easy_setopt(c.h, CURLOPT_HEADERDATA, &st);
  curl_easy_setopt(c.h, CURLOPT_XFERINFOFUNCTION, OnWatchProgress);
  curl_easy_setopt(c.h, CURLOPT_XFERINFODATA, &st);
  curl_easy_setopt(c.h, CURLOPT_NOPROGRESS, 0L);
  ApplyTls(c.h, credentials_);
  c.headers = curl_slist_append(c.headers, "Accept: application/json");
  if (auto token = BearerToken(); !token.empty()) {
    c.headers = curl_slist_append(c.headers, ("Authorization: Bearer " + token).c_str());
  }
  curl_easy_setopt(c.h, CURLOPT_HTTPHEADER, c.headers);
  CURLcode rc = curl_easy_perform(c.h);

  WatchEnd end;
  end.resource_version = st.resource_version;
  if (stop.load() || st.callback_stopped) {
    end.reason = WatchEnd::Reason::kStopped;
    return end;
  }
  if (st.error) {
    end.reason = st.gone ? WatchEnd::Reason::kGone : WatchEnd::Reason::kError;
    end.error = st.error;
    return end;
  }
  long status = 0;
  curl_easy_getinfo(c.h, CURLINFO_RESPONSE_CODE, &status);
  if (rc != CURLE_OK || status < 200 || status >= 300) {
    RawResponse r;
    r.status = rc == CURLE_OK ? static_cast<int>(status) : 0;
    r.body = st.error_body;
    if (rc != CURLE_OK) r.transport_error = curl_easy_strerror(rc);
    end.error = ErrorFrom(r);
    end.reason = end.error->Gone() ? WatchEnd::Reason::kGone : WatchEnd::Reason::kError;
    return end;
  }
  end.reason = WatchEnd::Reason::kClosed;
  return end;
}

}  // namespace aiops::kube
