// The Approval gRPC service: authentication from `authorization: Bearer <token>` metadata,
// then the Approver; WatchRemediations streams the store's change feed. Also builds the
// server (TLS optional, reflection on).
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string>

#include "aiops/metrics.hpp"
#include "aiops/v1/approval.grpc.pb.h"
#include "approver.hpp"
#include "auth.hpp"
#include "store.hpp"

namespace aiops::approver {

class ApprovalService final : public v1::Approval::Service {
 public:
  ApprovalService(Store& store, Approver& approver, const Authenticator& auth,
                  metrics::Registry* metrics = nullptr)
      : store_(store), approver_(approver), auth_(auth), metrics_(metrics) {}

  grpc::Status ListRemediations(grpc::ServerContext* ctx, const v1::ListRemediationsRequest* req,
                                v1::ListRemediationsResponse* resp) override;
  grpc::Status GetRemediation(grpc::ServerContext* ctx, const v1::GetRemediationRequest* req,
                              v1::Remediation* resp) override;
  grpc::Status Approve(grpc::ServerContext* ctx, const v1::ApproveRequest* req,
                       v1::ApproveResponse* resp) override;
  grpc::Status Reject(grpc::ServerContext* ctx, const v1::RejectRequest* req,
                      v1::RejectResponse* resp) override;
  grpc::Status WatchRemediations(grpc::ServerContext* ctx, const v1::WatchRemediationsRequest* req,
                                 grpc::ServerWriter<v1::RemediationEvent>* writer) override;

  // Ends open watch streams (before the server shuts down).
  void Stop() { stopping_ = true; }

 private:
  Authenticator::Result Authenticate(grpc::ServerContext* ctx) const;
  grpc::Status Count(const char* method, grpc::Status status) const;

  Store& store_;
  Approver& approver_;
  const Authenticator& auth_;
  metrics::Registry* metrics_;
  std::atomic<bool> stopping_{false};
};

struct ServerOptions {
  std::string listen = "127.0.0.1:50051";
  // PEM files; both empty = plaintext.
  std::string tls_cert_file;
  std::string tls_key_file;
};

// Builds and starts the server; throws std::runtime_error when the address cannot be bound
// or the TLS files cannot be read. `*bound_port` receives the port (useful with port 0).
std::unique_ptr<grpc::Server> StartServer(const ServerOptions& options, ApprovalService& service,
                                          int* bound_port);

}  // namespace aiops::approver
