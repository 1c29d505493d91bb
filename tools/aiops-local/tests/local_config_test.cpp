#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "local_config.hpp"

using aiops_local::ConfigInputs;
using aiops_local::LocalOptions;

namespace {

YAML::Node Render(const LocalOptions& o) {
  ConfigInputs in{"127.0.0.1:9092", "/tmp/x/kubeconfig", "127.0.0.1:50051", "/tmp/x/token"};
  return YAML::Load(aiops_local::RenderConfig(o, in));
}

}  // namespace

TEST(LocalConfigTest, KubeSimDefaultsUseRunbooksATokenFileAndForcedOwnership) {
  LocalOptions o;
  o.identity = "alice";
  auto c = Render(o);
  EXPECT_EQ(c["clusters"][0]["name"].as<std::string>(), "kube-sim");
  EXPECT_EQ(c["clusters"][0]["kubeconfig"].as<std::string>(), "/tmp/x/kubeconfig");
  EXPECT_EQ(c["kafka"]["bootstrap"].as<std::string>(), "127.0.0.1:9092");
  EXPECT_EQ(c["kafka"]["properties"]["session.timeout.ms"].as<std::string>(), "6000");
  EXPECT_EQ(c["proposer"]["mode"].as<std::string>(), "runbook-first");
  EXPECT_FALSE(c["llm"]);
  EXPECT_EQ(c["grpc"]["listen"].as<std::string>(), "127.0.0.1:50051");
  EXPECT_EQ(c["auth"]["tokens"][0]["identity"].as<std::string>(), "alice");
  EXPECT_EQ(c["auth"]["tokens"][0]["role"].as<std::string>(), "approver");
  EXPECT_EQ(c["auth"]["tokens"][0]["token_file"].as<std::string>(), "/tmp/x/token");
  EXPECT_FALSE(c["auth"]["tokens"][0]["token"]) << "the token value never goes in the file";
  EXPECT_TRUE(c["policies"]["force_conflicts"].as<bool>());
  EXPECT_FALSE(c["policies"]["auto_approve"]);
}

TEST(LocalConfigTest, RealClusterKeepsConflictsAndNamesTheContext) {
  LocalOptions o;
  o.kubeconfig = "/home/me/.kube/config";
  o.context = "kind-aiops";
  auto c = Render(o);
  EXPECT_EQ(c["clusters"][0]["name"].as<std::string>(), "kind-aiops");
  EXPECT_EQ(c["clusters"][0]["context"].as<std::string>(), "kind-aiops");
  EXPECT_FALSE(c["policies"] && c["policies"]["force_conflicts"]);
}

TEST(LocalConfigTest, LlmAndAutoApprove) {
  LocalOptions o;
  o.llm_url = "http://127.0.0.1:11434";
  o.llm_model = "qwen2.5:7b-instruct";
  o.auto_approve = "low";
  auto c = Render(o);
  EXPECT_EQ(c["proposer"]["mode"].as<std::string>(), "llm-first");
  EXPECT_EQ(c["llm"]["backend"].as<std::string>(), "ollama");
  EXPECT_EQ(c["llm"]["model"].as<std::string>(), "qwen2.5:7b-instruct");
  auto rule = c["policies"]["auto_approve"][0];
  EXPECT_EQ(rule["risks"].size(), 1u);
  EXPECT_EQ(rule["risks"][0].as<std::string>(), "low");
  EXPECT_EQ(rule["sources"][0].as<std::string>(), "runbook");
}

TEST(LocalConfigTest, GuessesOpenAiCompatibleServers) {
  LocalOptions o;
  for (const char* u : {"http://127.0.0.1:8000", "http://x/v1", "https://api.openai.com"}) {
    o.llm_url = u;
    EXPECT_EQ(aiops_local::GuessLlmBackend(o), "openai") << u;
  }
  o.llm_url = "http://ollama:11434";
  EXPECT_EQ(aiops_local::GuessLlmBackend(o), "ollama");
  o.llm_backend = "openai";
  EXPECT_EQ(aiops_local::GuessLlmBackend(o), "openai");
}

TEST(LocalConfigTest, SetWritesDottedKeys) {
  LocalOptions o;
  o.sets = {aiops_local::ParseSet("proposer.workers=4"),
            aiops_local::ParseSet("executor.verify.timeout_seconds=30")};
  auto c = Render(o);
  EXPECT_EQ(c["proposer"]["workers"].as<int>(), 4);
  EXPECT_EQ(c["proposer"]["mode"].as<std::string>(), "runbook-first");
  EXPECT_EQ(c["executor"]["verify"]["timeout_seconds"].as<int>(), 30);
  EXPECT_THROW(aiops_local::ParseSet("novalue"), std::invalid_argument);
}

TEST(LocalConfigTest, SetKeepsLibrdkafkaPropertyNamesWhole) {
  LocalOptions o;
  o.sets = {aiops_local::ParseSet("kafka.properties.fetch.wait.max.ms=50"),
            aiops_local::ParseSet("executor.max_in_flight=4")};
  auto c = Render(o);
  EXPECT_EQ(c["kafka"]["properties"]["fetch.wait.max.ms"].as<std::string>(), "50");
  EXPECT_FALSE(c["kafka"]["properties"]["fetch"]);
  EXPECT_EQ(c["kafka"]["properties"]["session.timeout.ms"].as<std::string>(), "6000");
  EXPECT_EQ(c["executor"]["max_in_flight"].as<int>(), 4);
}
