// Where aiopsctl takes its server and token from, and the errors it prints.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "client.hpp"

using namespace aiopsctl;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

class ClientOptionsTest : public ::testing::Test {
 protected:
  ClientOptionsTest() {
    char tmpl[] = "/tmp/aiopsctl-client-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::filesystem::create_directories(dir_ + "/.config/aiops");
    vars_["HOME"] = dir_;
  }
  ~ClientOptionsTest() override { std::filesystem::remove_all(dir_); }

  EnvLookup Env() {
    return [this](const std::string& n) -> std::optional<std::string> {
      auto it = vars_.find(n);
      if (it == vars_.end()) return std::nullopt;
      return it->second;
    };
  }
  void WriteConfig(const std::string& text) {
    std::ofstream(dir_ + "/.config/aiops/config.yaml") << text;
  }

  std::string dir_;
  std::map<std::string, std::string> vars_;
};

TEST_F(ClientOptionsTest, DefaultsWithoutAnything) {
  auto o = ResolveClientOptions({}, Env());
  EXPECT_EQ(o.server, "127.0.0.1:50051");
  EXPECT_EQ(o.token, "");
  EXPECT_FALSE(o.tls);
  EXPECT_EQ(o.config_file, "");
}

TEST_F(ClientOptionsTest, FlagsBeatEnvironmentWhichBeatsTheConfigFile) {
  WriteConfig("server: file-host:1\ntoken: file-token\n");
  auto o = ResolveClientOptions({}, Env());
  EXPECT_EQ(o.server, "file-host:1");
  EXPECT_EQ(o.token, "file-token");
  EXPECT_EQ(o.config_file, dir_ + "/.config/aiops/config.yaml");

  vars_["AIOPS_SERVER"] = "env-host:2";
  vars_["AIOPS_TOKEN"] = "env-token";
  o = ResolveClientOptions({}, Env());
  EXPECT_EQ(o.server, "env-host:2");
  EXPECT_EQ(o.token, "env-token");

  ClientFlags flags;
  flags.server = "flag-host:3";
  flags.token = "flag-token";
  o = ResolveClientOptions(flags, Env());
  EXPECT_EQ(o.server, "flag-host:3");
  EXPECT_EQ(o.token, "flag-token");
}

TEST_F(ClientOptionsTest, TokenFileAndTls) {
  std::ofstream(dir_ + "/tok") << "  secret-from-file\n";
  WriteConfig("token_file: " + dir_ + "/tok\nca_file: /etc/ca.pem\n");
  auto o = ResolveClientOptions({}, Env());
  EXPECT_EQ(o.token, "secret-from-file");
  EXPECT_TRUE(o.tls) << "a CA file implies TLS";
  ClientFlags flags;
  flags.token_file = dir_ + "/missing";
  try {
    ResolveClientOptions(flags, Env());
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot read token file"));
  }
}

TEST_F(ClientOptionsTest, BadConfigFileIsAReadableError) {
  WriteConfig("sever: typo:1\n");
  try {
    ResolveClientOptions({}, Env());
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("unknown key 'sever'"));
  }
  ClientFlags flags;
  flags.config_file = dir_ + "/nope.yaml";
  EXPECT_THROW(ResolveClientOptions(flags, Env()), std::runtime_error)
      << "an explicitly named file must exist";
}

TEST(DescribeFailureTest, EveryCodeBecomesOneReadableLineAndAnExitCode) {
  ClientOptions o;
  o.server = "host:1";
  struct Case {
    grpc::StatusCode code;
    std::string server_message;
    int exit_code;
    std::string contains;
  };
  std::vector<Case> cases = {
      {grpc::StatusCode::NOT_FOUND, "remediation rem-x not found", kExitNotFound,
       "approve rem-x: remediation rem-x not found"},
      {grpc::StatusCode::INVALID_ARGUMENT, "a reason is required", kExitInvalidArgument,
       "invalid argument: a reason is required"},
      {grpc::StatusCode::UNAUTHENTICATED, "missing bearer token", kExitAuth, "set AIOPS_TOKEN"},
      {grpc::StatusCode::PERMISSION_DENIED, "role viewer", kExitAuth, "permission denied"},
      {grpc::StatusCode::FAILED_PRECONDITION, "is Rejected\n(by bob)", kExitRefused,
       "refused: is Rejected (by bob)"},
      {grpc::StatusCode::RESOURCE_EXHAUSTED, "rate limit", kExitRefused, "refused by policy"},
      {grpc::StatusCode::UNAVAILABLE, "failed to connect", kExitUnavailable,
       "cannot reach the approver at host:1"},
      {grpc::StatusCode::DEADLINE_EXCEEDED, "", kExitUnavailable, "did not answer within 30 s"},
      {grpc::StatusCode::INTERNAL, "boom", kExitError, "boom"},
  };
  for (const auto& c : cases) {
    auto f = DescribeFailure(grpc::Status(c.code, c.server_message), "approve rem-x", o);
    EXPECT_EQ(f.exit_code, c.exit_code) << c.server_message;
    EXPECT_THAT(f.message, HasSubstr(c.contains));
    EXPECT_THAT(f.message, Not(HasSubstr("\n")));
  }
}

}  // namespace
