#include "redact.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using namespace aiops::collector;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(RedactTest, SecretLikeNames) {
  for (const char* n :
       {"DB_PASSWORD", "apiKey", "GITHUB_TOKEN", "client_secret", "AWS_SECRET_ACCESS_KEY",
        "SESSION_COOKIE", "TLS_PRIVATE_KEY", "credentials_json"}) {
    EXPECT_TRUE(SecretLikeName(n)) << n;
  }
  for (const char* n : {"LOG_LEVEL", "REDIS_HOST", "PORT", "JAVA_OPTS"}) {
    EXPECT_FALSE(SecretLikeName(n)) << n;
  }
}

struct Planted {
  std::string text;
  std::string secret;
};

class RedactTextTable : public ::testing::TestWithParam<Planted> {};

TEST_P(RedactTextTable, ThePlantedSecretIsGone) {
  std::string text = GetParam().text;
  EXPECT_GE(RedactText(text), 1);
  EXPECT_THAT(text, Not(HasSubstr(GetParam().secret))) << text;
  EXPECT_THAT(text, HasSubstr("REDACTED"));
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, RedactTextTable,
    ::testing::Values(
        Planted{"GET /api Authorization: Bearer abc123def456ghi789 ok", "abc123def456ghi789"},
        Planted{"token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJlLXZhbHVl used",
                "eyJzdWIiOiIxMjM0NSJ9"},
        Planted{"aws key AKIAIOSFODNN7EXAMPLE loaded", "AKIAIOSFODNN7EXAMPLE"},
        Planted{"gcp AIzaSyA1234567890abcdefghijklmnopqrstuv ok",
                "AIzaSyA1234567890abcdefghijklmnopqrstuv"},
        Planted{"connecting with password=hunter2&user=bob", "hunter2"},
        Planted{"config: {\"api_key\": \"s3cr3tvalue\"}", "s3cr3tvalue"},
        Planted{"DB_URL=postgres://app:sup3rs3cret@db:5432/shop", "sup3rs3cret"},
        Planted{"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
                "MIIEowIBAAKCAQEA"},
        Planted{"using ghp_abcdefghijklmnopqrstuvwxyz0123 for git",
                "ghp_abcdefghijklmnopqrstuvwxyz0123"},
        Planted{"Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA=="}));

TEST(RedactTest, OrdinaryLogLinesAreUntouched) {
  std::string text = "dial tcp: Connection refused to redis:6379\nfatal: exiting\n";
  auto copy = text;
  EXPECT_EQ(RedactText(text), 0);
  EXPECT_EQ(text, copy);
}

TEST(RedactTest, ObjectsLoseManagedFieldsLastAppliedAndSecretEnvValues) {
  auto obj = nlohmann::json::parse(R"({
    "kind": "Deployment",
    "metadata": {"name": "web", "managedFields": [{"manager": "kubectl"}],
      "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"DB_PASSWORD\":\"p4ss\"}",
                      "team": "shop"}},
    "spec": {"template": {"spec": {
      "initContainers": [{"name": "init", "env": [{"name": "API_TOKEN", "value": "t0ken-value"}]}],
      "containers": [{"name": "web", "env": [
        {"name": "DB_PASSWORD", "value": "p4ss"},
        {"name": "LOG_LEVEL", "value": "debug"},
        {"name": "UPSTREAM", "value": "https://u:pw123456@api.example.com"},
        {"name": "DB_USER", "valueFrom": {"secretKeyRef": {"name": "db", "key": "user"}}}]}]}}}
  })");
  std::vector<std::string> notes;
  RedactObject(obj, notes);
  auto text = obj.dump();
  EXPECT_THAT(text, Not(HasSubstr("p4ss")));
  EXPECT_THAT(text, Not(HasSubstr("t0ken-value")));
  EXPECT_THAT(text, Not(HasSubstr("pw123456")));
  EXPECT_THAT(text, Not(HasSubstr("managedFields")));
  EXPECT_THAT(text, HasSubstr("\"debug\""));
  EXPECT_THAT(text, HasSubstr("\"team\":\"shop\""));
  EXPECT_THAT(text, HasSubstr("secretKeyRef"));  // a reference, no value
  EXPECT_GE(notes.size(), 4u);
  for (const auto& n : notes)
    EXPECT_THAT(n, Not(HasSubstr("p4ss")));
}

TEST(RedactTest, SecretObjectsLoseAllData) {
  auto obj = nlohmann::json::parse(
      R"({"kind": "Secret", "data": {"password": "aHVudGVyMg=="}, "stringData": {"k": "v4lue"}})");
  std::vector<std::string> notes;
  RedactObject(obj, notes);
  EXPECT_THAT(obj.dump(), Not(HasSubstr("aHVudGVyMg==")));
  EXPECT_THAT(obj.dump(), Not(HasSubstr("v4lue")));
  EXPECT_TRUE(obj["data"].contains("password")) << "key names stay";
}

TEST(RedactTest, AHugeLineIsElidedNotScannedAndDoesNotCrash) {
  std::string text = "before\n" + std::string(200000, 'x') + "\nafter password=abc123\n";
  EXPECT_EQ(RedactText(text), 2);
  EXPECT_EQ(text,
            "before\n[REDACTED: line of 200000 bytes not scanned]\nafter password=[REDACTED]\n");
}

TEST(RedactTest, APrivateKeyBlockAcrossLinesIsCutOut) {
  std::string text =
      "key:\n-----BEGIN PRIVATE KEY-----\nAAAA\nBBBB\n-----END PRIVATE KEY-----\ndone";
  EXPECT_EQ(RedactText(text), 1);
  EXPECT_EQ(text, "key:\n[REDACTED PRIVATE KEY]\ndone");
  std::string cert = "-----BEGIN CERTIFICATE-----\nCCCC\n-----END CERTIFICATE-----";
  auto copy = cert;
  EXPECT_EQ(RedactText(cert), 0) << "certificates are public";
  EXPECT_EQ(cert, copy);
}

// Found by fuzz/fuzz_evidence: an env entry whose name is not a string threw
// nlohmann::type_error out of RedactObject, and with it out of EvidenceBuilder::Build.
TEST(RedactTest, FieldsOfAnotherTypeDoNotThrow) {
  auto obj = nlohmann::json::parse(R"({"kind": "Deployment", "spec": {"template": {"spec": {
    "containers": [{"name": 7, "env": [{"name": 5, "value": "token=abcdefgh12345"},
                                       {"name": "API_TOKEN", "value": "s3cr3t"}]}]}}}})");
  std::vector<std::string> notes;
  ASSERT_NO_THROW(RedactObject(obj, notes));
  const auto& env = obj["spec"]["template"]["spec"]["containers"][0]["env"];
  EXPECT_EQ(env[0]["value"], "token=[REDACTED]");
  EXPECT_EQ(env[1]["value"], kRedacted);
  for (const char* text : {R"([1, 2])", R"({"kind": 5, "data": {"a": "b"}})", R"("x")"}) {
    auto j = nlohmann::json::parse(text);
    EXPECT_NO_THROW(RedactObject(j, notes)) << text;
  }
}
