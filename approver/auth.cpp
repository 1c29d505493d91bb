#include "auth.hpp"

#include <openssl/crypto.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "aiops/config.hpp"

namespace aiops::approver {

namespace {

using config::ConfigError;

std::string Trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

bool SameToken(const std::string& a, const std::string& b) {
  // Constant time for equal lengths; a length mismatch says nothing useful about the value.
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::string RoleName(Role role) {
  return role == Role::kApprover ? "approver" : "viewer";
}

Authenticator::Authenticator(std::vector<Entry> entries, bool insecure_dev)
    : entries_(std::move(entries)), insecure_dev_(insecure_dev) {}

Authenticator Authenticator::FromYaml(const YAML::Node& node, EnvLookup env) {
  if (!env) {
    env = [](const std::string& name) -> std::optional<std::string> {
      const char* v = std::getenv(name.c_str());
      if (v == nullptr) return std::nullopt;
      return std::string(v);
    };
  }
  std::vector<Entry> entries;
  if (!node.IsDefined() || node.IsNull()) return Authenticator(entries);
  if (!node.IsMap()) throw ConfigError("auth: expected a map with 'tokens'");
  for (const auto& kv : node) {
    if (kv.first.as<std::string>() != "tokens")
      throw ConfigError("auth: unknown key '" + kv.first.as<std::string>() + "'");
  }
  const auto tokens = node["tokens"];
  if (!tokens.IsDefined() || tokens.IsNull()) return Authenticator(entries);
  if (!tokens.IsSequence()) throw ConfigError("auth.tokens: expected a list");
  std::set<std::string> seen_tokens;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const auto& t = tokens[i];
    std::string where = "auth.tokens[" + std::to_string(i) + "]";
    if (!t.IsMap()) throw ConfigError(where + ": expected a map");
    for (const auto& kv : t) {
      auto k = kv.first.as<std::string>();
      if (k != "identity" && k != "role" && k != "token" && k != "token_env" && k != "token_file")
        throw ConfigError(where + ": unknown key '" + k + "'");
    }
    Entry e;
    e.identity = t["identity"].IsDefined() ? Trim(t["identity"].as<std::string>()) : "";
    if (e.identity.empty()) throw ConfigError(where + ".identity: required");
    if (e.identity.rfind("policy:", 0) == 0)
      throw ConfigError(where + ".identity: 'policy:' is reserved for policy decisions");
    where = "auth.tokens[" + std::to_string(i) + "] (" + e.identity + ")";
    std::string role = t["role"].IsDefined() ? t["role"].as<std::string>() : "";
    if (role == "approver") {
      e.role = Role::kApprover;
    } else if (role == "viewer") {
      e.role = Role::kViewer;
    } else {
      throw ConfigError(where + ".role: must be viewer or approver");
    }
    int sources = t["token"].IsDefined() + t["token_env"].IsDefined() + t["token_file"].IsDefined();
    if (sources != 1)
      throw ConfigError(where + ": give exactly one of token, token_env, token_file");
    if (t["token"].IsDefined()) {
      e.token = Trim(t["token"].as<std::string>());
    } else if (t["token_env"].IsDefined()) {
      auto name = t["token_env"].as<std::string>();
      auto v = env(name);
      if (!v) throw ConfigError(where + ".token_env: environment variable " + name + " is not set");
      e.token = Trim(*v);
    } else {
      auto path = t["token_file"].as<std::string>();
      std::ifstream in(path);
      if (!in) throw ConfigError(where + ".token_file: cannot read " + path);
      std::stringstream ss;
      ss << in.rdbuf();
      e.token = Trim(ss.str());
    }
    if (e.token.size() < 16) throw ConfigError(where + ": token is shorter than 16 characters");
    if (!seen_tokens.insert(e.token).second)
      throw ConfigError(where + ": the same token is configured for another identity");
    entries.push_back(std::move(e));
  }
  return Authenticator(std::move(entries));
}

Authenticator::Result Authenticator::Authenticate(
    const std::optional<std::string>& authorization) const {
  if (!authorization || Trim(*authorization).empty()) {
    if (insecure_dev_) return {Identity{kInsecureIdentity, Role::kApprover}, ""};
    return {std::nullopt, "missing bearer token (metadata 'authorization: Bearer <token>')"};
  }
  std::string value = Trim(*authorization);
  const std::string prefix = "bearer ";
  if (value.size() <= prefix.size()) return {std::nullopt, "malformed authorization metadata"};
  std::string scheme = value.substr(0, prefix.size());
  for (auto& c : scheme)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != prefix) return {std::nullopt, "authorization metadata is not 'Bearer <token>'"};
  std::string token = Trim(value.substr(prefix.size()));
  const Entry* found = nullptr;
  for (const auto& e : entries_) {
    if (SameToken(e.token, token)) found = &e;
  }
  if (found == nullptr) return {std::nullopt, "invalid token"};
  return {Identity{found->identity, found->role}, ""};
}

bool IsLoopbackHost(const std::string& host) {
  std::string h = host;
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h == "localhost" || h == "::1") return true;
  return h.rfind("127.", 0) == 0;
}

}  // namespace aiops::approver
