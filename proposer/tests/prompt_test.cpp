// Prompt budgeting and the LLM request bodies.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "proposer/answer.hpp"
#include "proposer/prompt.hpp"
#include "test_util.hpp"

using namespace aiops;
using namespace aiops::proposer;
using namespace aiops::proposer::testing;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {
const std::vector<std::string> kScenarios = {"bad-image-tag",         "oom-killed",
                                             "crashloop-missing-env", "crashloop-after-rollout",
                                             "missing-configmap",     "unschedulable"};
}

TEST(PromptTest, EveryScenarioFitsItsBudgetAndKeepsTheIncident) {
  for (const auto& name : kScenarios) {
    auto e = Fixture(name);
    auto guidance = ShippedRunbooks().Matching(e);
    for (size_t budget : {3000u, 1000u, 500u}) {
      auto p = BuildPrompt(e, guidance, {budget});
      ASSERT_EQ(p.messages.size(), 2u);
      EXPECT_LE(p.bytes, budget * 4) << name << " budget " << budget;
      EXPECT_EQ(p.estimated_tokens, (p.bytes + 3) / 4);
      EXPECT_EQ(p.bytes, p.messages[0].content.size() + p.messages[1].content.size());
      const auto& w = e.anomaly().workload();
      EXPECT_THAT(p.messages[0].content,
                  HasSubstr(w.kind() + " " + w.namespace_() + "/" + w.name()));
      EXPECT_THAT(p.messages[1].content, HasSubstr("## Incident"));
      EXPECT_THAT(p.messages[1].content, HasSubstr(e.anomaly().reason()));
    }
  }
}

TEST(PromptTest, AGenerousBudgetHoldsEverySectionAndTheRules) {
  auto e = Fixture("crashloop-after-rollout");
  auto p = BuildPrompt(e, ShippedRunbooks().Matching(e), {8000});
  EXPECT_TRUE(p.omitted.empty()) << ::testing::PrintToString(p.omitted);
  const auto& user = p.messages[1].content;
  for (const char* s : {"## Workload spec", "## Pods", "## Rollout history", "## Runbook guidance",
                        "## Events", "## Log", "## Nodes", "REDIS_HOST is not set",
                        "revision 1: registry.example.com/shop/cart:3.2.0 (ran healthy)"}) {
    EXPECT_THAT(user, HasSubstr(s));
  }
  EXPECT_THAT(p.messages[0].content, HasSubstr("Never privileged"));
  EXPECT_THAT(p.messages[0].content, HasSubstr("manual=true"));
  // The revision's full pod template is not repeated in the prompt.
  EXPECT_THAT(user, Not(HasSubstr("pod_template_json")));
}

TEST(PromptTest, ATightBudgetCutsTheLogHeadKeepsItsTailAndSaysWhatWasLeftOut) {
  auto e = Fixture("crashloop-missing-env");
  std::string big;
  for (int i = 0; i < 400; ++i)
    big += "noise line " + std::to_string(i) + " lorem ipsum\n";
  e.mutable_logs(0)->set_text(big + "fatal: the last line matters\n");
  auto p = BuildPrompt(e, {}, {1000});
  EXPECT_LE(p.bytes, 4000u);
  EXPECT_THAT(p.messages[1].content, HasSubstr("fatal: the last line matters"));
  EXPECT_THAT(p.messages[1].content, Not(HasSubstr("noise line 0 ")));
  EXPECT_THAT(p.omitted, ::testing::Contains(HasSubstr("head of log")));
}

TEST(PromptTest, RepeatedEventsAndIdenticalPodsAppearOnce) {
  auto e = Fixture("missing-configmap");
  for (int i = 0; i < 20; ++i)
    *e.add_events() = e.events(0);
  auto p = BuildPrompt(e, {}, {3000});
  const auto& user = p.messages[1].content;
  auto count = [&](const std::string& needle) {
    size_t n = 0;
    for (size_t pos = user.find(needle); pos != std::string::npos; pos = user.find(needle, pos + 1))
      ++n;
    return n;
  };
  EXPECT_EQ(count("Failed: Error: configmap \"payments-config\" not found"), 1u);
  EXPECT_THAT(user, HasSubstr("ConfigMap payments-config key DATABASE_URL"));
}

TEST(PromptTest, OllamaBodyAsksForJsonSchemaNoStreamTemperatureZero) {
  LlmRequest r;
  r.messages = {{"system", "s"}, {"user", "u"}};
  r.schema = AnswerSchema();
  auto b = OllamaBody("qwen2.5:7b", r);
  EXPECT_EQ(b["model"], "qwen2.5:7b");
  EXPECT_EQ(b["stream"], false);
  EXPECT_EQ(b["format"], AnswerSchema());
  EXPECT_EQ(b["options"]["temperature"], 0);
  EXPECT_EQ(b["messages"][1]["content"], "u");
  auto o = OpenAiBody("gpt-4o-mini", r, 512);
  EXPECT_EQ(o["response_format"]["type"], "json_schema");
  EXPECT_EQ(o["response_format"]["json_schema"]["schema"], AnswerSchema());
  EXPECT_EQ(o["temperature"], 0);
  EXPECT_EQ(o["max_tokens"], 512);
}

TEST(AnswerTest, ParsesValidAnswersAndNamesEveryProblemOfInvalidOnes) {
  std::vector<std::string> errors;
  EXPECT_FALSE(ParseAnswer("Sure! Here is my analysis: the image is wrong.", &errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("not JSON"));
  errors.clear();
  EXPECT_FALSE(ParseAnswer(R"({"summary": 3, "manual": "no", "risk": "extreme"})", &errors));
  std::string all;
  for (const auto& e : errors)
    all += e + "\n";
  EXPECT_THAT(all, HasSubstr("summary: must be string"));
  EXPECT_THAT(all, HasSubstr("manual: must be boolean"));
  EXPECT_THAT(all, HasSubstr("risk: must be one of"));
  EXPECT_THAT(all, HasSubstr("actions: required"));
  errors.clear();
  auto c = ParseAnswer(R"(```json
{"summary":"s","root_cause":"r","reasoning":[{"observation":"o","thought":"t"}],"manual":false,
 "actions":[{"type":"rollback_to_revision","target":{"api_version":"apps/v1","kind":"Deployment","namespace":"shop","name":"cart"},
 "description":"d","rollback_to_revision":1}],"risk":"medium","risk_reasons":["x"],"confidence":0.7}
```)",
                       &errors);
  ASSERT_TRUE(c) << ::testing::PrintToString(errors);
  EXPECT_EQ(c->actions.size(), 1u);
  EXPECT_EQ(c->actions[0].type, CandidateAction::Type::kRollback);
  EXPECT_EQ(c->actions[0].revision, 1);
  EXPECT_EQ(c->risk, v1::RISK_LEVEL_MEDIUM);
  errors.clear();
  EXPECT_FALSE(ParseAnswer(
      R"({"summary":"s","root_cause":"r","reasoning":[],"manual":false,"extra":1,
 "actions":[{"type":"server_side_apply","target":{"api_version":"apps/v1","kind":"Deployment","namespace":"shop","name":"cart"},"description":"d"}],
 "risk":"low","risk_reasons":[],"confidence":1.5})",
      &errors));
  all.clear();
  for (const auto& e : errors)
    all += e + "\n";
  EXPECT_THAT(all, HasSubstr("extra: unknown property"));
  EXPECT_THAT(all, HasSubstr("confidence: must be <= 1"));
}
