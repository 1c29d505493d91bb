// Bearer-token authentication for the Approval API. Tokens come from the `auth` config
// section: each maps to an identity and a role. Token values are read from a file, an
// environment variable or (discouraged) the config itself; they are never logged.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace aiops::approver {

enum class Role { kViewer, kApprover };

std::string RoleName(Role role);

struct Identity {
  std::string name;
  Role role = Role::kViewer;
};

class Authenticator {
 public:
  struct Entry {
    std::string identity;
    Role role = Role::kViewer;
    std::string token;
  };
  // Looks up an environment variable; the default reads the process environment.
  using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

  // Parses the `auth` section (`tokens: [{identity, role, token|token_env|token_file}]`).
  // Throws config::ConfigError naming the entry (never the token value).
  static Authenticator FromYaml(const YAML::Node& node, EnvLookup env = {});
  explicit Authenticator(std::vector<Entry> entries = {}, bool insecure_dev = false);

  // `authorization` is the metadata value ("Bearer <token>"), nullopt when absent.
  // Returns the identity, or the reason the caller is refused (UNAUTHENTICATED).
  struct Result {
    std::optional<Identity> identity;
    std::string error;
  };
  Result Authenticate(const std::optional<std::string>& authorization) const;

  // Without tokens, anonymous callers are this identity with role approver; only with
  // --insecure-dev (and only on loopback, checked by the caller).
  static constexpr const char* kInsecureIdentity = "anonymous@insecure-dev";
  bool insecure_dev() const { return insecure_dev_; }
  void set_insecure_dev(bool v) { insecure_dev_ = v; }
  size_t size() const { return entries_.size(); }

 private:
  std::vector<Entry> entries_;
  bool insecure_dev_ = false;
};

// True for 127.0.0.0/8, ::1, [::1] and "localhost" (the host part of a listen address).
bool IsLoopbackHost(const std::string& host);

}  // namespace aiops::approver
