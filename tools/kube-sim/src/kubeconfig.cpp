#include "kubeconfig.hpp"

#include "aiops/base64.hpp"

#include <cstdio>
#include <fstream>

namespace kubesim {

std::string KubeconfigYaml(const std::string& server_url, const std::string& token,
                           const std::string& ca_pem) {
  std::string ca =
      ca_pem.empty() ? "" : "    certificate-authority-data: " + aiops::Base64Encode(ca_pem) + "\n";
  std::string user = token.empty() ? "    {}\n" : "    token: \"" + token + "\"\n";
  return "apiVersion: v1\n"
         "kind: Config\n"
         "clusters:\n"
         "- name: kube-sim\n"
         "  cluster:\n"
         "    server: " +
         server_url + "\n" + ca +
         "contexts:\n"
         "- name: kube-sim\n"
         "  context:\n"
         "    cluster: kube-sim\n"
         "    user: kube-sim\n"
         "    namespace: default\n"
         "current-context: kube-sim\n"
         "preferences: {}\n"
         "users:\n"
         "- name: kube-sim\n"
         "  user:\n" +
         user;
}

bool WriteKubeconfig(const std::string& path, const std::string& server_url,
                     const std::string& token, const std::string& ca_pem) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return false;
    out << KubeconfigYaml(server_url, token, ca_pem);
    if (!out) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace kubesim
