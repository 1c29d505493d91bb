#include "client.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace aiopsctl {

namespace {

std::string Trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string ReadFileOrThrow(const std::string& path, const std::string& what) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + what + " " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string OneLine(std::string s) {
  for (auto& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return Trim(s);
}

std::string DefaultConfigFile(const EnvLookup& env) {
  if (auto xdg = env("XDG_CONFIG_HOME"); xdg && !xdg->empty()) return *xdg + "/aiops/config.yaml";
  if (auto home = env("HOME"); home && !home->empty()) return *home + "/.config/aiops/config.yaml";
  return "";
}

}  // namespace

ClientOptions ResolveClientOptions(const ClientFlags& flags, const EnvLookup& env_in) {
  EnvLookup env = env_in;
  if (!env) {
    env = [](const std::string& name) -> std::optional<std::string> {
      const char* v = std::getenv(name.c_str());
      if (v == nullptr) return std::nullopt;
      return std::string(v);
    };
  }
  ClientOptions o;
  o.timeout_s = flags.timeout_s;

  // Lowest precedence first: the config file.
  std::string file = flags.config_file;
  if (file.empty()) {
    if (auto f = env("AIOPS_CONFIG"); f && !f->empty()) file = *f;
  }
  bool explicit_file = !file.empty();
  if (file.empty()) file = DefaultConfigFile(env);
  if (!file.empty() && (explicit_file || std::filesystem::exists(file))) {
    YAML::Node doc;
    try {
      doc = YAML::LoadFile(file);
    } catch (const YAML::BadFile&) {
      throw std::runtime_error("cannot read the config file " + file);
    } catch (const YAML::Exception& e) {
      throw std::runtime_error("config file " + file + ": " + OneLine(e.what()));
    }
    if (doc.IsDefined() && !doc.IsNull()) {
      if (!doc.IsMap()) throw std::runtime_error("config file " + file + ": expected a map");
      for (const auto& kv : doc) {
        auto key = kv.first.as<std::string>();
        try {
          if (key == "server") {
            o.server = kv.second.as<std::string>();
          } else if (key == "token") {
            o.token = Trim(kv.second.as<std::string>());
          } else if (key == "token_file") {
            o.token = Trim(ReadFileOrThrow(kv.second.as<std::string>(), "token file"));
          } else if (key == "ca_file") {
            o.ca_file = kv.second.as<std::string>();
          } else if (key == "tls") {
            o.tls = kv.second.as<bool>();
          } else {
            throw std::runtime_error("config file " + file + ": unknown key '" + key +
                                     "' (server, token, token_file, ca_file, tls)");
          }
        } catch (const YAML::Exception&) {
          throw std::runtime_error("config file " + file + ": bad value for '" + key + "'");
        }
      }
    }
    o.config_file = file;
  }
  // Then the environment.
  if (auto v = env("AIOPS_SERVER"); v && !v->empty()) o.server = *v;
  if (auto v = env("AIOPS_TOKEN"); v && !v->empty()) o.token = Trim(*v);
  // Then flags.
  if (!flags.server.empty()) o.server = flags.server;
  if (!flags.token_file.empty()) o.token = Trim(ReadFileOrThrow(flags.token_file, "token file"));
  if (!flags.token.empty()) o.token = Trim(flags.token);
  if (!flags.ca_file.empty()) o.ca_file = flags.ca_file;
  if (flags.tls) o.tls = true;
  if (!o.ca_file.empty()) o.tls = true;
  return o;
}

std::unique_ptr<aiops::v1::Approval::Stub> MakeStub(const ClientOptions& options) {
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (options.tls) {
    grpc::SslCredentialsOptions ssl;
    if (!options.ca_file.empty()) ssl.pem_root_certs = ReadFileOrThrow(options.ca_file, "CA file");
    creds = grpc::SslCredentials(ssl);
  } else {
    creds = grpc::InsecureChannelCredentials();
  }
  return aiops::v1::Approval::NewStub(grpc::CreateChannel(options.server, creds));
}

std::unique_ptr<grpc::ClientContext> MakeContext(const ClientOptions& options) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!options.token.empty()) ctx->AddMetadata("authorization", "Bearer " + options.token);
  if (options.timeout_s > 0) {
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(options.timeout_s));
  }
  return ctx;
}

Failure DescribeFailure(const grpc::Status& status, const std::string& action,
                        const ClientOptions& options) {
  std::string msg = OneLine(status.error_message());
  switch (status.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
      return {kExitInvalidArgument, action + ": invalid argument: " + msg};
    case grpc::StatusCode::NOT_FOUND:
      return {kExitNotFound, action + ": " + msg};
    case grpc::StatusCode::UNAUTHENTICATED:
      return {kExitAuth,
              action + ": not authenticated (" + msg + "); " +
                  (options.token.empty() ? "no token given: set AIOPS_TOKEN, --token or token in "
                                           "~/.config/aiops/config.yaml"
                                         : "check the token")};
    case grpc::StatusCode::PERMISSION_DENIED:
      return {kExitAuth, action + ": permission denied: " + msg};
    case grpc::StatusCode::FAILED_PRECONDITION:
      return {kExitRefused, action + ": refused: " + msg};
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return {kExitRefused, action + ": refused by policy: " + msg};
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return {kExitUnavailable, action + ": the approver at " + options.server +
                                    " did not answer within " + std::to_string(options.timeout_s) +
                                    " s"};
    case grpc::StatusCode::UNAVAILABLE:
      if (msg.find("Kafka") != std::string::npos) {
        return {kExitUnavailable, action + ": the approver is up but " + msg};
      }
      return {kExitUnavailable, action + ": cannot reach the approver at " + options.server +
                                    " (is it running? set --server or AIOPS_SERVER): " + msg};
    default:
      return {kExitError, action + ": " + msg + " (gRPC code " +
                              std::to_string(static_cast<int>(status.error_code())) + ")"};
  }
}

}  // namespace aiopsctl
