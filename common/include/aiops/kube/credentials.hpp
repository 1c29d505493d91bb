// How to reach one cluster's API server: from a kubeconfig (current or named context) or
// from the in-cluster service account. Everything a client needs, already resolved: file
// references are kept as paths (token files are re-read so rotated tokens keep working),
// inline *-data fields are base64-decoded.
#pragma once

#include <map>
#include <stdexcept>
#include <string>

namespace aiops::kube {

class CredentialsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Credentials {
  std::string server;  // https://host:port or http://host:port
  std::string ca_pem;  // from certificate-authority-data
  std::string ca_file;
  bool insecure_skip_tls_verify = false;
  std::string client_cert_pem;
  std::string client_cert_file;
  std::string client_key_pem;
  std::string client_key_file;
  std::string token;
  std::string token_file;
  // Where these came from, for logs and errors ("kubeconfig ~/.kube/config context prod").
  std::string origin;
};

// Reads a kubeconfig file. `context` empty: the file's current-context. Relative file paths
// inside the kubeconfig are resolved against the kubeconfig's directory, as kubectl does.
// Throws CredentialsError naming the file and the missing or invalid entry.
Credentials LoadKubeconfig(const std::string& path, const std::string& context = "");
// Same, from YAML text; `dir` resolves relative paths.
Credentials ParseKubeconfig(const std::string& yaml, const std::string& context,
                            const std::string& origin, const std::string& dir);

// The in-cluster service account: KUBERNETES_SERVICE_HOST/PORT from `env`, token and CA
// from `sa_dir` (default /var/run/secrets/kubernetes.io/serviceaccount).
Credentials InCluster(const std::map<std::string, std::string>& env,
                      const std::string& sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount");
// Reads KUBERNETES_SERVICE_HOST/PORT from the process environment.
Credentials InClusterFromProcess();

// Default kubeconfig path: $KUBECONFIG (first entry) or ~/.kube/config.
std::string DefaultKubeconfigPath();

std::string Base64Decode(const std::string& in);

}  // namespace aiops::kube
