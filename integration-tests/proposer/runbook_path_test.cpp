// aiops-proposer in its default mode (runbook-first, no LLM) as a real process between
// aiops-devbroker topics: every kube-sim scenario gets its runbook's proposal.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "proposer_harness.hpp"

using namespace aiops;
using namespace aiops::testing;
using ::testing::HasSubstr;

class ProposerRunbookIT : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    broker_ = new DevBroker();
    proposer_ = new ProposerProcess(broker_->bootstrap(), {"kafka.group_id=it-proposer-runbook"});
    producer_ = new kafka::Producer(ItConfig(broker_->bootstrap()), "it-evidence");
    seen_ = new TopicsSeen(broker_->bootstrap());
  }
  static void TearDownTestSuite() {
    delete seen_;
    delete producer_;
    if (proposer_->process().Running()) {
      EXPECT_EQ(proposer_->process().Stop(SIGTERM), 0) << "clean exit on SIGTERM";
    }
    delete proposer_;
    delete broker_;
  }
  void SetUp() override { ASSERT_TRUE(proposer_->ready()) << proposer_->process().Output(); }

  static DevBroker* broker_;
  static ProposerProcess* proposer_;
  static kafka::Producer* producer_;
  static TopicsSeen* seen_;
};
DevBroker* ProposerRunbookIT::broker_ = nullptr;
ProposerProcess* ProposerRunbookIT::proposer_ = nullptr;
kafka::Producer* ProposerRunbookIT::producer_ = nullptr;
TopicsSeen* ProposerRunbookIT::seen_ = nullptr;

TEST_F(ProposerRunbookIT, EveryScenarioGetsItsRunbookProposal) {
  struct Case {
    std::string fixture;
    std::string runbook;
    bool manual;
    std::string text;
  };
  std::vector<Case> cases = {
      {"bad-image-tag", "bad-image-tag", false, "registry.example.com/shop/web:1.4.2"},
      {"bad-image-tag-no-history", "image-pull-diagnosis", true, "no known-good image"},
      {"oom-killed", "oom-raise-memory-limit", false, "512Mi"},
      {"crashloop-after-rollout", "crashloop-after-rollout", false, "revision 1"},
      {"crashloop-missing-env", "crashloop-diagnosis", true, "REDIS_HOST is not set"},
      {"missing-configmap", "missing-config-reference", true, "ConfigMap payments-config"},
      {"unschedulable", "unschedulable-diagnosis", true, "requests 32Gi memory"},
      {"unschedulable-with-history", "unschedulable-reduce-request", false, "2Gi"},
  };
  for (const auto& c : cases)
    Publish(*producer_, EvidenceFixture(c.fixture));
  for (const auto& c : cases) {
    auto e = EvidenceFixture(c.fixture);
    const auto& rid = e.envelope().remediation_id();
    auto got = seen_->Proposals(rid);
    ASSERT_EQ(got.size(), 1u) << c.fixture << "\n" << proposer_->process().Output();
    const auto& p = got[0];
    EXPECT_EQ(p.source().kind(), v1::ProposalSource::KIND_RUNBOOK) << c.fixture;
    EXPECT_EQ(p.source().runbook_id(), c.runbook) << c.fixture;
    EXPECT_EQ(p.manual(), c.manual) << c.fixture;
    EXPECT_EQ(p.actions_size() == 0, c.manual) << c.fixture;
    EXPECT_EQ(p.rollback_actions_size(), p.actions_size()) << c.fixture;
    std::string text = p.summary() + "\n" + p.root_cause();
    if (p.actions_size() > 0) text += "\n" + p.actions(0).description() + p.actions(0).patch();
    EXPECT_THAT(text, HasSubstr(c.text)) << c.fixture;
    // Identity and staleness data come from the evidence; the envelope moves on one stage.
    EXPECT_EQ(p.workload().name(), e.anomaly().workload().name());
    EXPECT_EQ(p.failure_class(), e.anomaly().failure_class());
    EXPECT_EQ(p.evidence_resource_version(), e.workload_resource_version());
    EXPECT_EQ(p.evidence_generation(), e.workload_generation());
    EXPECT_EQ(p.envelope().trace_id(), e.envelope().trace_id());
    EXPECT_TRUE(p.envelope().times().has_proposed());
    EXPECT_THAT(p.envelope().producer(), HasSubstr("aiops-proposer/"));
  }
}

TEST_F(ProposerRunbookIT, RedeliveredEvidenceGivesTheSameProposal) {
  auto e = EvidenceFixture("oom-killed", "", "rem-0000000000000000redo");
  Publish(*producer_, e);
  Publish(*producer_, e);
  auto got = seen_->Proposals("rem-0000000000000000redo", 2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].SerializeAsString(), got[1].SerializeAsString());
}

TEST_F(ProposerRunbookIT, EvidenceWithoutAWorkloadIsDeadLetteredAndTheServiceKeepsGoing) {
  v1::Evidence bad;
  *bad.mutable_envelope() = EvidenceFixture("oom-killed").envelope();
  bad.mutable_envelope()->set_remediation_id("rem-000000000000000empty");
  Publish(*producer_, bad);
  ASSERT_TRUE(producer_
                  ->SendAndWait(topics::kEvidence, "rem-garbage", "not protobuf at all", {},
                                std::chrono::seconds(30))
                  .ok);
  auto dead = seen_->DeadLetters("rem-000000000000000empty");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].Header("x-aiops-error"),
            "evidence has no anomaly workload (kind/namespace/name)");
  EXPECT_EQ(seen_->DeadLetters("rem-garbage").size(), 1u);

  // Still serving: a good evidence after the bad ones is proposed, health and metrics answer.
  auto good = EvidenceFixture("missing-configmap", "", "rem-0000000000000after");
  Publish(*producer_, good);
  EXPECT_EQ(seen_->Proposals("rem-0000000000000after").size(), 1u);
  EXPECT_TRUE(proposer_->process().Running());
  EXPECT_EQ(proposer_->HttpStatus("/healthz"), 200);
  std::string metrics;
  EXPECT_EQ(proposer_->HttpStatus("/metrics", &metrics), 200);
  EXPECT_THAT(metrics,
              HasSubstr("aiops_proposer_proposals_total{outcome=\"manual\",source=\"runbook\"}"));
}
