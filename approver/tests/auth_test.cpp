// Token configuration and bearer authentication.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "aiops/config.hpp"
#include "auth.hpp"

using namespace aiops;
using namespace aiops::approver;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

const std::string kAlice = "alice-token-0123456789";
const std::string kVictor = "victor-token-0123456789";

Authenticator::EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string Error(const std::string& yaml, Authenticator::EnvLookup env = Env({})) {
  try {
    Authenticator::FromYaml(YAML::Load(yaml), env);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(AuthTest, TokensFromConfigEnvironmentAndFile) {
  char path[] = "/tmp/approver-auth-test-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << "bob-token-from-a-file-0123\n";
  auto auth = Authenticator::FromYaml(YAML::Load(std::string(R"(
tokens:
  - {identity: alice, role: approver, token: )") +
                                                 kAlice + R"(}
  - {identity: victor, role: viewer, token_env: VICTOR_TOKEN}
  - {identity: bob, role: approver, token_file: )" +
                                                 path + R"(}
)"),
                                      Env({{"VICTOR_TOKEN", kVictor}}));
  std::remove(path);
  EXPECT_EQ(auth.size(), 3u);
  auto a = auth.Authenticate("Bearer " + kAlice);
  ASSERT_TRUE(a.identity);
  EXPECT_EQ(a.identity->name, "alice");
  EXPECT_EQ(a.identity->role, Role::kApprover);
  auto v = auth.Authenticate("bearer " + kVictor);
  ASSERT_TRUE(v.identity);
  EXPECT_EQ(v.identity->name, "victor");
  EXPECT_EQ(v.identity->role, Role::kViewer);
  auto b = auth.Authenticate("Bearer bob-token-from-a-file-0123");
  ASSERT_TRUE(b.identity);
  EXPECT_EQ(b.identity->name, "bob");
}

TEST(AuthTest, RefusesMissingWrongAndMalformedTokens) {
  Authenticator auth({{"alice", Role::kApprover, kAlice}});
  EXPECT_THAT(auth.Authenticate(std::nullopt).error, HasSubstr("missing bearer token"));
  EXPECT_THAT(auth.Authenticate("").error, HasSubstr("missing bearer token"));
  EXPECT_EQ(auth.Authenticate("Bearer wrong-token-000000000").error, "invalid token");
  EXPECT_EQ(auth.Authenticate("Bearer " + kAlice + "x").error, "invalid token");
  EXPECT_THAT(auth.Authenticate("Basic " + kAlice).error, HasSubstr("not 'Bearer <token>'"));
  EXPECT_FALSE(auth.Authenticate(kAlice).identity);
}

TEST(AuthTest, InsecureDevLetsAnonymousCallersInButStillChecksGivenTokens) {
  Authenticator auth({{"alice", Role::kApprover, kAlice}}, /*insecure_dev=*/true);
  auto anon = auth.Authenticate(std::nullopt);
  ASSERT_TRUE(anon.identity);
  EXPECT_EQ(anon.identity->name, Authenticator::kInsecureIdentity);
  EXPECT_EQ(auth.Authenticate("Bearer " + kAlice).identity->name, "alice");
  EXPECT_FALSE(auth.Authenticate("Bearer nope-nope-nope-nope").identity);
}

TEST(AuthTest, ConfigErrorsNameTheEntryAndNeverTheToken) {
  EXPECT_THAT(Error("tokens: [{role: approver, token: " + kAlice + "}]"),
              HasSubstr("auth.tokens[0].identity"));
  auto bad_role = Error("tokens: [{identity: a, role: admin, token: " + kAlice + "}]");
  EXPECT_THAT(bad_role, HasSubstr("role: must be viewer or approver"));
  EXPECT_THAT(bad_role, Not(HasSubstr(kAlice)));
  EXPECT_THAT(Error("tokens: [{identity: a, role: viewer}]"), HasSubstr("exactly one of"));
  EXPECT_THAT(Error("tokens: [{identity: a, role: viewer, token: short}]"),
              HasSubstr("shorter than 16"));
  EXPECT_THAT(Error("tokens: [{identity: a, role: viewer, token_env: NOPE}]"),
              HasSubstr("NOPE is not set"));
  EXPECT_THAT(Error("tokens: [{identity: a, role: viewer, token_file: /nonexistent/x}]"),
              HasSubstr("cannot read /nonexistent/x"));
  auto dup = Error("tokens: [{identity: a, role: viewer, token: " + kAlice +
                   "}, {identity: b, role: viewer, token: " + kAlice + "}]");
  EXPECT_THAT(dup, HasSubstr("same token"));
  EXPECT_THAT(dup, Not(HasSubstr(kAlice)));
  EXPECT_THAT(Error("tokens: [{identity: 'policy:x', role: viewer, token: " + kAlice + "}]"),
              HasSubstr("reserved"));
  EXPECT_THAT(Error("tokenz: []"), HasSubstr("unknown key 'tokenz'"));
}

TEST(AuthTest, LoopbackHosts) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_TRUE(IsLoopbackHost("[::1]"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("10.0.0.5"));
  EXPECT_FALSE(IsLoopbackHost("[::]"));
}

}  // namespace
