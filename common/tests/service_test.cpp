#include "aiops/service.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace {
std::optional<int> InitWith(aiops::Service& service, std::vector<std::string> args) {
  std::vector<char*> argv;
  args.insert(args.begin(), "aiops-test");
  for (auto& a : args)
    argv.push_back(a.data());
  return service.Init(static_cast<int>(argv.size()), argv.data());
}
}  // namespace

TEST(ServiceTest, HelpExitsZero) {
  aiops::Service service("aiops-test", "test service", "127.0.0.1:0");
  testing::internal::CaptureStdout();
  EXPECT_EQ(InitWith(service, {"--help"}), 0);
  auto out = testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("--config"), std::string::npos);
}

TEST(ServiceTest, HelpConfigListsKeysWithTheirVariables) {
  aiops::Service service("aiops-test", "test service", "127.0.0.1:0");
  testing::internal::CaptureStdout();
  EXPECT_EQ(InitWith(service, {"--help-config"}), 0);
  auto out = testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("kafka.bootstrap (AIOPS_KAFKA_BOOTSTRAP)"), std::string::npos) << out;
}

TEST(ServiceTest, ABadKeyInTheFileExitsTwoNamingIt) {
  std::string path = ::testing::TempDir() + "/aiops-service-test.yaml";
  std::ofstream(path) << "kafka:\n  retries: 3\n";
  aiops::Service service("aiops-test", "test service", "127.0.0.1:0");
  testing::internal::CaptureStderr();
  EXPECT_EQ(InitWith(service, {"--config", path}), 2);
  auto err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("unknown key 'kafka.retries'"), std::string::npos) << err;
}

TEST(ServiceTest, FlagsOverrideTheFileAndSetReachesAnyKey) {
  std::string path = ::testing::TempDir() + "/aiops-service-test2.yaml";
  std::ofstream(path) << "kafka:\n  bootstrap: file:1\n";
  aiops::Service service("aiops-test", "test service", "127.0.0.1:0");
  EXPECT_EQ(InitWith(service, {"--config", path, "--kafka-bootstrap", "flag:2", "--set",
                               "kafka.handler_retries=9", "--log-format", "json"}),
            std::nullopt);
  EXPECT_EQ(service.kafka().bootstrap, "flag:2");
  EXPECT_EQ(service.kafka().handler_retries, 9);
  EXPECT_EQ(service.kafka().group_id, "aiops-test");
}

TEST(ServiceTest, AnInvalidValueExitsTwo) {
  aiops::Service service("aiops-test", "test service", "127.0.0.1:0");
  testing::internal::CaptureStderr();
  EXPECT_EQ(InitWith(service, {"--log-format", "xml"}), 2);
  auto err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("log.format: must be one of text json, got 'xml'"), std::string::npos) << err;
}
