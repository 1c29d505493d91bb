// Writes a kubeconfig for kube-sim that kubectl and the services use unchanged.
#pragma once

#include <string>

namespace kubesim {

// `ca_pem`: the server's certificate for https servers ("" for http).
std::string KubeconfigYaml(const std::string& server_url, const std::string& token,
                           const std::string& ca_pem = "");
// Writes atomically (temp file + rename) so a reader polling for the file never sees half of it.
bool WriteKubeconfig(const std::string& path, const std::string& server_url,
                     const std::string& token, const std::string& ca_pem = "");

}  // namespace kubesim
