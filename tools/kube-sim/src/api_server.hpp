// The Kubernetes REST API, independent of any HTTP library: a request in, a response (or a
// watch stream) out. http_server.cpp binds it to cpp-httplib; unit tests call it directly.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "faults.hpp"
#include "logs.hpp"
#include "objects.hpp"
#include "write_audit.hpp"

namespace kubesim {

struct ApiRequest {
  std::string method;
  std::string path;
  std::multimap<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  std::string Query(const std::string& key, const std::string& def = "") const;
  bool HasQuery(const std::string& key) const { return query.count(key) > 0; }
  std::string Header(const std::string& key) const;
};

// A long-lived response body (watch). Next() waits up to `max_wait` and appends what is ready
// to `chunk`; it returns false once the stream has ended.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  virtual bool Next(std::string* chunk, std::chrono::milliseconds max_wait) = 0;
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::shared_ptr<ResponseStream> stream;
  std::vector<std::pair<std::string, std::string>> headers;  // extra ones (Retry-After)
};

struct ApiOptions {
  std::string token;  // when set, requests need `Authorization: Bearer <token>`
  std::chrono::milliseconds bookmark_interval{std::chrono::seconds(1)};
};

class ApiServer {
 public:
  ApiServer(ObjectService& objects, LogStore& logs, ApiOptions options = {})
      : objects_(objects), logs_(logs), options_(std::move(options)) {}
  ApiResponse Handle(const ApiRequest& req);
  FaultInjector& faults() { return faults_; }
  const WriteAudit& audit() const { return audit_; }

 private:
  // Sleeps for an injected delay, then answers the injected error if the decision has one.
  std::optional<ApiResponse> InjectFault(const FaultDecision& d);
  // Runs a write (POST/PUT/PATCH/DELETE) and records it in the audit with its outcome.
  ApiResponse AuditedWrite(const ApiRequest& req, const ResourceInfo& r, const std::string& ns,
                           const std::string& name, const std::function<ApiResponse()>& write);
  void RecordWrite(const ApiRequest& req, const ResourceInfo& r, const std::string& ns,
                   const std::string& name, int code, const ApiResponse* resp);
  ApiResponse Route(const ApiRequest& req);
  ApiResponse HandleResource(const ApiRequest& req, const ResourceInfo& r, const std::string& ns,
                             bool has_ns, const std::string& name, const std::string& sub,
                             bool legacy_watch);
  ApiResponse List(const ApiRequest& req, const ResourceInfo& r, const std::string& ns);
  ApiResponse Watch(const ApiRequest& req, const ResourceInfo& r, const std::string& ns);
  ApiResponse Logs(const ApiRequest& req, const std::string& ns, const std::string& name);
  ApiResponse Scale(const ApiRequest& req, const ResourceInfo& r, const std::string& ns,
                    const std::string& name);
  ApiResponse DeleteCollection(const ApiRequest& req, const ResourceInfo& r, const std::string& ns);

  ObjectService& objects_;
  LogStore& logs_;
  ApiOptions options_;
  FaultInjector faults_;
  WriteAudit audit_;
};

}  // namespace kubesim
