#include "api_server.hpp"

#include "aiops/base64.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <deque>
#include <thread>

#include "clock.hpp"
#include "discovery.hpp"
#include "protobuf.hpp"
#include "sim_control.hpp"
#include "status.hpp"
#include "tables.hpp"

namespace kubesim {
namespace {

ApiResponse JsonResponse(int status, const json& body) {
  ApiResponse r;
  r.status = status;
  r.body = body.dump();
  return r;
}

ApiResponse ErrorResponse(const ApiError& e) {
  return JsonResponse(e.code(), e.ToStatus());
}

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

bool WantsTable(const ApiRequest& req) {
  return req.Header("accept").find("as=Table") != std::string::npos;
}

IncludeObject IncludeMode(const ApiRequest& req) {
  std::string v = req.Query("includeObject", "Metadata");
  if (v == "None") return IncludeObject::kNone;
  if (v == "Object") return IncludeObject::kObject;
  return IncludeObject::kMetadata;
}

// The list-level filter built from labelSelector and fieldSelector.
struct Filter {
  LabelSelector labels;
  FieldSelector fields;
  bool Matches(const json& obj) const {
    return labels.Matches(Path(obj, {"metadata", "labels"})) && fields.Matches(obj);
  }
  bool Empty() const { return labels.Empty() && fields.Empty(); }
};

Filter MakeFilter(const ApiRequest& req) {
  return Filter{LabelSelector::Parse(req.Query("labelSelector")),
                FieldSelector::Parse(req.Query("fieldSelector"))};
}

std::string ListKind(const ResourceInfo& r) {
  return r.kind + "List";
}

// DeleteOptions come as query parameters or as a JSON body (kubectl sends the body).
DeleteOptions ParseDeleteOptions(const ApiRequest& req) {
  DeleteOptions o;
  json body = json::object();
  if (!req.body.empty()) {
    body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
      throw BadRequest("the body of the request could not be decoded as DeleteOptions");
  }
  std::string dry = req.Query("dryRun");
  if (body.contains("dryRun") && body["dryRun"].is_array() && !body["dryRun"].empty())
    dry = body["dryRun"][0].get<std::string>();
  if (!dry.empty() && dry != "All")
    throw BadRequest("dryRun: Unsupported value: \"" + dry + "\": supported values: \"All\"");
  o.dry_run = dry == "All";
  std::string grace = req.Query("gracePeriodSeconds");
  if (!grace.empty()) {
    try {
      o.grace_period_seconds = std::stoll(grace);
    } catch (...) {
      throw BadRequest("invalid gracePeriodSeconds: " + grace);
    }
  }
  if (body.contains("gracePeriodSeconds") && body["gracePeriodSeconds"].is_number_integer())
    o.grace_period_seconds = body["gracePeriodSeconds"].get<int64_t>();
  o.propagation_policy = req.Query("propagationPolicy", PathString(body, {"propagationPolicy"}));
  if (body.value("orphanDependents", false)) o.propagation_policy = "Orphan";
  o.precondition_uid = PathString(body, {"preconditions", "uid"});
  o.precondition_rv = PathString(body, {"preconditions", "resourceVersion"});
  return o;
}

json DecodeBody(const ApiRequest& req) {
  if (req.Header("content-type").find("protobuf") != std::string::npos)
    throw UnsupportedMediaType(req.Header("content-type"));
  try {
    return ParseBody(req.body);
  } catch (const std::exception& e) {
    throw BadRequest(std::string("the body of the request could not be decoded: ") + e.what());
  }
}

// A watch: replays current objects when asked to, then follows the store's event log.
class WatchStream : public ResponseStream {
 public:
  WatchStream(Store& store, SimClock& clock, const ResourceInfo& r, std::string ns, Filter filter,
              uint64_t after_rv, bool table, IncludeObject include, bool bookmarks,
              std::chrono::milliseconds bookmark_interval,
              std::chrono::steady_clock::time_point deadline)
      : store_(store),
        clock_(clock),
        r_(r),
        ns_(std::move(ns)),
        filter_(std::move(filter)),
        cursor_(after_rv),
        table_(table),
        include_(include),
        bookmarks_(bookmarks),
        bookmark_interval_(bookmark_interval),
        deadline_(deadline),
        last_bookmark_(std::chrono::steady_clock::now()) {}

  void AddInitial(const std::vector<ObjPtr>& items) {
    for (const auto& o : items)
      pending_.push_back(Line("ADDED", o));
  }
  void AddInitialEndBookmark() {
    json bm = {{"type", "BOOKMARK"},
               {"object",
                {{"kind", r_.kind},
                 {"apiVersion", r_.ApiVersion()},
                 {"metadata",
                  {{"resourceVersion", std::to_string(cursor_)},
                   {"annotations", {{"k8s.io/initial-events-end", "true"}}}}}}}};
    pending_.push_back(bm.dump() + "\n");
  }

  bool Next(std::string* chunk, std::chrono::milliseconds max_wait) override {
    if (!pending_.empty()) {
      // Hand out queued initial events in moderate batches.
      size_t n = 0;
      while (!pending_.empty() && n < 500) {
        *chunk += pending_.front();
        pending_.pop_front();
        ++n;
      }
      return true;
    }
    if (ended_) return false;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline_) return false;
    auto wait =
        std::min(max_wait, std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - now));
    Store::Batch b = store_.WaitEvents(cursor_, wait);
    if (b.closed) return false;
    if (b.too_old) {
      ended_ = true;
      ApiError e = Gone("too old resource version: " + std::to_string(cursor_) + " (" +
                        std::to_string(store_.CompactedRv()) + ")");
      json ev = {{"type", "ERROR"}, {"object", e.ToStatus()}};
      *chunk += ev.dump() + "\n";
      return true;
    }
    bool sent = false;
    for (const auto& ev : b.events) {
      cursor_ = ev.rv;
      if (ev.resource != r_.Key()) continue;
      if (!ns_.empty() && PathString(ev.obj->obj, {"metadata", "namespace"}) != ns_) continue;
      const char* type = EventTypeName(ev.type);
      if (!filter_.Empty()) {
        // As the API server does: an object entering the selection is ADDED, one leaving it
        // is DELETED, so a selector watch always mirrors the selected set.
        bool now = filter_.Matches(ev.obj->obj);
        bool before = ev.prev && filter_.Matches(ev.prev->obj);
        if (ev.type == EventType::kModified && now != before)
          type = now ? "ADDED" : "DELETED";
        else if (!now)
          continue;
      }
      *chunk += Line(type, ev.obj);
      sent = true;
    }
    if (b.events.empty() || b.events.back().rv >= b.rv) cursor_ = std::max(cursor_, b.rv);
    now = std::chrono::steady_clock::now();
    if (bookmarks_ && !sent && now - last_bookmark_ >= bookmark_interval_) {
      json bm = {{"type", "BOOKMARK"},
                 {"object",
                  {{"kind", r_.kind},
                   {"apiVersion", r_.ApiVersion()},
                   {"metadata", {{"resourceVersion", std::to_string(cursor_)}}}}}};
      *chunk += bm.dump() + "\n";
      last_bookmark_ = now;
    }
    if (sent) last_bookmark_ = now;
    return true;
  }

 private:
  std::string Line(const char* type, const ObjPtr& o) {
    if (table_) {
      json t = {{"kind", "Table"},
                {"apiVersion", "meta.k8s.io/v1"},
                {"metadata", {{"resourceVersion", std::to_string(o->rv)}}},
                {"columnDefinitions", TableColumns(r_)},
                {"rows", json::array({TableRow(r_, o->obj, clock_.Now(), include_)})}};
      return json{{"type", type}, {"object", t}}.dump() + "\n";
    }
    // Reuse the object's stored serialisation: no re-encoding per watcher.
    std::string line = "{\"type\":\"";
    line += type;
    line += "\",\"object\":";
    line += o->raw;
    line += "}\n";
    return line;
  }

  Store& store_;
  SimClock& clock_;
  const ResourceInfo& r_;
  std::string ns_;
  Filter filter_;
  uint64_t cursor_;
  bool table_;
  IncludeObject include_;
  bool bookmarks_;
  std::chrono::milliseconds bookmark_interval_;
  std::chrono::steady_clock::time_point deadline_;
  std::chrono::steady_clock::time_point last_bookmark_;
  std::deque<std::string> pending_;
  bool ended_ = false;
};

// GET with watch=true|1, or a legacy /watch/ path: faults spare these unless a rule opts in.
bool IsWatchRequest(const ApiRequest& req) {
  if (req.method != "GET") return false;
  std::string w = req.Query("watch");
  return w == "true" || w == "1" || req.path.find("/watch/") != std::string::npos;
}

bool IsWrite(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

// dryRun=All as a query parameter, or (DELETE) in a DeleteOptions body.
bool IsDryRun(const ApiRequest& req) {
  if (req.Query("dryRun") == "All") return true;
  if (req.method != "DELETE" || req.body.empty()) return false;
  json body = json::parse(req.body, nullptr, false);
  if (!body.is_object() || !body.contains("dryRun") || !body["dryRun"].is_array()) return false;
  for (const auto& v : body["dryRun"])
    if (v == "All") return true;
  return false;
}

uint64_t ParseRv(const std::string& s) {
  if (s.empty()) return 0;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c)))
      throw BadRequest("invalid resource version: \"" + s + "\"");
  }
  return std::stoull(s);
}

}  // namespace

std::string ApiRequest::Query(const std::string& key, const std::string& def) const {
  auto it = query.find(key);
  return it == query.end() ? def : it->second;
}

std::string ApiRequest::Header(const std::string& key) const {
  auto it = headers.find(key);
  return it == headers.end() ? "" : it->second;
}

ApiResponse ApiServer::Handle(const ApiRequest& req) {
  try {
    if (!options_.token.empty() && req.path != "/healthz" && req.path != "/livez" &&
        req.path != "/readyz") {
      if (req.Header("authorization") != "Bearer " + options_.token) throw Unauthorized();
    }
    if (IsSimControlPath(req.path)) return HandleSimControl(req, faults_, audit_);
    if (auto fault = faults_.Decide(req.method, req.path, IsWatchRequest(req))) {
      if (auto answer = InjectFault(*fault)) return *answer;
    }
    if (req.Header("content-type").find("protobuf") != std::string::npos) {
      // kubectl's typed clients send protobuf bodies; decode the kinds they create into JSON.
      std::optional<json> decoded;
      try {
        decoded = DecodeKubernetesProtobuf(req.body);
      } catch (const std::exception& e) {
        throw BadRequest(std::string("cannot decode protobuf body: ") + e.what());
      }
      if (!decoded) return Route(req);  // unknown paths still 404; bodies then get a 415
      ApiRequest json_req = req;
      json_req.body = decoded->dump();
      json_req.headers["content-type"] = "application/json";
      return Route(json_req);
    }
    return Route(req);
  } catch (const ApiError& e) {
    return ErrorResponse(e);
  } catch (const json::exception& e) {
    return ErrorResponse(BadRequest(std::string("malformed request: ") + e.what()));
  } catch (const std::exception& e) {
    spdlog::error("internal error on {} {}: {}", req.method, req.path, e.what());
    return ErrorResponse(
        ApiError(500, "InternalError", std::string("Internal error occurred: ") + e.what()));
  }
}

ApiResponse ApiServer::Route(const ApiRequest& req) {
  const auto segs = SplitPath(req.path);
  const std::string& m = req.method;
  if (segs.empty()) {
    return JsonResponse(
        200,
        {{"paths", json::array({"/api", "/api/v1", "/apis", "/apis/apps", "/apis/apps/v1",
                                "/healthz", "/livez", "/openapi/v3", "/readyz", "/version"})}});
  }
  if (segs[0] == "healthz" || segs[0] == "livez" || segs[0] == "readyz") {
    ApiResponse r;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "ok";
    return r;
  }
  if (segs[0] == "version" && segs.size() == 1) return JsonResponse(200, VersionInfo());
  if (segs[0] == "openapi") {
    if (segs.size() == 2 && segs[1] == "v3") return JsonResponse(200, OpenApiV3Index());
    if (segs.size() > 2 && segs[1] == "v3") {
      std::string gv;
      for (size_t i = 2; i < segs.size(); ++i)
        gv += (i > 2 ? "/" : "") + segs[i];
      if (auto doc = OpenApiV3Document(gv)) return JsonResponse(200, *doc);
    }
    throw ApiError(404, "NotFound", "the server could not find the requested resource");
  }
  std::string group;
  size_t rest;
  if (segs[0] == "api") {
    if (segs.size() == 1) return JsonResponse(200, ApiVersions());
    if (segs[1] != "v1")
      throw ApiError(404, "NotFound", "the server could not find the requested resource");
    if (segs.size() == 2) return JsonResponse(200, *ApiResourceList("", "v1"));
    rest = 2;
  } else if (segs[0] == "apis") {
    if (segs.size() == 1) return JsonResponse(200, ApiGroupList());
    group = segs[1];
    if (segs.size() == 2) {
      if (auto g = ApiGroup(group)) return JsonResponse(200, *g);
      throw ApiError(404, "NotFound", "the server could not find the requested resource");
    }
    auto list = ApiResourceList(group, segs[2]);
    if (!list) throw ApiError(404, "NotFound", "the server could not find the requested resource");
    if (segs.size() == 3) return JsonResponse(200, *list);
    rest = 3;
  } else {
    throw ApiError(404, "NotFound", "the server could not find the requested resource");
  }
  (void)m;
  std::vector<std::string> r(segs.begin() + static_cast<long>(rest), segs.end());
  bool legacy_watch = false;
  if (!r.empty() && r[0] == "watch") {
    legacy_watch = true;
    r.erase(r.begin());
  }
  std::string ns;
  bool has_ns = false;
  if (r.size() >= 3 && r[0] == "namespaces" && FindResource(group, r[2]) &&
      FindResource(group, r[2])->namespaced) {
    ns = r[1];
    has_ns = true;
    r.erase(r.begin(), r.begin() + 2);
  }
  if (r.empty() || r.size() > 3)
    throw ApiError(404, "NotFound", "the server could not find the requested resource");
  const ResourceInfo* info = FindResource(group, r[0]);
  if (!info) throw ApiError(404, "NotFound", "the server could not find the requested resource");
  std::string name = r.size() > 1 ? r[1] : "";
  std::string sub = r.size() > 2 ? r[2] : "";
  if (!sub.empty() && std::find(info->subresources.begin(), info->subresources.end(), sub) ==
                          info->subresources.end())
    throw ApiError(404, "NotFound", "the server could not find the requested resource");
  auto handle = [&] { return HandleResource(req, *info, ns, has_ns, name, sub, legacy_watch); };
  return IsWrite(m) ? AuditedWrite(req, *info, ns, name, handle) : handle();
}

std::optional<ApiResponse> ApiServer::InjectFault(const FaultDecision& d) {
  // Sleep in slices so shutdown is not held up by a long injected delay.
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(d.delay_ms);
  while (std::chrono::steady_clock::now() < until && !objects_.store().IsShutdown()) {
    auto left = until - std::chrono::steady_clock::now();
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(100)));
  }
  if (d.status == 0) return std::nullopt;
  ApiResponse resp = ErrorResponse(FaultError(d));
  if (d.retry_after_seconds)
    resp.headers.emplace_back("Retry-After", std::to_string(*d.retry_after_seconds));
  return resp;
}

ApiResponse ApiServer::AuditedWrite(const ApiRequest& req, const ResourceInfo& r,
                                    const std::string& ns, const std::string& name,
                                    const std::function<ApiResponse()>& write) {
  ApiResponse resp;
  // Failed writes are recorded with the code Handle() will turn their exception into.
  try {
    resp = write();
  } catch (const ApiError& e) {
    RecordWrite(req, r, ns, name, e.code(), nullptr);
    throw;
  } catch (const json::exception&) {
    RecordWrite(req, r, ns, name, 400, nullptr);
    throw;
  } catch (const std::exception&) {
    RecordWrite(req, r, ns, name, 500, nullptr);
    throw;
  }
  RecordWrite(req, r, ns, name, resp.status, &resp);
  return resp;
}

void ApiServer::RecordWrite(const ApiRequest& req, const ResourceInfo& r, const std::string& ns,
                            const std::string& name, int code, const ApiResponse* resp) {
  AuditEntry e;
  e.time = Rfc3339Milli(std::chrono::system_clock::now());
  e.method = req.method;
  e.path = req.path;
  e.kind = r.kind;
  e.ns = ns;
  e.name = name;
  e.field_manager = req.Query("fieldManager");
  e.dry_run = IsDryRun(req);
  e.code = code;
  if (req.method == "PATCH") {
    std::string ct = req.Header("content-type");
    e.patch_type = ct.substr(0, ct.find(';'));
  }
  e.user_agent = req.Header("user-agent");
  // The body is decoded again only when it can tell something: a create's name, annotations.
  bool want_name = e.name.empty() && req.method == "POST";
  if (want_name || req.body.find("annotations") != std::string::npos) {
    json body;
    try {
      body = ParseBody(req.body);
    } catch (const std::exception&) {
      // An undecodable body was already answered with 400; the entry just lacks its details.
    }
    const json& ann = Path(body, {"metadata", "annotations"});
    if (ann.is_object()) e.annotations = ann;
    if (want_name) e.name = PathString(body, {"metadata", "name"});
  }
  if (e.name.empty() && req.method == "POST" && resp && code < 300) {
    // generateName: the server chose the name.
    e.name = PathString(json::parse(resp->body, nullptr, false), {"metadata", "name"});
  }
  if (!e.name.empty()) {
    if (ObjPtr o = objects_.Get(r, ns, e.name))
      e.generation = PathInt(o->obj, {"metadata", "generation"});
  }
  audit_.Record(std::move(e));
}

ApiResponse ApiServer::HandleResource(const ApiRequest& req, const ResourceInfo& r,
                                      const std::string& ns, bool has_ns, const std::string& name,
                                      const std::string& sub, bool legacy_watch) {
  const std::string& m = req.method;
  if (has_ns && !r.namespaced)
    throw ApiError(404, "NotFound", "the server could not find the requested resource");
  if (r.namespaced && !has_ns && (!name.empty() || m != "GET"))
    throw ApiError(404, "NotFound", "the server could not find the requested resource");

  WriteOptions wo;
  std::string dry = req.Query("dryRun");
  if (!dry.empty() && dry != "All")
    throw BadRequest("dryRun: Unsupported value: \"" + dry + "\": supported values: \"All\"");
  wo.dry_run = dry == "All";
  wo.field_manager = req.Query("fieldManager");
  if (wo.field_manager.empty() &&
      req.Header("content-type").rfind("application/apply-patch", 0) != 0) {
    // The API server names an unnamed writer after its user agent ("kubectl/v1.32 ..." ->
    // "kubectl").
    std::string ua = req.Header("user-agent");
    wo.field_manager = ua.substr(0, ua.find('/'));
    if (wo.field_manager.empty()) wo.field_manager = "unknown";
  }
  wo.subresource = sub == "status" ? "status" : "";
  if (sub == "status") wo.field_manager.clear();

  if (name.empty()) {
    if (m == "GET") {
      if (legacy_watch || req.Query("watch") == "true" || req.Query("watch") == "1")
        return Watch(req, r, ns);
      return List(req, r, ns);
    }
    if (m == "POST") {
      json created = objects_.Create(r, ns, DecodeBody(req), wo);
      return JsonResponse(wo.dry_run ? 200 : 201, created);
    }
    if (m == "DELETE") return DeleteCollection(req, r, ns);
    throw MethodNotSupported(m, r.resource);
  }

  if (sub == "log") {
    if (m != "GET") throw MethodNotSupported(m, r.resource);
    return Logs(req, ns, name);
  }
  if (sub == "scale") return Scale(req, r, ns, name);

  if (m == "GET") {
    ObjPtr o = objects_.Get(r, ns, name);
    if (!o) throw NotFound(r, name);
    if (WantsTable(req)) {
      json t = MakeTable(r, {o}, objects_.clock().Now(), IncludeMode(req),
                         {{"resourceVersion", std::to_string(o->rv)}});
      return JsonResponse(200, t);
    }
    ApiResponse resp;
    resp.body = o->raw;
    return resp;
  }
  if (m == "PUT") {
    return JsonResponse(200, objects_.Update(r, ns, name, DecodeBody(req), wo));
  }
  if (m == "PATCH") {
    bool force = req.Query("force") == "true";
    std::string ct = req.Header("content-type");
    if (sub == "status" && ct.rfind("application/apply-patch", 0) == 0)
      wo.field_manager = req.Query("fieldManager");
    bool exists = static_cast<bool>(objects_.Get(r, ns, name));
    json out = objects_.Patch(r, ns, name, ct, req.body, wo, force);
    return JsonResponse(exists || wo.dry_run ? 200 : 201, out);
  }
  if (m == "DELETE") {
    json deleted = objects_.Delete(r, ns, name, ParseDeleteOptions(req));
    if (&r == &Pods()) return JsonResponse(200, deleted);
    json details = {
        {"name", name}, {"kind", r.resource}, {"uid", PathString(deleted, {"metadata", "uid"})}};
    if (!r.group.empty()) details["group"] = r.group;
    return JsonResponse(200, SuccessStatus(details));
  }
  throw MethodNotSupported(m, r.resource);
}

ApiResponse ApiServer::List(const ApiRequest& req, const ResourceInfo& r, const std::string& ns) {
  Filter filter = MakeFilter(req);
  std::string list_ns = ns;
  if (list_ns.empty() && r.namespaced) {
    if (const std::string* v = filter.fields.Exact("metadata.namespace")) list_ns = *v;
  }
  size_t limit = 0;
  std::string lim = req.Query("limit");
  if (!lim.empty()) {
    try {
      long long l = std::stoll(lim);
      limit = l > 0 ? static_cast<size_t>(l) : 0;
    } catch (...) {
      throw BadRequest("invalid limit: " + lim);
    }
  }
  std::string start_after;
  uint64_t snapshot_rv = 0;
  std::string cont = req.Query("continue");
  if (!cont.empty()) {
    json token = json::parse(aiops::Base64Decode(cont).value_or(""), nullptr, false);
    if (!token.is_object() || !token.contains("start") || !token.contains("rv"))
      throw BadRequest("continue key is not valid: invalid continue token");
    start_after = token["start"].get<std::string>();
    snapshot_rv = token["rv"].get<uint64_t>();
  }
  std::function<bool(const json&)> match;
  if (!filter.Empty()) match = [&filter](const json& o) { return filter.Matches(o); };
  Store::Page page =
      objects_.store().List(r.Key(), r.namespaced ? list_ns : "", start_after, limit, match);
  // Every page of one list reports the resourceVersion of its first page, as etcd does.
  uint64_t rv = snapshot_rv ? snapshot_rv : page.rv;
  json meta = {{"resourceVersion", std::to_string(rv)}};
  if (!page.next_key.empty()) {
    meta["continue"] = aiops::Base64Encode(
        json{{"v", "meta.k8s.io/v1"}, {"rv", rv}, {"start", page.next_key}}.dump());
  }
  if (WantsTable(req)) {
    return JsonResponse(200,
                        MakeTable(r, page.items, objects_.clock().Now(), IncludeMode(req), meta));
  }
  ApiResponse resp;
  std::string& out = resp.body;
  size_t total = 128;
  for (const auto& o : page.items)
    total += o->raw.size() + 1;
  out.reserve(total);
  out += "{\"kind\":\"" + ListKind(r) + "\",\"apiVersion\":\"" + r.ApiVersion() +
         "\",\"metadata\":" + meta.dump() + ",\"items\":[";
  for (size_t i = 0; i < page.items.size(); ++i) {
    if (i) out += ',';
    out += page.items[i]->raw;
  }
  out += "]}";
  return resp;
}

ApiResponse ApiServer::Watch(const ApiRequest& req, const ResourceInfo& r, const std::string& ns) {
  Filter filter = MakeFilter(req);
  std::string rv_s = req.Query("resourceVersion");
  uint64_t rv = ParseRv(rv_s);
  int timeout_s = 1800;
  std::string ts = req.Query("timeoutSeconds");
  if (!ts.empty()) {
    try {
      timeout_s = std::stoi(ts);
    } catch (...) {
      throw BadRequest("invalid timeoutSeconds: " + ts);
    }
  }
  bool send_initial = req.Query("sendInitialEvents") == "true";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  bool table = WantsTable(req);
  std::string watch_ns = ns;
  if (watch_ns.empty() && r.namespaced) {
    if (const std::string* v = filter.fields.Exact("metadata.namespace")) watch_ns = *v;
  }
  std::shared_ptr<WatchStream> stream;
  if (rv == 0 || send_initial) {
    // "0" or unset: start with the current state as ADDED events, then follow changes.
    std::function<bool(const json&)> match;
    if (!filter.Empty()) match = [&filter](const json& o) { return filter.Matches(o); };
    Store::Page page = objects_.store().List(r.Key(), r.namespaced ? watch_ns : "", "", 0, match);
    stream = std::make_shared<WatchStream>(
        objects_.store(), objects_.clock(), r, watch_ns, filter, page.rv, table, IncludeMode(req),
        req.Query("allowWatchBookmarks") == "true", options_.bookmark_interval, deadline);
    stream->AddInitial(page.items);
    if (send_initial) stream->AddInitialEndBookmark();
  } else {
    stream = std::make_shared<WatchStream>(
        objects_.store(), objects_.clock(), r, watch_ns, filter, rv, table, IncludeMode(req),
        req.Query("allowWatchBookmarks") == "true", options_.bookmark_interval, deadline);
  }
  ApiResponse resp;
  resp.stream = stream;
  return resp;
}

ApiResponse ApiServer::Logs(const ApiRequest& req, const std::string& ns, const std::string& name) {
  ObjPtr pod = objects_.Get(Pods(), ns, name);
  if (!pod) throw NotFound(Pods(), name);
  const json& p = pod->obj;
  std::vector<std::string> names;
  for (const auto& c : Path(p, {"spec", "containers"}))
    names.push_back(PathString(c, {"name"}));
  std::string container = req.Query("container");
  if (container.empty()) {
    if (names.size() != 1) {
      std::string list;
      for (const auto& n : names)
        list += (list.empty() ? "" : " ") + n;
      throw BadRequest("a container name must be specified for pod " + name + ", choose one of: [" +
                       list + "]");
    }
    container = names[0];
  }
  if (std::find(names.begin(), names.end(), container) == names.end())
    throw BadRequest("container " + container + " is not valid for pod " + name);
  bool previous = req.Query("previous") == "true";
  bool found = false;
  auto lines = logs_.Get(PathString(p, {"metadata", "uid"}), container, previous, &found);
  if (!found) {
    if (previous)
      throw BadRequest("previous terminated container \"" + container + "\" in pod \"" + name +
                       "\" not found");
    std::string reason = "ContainerCreating";
    for (const auto& cs : Path(p, {"status", "containerStatuses"})) {
      if (cs.value("name", "") != container) continue;
      std::string w = PathString(cs, {"state", "waiting", "reason"});
      if (!w.empty()) reason = w;
    }
    if (reason == "ImagePullBackOff" || reason == "ErrImagePull")
      reason = "trying and failing to pull image";
    throw BadRequest("container \"" + container + "\" in pod \"" + name +
                     "\" is waiting to start: " + reason);
  }
  std::string tail = req.Query("tailLines");
  if (!tail.empty()) {
    long long n = 0;
    try {
      n = std::stoll(tail);
    } catch (...) {
      throw BadRequest("invalid tailLines: " + tail);
    }
    if (n >= 0 && static_cast<size_t>(n) < lines.size())
      lines.erase(lines.begin(), lines.end() - n);
  }
  bool timestamps = req.Query("timestamps") == "true";
  ApiResponse resp;
  resp.content_type = "text/plain";
  for (const auto& l : lines) {
    if (timestamps) resp.body += Rfc3339Nano(l.time) + " ";
    resp.body += l.text + "\n";
  }
  std::string lb = req.Query("limitBytes");
  if (!lb.empty()) {
    long long n = 0;
    try {
      n = std::stoll(lb);
    } catch (...) {
      throw BadRequest("invalid limitBytes: " + lb);
    }
    if (n < 1) throw BadRequest("limitBytes: Invalid value: must be greater than 0");
    if (static_cast<size_t>(n) < resp.body.size()) resp.body.resize(static_cast<size_t>(n));
  }
  return resp;
}

ApiResponse ApiServer::Scale(const ApiRequest& req, const ResourceInfo& r, const std::string& ns,
                             const std::string& name) {
  auto to_scale = [&](const json& o) {
    std::string sel = LabelSelector::FromObject(Path(o, {"spec", "selector"})).String();
    json meta = {{"name", name},
                 {"namespace", ns},
                 {"uid", PathString(o, {"metadata", "uid"})},
                 {"resourceVersion", PathString(o, {"metadata", "resourceVersion"})},
                 {"creationTimestamp", PathString(o, {"metadata", "creationTimestamp"})}};
    return json{{"kind", "Scale"},
                {"apiVersion", "autoscaling/v1"},
                {"metadata", meta},
                {"spec", {{"replicas", PathInt(o, {"spec", "replicas"})}}},
                {"status", {{"replicas", PathInt(o, {"status", "replicas"})}, {"selector", sel}}}};
  };
  ObjPtr cur = objects_.Get(r, ns, name);
  if (!cur) throw NotFound(r, name);
  if (req.method == "GET") return JsonResponse(200, to_scale(cur->obj));
  if (req.method != "PUT" && req.method != "PATCH")
    throw MethodNotSupported(req.method, r.resource);
  json body = DecodeBody(req);
  json scale = to_scale(cur->obj);
  if (req.method == "PUT")
    scale = body;
  else {
    std::string ct = req.Header("content-type");
    if (ct.rfind("application/json-patch+json", 0) == 0)
      scale = scale.patch(body);
    else
      scale.merge_patch(body);
  }
  std::string rv = PathString(scale, {"metadata", "resourceVersion"});
  if (!rv.empty() && rv != PathString(cur->obj, {"metadata", "resourceVersion"}))
    throw ConflictModified(r, name);
  const json& replicas = Path(scale, {"spec", "replicas"});
  if (!replicas.is_number_integer() || replicas.get<int64_t>() < 0)
    throw Invalid(r, name,
                  json::array({{{"reason", "FieldValueInvalid"},
                                {"message", "Invalid value: must be greater than or equal to 0"},
                                {"field", "spec.replicas"}}}));
  ObjPtr updated = objects_.Mutate(r, ns, name, [&](json& o) {
    o["spec"]["replicas"] = replicas;
    return true;
  });
  return JsonResponse(200, to_scale(updated->obj));
}

ApiResponse ApiServer::DeleteCollection(const ApiRequest& req, const ResourceInfo& r,
                                        const std::string& ns) {
  Filter filter = MakeFilter(req);
  std::function<bool(const json&)> match;
  if (!filter.Empty()) match = [&filter](const json& o) { return filter.Matches(o); };
  Store::Page page = objects_.store().List(r.Key(), r.namespaced ? ns : "", "", 0, match);
  json items = json::array();
  DeleteOptions opts = ParseDeleteOptions(req);
  for (const auto& o : page.items) {
    try {
      items.push_back(objects_.Delete(r, ns, PathString(o->obj, {"metadata", "name"}), opts));
    } catch (const ApiError&) {
      // Deleted concurrently: nothing left to do.
    }
  }
  return JsonResponse(
      200, {{"kind", ListKind(r)},
            {"apiVersion", r.ApiVersion()},
            {"metadata", {{"resourceVersion", std::to_string(objects_.store().CurrentRv())}}},
            {"items", items}});
}

}  // namespace kubesim
