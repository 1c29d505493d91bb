#include "grpc_service.hpp"

#include <grpcpp/ext/proto_server_reflection_plugin.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace aiops::approver {

namespace {

using grpc::Status;
using grpc::StatusCode;

std::string ReadPem(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string CodeName(StatusCode code) {
  switch (code) {
    case StatusCode::OK:
      return "OK";
    case StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    case StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    default:
      return std::to_string(static_cast<int>(code));
  }
}

}  // namespace

Authenticator::Result ApprovalService::Authenticate(grpc::ServerContext* ctx) const {
  const auto& md = ctx->client_metadata();
  auto it = md.find("authorization");
  std::optional<std::string> value;
  if (it != md.end()) value = std::string(it->second.data(), it->second.size());
  return auth_.Authenticate(value);
}

Status ApprovalService::Count(const char* method, Status status) const {
  if (metrics_ != nullptr) {
    metrics_
        ->GetCounter("aiops_approver_grpc_requests_total", "Approval API calls by method and code",
                     {{"method", method}, {"code", CodeName(status.error_code())}})
        .Inc();
  }
  return status;
}

Status ApprovalService::ListRemediations(grpc::ServerContext* ctx,
                                         const v1::ListRemediationsRequest* req,
                                         v1::ListRemediationsResponse* resp) {
  auto who = Authenticate(ctx);
  if (!who.identity)
    return Count("ListRemediations", Status(StatusCode::UNAUTHENTICATED, who.error));
  return Count("ListRemediations", approver_.List(*req, resp));
}

Status ApprovalService::GetRemediation(grpc::ServerContext* ctx,
                                       const v1::GetRemediationRequest* req,
                                       v1::Remediation* resp) {
  auto who = Authenticate(ctx);
  if (!who.identity) return Count("GetRemediation", Status(StatusCode::UNAUTHENTICATED, who.error));
  return Count("GetRemediation", approver_.Get(*req, resp));
}

Status ApprovalService::Approve(grpc::ServerContext* ctx, const v1::ApproveRequest* req,
                                v1::ApproveResponse* resp) {
  auto who = Authenticate(ctx);
  if (!who.identity) return Count("Approve", Status(StatusCode::UNAUTHENTICATED, who.error));
  return Count("Approve", approver_.Approve(*who.identity, *req, resp));
}

Status ApprovalService::Reject(grpc::ServerContext* ctx, const v1::RejectRequest* req,
                               v1::RejectResponse* resp) {
  auto who = Authenticate(ctx);
  if (!who.identity) return Count("Reject", Status(StatusCode::UNAUTHENTICATED, who.error));
  return Count("Reject", approver_.Reject(*who.identity, *req, resp));
}

Status ApprovalService::WatchRemediations(grpc::ServerContext* ctx,
                                          const v1::WatchRemediationsRequest* req,
                                          grpc::ServerWriter<v1::RemediationEvent>* writer) {
  auto who = Authenticate(ctx);
  if (!who.identity)
    return Count("WatchRemediations", Status(StatusCode::UNAUTHENTICATED, who.error));
  for (int s : req->filter().states()) {
    if (!v1::RemediationState_IsValid(s) || s == v1::REMEDIATION_STATE_UNSPECIFIED)
      return Count("WatchRemediations",
                   Status(StatusCode::INVALID_ARGUMENT, "unknown state in filter"));
  }
  uint64_t seen = store_.version();
  if (req->include_existing()) {
    for (auto& r : store_.List(req->filter())) {
      v1::RemediationEvent ev;
      ev.set_type(v1::RemediationEvent::TYPE_SNAPSHOT);
      *ev.mutable_remediation() = std::move(r);
      if (!writer->Write(ev)) return Count("WatchRemediations", Status::OK);
    }
  }
  while (!ctx->IsCancelled() && !stopping_) {
    if (!store_.WaitForChange(seen, std::chrono::milliseconds(250))) continue;
    uint64_t now = seen;
    for (auto& r : store_.ChangedSince(seen, &now)) {
      if (!Store::Matches(r, req->filter())) continue;
      v1::RemediationEvent ev;
      ev.set_type(v1::RemediationEvent::TYPE_CHANGED);
      *ev.mutable_remediation() = std::move(r);
      if (!writer->Write(ev)) return Count("WatchRemediations", Status::OK);
    }
    seen = now;
  }
  return Count("WatchRemediations", Status::OK);
}

std::unique_ptr<grpc::Server> StartServer(const ServerOptions& options, ApprovalService& service,
                                          int* bound_port) {
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  std::shared_ptr<grpc::ServerCredentials> creds;
  if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
    if (options.tls_cert_file.empty() || options.tls_key_file.empty())
      throw std::runtime_error("TLS needs both grpc.tls_cert and grpc.tls_key");
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back(
        {ReadPem(options.tls_key_file), ReadPem(options.tls_cert_file)});
    creds = grpc::SslServerCredentials(ssl);
  } else {
    creds = grpc::InsecureServerCredentials();
  }
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen, creds, &port);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  if (!server || port == 0) throw std::runtime_error("cannot listen on " + options.listen);
  if (bound_port != nullptr) *bound_port = port;
  return server;
}

}  // namespace aiops::approver
