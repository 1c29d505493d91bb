// aiops-proposer against scripted-llm-server (the LLM test double), both protocols: every
// scripted answer gives its documented outcome and the service keeps running.
//
//   fixture            mode      outcome
//   valid-proposal     llm-only  LLM proposal with the patch, attempts 1
//   repaired-proposal  llm-only  LLM proposal after one repair round, attempts 2
//   non-json-text      llm-only  Failed: "the answer is not JSON"
//   schema-violation   llm-only  Failed: "summary: must be string"
//   other-namespace    llm-only  Failed: "target namespace ... is not the incident's namespace"
//   privileged         llm-only  Failed: "privileged containers are not allowed"
//   http-500           llm-only  Failed: "HTTP 500" (after the configured retry)
//   slow-answer        llm-only  Failed: "timed out"
//   slow-answer        llm-first runbook proposal (fallback), risk reason names the timeout
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "proposer_harness.hpp"

using namespace aiops;
using namespace aiops::testing;
using nlohmann::json;
using ::testing::HasSubstr;

namespace {

std::string Reasons(const v1::Proposal& p) {
  std::string out;
  for (const auto& r : p.risk_reasons())
    out += r + "\n";
  return out;
}

constexpr int kBudgetTokens = 3000;

// One broker, one scripted LLM and one proposer per suite.
struct Stack {
  Stack(const std::string& mode, const std::string& backend) {
    broker = std::make_unique<DevBroker>();
    llm = std::make_unique<ScriptedLlm>();
    proposer = std::make_unique<ProposerProcess>(
        broker->bootstrap(),
        std::vector<std::string>{"kafka.group_id=it-proposer-" + mode, "proposer.mode=" + mode,
                                 "llm.backend=" + backend, "llm.url=" + llm->url(),
                                 "llm.model=scripted", "llm.timeout_ms=1500", "llm.retries=1",
                                 "llm.max_in_flight=2", "proposer.workers=2",
                                 "proposer.prompt_token_budget=" + std::to_string(kBudgetTokens)});
    producer = std::make_unique<kafka::Producer>(ItConfig(broker->bootstrap()), "it-evidence");
    seen = std::make_unique<TopicsSeen>(broker->bootstrap());
  }
  ~Stack() {
    seen.reset();
    producer.reset();
    if (proposer->process().Running()) proposer->process().Stop(SIGTERM);
  }
  v1::Proposal One(const std::string& rid) {
    auto got = seen->Proposals(rid);
    if (got.size() != 1) {
      ADD_FAILURE() << "no proposal for " << rid << "\n" << proposer->process().Output();
      return {};
    }
    return got[0];
  }
  std::unique_ptr<DevBroker> broker;
  std::unique_ptr<ScriptedLlm> llm;
  std::unique_ptr<ProposerProcess> proposer;
  std::unique_ptr<kafka::Producer> producer;
  std::unique_ptr<TopicsSeen> seen;
};

}  // namespace

class ProposerLlmOnlyIT : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { stack_ = new Stack("llm-only", "openai"); }
  static void TearDownTestSuite() { delete stack_; }
  void SetUp() override {
    ASSERT_TRUE(stack_->llm->ok()) << stack_->llm->process().Output();
    ASSERT_TRUE(stack_->proposer->ready()) << stack_->proposer->process().Output();
  }
  static Stack* stack_;
};
Stack* ProposerLlmOnlyIT::stack_ = nullptr;

TEST_F(ProposerLlmOnlyIT, AValidAnswerBecomesAnLlmProposal) {
  auto e = EvidenceFixture("crashloop-missing-env", "cart-valid", "rem-0000000000cartvalid");
  Publish(*stack_->producer, e);
  auto p = stack_->One("rem-0000000000cartvalid");
  EXPECT_EQ(p.source().kind(), v1::ProposalSource::KIND_LLM);
  EXPECT_EQ(p.source().backend(), "openai");
  EXPECT_EQ(p.source().model(), "scripted");
  EXPECT_FALSE(p.manual());
  ASSERT_EQ(p.actions_size(), 1);
  auto patch = json::parse(p.actions(0).patch());
  EXPECT_EQ(patch["metadata"]["name"], "cart-valid");
  EXPECT_EQ(patch["spec"]["template"]["spec"]["containers"][0]["env"][0]["name"], "REDIS_HOST");
  ASSERT_EQ(p.rollback_actions_size(), 1);
  EXPECT_EQ(p.usage().attempts(), 1u);
  EXPECT_GT(p.usage().prompt_tokens(), 0u);
  EXPECT_GT(p.usage().completion_tokens(), 0u);
  EXPECT_EQ(p.risk(), v1::RISK_LEVEL_MEDIUM);

  auto reqs = stack_->llm->RequestsFor("valid-proposal");
  ASSERT_EQ(reqs.size(), 1u);
  const auto& body = reqs[0]["body"];
  EXPECT_EQ(reqs[0]["path"], "/v1/chat/completions");
  EXPECT_EQ(body["response_format"]["type"], "json_schema");
  EXPECT_EQ(body["temperature"], 0);
  // The prompt holds the role, the rules, the evidence and the runbook guidance, within budget.
  std::string system = body["messages"][0]["content"];
  std::string user = body["messages"][1]["content"];
  EXPECT_THAT(system, HasSubstr("senior Kubernetes SRE"));
  EXPECT_THAT(system, HasSubstr("Deployment shop/cart-valid"));
  EXPECT_THAT(user, HasSubstr("REDIS_HOST is not set"));
  EXPECT_THAT(user, HasSubstr("crashloop-diagnosis"));
  EXPECT_LE(system.size() + user.size(), kBudgetTokens * 4u);
  EXPECT_EQ(p.usage().prompt_bytes(), system.size() + user.size());
}

TEST_F(ProposerLlmOnlyIT, AnInvalidAnswerIsRepairedInOneRound) {
  Publish(*stack_->producer,
          EvidenceFixture("crashloop-missing-env", "cart-repair", "rem-000000000cartrepair"));
  auto p = stack_->One("rem-000000000cartrepair");
  EXPECT_EQ(p.source().kind(), v1::ProposalSource::KIND_LLM);
  ASSERT_EQ(p.actions_size(), 1);
  EXPECT_EQ(p.usage().attempts(), 2u);
  EXPECT_THAT(Reasons(p), HasSubstr("repaired"));
  auto reqs = stack_->llm->RequestsFor("repaired-proposal");
  ASSERT_EQ(reqs.size(), 2u);
  const auto& msgs = reqs[1]["body"]["messages"];
  ASSERT_EQ(msgs.size(), 4u);
  EXPECT_EQ(msgs[2]["role"], "assistant");
  std::string repair = msgs[3]["content"];
  EXPECT_THAT(repair, HasSubstr("Your answer was rejected"));
  EXPECT_THAT(repair, HasSubstr("actions: must be array"));
}

TEST_F(ProposerLlmOnlyIT,
       EveryBadAnswerGivesAFailedProposalWithTheReasonAndTheServiceKeepsRunning) {
  struct Case {
    std::string workload, rid, fixture, reason;
    size_t requests;
  };
  std::vector<Case> cases = {
      {"cart-nonjson", "rem-00000000cartnonjson", "non-json-text", "the answer is not JSON", 2},
      {"cart-schema", "rem-000000000cartschema", "schema-violation", "summary: must be string", 2},
      {"cart-namespace", "rem-0000000cartnamespace", "other-namespace",
       "target namespace \"kube-system\" is not the incident's namespace \"shop\"", 2},
      {"cart-privileged", "rem-000000cartprivileged", "privileged",
       "privileged containers are not allowed", 2},
      {"cart-http500", "rem-00000000carthttp500", "http-500", "HTTP 500", 2},
      {"web-slow", "rem-0000000000000webslow", "slow-answer", "timed out after 1500 ms", 1},
  };
  for (const auto& c : cases) {
    std::string fixture = c.workload == "web-slow" ? "bad-image-tag" : "crashloop-missing-env";
    Publish(*stack_->producer, EvidenceFixture(fixture, c.workload, c.rid));
  }
  for (const auto& c : cases) {
    auto p = stack_->One(c.rid);
    EXPECT_TRUE(p.manual()) << c.fixture;
    EXPECT_EQ(p.actions_size(), 0) << c.fixture << ": invalid data never reaches the topic";
    EXPECT_EQ(p.rollback_actions_size(), 0) << c.fixture;
    EXPECT_THAT(p.summary(), HasSubstr("No safe change proposed")) << c.fixture;
    EXPECT_THAT(p.root_cause(), HasSubstr(c.reason)) << c.fixture;
    EXPECT_THAT(Reasons(p), HasSubstr("proposal failed: ")) << c.fixture;
    EXPECT_EQ(p.risk(), v1::RISK_LEVEL_HIGH) << c.fixture;
    EXPECT_EQ(stack_->llm->RequestsFor(c.fixture).size(), c.requests) << c.fixture;
  }
  EXPECT_TRUE(stack_->proposer->process().Running());
  EXPECT_EQ(stack_->proposer->HttpStatus("/healthz"), 200);
  std::string metrics;
  EXPECT_EQ(stack_->proposer->HttpStatus("/metrics", &metrics), 200);
  EXPECT_THAT(
      metrics,
      HasSubstr("aiops_proposer_llm_invalid_answers_total{backend=\"openai\",round=\"repair\"} 4"));
  EXPECT_THAT(
      metrics,
      HasSubstr("aiops_proposer_llm_failures_total{backend=\"openai\",reason=\"timeout\"} 1"));
  EXPECT_THAT(metrics,
              HasSubstr("aiops_proposer_proposals_total{outcome=\"failed\",source=\"llm\"} 6"));
}

class ProposerLlmFirstIT : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { stack_ = new Stack("llm-first", "ollama"); }
  static void TearDownTestSuite() { delete stack_; }
  void SetUp() override {
    ASSERT_TRUE(stack_->llm->ok()) << stack_->llm->process().Output();
    ASSERT_TRUE(stack_->proposer->ready()) << stack_->proposer->process().Output();
  }
  static Stack* stack_;
};
Stack* ProposerLlmFirstIT::stack_ = nullptr;

TEST_F(ProposerLlmFirstIT, ATimedOutLlmFallsBackToTheRunbook) {
  Publish(*stack_->producer,
          EvidenceFixture("bad-image-tag", "web-slow", "rem-0000000000000webslow"));
  auto p = stack_->One("rem-0000000000000webslow");
  EXPECT_EQ(p.source().kind(), v1::ProposalSource::KIND_RUNBOOK);
  EXPECT_EQ(p.source().runbook_id(), "bad-image-tag");
  ASSERT_EQ(p.actions_size(), 1);
  auto patch = json::parse(p.actions(0).patch());
  EXPECT_EQ(patch["metadata"]["name"], "web-slow");
  EXPECT_EQ(patch["spec"]["template"]["spec"]["containers"][0]["image"],
            "registry.example.com/shop/web:1.4.2");
  EXPECT_THAT(Reasons(p),
              HasSubstr("LLM fallback: LLM ollama call failed: timed out after 1500 ms"));
  EXPECT_EQ(p.usage().attempts(), 1u);
  // The proposal came well before the scripted 6 s answer: the timeout did not block.
  EXPECT_LT(p.usage().latency_ms(), 5000);
  auto reqs = stack_->llm->RequestsFor("slow-answer");
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0]["path"], "/api/chat");
  EXPECT_EQ(reqs[0]["body"]["stream"], false);
  EXPECT_TRUE(reqs[0]["body"]["format"].is_object());
  EXPECT_EQ(reqs[0]["body"]["options"]["temperature"], 0);
  EXPECT_EQ(stack_->proposer->HttpStatus("/healthz"), 200);
}

TEST_F(ProposerLlmFirstIT, ARecurringIncidentIsAnsweredFromTheCache) {
  const int n = 5;
  for (int i = 0; i < n; ++i) {
    // The same failure of the same workload, announced again (new remediation id each time).
    auto e = EvidenceFixture("crashloop-missing-env", "cart-valid",
                             "rem-00000000000recur0" + std::to_string(i));
    e.set_workload_resource_version(std::to_string(9000 + i));
    Publish(*stack_->producer, e);
    // One at a time, as recurrences come.
    auto p = stack_->One("rem-00000000000recur0" + std::to_string(i));
    EXPECT_EQ(p.source().kind(), v1::ProposalSource::KIND_LLM);
    EXPECT_EQ(p.source().backend(), "ollama");
    EXPECT_EQ(p.usage().cache_hit(), i > 0) << i;
    ASSERT_EQ(p.actions_size(), 1);
  }
  EXPECT_EQ(stack_->llm->RequestsFor("valid-proposal").size(), 1u);
  std::string metrics;
  EXPECT_EQ(stack_->proposer->HttpStatus("/metrics", &metrics), 200);
  EXPECT_THAT(metrics, HasSubstr("aiops_proposer_cache_hits_total{cache=\"fingerprint\"} 4"));
}
