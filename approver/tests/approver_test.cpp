// Approve, Reject, policies (auto-approve, two-person, rate limit, expiry) and the read side,
// against a fake decision sink: what would be published to aiops.decisions is checked.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "approver.hpp"
#include "fixtures.hpp"

using namespace aiops;
using namespace aiops::approver;
using namespace aiops::approver::testing;
using grpc::StatusCode;
using ::testing::HasSubstr;

namespace {

const Identity kAlice{"alice", Role::kApprover};
const Identity kBob{"bob", Role::kApprover};
const Identity kVictor{"victor", Role::kViewer};

class ApproverTest : public ::testing::Test {
 protected:
  ApproverTest() { Reset(Policies{}); }

  void Reset(Policies p) {
    approver_ = std::make_unique<Approver>(store_, std::move(p), sink_, "aiops-approver/test",
                                           &metrics_, [this] { return now_; });
  }

  // A remediation ready for review, proposed at T(3).
  void Propose(const std::string& id, v1::RiskLevel risk = v1::RISK_LEVEL_LOW,
               const std::string& ns = "shop", const std::string& name = "web") {
    store_.Apply(MakeAnomaly(id, ns, name), T(1));
    store_.Apply(MakeProposal(id, risk, ns, name), T(3));
  }

  grpc::Status Approve(const Identity& who, const std::string& id,
                       v1::ApproveResponse* out = nullptr,
                       const std::string& comment = "looks right") {
    v1::ApproveRequest req;
    req.set_id(id);
    req.set_comment(comment);
    v1::ApproveResponse resp;
    auto s = approver_->Approve(who, req, &resp);
    if (out != nullptr) *out = resp;
    return s;
  }

  grpc::Status Reject(const Identity& who, const std::string& id, const std::string& reason) {
    v1::RejectRequest req;
    req.set_id(id);
    req.set_reason(reason);
    v1::RejectResponse resp;
    return approver_->Reject(who, req, &resp);
  }

  v1::RemediationState State(const std::string& id) { return store_.Get(id)->state(); }

  Store store_;
  FakeSink sink_;
  metrics::Registry metrics_;
  TimePoint now_ = T(60);
  std::unique_ptr<Approver> approver_;
};

TEST_F(ApproverTest, ApprovePublishesTheDecisionTheExecutorNeeds) {
  Propose("rem-1");
  v1::ApproveResponse resp;
  ASSERT_TRUE(Approve(kAlice, "rem-1", &resp).ok());
  EXPECT_TRUE(resp.decided());
  EXPECT_EQ(resp.remediation().state(), v1::REMEDIATION_STATE_APPROVED);
  ASSERT_EQ(sink_.published.size(), 1u);
  const auto& d = sink_.published[0];
  EXPECT_EQ(d.verdict(), v1::Decision::VERDICT_APPROVED);
  EXPECT_EQ(d.actor(), "alice");
  EXPECT_EQ(d.comment(), "looks right");
  EXPECT_EQ(d.policy(), "");
  ASSERT_EQ(d.actions_size(), 1);
  EXPECT_EQ(d.actions(0).id(), "a1");
  EXPECT_THAT(d.actions(0).patch(), HasSubstr("nginx:1.25.3"));
  ASSERT_EQ(d.rollback_actions_size(), 1);
  ASSERT_EQ(d.approvals_size(), 1);
  EXPECT_EQ(d.approvals(0).actor(), "alice");
  EXPECT_EQ(d.attempt(), 1u);
  EXPECT_EQ(d.workload().name(), "web");
  EXPECT_EQ(d.expected_generation(), 7);
  EXPECT_EQ(d.expected_resource_version(), "12345");
  EXPECT_EQ(FromProto(d.decided_at()), now_);
  EXPECT_EQ(d.envelope().remediation_id(), "rem-1");
  EXPECT_EQ(d.envelope().producer(), "aiops-approver/test");
  EXPECT_EQ(envelope::StampOf(d.envelope(), envelope::Stage::kDecided), now_);
  EXPECT_TRUE(envelope::StampOf(d.envelope(), envelope::Stage::kProposed).has_value());
  EXPECT_EQ(envelope::Validate(d.envelope()), std::nullopt);
  // The store shows it at once, and reading the same decision back changes nothing.
  auto before = store_.Get("rem-1")->SerializeAsString();
  EXPECT_EQ(store_.Apply(d, T(999)), Store::Result::kDuplicate);
  EXPECT_EQ(store_.Get("rem-1")->SerializeAsString(), before);
  EXPECT_THAT(metrics_.Render(), HasSubstr("aiops_approver_approvals_total{kind=\"human\"} 1"));
  EXPECT_THAT(metrics_.Render(), HasSubstr("aiops_approver_remediations{state=\"Approved\"} 1"));
  EXPECT_THAT(metrics_.Render(), HasSubstr("aiops_approver_decision_latency_seconds_count"));
}

TEST_F(ApproverTest, ApprovingTwiceIsHarmless) {
  Propose("rem-1");
  ASSERT_TRUE(Approve(kAlice, "rem-1").ok());
  v1::ApproveResponse resp;
  ASSERT_TRUE(Approve(kBob, "rem-1", &resp).ok());
  EXPECT_TRUE(resp.decided());
  EXPECT_EQ(sink_.published.size(), 1u);
}

struct RefusalCase {
  std::string name;
  std::vector<std::function<void(Store&)>> after_proposal;
  std::string message;
};

class ApproveRefusedTest : public ApproverTest,
                           public ::testing::WithParamInterface<RefusalCase> {};

TEST_P(ApproveRefusedTest, IsFailedPreconditionSayingWhy) {
  Propose("rem-1");
  for (const auto& f : GetParam().after_proposal)
    f(store_);
  auto s = Approve(kAlice, "rem-1");
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr(GetParam().message));
  EXPECT_TRUE(sink_.published.empty());
}

INSTANTIATE_TEST_SUITE_P(
    States, ApproveRefusedTest,
    ::testing::Values(
        RefusalCase{"Rejected",
                    {[](Store& s) {
                      s.Apply(MakeDecision("rem-1", v1::Decision::VERDICT_REJECTED, "bob", 5),
                              T(5));
                    }},
                    "is Rejected (by bob: bob says so)"},
        RefusalCase{"Expired",
                    {[](Store& s) {
                      s.Apply(
                          MakeDecision("rem-1", v1::Decision::VERDICT_EXPIRED, "policy:expiry", 5),
                          T(5));
                    }},
                    "is Expired"},
        RefusalCase{"Applied",
                    {[](Store& s) {
                       s.Apply(MakeDecision("rem-1", v1::Decision::VERDICT_APPROVED, "bob", 5),
                               T(5));
                     },
                     [](Store& s) {
                       s.Apply(MakeExecution("rem-1", v1::ExecutionResult::STATUS_APPLIED), T(6));
                     }},
                    "is Applied"},
        RefusalCase{"Failed",
                    {[](Store& s) {
                       s.Apply(MakeDecision("rem-1", v1::Decision::VERDICT_APPROVED, "bob", 5),
                               T(5));
                     },
                     [](Store& s) {
                       s.Apply(MakeExecution("rem-1", v1::ExecutionResult::STATUS_FAILED,
                                             "rollout did not become ready"),
                               T(6));
                     }},
                    "is Failed (by aiops-executor/test: rollout did not become ready)"}),
    [](const auto& info) { return info.param.name; });

TEST_F(ApproverTest, ApprovingWithoutAProposalOrAManualOneIsFailedPrecondition) {
  store_.Apply(MakeAnomaly("rem-2"), T(1));
  auto s = Approve(kAlice, "rem-2");
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("has no proposal yet"));
  store_.Apply(MakeProposal("rem-3", v1::RISK_LEVEL_LOW, "shop", "web", true), T(1));
  s = Approve(kAlice, "rem-3");
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("no safe fix"));
}

TEST_F(ApproverTest, ArgumentsIdentityAndExistence) {
  Propose("rem-1");
  EXPECT_EQ(Approve(kAlice, "rem-nope").error_code(), StatusCode::NOT_FOUND);
  EXPECT_EQ(Approve(kAlice, "").error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Approve(kAlice, "rem 1; drop").error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Approve(kAlice, "rem-1", nullptr, std::string(3000, 'x')).error_code(),
            StatusCode::INVALID_ARGUMENT);
  auto s = Approve(kVictor, "rem-1");
  EXPECT_EQ(s.error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("'victor' has role viewer"));
  EXPECT_EQ(Reject(kVictor, "rem-1", "no").error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(sink_.published.empty());
  v1::GetRemediationRequest get;
  get.set_id("rem-nope");
  v1::Remediation r;
  EXPECT_EQ(approver_->Get(get, &r).error_code(), StatusCode::NOT_FOUND);
  get.set_id("rem-1");
  EXPECT_TRUE(approver_->Get(get, &r).ok());
  EXPECT_EQ(r.id(), "rem-1");
}

TEST_F(ApproverTest, RejectNeedsAReasonAndPublishesARejection) {
  Propose("rem-1");
  EXPECT_EQ(Reject(kBob, "rem-1", "  ").error_code(), StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(Reject(kBob, "rem-1", "wrong image registry").ok());
  ASSERT_EQ(sink_.published.size(), 1u);
  EXPECT_EQ(sink_.published[0].verdict(), v1::Decision::VERDICT_REJECTED);
  EXPECT_EQ(sink_.published[0].actor(), "bob");
  EXPECT_EQ(sink_.published[0].comment(), "wrong image registry");
  EXPECT_EQ(State("rem-1"), v1::REMEDIATION_STATE_REJECTED);
  EXPECT_TRUE(Reject(kBob, "rem-1", "again").ok()) << "rejecting twice is harmless";
  EXPECT_EQ(sink_.published.size(), 1u);
  auto s = Approve(kAlice, "rem-1");
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("wrong image registry"));
  EXPECT_THAT(metrics_.Render(), HasSubstr("aiops_approver_rejections_total 1"));
}

TEST_F(ApproverTest, RejectingAnApprovedRemediationIsFailedPrecondition) {
  Propose("rem-1");
  ASSERT_TRUE(Approve(kAlice, "rem-1").ok());
  auto s = Reject(kBob, "rem-1", "changed my mind");
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("is Approved"));
}

TEST_F(ApproverTest, PublishFailureChangesNothing) {
  Propose("rem-1");
  sink_.fail = true;
  auto s = Approve(kAlice, "rem-1");
  EXPECT_EQ(s.error_code(), StatusCode::UNAVAILABLE);
  EXPECT_THAT(s.error_message(), HasSubstr("broker down"));
  EXPECT_EQ(State("rem-1"), v1::REMEDIATION_STATE_READY_FOR_REVIEW);
  sink_.fail = false;
  EXPECT_TRUE(Approve(kAlice, "rem-1").ok());
}

TEST_F(ApproverTest, TwoPersonRuleNeedsTwoDistinctIdentities) {
  Propose("rem-h", v1::RISK_LEVEL_HIGH);
  v1::ApproveResponse resp;
  ASSERT_TRUE(Approve(kAlice, "rem-h", &resp).ok());
  EXPECT_FALSE(resp.decided());
  EXPECT_EQ(resp.pending(), "1 more approval(s) from a distinct identity");
  ASSERT_EQ(sink_.published.size(), 1u);
  EXPECT_EQ(sink_.published[0].verdict(), v1::Decision::VERDICT_UNSPECIFIED);
  EXPECT_EQ(sink_.published[0].policy(), "two-person");
  EXPECT_EQ(State("rem-h"), v1::REMEDIATION_STATE_READY_FOR_REVIEW);
  EXPECT_EQ(store_.Get("rem-h")->approvals_size(), 1);

  // The same person again: harmless, nothing new published.
  ASSERT_TRUE(Approve(kAlice, "rem-h", &resp).ok());
  EXPECT_FALSE(resp.decided());
  EXPECT_THAT(resp.pending(), HasSubstr("'alice' already approved"));
  EXPECT_EQ(sink_.published.size(), 1u);

  // A restart: a fresh store fed what is on the topics keeps alice's approval.
  Store rebuilt;
  rebuilt.Apply(MakeAnomaly("rem-h"), T(1));
  rebuilt.Apply(MakeProposal("rem-h", v1::RISK_LEVEL_HIGH), T(3));
  rebuilt.Apply(sink_.published[0], T(0));
  ASSERT_EQ(rebuilt.Get("rem-h")->approvals_size(), 1);
  EXPECT_EQ(rebuilt.Get("rem-h")->approvals(0).actor(), "alice");

  now_ += std::chrono::seconds(5);
  ASSERT_TRUE(Approve(kBob, "rem-h", &resp, "agreed").ok());
  EXPECT_TRUE(resp.decided());
  ASSERT_EQ(sink_.published.size(), 2u);
  const auto& d = sink_.published[1];
  EXPECT_EQ(d.verdict(), v1::Decision::VERDICT_APPROVED);
  EXPECT_EQ(d.actor(), "bob");
  EXPECT_EQ(d.policy(), "two-person");
  ASSERT_EQ(d.approvals_size(), 2);
  EXPECT_EQ(d.approvals(0).actor(), "alice");
  EXPECT_EQ(d.approvals(1).actor(), "bob");
  EXPECT_EQ(State("rem-h"), v1::REMEDIATION_STATE_APPROVED);
  EXPECT_THAT(metrics_.Render(), HasSubstr("aiops_approver_approvals_total{kind=\"partial\"} 1"));
}

TEST_F(ApproverTest, RateLimitPerWorkloadPerHour) {
  Policies p;
  p.max_per_workload_per_hour = 1;
  Reset(p);
  Propose("rem-1");
  Propose("rem-2");
  Propose("rem-3", v1::RISK_LEVEL_LOW, "shop", "other");
  ASSERT_TRUE(Approve(kAlice, "rem-1").ok());
  auto s = Approve(kAlice, "rem-2");
  EXPECT_EQ(s.error_code(), StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(s.error_message(), HasSubstr("rate limit: Deployment shop/web"));
  EXPECT_THAT(s.error_message(), HasSubstr("1 per workload per hour"));
  EXPECT_TRUE(Approve(kAlice, "rem-3").ok()) << "another workload is not limited";
  now_ += std::chrono::minutes(61);
  EXPECT_TRUE(Approve(kAlice, "rem-2").ok()) << "the window slides";
}

TEST_F(ApproverTest, SweepAutoApprovesMatchingProposalsAsThePolicy) {
  auto p = Policies::FromYaml(YAML::Load(R"(
auto_approve:
  - {name: runbook-low, sources: [runbook], risks: [low], namespaces: [shop]}
)"));
  Reset(p);
  Propose("rem-auto");
  Propose("rem-manual-review", v1::RISK_LEVEL_MEDIUM);
  Propose("rem-other-ns", v1::RISK_LEVEL_LOW, "pay", "api");
  EXPECT_EQ(approver_->Sweep(), 1);
  ASSERT_EQ(sink_.published.size(), 1u);
  const auto& d = sink_.published[0];
  EXPECT_EQ(d.envelope().remediation_id(), "rem-auto");
  EXPECT_EQ(d.verdict(), v1::Decision::VERDICT_APPROVED);
  EXPECT_EQ(d.actor(), "policy:runbook-low");
  EXPECT_EQ(d.policy(), "runbook-low");
  ASSERT_EQ(d.approvals_size(), 1);
  EXPECT_EQ(d.approvals(0).actor(), "policy:runbook-low");
  EXPECT_EQ(State("rem-auto"), v1::REMEDIATION_STATE_APPROVED);
  EXPECT_EQ(State("rem-manual-review"), v1::REMEDIATION_STATE_READY_FOR_REVIEW);
  EXPECT_EQ(State("rem-other-ns"), v1::REMEDIATION_STATE_READY_FOR_REVIEW);
  EXPECT_EQ(approver_->Sweep(), 0) << "nothing left to decide";
}

TEST_F(ApproverTest, AutoApprovalRespectsTheRateLimit) {
  auto p = Policies::FromYaml(YAML::Load(
      "auto_approve: [{name: low, risks: [low]}]\nrate_limit: {max_per_workload_per_hour: 1}"));
  Reset(p);
  Propose("rem-1");
  EXPECT_EQ(approver_->Sweep(), 1);
  Propose("rem-2");
  EXPECT_EQ(approver_->Sweep(), 0);
  EXPECT_EQ(State("rem-2"), v1::REMEDIATION_STATE_READY_FOR_REVIEW);
}

TEST_F(ApproverTest, SweepExpiresProposalsUndecidedBeyondTheTtl) {
  Policies p;
  p.ttl = std::chrono::minutes(10);
  Reset(p);
  Propose("rem-1");  // ready at T(3)
  now_ = T(3) + std::chrono::minutes(9);
  EXPECT_EQ(approver_->Sweep(), 0);
  now_ = T(3) + std::chrono::minutes(10);
  EXPECT_EQ(approver_->Sweep(), 1);
  ASSERT_EQ(sink_.published.size(), 1u);
  EXPECT_EQ(sink_.published[0].verdict(), v1::Decision::VERDICT_EXPIRED);
  EXPECT_EQ(sink_.published[0].actor(), "policy:expiry");
  EXPECT_EQ(sink_.published[0].comment(), "not decided within 10m");
  EXPECT_EQ(State("rem-1"), v1::REMEDIATION_STATE_EXPIRED);
  auto s = Approve(kAlice, "rem-1");
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("not decided within 10m"));
  EXPECT_THAT(metrics_.Render(), HasSubstr("aiops_approver_expirations_total 1"));
}

TEST_F(ApproverTest, TtlZeroNeverExpires) {
  Policies p;
  p.ttl = std::chrono::seconds(0);
  Reset(p);
  Propose("rem-1");
  now_ = T(3) + std::chrono::hours(24 * 365);
  EXPECT_EQ(approver_->Sweep(), 0);
}

TEST_F(ApproverTest, ListPagesFiltersAndValidates) {
  for (int i = 0; i < 5; ++i)
    store_.Apply(MakeAnomaly("rem-" + std::to_string(i)), T(i));
  v1::ListRemediationsRequest req;
  req.set_page_size(2);
  std::vector<std::string> ids;
  for (int page = 0; page < 5; ++page) {
    v1::ListRemediationsResponse resp;
    ASSERT_TRUE(approver_->List(req, &resp).ok());
    EXPECT_EQ(resp.total(), 5u);
    for (const auto& r : resp.remediations())
      ids.push_back(r.id());
    if (resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"rem-0", "rem-1", "rem-2", "rem-3", "rem-4"}));
  req.set_page_token("garbage");
  v1::ListRemediationsResponse resp;
  EXPECT_EQ(approver_->List(req, &resp).error_code(), StatusCode::INVALID_ARGUMENT);
  v1::ListRemediationsRequest bad_state;
  bad_state.mutable_filter()->add_states(static_cast<v1::RemediationState>(99));
  EXPECT_EQ(approver_->List(bad_state, &resp).error_code(), StatusCode::INVALID_ARGUMENT);
}

}  // namespace
