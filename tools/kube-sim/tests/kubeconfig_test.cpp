#include <gtest/gtest.h>

#include "json_util.hpp"
#include "kubeconfig.hpp"
#include "tls.hpp"

namespace kubesim {
namespace {

TEST(KubeconfigTest, PlainHttpWithToken) {
  json kc = YamlToJson(KubeconfigYaml("http://127.0.0.1:1234", "abc"));
  EXPECT_EQ(kc["current-context"], "kube-sim");
  EXPECT_EQ(kc["clusters"][0]["cluster"]["server"], "http://127.0.0.1:1234");
  EXPECT_FALSE(kc["clusters"][0]["cluster"].contains("certificate-authority-data"));
  EXPECT_EQ(kc["users"][0]["user"]["token"], "abc");
  json anon = YamlToJson(KubeconfigYaml("http://127.0.0.1:1234", ""));
  EXPECT_TRUE(anon["users"][0]["user"].is_object());
  EXPECT_FALSE(anon["users"][0]["user"].contains("token"));
}

TEST(KubeconfigTest, HttpsCarriesTheSelfSignedCertificate) {
  auto id = MakeSelfSignedIdentity("127.0.0.1");
  ASSERT_NE(id->cert, nullptr);
  ASSERT_NE(id->key, nullptr);
  EXPECT_EQ(id->cert_pem.rfind("-----BEGIN CERTIFICATE-----", 0), 0u);
  json kc = YamlToJson(KubeconfigYaml("https://127.0.0.1:1234", "t", id->cert_pem));
  std::string ca = kc["clusters"][0]["cluster"]["certificate-authority-data"];
  EXPECT_GT(ca.size(), 100u);
  EXPECT_EQ(ca.rfind("LS0tLS1CRUdJTi", 0), 0u);  // base64 of "-----BEGIN"
}

}  // namespace
}  // namespace kubesim
