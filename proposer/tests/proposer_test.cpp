// The proposer core with an in-process fake LLM: modes, repair round, failures, cache,
// redelivery, back-pressure and metrics.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <future>
#include <thread>

#include "proposer/proposer.hpp"
#include "test_util.hpp"

using namespace aiops;
using namespace aiops::proposer;
using namespace aiops::proposer::testing;
using nlohmann::json;
using ::testing::HasSubstr;

namespace {

// Answers from a queue (the last answer repeats) and records every request.
class FakeLlm : public LlmBackend {
 public:
  std::string name() const override { return "fake"; }
  std::string model() const override { return "fake-model"; }
  LlmResponse Chat(const LlmRequest& r) override {
    {
      std::lock_guard lock(mu_);
      requests.push_back(r);
    }
    ++calls;
    if (gate) gate->wait();
    std::lock_guard lock(mu_);
    LlmResponse out = answers.size() > 1 ? answers.front() : answers.back();
    if (answers.size() > 1) answers.pop_front();
    return out;
  }
  std::mutex mu_;
  std::deque<LlmResponse> answers;
  std::vector<LlmRequest> requests;
  std::atomic<int> calls{0};
  std::shared_future<void>* gate = nullptr;
};

LlmResponse Ok(const json& content) {
  LlmResponse r;
  r.ok = true;
  r.content = content.dump();
  r.prompt_tokens = 900;
  r.completion_tokens = 120;
  r.seconds = 0.2;
  return r;
}

LlmResponse Text(const std::string& text) {
  LlmResponse r = Ok(json());
  r.content = text;
  return r;
}

LlmResponse Timeout() {
  LlmResponse r;
  r.timed_out = true;
  r.error = "timed out after 1000 ms";
  return r;
}

json Answer(const std::string& ns, const std::string& name, const json& container) {
  return {
      {"summary", "set REDIS_HOST"},
      {"root_cause", "REDIS_HOST is not set"},
      {"reasoning", {{{"observation", "log says REDIS_HOST is not set"}, {"thought", "set it"}}}},
      {"manual", false},
      {"actions",
       {{{"type", "server_side_apply"},
         {"target",
          {{"api_version", "apps/v1"}, {"kind", "Deployment"}, {"namespace", ns}, {"name", name}}},
         {"description", "set env REDIS_HOST of container cart"},
         {"patch",
          {{"apiVersion", "apps/v1"},
           {"kind", "Deployment"},
           {"metadata", {{"name", name}, {"namespace", ns}}},
           {"spec", {{"template", {{"spec", {{"containers", {container}}}}}}}}}}}}},
      {"risk", "medium"},
      {"risk_reasons", {"changes the app's configuration"}},
      {"confidence", 0.7}};
}

json ValidCart() {
  return Answer("shop", "cart",
                {{"name", "cart"},
                 {"env", {{{"name", "REDIS_HOST"}, {"value", "redis-master.shop.svc:6379"}}}}});
}

struct Harness {
  explicit Harness(Mode mode, std::vector<LlmResponse> answers = {}, ProposerOptions opts = {}) {
    auto llm = std::make_unique<FakeLlm>();
    fake = llm.get();
    for (auto& a : answers)
      fake->answers.push_back(a);
    opts.mode = mode;
    opts.producer = "aiops-proposer/test";
    proposer = std::make_unique<Proposer>(opts, ShippedRunbooks(),
                                          answers.empty() ? nullptr : std::move(llm), registry);
    if (answers.empty()) fake = nullptr;
  }
  metrics::Registry registry;
  FakeLlm* fake = nullptr;
  std::unique_ptr<Proposer> proposer;
};

std::string AllReasons(const v1::Proposal& p) {
  std::string out;
  for (const auto& r : p.risk_reasons())
    out += r + "\n";
  return out;
}

}  // namespace

TEST(ProposerTest, RunbookFirstUsesTheRunbookAndNeverCallsTheLlm) {
  Harness h(Mode::kRunbookFirst, {Ok(ValidCart())});
  auto p = h.proposer->Propose(Fixture("bad-image-tag"));
  EXPECT_EQ(p.source().kind(), v1::ProposalSource::KIND_RUNBOOK);
  EXPECT_EQ(p.source().runbook_id(), "bad-image-tag");
  EXPECT_EQ(h.fake->calls.load(), 0);
  EXPECT_THAT(
      h.registry.Render(),
      HasSubstr("aiops_proposer_proposals_total{outcome=\"actions\",source=\"runbook\"} 1"));
}

TEST(ProposerTest, RunbookFirstAsksTheLlmWhenTheRunbookOnlyDiagnoses) {
  Harness h(Mode::kRunbookFirst, {Ok(ValidCart())});
  auto p = h.proposer->Propose(Fixture("crashloop-missing-env"));
  EXPECT_EQ(h.fake->calls.load(), 1);
  EXPECT_EQ(p.source().kind(), v1::ProposalSource::KIND_LLM);
  EXPECT_EQ(p.source().backend(), "fake");
  EXPECT_EQ(p.source().model(), "fake-model");
  ASSERT_EQ(p.actions_size(), 1);
  EXPECT_FALSE(p.manual());
  EXPECT_EQ(p.usage().attempts(), 1u);
  EXPECT_EQ(p.usage().prompt_tokens(), 900u);
  EXPECT_GT(p.usage().prompt_bytes(), 1000u);
  // The env var did not exist: the rollback leaves it out, so re-applying removes it.
  auto rb = json::parse(p.rollback_actions(0).patch());
  EXPECT_EQ(rb["spec"]["template"]["spec"]["containers"][0], json({{"name", "cart"}}));
  // The runbook's guidance reached the prompt.
  EXPECT_THAT(h.fake->requests[0].messages[1].content, HasSubstr("crashloop-diagnosis"));
}

TEST(ProposerTest, RunbookFirstKeepsTheDiagnosisWhenTheLlmFails) {
  Harness h(Mode::kRunbookFirst, {Timeout()});
  auto p = h.proposer->Propose(Fixture("crashloop-missing-env"));
  EXPECT_EQ(p.source().runbook_id(), "crashloop-diagnosis");
  EXPECT_TRUE(p.manual());
  EXPECT_THAT(AllReasons(p), HasSubstr("LLM gave no usable fix: LLM fake call failed: timed out"));
}

TEST(ProposerTest, AnInvalidAnswerGetsOneRepairRoundWithTheErrors) {
  Harness h(Mode::kLlmOnly, {Text(R"({"summary": "missing fields"})"), Ok(ValidCart())});
  auto p = h.proposer->Propose(Fixture("crashloop-missing-env"));
  ASSERT_EQ(h.fake->calls.load(), 2);
  EXPECT_EQ(p.actions_size(), 1);
  EXPECT_EQ(p.usage().attempts(), 2u);
  EXPECT_THAT(AllReasons(p), HasSubstr("repaired"));
  const auto& repair = h.fake->requests[1].messages;
  ASSERT_EQ(repair.size(), 4u);
  EXPECT_EQ(repair[2].role, "assistant");
  EXPECT_THAT(repair[3].content, HasSubstr("actions: required"));
  EXPECT_THAT(
      h.registry.Render(),
      HasSubstr("aiops_proposer_llm_invalid_answers_total{backend=\"fake\",round=\"first\"} 1"));
}

TEST(ProposerTest, StillInvalidAfterRepairIsAFailedProposalWithTheReason) {
  struct Case {
    std::string name;
    LlmResponse answer;
    std::string reason;
  };
  auto privileged = ValidCart();
  privileged["actions"][0]["patch"]["spec"]["template"]["spec"]["containers"][0]
            ["securityContext"] = {{"privileged", true}};
  std::vector<Case> cases = {
      {"non-json", Text("I think you should restart the pod."), "not JSON"},
      {"schema", Text(R"({"summary": 1})"), "summary: must be string"},
      {"namespace",
       Ok(Answer("kube-system", "cart",
                 {{"name", "cart"}, {"env", {{{"name", "A"}, {"value", "b"}}}}})),
       "target namespace \"kube-system\" is not the incident's namespace \"shop\""},
      {"privileged", Ok(privileged), "privileged containers are not allowed"},
  };
  for (const auto& c : cases) {
    Harness h(Mode::kLlmOnly, {c.answer});
    auto p = h.proposer->Propose(Fixture("crashloop-missing-env"));
    EXPECT_EQ(h.fake->calls.load(), 2) << c.name;
    EXPECT_TRUE(p.manual()) << c.name;
    EXPECT_EQ(p.actions_size(), 0) << c.name;
    EXPECT_EQ(p.rollback_actions_size(), 0) << c.name;
    EXPECT_EQ(p.risk(), v1::RISK_LEVEL_HIGH);
    EXPECT_THAT(p.summary(), HasSubstr("LLM answer invalid after a repair round")) << c.name;
    EXPECT_THAT(p.root_cause(), HasSubstr(c.reason)) << c.name;
    EXPECT_THAT(AllReasons(p), HasSubstr("proposal failed: LLM answer invalid")) << c.name;
    EXPECT_EQ(p.source().kind(), v1::ProposalSource::KIND_LLM);
    EXPECT_THAT(h.registry.Render(),
                HasSubstr("aiops_proposer_proposals_total{outcome=\"failed\",source=\"llm\"} 1"));
  }
}

TEST(ProposerTest, LlmOnlyTimeoutIsAFailedProposalNotARetryLoop) {
  Harness h(Mode::kLlmOnly, {Timeout()});
  auto p = h.proposer->Propose(Fixture("bad-image-tag"));
  EXPECT_EQ(h.fake->calls.load(), 1);
  EXPECT_TRUE(p.manual());
  EXPECT_THAT(p.summary(), HasSubstr("timed out"));
}

TEST(ProposerTest, LlmFirstFallsBackToTheRunbookWhenTheLlmTimesOut) {
  Harness h(Mode::kLlmFirst, {Timeout()});
  auto p = h.proposer->Propose(Fixture("bad-image-tag"));
  EXPECT_EQ(h.fake->calls.load(), 1);
  EXPECT_EQ(p.source().kind(), v1::ProposalSource::KIND_RUNBOOK);
  EXPECT_EQ(p.source().runbook_id(), "bad-image-tag");
  ASSERT_EQ(p.actions_size(), 1);
  EXPECT_THAT(AllReasons(p), HasSubstr("LLM fallback: LLM fake call failed: timed out"));
  EXPECT_THAT(h.registry.Render(), HasSubstr("aiops_proposer_fallbacks_total 1"));
}

TEST(ProposerTest, RunbookOnlyWithoutAMatchIsManual) {
  Harness h(Mode::kRunbookOnly);
  auto e = Fixture("bad-image-tag");
  e.mutable_anomaly()->set_failure_class(v1::FAILURE_CLASS_EVICTED);
  auto p = h.proposer->Propose(e);
  EXPECT_TRUE(p.manual());
  EXPECT_THAT(p.summary(), HasSubstr("no runbook matches evicted"));
}

TEST(ProposerTest, RecurringIncidentsHitTheFingerprintCache) {
  Harness h(Mode::kLlmOnly, {Ok(ValidCart())});
  auto e = Fixture("crashloop-missing-env");
  int hits = 0;
  const int n = 10;
  for (int i = 0; i < n; ++i) {
    // The same failure coming back: a new remediation id and a new resourceVersion each time.
    e.mutable_envelope()->set_remediation_id("rem-recurring-" + std::to_string(i));
    e.set_workload_resource_version(std::to_string(5000 + i));
    auto p = h.proposer->Propose(e);
    ASSERT_EQ(p.actions_size(), 1);
    hits += p.usage().cache_hit() ? 1 : 0;
  }
  EXPECT_EQ(h.fake->calls.load(), 1);
  EXPECT_EQ(hits, n - 1);
  EXPECT_THAT(h.registry.Render(),
              HasSubstr("aiops_proposer_cache_hits_total{cache=\"fingerprint\"} 9"));
  // Another image is another incident.
  e.mutable_pods(0)->mutable_containers(0)->set_image("registry.example.com/shop/cart:3.2.2");
  auto w = json::parse(e.workload_json());
  w["spec"]["template"]["spec"]["containers"][0]["image"] = "registry.example.com/shop/cart:3.2.2";
  e.set_workload_json(w.dump());
  e.mutable_envelope()->set_remediation_id("rem-other-image");
  h.proposer->Propose(e);
  EXPECT_EQ(h.fake->calls.load(), 2);
}

TEST(ProposerTest, RedeliveredEvidenceGetsTheSameProposal) {
  Harness h(Mode::kLlmOnly, {Ok(ValidCart())});
  auto e = Fixture("crashloop-missing-env");
  auto a = h.proposer->Propose(e);
  auto b = h.proposer->Propose(e);
  EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString());
  EXPECT_EQ(h.fake->calls.load(), 1);
}

TEST(ProposerTest, AtMostNCallsInFlightAndWaitingIsBounded) {
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  ProposerOptions opts;
  opts.llm_max_in_flight = 1;
  opts.llm_deadline_ms = 300;  // the second caller gives up waiting for a slot
  Harness h(Mode::kLlmFirst, {Ok(ValidCart())}, opts);
  h.fake->gate = &gate;
  auto e1 = Fixture("crashloop-missing-env");
  auto first = std::async(std::launch::async, [&] { return h.proposer->Propose(e1); });
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (h.proposer->llm_in_flight() == 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::yield();
  }
  ASSERT_EQ(h.proposer->llm_in_flight(), 1);
  auto e2 = Fixture("bad-image-tag");
  auto second = h.proposer->Propose(e2);  // blocked by the slot, then falls back
  EXPECT_EQ(h.fake->calls.load(), 1);
  EXPECT_EQ(second.source().kind(), v1::ProposalSource::KIND_RUNBOOK);
  EXPECT_THAT(AllReasons(second), HasSubstr("LLM busy: no free slot of 1"));
  release.set_value();
  auto p1 = first.get();
  EXPECT_EQ(p1.source().kind(), v1::ProposalSource::KIND_LLM);
  EXPECT_EQ(h.proposer->llm_in_flight(), 0);
  EXPECT_THAT(h.registry.Render(),
              HasSubstr("aiops_proposer_llm_failures_total{backend=\"fake\",reason=\"busy\"} 1"));
}

TEST(ProposerTest, MetricsFamiliesAreExported) {
  Harness h(Mode::kLlmOnly, {Ok(ValidCart())});
  h.proposer->Propose(Fixture("crashloop-missing-env"));
  auto text = h.registry.Render();
  for (const char* family :
       {"aiops_proposer_proposals_total", "aiops_proposer_llm_request_seconds_bucket",
        "aiops_proposer_llm_tokens_total{backend=\"fake\",kind=\"prompt\"} 900",
        "aiops_proposer_llm_tokens_total{backend=\"fake\",kind=\"completion\"} 120",
        "aiops_proposer_cache_misses_total 1", "aiops_proposer_prompt_bytes_bucket",
        "aiops_proposer_llm_in_flight 0"}) {
    EXPECT_THAT(text, HasSubstr(family));
  }
}
