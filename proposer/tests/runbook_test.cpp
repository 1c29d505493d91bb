// Every shipped runbook on evidence fixtures that mirror the kube-sim scenarios.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "proposer/facts.hpp"
#include "proposer/proposal_builder.hpp"
#include "proposer/validator.hpp"
#include "test_util.hpp"

using namespace aiops;
using namespace aiops::proposer;
using namespace aiops::proposer::testing;
using nlohmann::json;
using ::testing::HasSubstr;

namespace {

struct Outcome {
  const Runbook* runbook = nullptr;
  Candidate candidate;
  v1::Proposal proposal;
  std::vector<std::string> errors;
};

Outcome RunRunbooks(const v1::Evidence& e) {
  Outcome o;
  auto matching = ShippedRunbooks().Matching(e);
  if (matching.empty()) return o;
  o.runbook = matching.front();
  o.candidate = RunbookSet::Apply(*o.runbook, e);
  o.errors = ValidateCandidate(o.candidate, e);
  o.proposal = BuildProposal(o.candidate, e, "aiops-proposer/test");
  return o;
}

json Patch(const v1::Action& a) {
  return json::parse(a.patch());
}

}  // namespace

TEST(RunbookTest, ShippedRunbooksLoadWithUniqueIds) {
  const auto& all = ShippedRunbooks().all();
  EXPECT_GE(all.size(), 8u);
  std::vector<std::string> ids;
  for (const auto& r : all)
    ids.push_back(r.id);
  EXPECT_THAT(ids,
              ::testing::IsSupersetOf({"bad-image-tag", "oom-raise-memory-limit",
                                       "crashloop-after-rollout", "missing-config-reference",
                                       "unschedulable-diagnosis", "unschedulable-reduce-request"}));
}

TEST(RunbookTest, BadImageTagGoesBackToTheImageOfTheLastHealthyRevision) {
  auto e = Fixture("bad-image-tag");
  auto o = RunRunbooks(e);
  ASSERT_NE(o.runbook, nullptr);
  EXPECT_EQ(o.runbook->id, "bad-image-tag");
  EXPECT_TRUE(o.errors.empty()) << ::testing::PrintToString(o.errors);
  const auto& p = o.proposal;
  EXPECT_FALSE(p.manual());
  ASSERT_EQ(p.actions_size(), 1);
  EXPECT_EQ(p.actions(0).type(), v1::Action::TYPE_SERVER_SIDE_APPLY);
  EXPECT_EQ(p.actions(0).target().namespace_(), "shop");
  EXPECT_EQ(p.actions(0).target().name(), "web");
  EXPECT_EQ(Patch(p.actions(0)), json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment",
              "metadata":{"name":"web","namespace":"shop"},
              "spec":{"template":{"spec":{"containers":[
                {"name":"web","image":"registry.example.com/shop/web:1.4.2"}]}}}})"));
  ASSERT_EQ(p.rollback_actions_size(), 1);
  EXPECT_EQ(Patch(p.rollback_actions(0))["spec"]["template"]["spec"]["containers"][0]["image"],
            "registry.example.com/shop/web:1.4.3");
  EXPECT_EQ(p.risk(), v1::RISK_LEVEL_LOW);
  EXPECT_THAT(p.summary(), HasSubstr("registry.example.com/shop/web:1.4.3"));
  EXPECT_EQ(p.actions(0).description(),
            "set image of container web to registry.example.com/shop/web:1.4.2 (was "
            "registry.example.com/shop/web:1.4.3)");
  EXPECT_EQ(p.evidence_generation(), 2);
  EXPECT_EQ(p.evidence_resource_version(), "4711");
  EXPECT_EQ(p.failure_class(), v1::FAILURE_CLASS_IMAGE_PULL);
  EXPECT_EQ(p.workload().name(), "web");
  EXPECT_EQ(p.envelope().remediation_id(), e.envelope().remediation_id());
  EXPECT_TRUE(p.envelope().times().has_proposed());
  EXPECT_TRUE(p.envelope().times().has_collected());
  EXPECT_EQ(p.reasoning_size(), 2);
}

TEST(RunbookTest, BadImageTagWithoutAKnownGoodImageIsADiagnosisNotAGuess) {
  auto o = RunRunbooks(Fixture("bad-image-tag-no-history"));
  ASSERT_NE(o.runbook, nullptr);
  EXPECT_EQ(o.runbook->id, "image-pull-diagnosis");
  EXPECT_TRUE(o.proposal.manual());
  EXPECT_EQ(o.proposal.actions_size(), 0);
  EXPECT_THAT(o.proposal.summary(), HasSubstr("no known-good image"));
}

TEST(RunbookTest, OomKilledRaisesTheMemoryLimitAndKeepsTheRequest) {
  auto o = RunRunbooks(Fixture("oom-killed"));
  ASSERT_NE(o.runbook, nullptr);
  EXPECT_EQ(o.runbook->id, "oom-raise-memory-limit");
  EXPECT_TRUE(o.errors.empty()) << ::testing::PrintToString(o.errors);
  ASSERT_EQ(o.proposal.actions_size(), 1);
  auto c = Patch(o.proposal.actions(0))["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c, json::parse(R"({"name":"worker","resources":{"limits":{"memory":"512Mi"}}})"));
  auto rb = Patch(o.proposal.rollback_actions(0))["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(rb, json::parse(R"({"name":"worker","resources":{"limits":{"memory":"256Mi"}}})"));
  EXPECT_EQ(o.proposal.risk(), v1::RISK_LEVEL_MEDIUM);
  EXPECT_THAT(o.proposal.root_cause(), HasSubstr("exit code 137"));
}

TEST(RunbookTest, OomFactorAndCapComeFromTheRunbookParams) {
  auto e = Fixture("oom-killed");
  auto r = RunbookSet::Parse(R"(
id: oom-small
summary: "raise to {{new_memory_limit}}"
match: {failure_classes: [OOM_KILLED], requires: [new_memory_limit]}
params: {memory_factor: 1.5, memory_max: 300Mi}
action:
  type: apply
  patch:
    spec: {template: {spec: {containers: [{name: "{{container}}", resources: {limits: {memory: "{{new_memory_limit}}"}}}]}}}
)",
                             "inline");
  auto c = RunbookSet::Apply(r, e);
  EXPECT_EQ(c.summary, "raise to 300Mi");  // 256Mi * 1.5 = 384Mi, capped at 300Mi
  // At the cap already: the limit runbook no longer matches, the diagnosis does.
  auto w = json::parse(e.workload_json());
  w["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = "4Gi";
  e.set_workload_json(w.dump());
  EXPECT_FALSE(RunbookSet::Matches(r, e));
  auto o = RunRunbooks(e);
  ASSERT_NE(o.runbook, nullptr);
  EXPECT_EQ(o.runbook->id, "oom-diagnosis");
  EXPECT_TRUE(o.proposal.manual());
}

TEST(RunbookTest, CrashLoopThatBeganWithTheLatestRolloutRollsBackToThePreviousRevision) {
  auto o = RunRunbooks(Fixture("crashloop-after-rollout"));
  ASSERT_NE(o.runbook, nullptr);
  EXPECT_EQ(o.runbook->id, "crashloop-after-rollout");
  EXPECT_TRUE(o.errors.empty()) << ::testing::PrintToString(o.errors);
  ASSERT_EQ(o.proposal.actions_size(), 1);
  EXPECT_EQ(o.proposal.actions(0).type(), v1::Action::TYPE_ROLLBACK_TO_REVISION);
  EXPECT_EQ(o.proposal.actions(0).rollback_to_revision(), 1);
  ASSERT_EQ(o.proposal.rollback_actions_size(), 1);
  EXPECT_EQ(o.proposal.rollback_actions(0).type(), v1::Action::TYPE_ROLLBACK_TO_REVISION);
  EXPECT_EQ(o.proposal.rollback_actions(0).rollback_to_revision(), 2);
  EXPECT_THAT(o.proposal.root_cause(), HasSubstr("REDIS_HOST is not set"));
  EXPECT_THAT(o.proposal.actions(0).description(),
              HasSubstr("registry.example.com/shop/cart:3.2.0"));
}

TEST(RunbookTest, CrashLoopWithoutARolloutToBlameIsADiagnosisQuotingTheLog) {
  auto o = RunRunbooks(Fixture("crashloop-missing-env"));
  ASSERT_NE(o.runbook, nullptr);
  EXPECT_EQ(o.runbook->id, "crashloop-diagnosis");
  EXPECT_TRUE(o.runbook->defer_to_llm);
  EXPECT_TRUE(o.proposal.manual());
  EXPECT_THAT(o.proposal.summary(), HasSubstr("REDIS_HOST is not set"));
  EXPECT_THAT(o.proposal.root_cause(), HasSubstr("Connection refused to redis:6379"));
}

TEST(RunbookTest, MissingConfigMapNamesWhatIsMissingAndProposesNoPatch) {
  auto o = RunRunbooks(Fixture("missing-configmap"));
  ASSERT_NE(o.runbook, nullptr);
  EXPECT_EQ(o.runbook->id, "missing-config-reference");
  EXPECT_TRUE(o.proposal.manual());
  EXPECT_EQ(o.proposal.actions_size(), 0);
  EXPECT_EQ(o.proposal.rollback_actions_size(), 0);
  EXPECT_THAT(o.proposal.summary(), HasSubstr("ConfigMap payments-config (key DATABASE_URL)"));
}

TEST(RunbookTest, MissingReferenceIsReadFromTheMessageWhenTheCollectorDidNotListIt) {
  auto e = Fixture("missing-configmap");
  e.clear_missing_references();
  auto o = RunRunbooks(e);
  ASSERT_NE(o.runbook, nullptr);
  EXPECT_EQ(o.runbook->id, "missing-config-reference");
  EXPECT_THAT(o.proposal.summary(), HasSubstr("ConfigMap payments-config"));
  e.mutable_anomaly()->set_message(
      "couldn't find key DATABASE_URL in ConfigMap payments/payments-config");
  for (auto& p : *e.mutable_pods())
    p.mutable_containers(0)->set_message("");
  auto facts = ComputeFacts(e);
  EXPECT_EQ(facts["missing_refs"], "ConfigMap payments-config (key DATABASE_URL)");
}

TEST(RunbookTest, UnschedulableWithoutEvidenceForASmallerRequestIsADiagnosisWithTheNumbers) {
  auto o = RunRunbooks(Fixture("unschedulable"));
  ASSERT_NE(o.runbook, nullptr);
  EXPECT_EQ(o.runbook->id, "unschedulable-diagnosis");
  EXPECT_TRUE(o.proposal.manual());
  EXPECT_EQ(o.proposal.risk(), v1::RISK_LEVEL_HIGH);
  EXPECT_THAT(o.proposal.summary(), HasSubstr("requests 32Gi memory and 1 cpu"));
  EXPECT_THAT(o.proposal.summary(), HasSubstr("largest node has 8Gi memory and 4 cpu"));
  EXPECT_THAT(o.proposal.root_cause(), HasSubstr("2 Insufficient memory"));
  EXPECT_THAT(o.proposal.root_cause(), HasSubstr("node-a: memory 256Mi of 8Gi requested"));
}

TEST(RunbookTest, UnschedulableReducesTheRequestOnlyToAHealthyRevisionsValueRiskHigh) {
  auto o = RunRunbooks(Fixture("unschedulable-with-history"));
  ASSERT_NE(o.runbook, nullptr);
  EXPECT_EQ(o.runbook->id, "unschedulable-reduce-request");
  EXPECT_TRUE(o.errors.empty()) << ::testing::PrintToString(o.errors);
  EXPECT_EQ(o.proposal.risk(), v1::RISK_LEVEL_HIGH);
  ASSERT_EQ(o.proposal.actions_size(), 1);
  auto c = Patch(o.proposal.actions(0))["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["resources"],
            json::parse(R"({"requests":{"memory":"2Gi"},"limits":{"memory":"3Gi"}})"));
  auto rb = Patch(o.proposal.rollback_actions(0))["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(rb["resources"],
            json::parse(R"({"requests":{"memory":"32Gi"},"limits":{"memory":"32Gi"}})"));
}

TEST(RunbookTest, RunbookOutputIsStableAcrossRuns) {
  auto e = Fixture("oom-killed");
  auto a = RunRunbooks(e).proposal;
  auto b = RunRunbooks(e).proposal;
  a.mutable_envelope()->clear_times();
  b.mutable_envelope()->clear_times();
  EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString());
}

TEST(RunbookTest, ParseRejectsBadRunbooksNamingTheProblem) {
  auto expect_error = [](const std::string& yaml, const std::string& what) {
    try {
      RunbookSet::Parse(yaml, "rb.yaml");
      ADD_FAILURE() << "accepted: " << yaml;
    } catch (const RunbookError& e) {
      EXPECT_THAT(e.what(), HasSubstr(what));
      EXPECT_THAT(e.what(), HasSubstr("rb.yaml"));
    }
  };
  expect_error("id: x\nsummary: s\nmatchh: {}\n", "unknown key runbook.matchh");
  expect_error("id: x\nsummary: s\nmatch: {failure_classes: [NOPE]}\n",
               "unknown failure class NOPE");
  expect_error("id: x\nsummary: s\nmatch: {signal: \"(\"}\n", "not a valid regex");
  expect_error("id: x\nsummary: s\naction: {type: apply, patch: {metadata: {name: y}}}\n",
               "must not set metadata");
  expect_error("id: x\nsummary: s\naction: {type: delete}\n", "apply, rollback or none");
  expect_error("id: x\nsummary: s\nrisk: extreme\n", "risk must be low, medium or high");
  expect_error("summary: s\n", "id is required");
  RunbookSet set;
  set.Add(RunbookSet::Parse("id: x\nsummary: s\n", "a.yaml"));
  EXPECT_THROW(set.Add(RunbookSet::Parse("id: x\nsummary: s\n", "b.yaml")), RunbookError);
}

TEST(RunbookTest, TemplatesKeepNumbersAndReportUnknownFacts) {
  json facts = {{"n", 3}, {"s", "x"}};
  std::vector<std::string> missing;
  auto out = RenderTemplate(json::parse(R"({"a":"{{n}}","b":"v{{s}}-{{n}}","c":"{{nope}}"})"),
                            facts, &missing);
  EXPECT_EQ(out["a"], 3);
  EXPECT_EQ(out["b"], "vx-3");
  EXPECT_TRUE(out["c"].is_null());
  EXPECT_EQ(missing, std::vector<std::string>{"nope"});
}

TEST(RunbookTest, SignalMustMatchTheEvidence) {
  auto e = Fixture("bad-image-tag");
  // A pull failure for lack of credentials is not a missing tag: no image change.
  e.mutable_anomaly()->set_message("pull access denied, authorization failed");
  for (auto& ev : *e.mutable_events())
    ev.set_message("pull access denied");
  for (auto& p : *e.mutable_pods()) {
    for (auto& c : *p.mutable_containers())
      c.set_message("");
  }
  auto o = RunRunbooks(e);
  ASSERT_NE(o.runbook, nullptr);
  EXPECT_EQ(o.runbook->id, "image-pull-diagnosis");
}
