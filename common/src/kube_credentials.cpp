#include "aiops/kube/credentials.hpp"

#include "aiops/base64.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace aiops::kube {

namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CredentialsError("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Finds `name` in a kubeconfig list (clusters/users/contexts) and returns its inner map.
YAML::Node FindNamed(const YAML::Node& list, const std::string& section, const std::string& name,
                     const std::string& inner, const std::string& origin) {
  if (list && list.IsSequence()) {
    for (const auto& item : list) {
      if (item["name"] && item["name"].as<std::string>() == name) {
        YAML::Node body = item[inner];
        if (!body || !body.IsMap()) {
          throw CredentialsError(origin + ": " + section + " '" + name + "' has no " + inner);
        }
        return body;
      }
    }
  }
  throw CredentialsError(origin + ": no " + section + " named '" + name + "'");
}

std::string Str(const YAML::Node& n, const std::string& key) {
  if (!n[key]) return "";
  return n[key].as<std::string>();
}

std::string Resolve(const std::string& path, const std::string& dir) {
  if (path.empty() || dir.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (std::filesystem::path(dir) / path).string();
}

}  // namespace

std::string Base64Decode(const std::string& in) {
  auto out = aiops::Base64Decode(in);
  if (!out) throw CredentialsError("invalid base64 data");
  return *out;
}

Credentials ParseKubeconfig(const std::string& yaml, const std::string& context,
                            const std::string& origin, const std::string& dir) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw CredentialsError(origin + ": invalid YAML: " + e.what());
  }
  if (!root.IsMap()) throw CredentialsError(origin + ": not a kubeconfig");
  std::string ctx_name = context.empty() ? Str(root, "current-context") : context;
  if (ctx_name.empty()) {
    throw CredentialsError(origin + ": no current-context set and no context given");
  }
  try {
    auto ctx = FindNamed(root["contexts"], "context", ctx_name, "context", origin);
    auto cluster = FindNamed(root["clusters"], "cluster", Str(ctx, "cluster"), "cluster", origin);
    Credentials c;
    c.origin = "kubeconfig " + origin + " context " + ctx_name;
    c.server = Str(cluster, "server");
    if (c.server.empty()) {
      throw CredentialsError(origin + ": cluster '" + Str(ctx, "cluster") + "' has no server");
    }
    if (auto data = Str(cluster, "certificate-authority-data"); !data.empty()) {
      c.ca_pem = Base64Decode(data);
    }
    c.ca_file = Resolve(Str(cluster, "certificate-authority"), dir);
    if (cluster["insecure-skip-tls-verify"]) {
      c.insecure_skip_tls_verify = cluster["insecure-skip-tls-verify"].as<bool>();
    }
    if (auto user_name = Str(ctx, "user"); !user_name.empty()) {
      auto user = FindNamed(root["users"], "user", user_name, "user", origin);
      if (auto d = Str(user, "client-certificate-data"); !d.empty()) {
        c.client_cert_pem = Base64Decode(d);
      }
      if (auto d = Str(user, "client-key-data"); !d.empty()) c.client_key_pem = Base64Decode(d);
      c.client_cert_file = Resolve(Str(user, "client-certificate"), dir);
      c.client_key_file = Resolve(Str(user, "client-key"), dir);
      c.token = Str(user, "token");
      c.token_file = Resolve(Str(user, "tokenFile"), dir);
      if (user["exec"] || user["auth-provider"]) {
        throw CredentialsError(origin + ": user '" + user_name +
                               "' uses an exec or auth-provider plugin, which is not supported; "
                               "use a token, token file or client certificate");
      }
    }
    bool has_cert = !c.client_cert_pem.empty() || !c.client_cert_file.empty();
    bool has_key = !c.client_key_pem.empty() || !c.client_key_file.empty();
    if (has_cert != has_key) {
      throw CredentialsError(origin + ": a client certificate needs its key (and the reverse)");
    }
    return c;
  } catch (const YAML::Exception& e) {
    throw CredentialsError(origin + ": malformed kubeconfig: " + e.what());
  }
}

Credentials LoadKubeconfig(const std::string& path, const std::string& context) {
  std::string text = ReadAll(path);
  auto dir = std::filesystem::path(path).parent_path().string();
  return ParseKubeconfig(text, context, path, dir);
}

Credentials InCluster(const std::map<std::string, std::string>& env, const std::string& sa_dir) {
  auto host = env.find("KUBERNETES_SERVICE_HOST");
  auto port = env.find("KUBERNETES_SERVICE_PORT");
  if (host == env.end() || host->second.empty()) {
    throw CredentialsError("not running in a cluster: KUBERNETES_SERVICE_HOST is not set");
  }
  Credentials c;
  std::string h = host->second;
  if (h.find(':') != std::string::npos) h = "[" + h + "]";  // IPv6 service address
  c.server = "https://" + h + ":" + (port == env.end() ? "443" : port->second);
  c.token_file = sa_dir + "/token";
  c.ca_file = sa_dir + "/ca.crt";
  if (!std::filesystem::exists(c.token_file)) {
    throw CredentialsError("in-cluster service account token missing: " + c.token_file);
  }
  c.origin = "in-cluster service account";
  return c;
}

Credentials InClusterFromProcess() {
  std::map<std::string, std::string> env;
  for (const char* name : {"KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"}) {
    if (const char* v = std::getenv(name)) env[name] = v;
  }
  return InCluster(env);
}

std::string DefaultKubeconfigPath() {
  if (const char* kc = std::getenv("KUBECONFIG"); kc != nullptr && *kc != '\0') {
    std::string s = kc;
    return s.substr(0, s.find(':'));
  }
  const char* home = std::getenv("HOME");
  return std::string(home == nullptr ? "" : home) + "/.kube/config";
}

}  // namespace aiops::kube
