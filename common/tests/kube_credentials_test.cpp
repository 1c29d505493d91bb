#include "aiops/kube/credentials.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "aiops/config.hpp"
#include "aiops/kube/clusters.hpp"

using namespace aiops::kube;
using ::testing::HasSubstr;

namespace {
// base64 of "CA-PEM", "CERT-PEM", "KEY-PEM"
const char* kConfig = R"(
apiVersion: v1
kind: Config
current-context: dev
clusters:
  - name: dev-cluster
    cluster:
      server: https://dev.example.com:6443
      certificate-authority-data: Q0EtUEVN
  - name: prod-cluster
    cluster:
      server: https://prod.example.com/
      certificate-authority: certs/ca.crt
  - name: lab-cluster
    cluster:
      server: https://10.0.0.1:6443
      insecure-skip-tls-verify: true
users:
  - name: dev-user
    user:
      token: dev-token-123
  - name: prod-user
    user:
      client-certificate: certs/client.crt
      client-key: /abs/client.key
  - name: lab-user
    user:
      client-certificate-data: Q0VSVC1QRU0=
      client-key-data: S0VZLVBFTQ==
  - name: file-user
    user:
      tokenFile: token.txt
  - name: exec-user
    user:
      exec:
        command: aws
  - name: half-user
    user:
      client-certificate-data: Q0VSVC1QRU0=
contexts:
  - name: dev
    context: {cluster: dev-cluster, user: dev-user}
  - name: prod
    context: {cluster: prod-cluster, user: prod-user}
  - name: lab
    context: {cluster: lab-cluster, user: lab-user}
  - name: file
    context: {cluster: dev-cluster, user: file-user}
  - name: exec
    context: {cluster: dev-cluster, user: exec-user}
  - name: half
    context: {cluster: dev-cluster, user: half-user}
  - name: nouser
    context: {cluster: lab-cluster}
  - name: dangling
    context: {cluster: nowhere, user: dev-user}
)";

std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(KubeconfigTest, CurrentContextWithTokenAndInlineCa) {
  auto c = ParseKubeconfig(kConfig, "", "kc.yaml", "/etc/kube");
  EXPECT_EQ(c.server, "https://dev.example.com:6443");
  EXPECT_EQ(c.ca_pem, "CA-PEM");
  EXPECT_EQ(c.token, "dev-token-123");
  EXPECT_FALSE(c.insecure_skip_tls_verify);
  EXPECT_EQ(c.origin, "kubeconfig kc.yaml context dev");
}

TEST(KubeconfigTest, NamedContextWithCertificateFilesResolvedRelativeToTheKubeconfig) {
  auto c = ParseKubeconfig(kConfig, "prod", "kc.yaml", "/etc/kube");
  EXPECT_EQ(c.server, "https://prod.example.com/");
  EXPECT_EQ(c.ca_file, "/etc/kube/certs/ca.crt");
  EXPECT_EQ(c.client_cert_file, "/etc/kube/certs/client.crt");
  EXPECT_EQ(c.client_key_file, "/abs/client.key");
  EXPECT_TRUE(c.token.empty());
}

TEST(KubeconfigTest, InlineClientCertificateAndInsecureSkipVerify) {
  auto c = ParseKubeconfig(kConfig, "lab", "kc.yaml", "");
  EXPECT_TRUE(c.insecure_skip_tls_verify);
  EXPECT_EQ(c.client_cert_pem, "CERT-PEM");
  EXPECT_EQ(c.client_key_pem, "KEY-PEM");
}

TEST(KubeconfigTest, TokenFileAndNoUser) {
  auto c = ParseKubeconfig(kConfig, "file", "kc.yaml", "/etc/kube");
  EXPECT_EQ(c.token_file, "/etc/kube/token.txt");
  auto n = ParseKubeconfig(kConfig, "nouser", "kc.yaml", "");
  EXPECT_TRUE(n.token.empty());
  EXPECT_TRUE(n.client_cert_pem.empty());
}

TEST(KubeconfigTest, ErrorsNameWhatIsWrong) {
  EXPECT_THAT(ErrorOf([] { ParseKubeconfig(kConfig, "staging", "kc.yaml", ""); }),
              HasSubstr("kc.yaml: no context named 'staging'"));
  EXPECT_THAT(ErrorOf([] { ParseKubeconfig(kConfig, "dangling", "kc.yaml", ""); }),
              HasSubstr("no cluster named 'nowhere'"));
  EXPECT_THAT(ErrorOf([] { ParseKubeconfig(kConfig, "exec", "kc.yaml", ""); }),
              HasSubstr("exec or auth-provider plugin, which is not supported"));
  EXPECT_THAT(ErrorOf([] { ParseKubeconfig(kConfig, "half", "kc.yaml", ""); }),
              HasSubstr("a client certificate needs its key"));
  EXPECT_THAT(ErrorOf([] { ParseKubeconfig("clusters: [", "", "bad.yaml", ""); }),
              HasSubstr("bad.yaml: invalid YAML"));
  EXPECT_THAT(ErrorOf([] { ParseKubeconfig("apiVersion: v1\n", "", "e.yaml", ""); }),
              HasSubstr("no current-context"));
  EXPECT_THAT(ErrorOf([] { LoadKubeconfig("/nonexistent/kubeconfig"); }),
              HasSubstr("cannot read /nonexistent/kubeconfig"));
}

TEST(KubeconfigTest, InClusterServiceAccount) {
  auto dir = ::testing::TempDir() + "/sa-test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/token") << "sa-token\n";
  auto c = InCluster({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}},
                     dir);
  EXPECT_EQ(c.server, "https://10.96.0.1:443");
  EXPECT_EQ(c.token_file, dir + "/token");
  EXPECT_EQ(c.ca_file, dir + "/ca.crt");
  auto v6 = InCluster({{"KUBERNETES_SERVICE_HOST", "fd00::1"}}, dir);
  EXPECT_EQ(v6.server, "https://[fd00::1]:443");
  EXPECT_THAT(ErrorOf([] { InCluster({}, "/tmp"); }), HasSubstr("KUBERNETES_SERVICE_HOST"));
  EXPECT_THAT(ErrorOf([] {
                InCluster({{"KUBERNETES_SERVICE_HOST", "h"}}, "/nonexistent");
              }),
              HasSubstr("token missing"));
}

TEST(ClustersConfigTest, ParsesAndValidates) {
  auto list = ParseClusters(YAML::Load(
      "- {name: prod, kubeconfig: /k/prod, context: admin}\n- {name: here, in_cluster: true}\n"));
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].context, "admin");
  EXPECT_TRUE(list[1].in_cluster);
  EXPECT_EQ(ParseClusters(YAML::Node())[0].name, "default");
  EXPECT_THAT(ErrorOf([] { ParseClusters(YAML::Load("- {kubeconfig: x}")); }),
              HasSubstr("clusters[0].name: must not be empty"));
  EXPECT_THAT(ErrorOf([] { ParseClusters(YAML::Load("- {name: a}\n- {name: a}")); }),
              HasSubstr("clusters[1].name: 'a' is used twice"));
  EXPECT_THAT(ErrorOf([] { ParseClusters(YAML::Load("- {name: a, kubconfig: x}")); }),
              HasSubstr("clusters[0]: unknown key 'kubconfig'"));
}
