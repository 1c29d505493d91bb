// How aiopsctl reaches the approver: server address, token and TLS from flags, then the
// environment (AIOPS_SERVER, AIOPS_TOKEN), then ~/.config/aiops/config.yaml; and how gRPC
// failures become one line a person understands plus an exit code.
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "aiops/v1/approval.grpc.pb.h"

namespace aiopsctl {

inline constexpr const char* kDefaultServer = "127.0.0.1:50051";

// Exit codes of the approval subcommands (documented in docs/approver.md).
enum ExitCode {
  kExitOk = 0,
  kExitError = 1,            // anything else
  kExitInvalidArgument = 2,  // bad arguments (ours or the server's INVALID_ARGUMENT)
  kExitNotFound = 3,
  kExitAuth = 4,         // UNAUTHENTICATED, PERMISSION_DENIED
  kExitRefused = 5,      // FAILED_PRECONDITION, RESOURCE_EXHAUSTED (state or policy says no)
  kExitUnavailable = 6,  // approver unreachable, timed out, or Kafka down behind it
};

struct ClientFlags {
  std::string server;
  std::string token;
  std::string token_file;
  std::string ca_file;
  bool tls = false;
  std::string config_file;  // default: $XDG_CONFIG_HOME or ~/.config, then aiops/config.yaml
  int timeout_s = 30;
};

struct ClientOptions {
  std::string server = kDefaultServer;
  std::string token;  // never printed
  std::string ca_file;
  bool tls = false;
  int timeout_s = 30;
  std::string config_file;  // the file that was read, if any
};

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// Flags win over the environment, which wins over the config file. Throws
// std::runtime_error with a readable message (bad config file, unreadable token file).
ClientOptions ResolveClientOptions(const ClientFlags& flags, const EnvLookup& env = {});

std::unique_ptr<aiops::v1::Approval::Stub> MakeStub(const ClientOptions& options);
// A context with the bearer token and the deadline.
std::unique_ptr<grpc::ClientContext> MakeContext(const ClientOptions& options);

struct Failure {
  int exit_code;
  std::string message;  // one line, without the "aiopsctl: " prefix
};
// `action` is what was attempted ("approve rem-123").
Failure DescribeFailure(const grpc::Status& status, const std::string& action,
                        const ClientOptions& options);

}  // namespace aiopsctl
