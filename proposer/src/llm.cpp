#include "proposer/llm.hpp"

#include <curl/curl.h>

#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "aiops/json_fields.hpp"

namespace aiops::proposer {

using nlohmann::json;

namespace {

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

std::string TrimSlash(std::string s) {
  while (!s.empty() && s.back() == '/')
    s.pop_back();
  return s;
}

json Messages(const LlmRequest& r) {
  json out = json::array();
  for (const auto& m : r.messages)
    out.push_back({{"role", m.role}, {"content", m.content}});
  return out;
}

class HttpBackend : public LlmBackend {
 public:
  explicit HttpBackend(LlmConfig c) : config_(std::move(c)) {}
  std::string model() const override { return config_.model; }

  LlmResponse Chat(const LlmRequest& request) override {
    LlmResponse out;
    const std::string body = Body(request).dump();
    std::vector<std::string> headers = {"Content-Type: application/json"};
    if (!config_.api_key.empty()) headers.push_back("Authorization: Bearer " + config_.api_key);
    auto started = std::chrono::steady_clock::now();
    auto deadline = started + request.timeout;
    int backoff = config_.retry_backoff_ms;
    for (int attempt = 0;; ++attempt) {
      out.attempts = attempt + 1;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        out.timed_out = true;
        out.error = "timed out after " + std::to_string(request.timeout.count()) + " ms";
        break;
      }
      HttpResult r = HttpPostJson(Url(), body, headers, left);
      out.http_status = r.status;
      if (r.timed_out) {
        out.timed_out = true;
        out.error = "timed out after " + std::to_string(request.timeout.count()) + " ms";
        break;
      }
      bool transient = !r.error.empty() || r.status >= 500 || r.status == 429;
      if (r.error.empty() && r.status == 200) {
        Parse(r.body, out);
        break;
      }
      out.error = !r.error.empty()
                      ? r.error
                      : "HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 300);
      if (!transient || attempt >= config_.retries) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(backoff));
      backoff *= 2;
    }
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return out;
  }

 protected:
  virtual std::string Url() const = 0;
  virtual json Body(const LlmRequest& r) const = 0;
  virtual void Parse(const std::string& body, LlmResponse& out) const = 0;
  LlmConfig config_;
};

class Ollama : public HttpBackend {
 public:
  using HttpBackend::HttpBackend;
  std::string name() const override { return "ollama"; }

 protected:
  std::string Url() const override {
    return TrimSlash(config_.url.empty() ? "http://127.0.0.1:11434" : config_.url) + "/api/chat";
  }
  json Body(const LlmRequest& r) const override { return OllamaBody(config_.model, r); }
  void Parse(const std::string& body, LlmResponse& out) const override {
    ParseOllamaResponse(body, out);
  }
};

class OpenAi : public HttpBackend {
 public:
  using HttpBackend::HttpBackend;
  std::string name() const override { return "openai"; }

 protected:
  std::string Url() const override {
    std::string base = TrimSlash(config_.url.empty() ? "https://api.openai.com" : config_.url);
    // Accept both "http://host:8000" and "http://host:8000/v1".
    if (base.size() >= 3 && base.compare(base.size() - 3, 3, "/v1") == 0) {
      return base + "/chat/completions";
    }
    return base + "/v1/chat/completions";
  }
  json Body(const LlmRequest& r) const override {
    return OpenAiBody(config_.model, r, config_.max_tokens);
  }
  void Parse(const std::string& body, LlmResponse& out) const override {
    ParseOpenAiResponse(body, out);
  }
};

}  // namespace

namespace {
// Token counts are metrics only: one of another type or out of range counts as 0 rather
// than turning a usable answer into an exception.
uint32_t TokenCount(const json& j, const char* key) {
  return static_cast<uint32_t>(json_fields::Integer(j, key, 0, 0, UINT32_MAX));
}
}  // namespace

void ParseOllamaResponse(const std::string& body, LlmResponse& out) {
  auto j = json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("message") || !j["message"].is_object() ||
      !j["message"].contains("content") || !j["message"]["content"].is_string()) {
    out.error = "ollama answer has no message.content";
    return;
  }
  out.content = j["message"]["content"].get<std::string>();
  out.prompt_tokens = TokenCount(j, "prompt_eval_count");
  out.completion_tokens = TokenCount(j, "eval_count");
  out.ok = true;
}

void ParseOpenAiResponse(const std::string& body, LlmResponse& out) {
  auto j = json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("choices") || !j["choices"].is_array() ||
      j["choices"].empty() || !j["choices"][0].contains("message") ||
      !j["choices"][0]["message"].contains("content") ||
      !j["choices"][0]["message"]["content"].is_string()) {
    out.error = "openai answer has no choices[0].message.content";
    return;
  }
  out.content = j["choices"][0]["message"]["content"].get<std::string>();
  if (j.contains("usage") && j["usage"].is_object()) {
    out.prompt_tokens = TokenCount(j["usage"], "prompt_tokens");
    out.completion_tokens = TokenCount(j["usage"], "completion_tokens");
  }
  out.ok = true;
}

json OllamaBody(const std::string& model, const LlmRequest& r) {
  return {{"model", model},
          {"messages", Messages(r)},
          {"stream", false},
          {"format", r.schema},
          {"options", {{"temperature", 0}}}};
}

json OpenAiBody(const std::string& model, const LlmRequest& r, int max_tokens) {
  return {
      {"model", model},
      {"messages", Messages(r)},
      {"temperature", 0},
      {"max_tokens", max_tokens},
      {"response_format",
       {{"type", "json_schema"},
        {"json_schema", {{"name", "aiops_proposal"}, {"strict", false}, {"schema", r.schema}}}}}};
}

std::unique_ptr<LlmBackend> MakeBackend(const LlmConfig& config) {
  if (config.backend == "none" || config.backend.empty()) return nullptr;
  if (config.backend == "ollama") return std::make_unique<Ollama>(config);
  if (config.backend == "openai") return std::make_unique<OpenAi>(config);
  throw std::invalid_argument("unknown LLM backend " + config.backend +
                              " (none, ollama or openai)");
}

HttpResult HttpPostJson(const std::string& url, const std::string& body,
                        const std::vector<std::string>& headers,
                        std::chrono::milliseconds timeout) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  HttpResult out;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    out.error = "curl_easy_init failed";
    return out;
  }
  curl_slist* list = nullptr;
  for (const auto& h : headers)
    list = curl_slist_append(list, h.c_str());
  long ms = std::max<long>(1, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, ms);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, std::min<long>(ms, 10000));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out.body);
  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    out.timed_out = true;
    out.error = "timed out";
  } else if (rc != CURLE_OK) {
    out.error = std::string("HTTP request to ") + url + " failed: " + curl_easy_strerror(rc);
  } else {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out.status);
  }
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return out;
}

}  // namespace aiops::proposer
