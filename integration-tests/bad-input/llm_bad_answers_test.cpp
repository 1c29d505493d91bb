// Hostile LLM answers against the real aiops-proposer (llm-only mode, so a refused answer is a
// failed proposal rather than hidden behind a runbook): deep nesting, a 10 MB string, wrong
// types, JSON that is not an object, truncated JSON, and a schema-valid patch outside the allow
// list. Each must become a Failed proposal (manual, no actions, the reason recorded), published
// to the topic like any other, and the proposer keeps serving: a valid answer afterwards is
// still an LLM proposal. The answers are written as scripted-llm-server fixtures at run time
// (one is 10 MB).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "metrics_probe.hpp"
#include "proposer_harness.hpp"

using namespace aiops;
using namespace aiops::testing;
using nlohmann::json;
using ::testing::HasSubstr;

namespace {

// The canned valid answer of the proposer suite, for workload shop/<name>.
json ValidAnswer(const std::string& name) {
  std::ifstream in(std::string(PROPOSER_IT_DIR) + "/fixtures/llm/valid-proposal.json");
  json answer = json::parse(in)["responses"][0]["content_json"];
  answer["actions"][0]["target"]["name"] = name;
  answer["actions"][0]["patch"]["metadata"]["name"] = name;
  return answer;
}

struct BadAnswer {
  std::string workload;  // shop/<workload>; the fixture matches it in the prompt
  json response;         // one scripted response: {"content": ...} or {"content_json": ...}
  std::string reason;    // expected in the failed proposal's root cause
};

// The proposer refuses these before parsing (proposer/src/answer.cpp).
const char* kDeep = "the answer nests deeper than 64 levels";
const char* kTooLarge = "bytes, more than the 262144 allowed";

std::vector<BadAnswer> BadAnswers() {
  const size_t deep = 100000;
  json wrong_types = {{"summary", json::array({1})}, {"root_cause", 1},
                      {"reasoning", "none"},         {"manual", "no"},
                      {"actions", json::object()},   {"risk", 5},
                      {"risk_reasons", "r"},         {"confidence", "high"}};
  json wrong_action_types = ValidAnswer("cart-action-types");
  wrong_action_types["actions"][0] = {{"type", 1},
                                      {"target", "cart"},
                                      {"description", json::array()},
                                      {"patch", 3},
                                      {"rollback_to_revision", "two"}};
  json huge = ValidAnswer("cart-huge");
  huge["summary"] = std::string(10 << 20, 's');
  json outside = ValidAnswer("cart-outside");
  outside["actions"][0]["patch"]["spec"]["template"]["spec"]["serviceAccountName"] = "admin";
  json other_kind = ValidAnswer("cart-secret");
  other_kind["actions"][0]["target"]["kind"] = "Secret";
  other_kind["actions"][0]["target"]["api_version"] = "v1";
  other_kind["actions"][0]["patch"] = {
      {"apiVersion", "v1"},
      {"kind", "Secret"},
      {"metadata", {{"name", "cart-secret"}, {"namespace", "shop"}}},
      {"stringData", {{"password", "x"}}}};
  std::string truncated = ValidAnswer("cart-truncated").dump();
  // Deep nesting where the schema allows any object (the patch), so it reaches the validator;
  // written as text so that the LLM double need not handle the depth itself.
  json deep_patch = ValidAnswer("cart-deep-patch");
  deep_patch["actions"][0]["patch"]["spec"]["template"]["metadata"]["annotations"]["a"] = "DEEP";
  std::string deep_patch_text = deep_patch.dump();
  deep_patch_text.replace(deep_patch_text.find("\"DEEP\""), 6,
                          std::string(deep, '[') + std::string(deep, ']'));
  json huge_key = ValidAnswer("cart-huge-key");
  huge_key[std::string(10 << 20, 'k')] = 1;
  return {
      {"cart-deep-array", {{"content", std::string(deep, '[') + std::string(deep, ']')}}, kDeep},
      {"cart-deep-open", {{"content", std::string(deep, '[')}}, kDeep},
      // 20k levels: objects cost 5 bytes a level, and 100k would hit the size limit first.
      {"cart-deep-object",
       {{"content",
         [&] {
           std::string s;
           for (size_t i = 0; i < deep / 5; ++i)
             s += "{\"a\":";
           return s + "1" + std::string(deep / 5, '}');
         }()}},
       kDeep},
      {"cart-huge", {{"content_json", huge}}, kTooLarge},
      {"cart-wrong-types", {{"content_json", wrong_types}}, "summary: must be string"},
      {"cart-action-types",
       {{"content_json", wrong_action_types}},
       "actions[0].type: must be string"},
      {"cart-array", {{"content", "[1, 2, 3]"}}, "(answer): must be object"},
      {"cart-string", {{"content", "\"fix it\""}}, "(answer): must be object"},
      {"cart-null", {{"content", "null"}}, "(answer): must be object"},
      {"cart-number", {{"content", "42"}}, "(answer): must be object"},
      {"cart-empty", {{"content", ""}}, "the answer is empty"},
      {"cart-truncated", {{"content", truncated.substr(0, truncated.size() / 2)}}, "not JSON"},
      {"cart-deep-patch", {{"content", deep_patch_text}}, kDeep},
      {"cart-huge-key", {{"content_json", huge_key}}, kTooLarge},
      {"cart-outside",
       {{"content_json", outside}},
       "spec.template.spec.serviceAccountName: field is not allowed"},
      {"cart-secret", {{"content_json", other_kind}}, "target kind Secret is not allowed"},
  };
}

void WriteFixture(const TempDir& dir, const std::string& workload, const json& response) {
  json fixture = {{"match", "Deployment shop/" + workload + ":"},
                  {"responses", json::array({response})}};
  std::ofstream(dir.File(workload + ".json")) << fixture.dump();
}

}  // namespace

TEST(BadInputLlmTest, HostileAnswersBecomeFailedProposalsAndTheProposerKeepsServing) {
  TempDir fixtures;
  auto answers = BadAnswers();
  for (const auto& a : answers)
    WriteFixture(fixtures, a.workload, a.response);
  WriteFixture(fixtures, "cart-valid-after", {{"content_json", ValidAnswer("cart-valid-after")}});

  DevBroker broker;
  ScriptedLlm llm(fixtures.path());
  ASSERT_TRUE(llm.ok()) << llm.process().Output();
  ProposerProcess proposer(broker.bootstrap(),
                           {"kafka.group_id=it-bad-llm", "proposer.mode=llm-only",
                            "llm.backend=openai", "llm.url=" + llm.url(), "llm.model=scripted",
                            "llm.timeout_ms=20000", "llm.retries=0", "proposer.workers=2"});
  ASSERT_TRUE(proposer.ready()) << proposer.process().Output();
  kafka::Producer producer(ItConfig(broker.bootstrap()), "it-bad-llm");
  TopicsSeen seen(broker.bootstrap());

  auto rid = [](const std::string& workload) {
    std::string id = "rem-" + workload;
    id.resize(24, '0');
    return id;
  };
  for (const auto& a : answers)
    Publish(producer, EvidenceFixture("crashloop-missing-env", a.workload, rid(a.workload)));

  for (const auto& a : answers) {
    SCOPED_TRACE(a.workload);
    auto got = seen.Proposals(rid(a.workload), 1, std::chrono::seconds(60));
    ASSERT_EQ(got.size(), 1u) << proposer.process().Output().substr(0, 20000);
    const v1::Proposal& p = got[0];
    EXPECT_TRUE(p.manual());
    EXPECT_EQ(p.actions_size(), 0);
    EXPECT_EQ(p.risk(), v1::RISK_LEVEL_HIGH);
    EXPECT_THAT(p.summary(), HasSubstr("No safe change proposed"));
    EXPECT_THAT(p.root_cause(), HasSubstr(a.reason));
    bool failed_reason = false;
    for (const auto& r : p.risk_reasons())
      failed_reason = failed_reason || r.rfind("proposal failed: ", 0) == 0;
    EXPECT_TRUE(failed_reason) << p.DebugString();
    // The reason is recorded, but a hostile answer is not copied into the proposal wholesale.
    EXPECT_LT(p.ByteSizeLong(), 64u * 1024) << p.root_cause().substr(0, 2000);
    EXPECT_EQ(p.source().kind(), v1::ProposalSource::KIND_LLM);
  }
  ASSERT_TRUE(proposer.process().Running()) << proposer.process().Output().substr(0, 20000);
  EXPECT_EQ(proposer.HttpStatus("/healthz"), 200);

  // Still serving: a valid answer afterwards is an LLM proposal with its patch.
  Publish(producer,
          EvidenceFixture("crashloop-missing-env", "cart-valid-after", rid("cart-valid-after")));
  auto good = seen.Proposals(rid("cart-valid-after"), 1, std::chrono::seconds(120));
  ASSERT_EQ(good.size(), 1u) << proposer.process().Output().substr(0, 20000);
  EXPECT_FALSE(good[0].manual());
  EXPECT_EQ(good[0].actions_size(), 1);
  std::string metrics;
  EXPECT_EQ(proposer.HttpStatus("/metrics", &metrics), 200);
  EXPECT_GE(MetricValue(metrics, "aiops_proposer_proposals_total", {"outcome=\"failed\""}),
            answers.size());
}
