// The life cycle folded from topic messages: table-driven over event sequences, and every
// sequence must give the same record in any order and with every message delivered twice.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>

#include "fixtures.hpp"
#include "store.hpp"

using namespace aiops;
using namespace aiops::approver;
using namespace aiops::approver::testing;
using ::testing::HasSubstr;

namespace {

const std::string kId = "rem-0000000000000000aaaa";
using V = v1::Decision;
using X = v1::ExecutionResult;

// Named events with fixed times, so a case reads like the topics would.
const std::map<std::string, std::function<void(Store&)>>& Events() {
  static const std::map<std::string, std::function<void(Store&)>> events = {
      {"A", [](Store& s) { s.Apply(MakeAnomaly(kId), T(1)); }},
      {"A2",
       [](Store& s) {
         auto a = MakeAnomaly(kId);
         a.set_status(v1::Anomaly::STATUS_UPDATED);
         a.set_affected_pods(5);
         s.Apply(a, T(6));
       }},
      {"E", [](Store& s) { s.Apply(MakeEvidence(kId), T(2)); }},
      {"P", [](Store& s) { s.Apply(MakeProposal(kId), T(3)); }},
      {"P'",
       [](Store& s) {
         auto p = MakeProposal(kId);
         p.set_summary("a regenerated proposal");
         s.Apply(p, T(7));
       }},
      {"PM",
       [](Store& s) { s.Apply(MakeProposal(kId, v1::RISK_LEVEL_LOW, "shop", "web", true), T(3)); }},
      {"D+", [](Store& s) { s.Apply(MakeDecision(kId, V::VERDICT_APPROVED, "alice", 10), T(99)); }},
      {"D-", [](Store& s) { s.Apply(MakeDecision(kId, V::VERDICT_REJECTED, "bob", 10), T(99)); }},
      {"DX",
       [](Store& s) {
         s.Apply(MakeDecision(kId, V::VERDICT_EXPIRED, "policy:expiry", 10), T(99));
       }},
      {"D-late",
       [](Store& s) { s.Apply(MakeDecision(kId, V::VERDICT_REJECTED, "carol", 20), T(99)); }},
      {"Pa",
       [](Store& s) {
         s.Apply(MakeDecision(kId, V::VERDICT_UNSPECIFIED, "alice", 8, {"alice"}), T(99));
       }},
      {"D+ab",
       [](Store& s) {
         s.Apply(MakeDecision(kId, V::VERDICT_APPROVED, "bob", 10, {"alice", "bob"}), T(99));
       }},
      {"X1", [](Store& s) { s.Apply(MakeExecution(kId, X::STATUS_APPLYING), T(11)); }},
      {"X2", [](Store& s) { s.Apply(MakeExecution(kId, X::STATUS_APPLIED), T(12)); }},
      {"X3", [](Store& s) { s.Apply(MakeExecution(kId, X::STATUS_VERIFIED), T(13)); }},
      {"XF", [](Store& s) { s.Apply(MakeExecution(kId, X::STATUS_FAILED, "not healthy"), T(13)); }},
      {"XR", [](Store& s) { s.Apply(MakeExecution(kId, X::STATUS_ROLLED_BACK), T(14)); }},
      {"XS",
       [](Store& s) { s.Apply(MakeExecution(kId, X::STATUS_STALE, "generation 8 != 7"), T(11)); }},
  };
  return events;
}

struct Case {
  Case(std::string n, std::vector<std::string> e, v1::RemediationState s,
       std::vector<std::string> h, int a = 0, int d = 0, int x = 0, std::string reason = "")
      : name(std::move(n)),
        events(std::move(e)),
        state(s),
        history(std::move(h)),
        approvals(a),
        decisions(d),
        executions(x),
        last_reason_contains(std::move(reason)) {}
  std::string name;
  std::vector<std::string> events;
  v1::RemediationState state;
  // States the history passes through, in order (self-transitions included).
  std::vector<std::string> history;
  int approvals;
  int decisions;
  int executions;
  std::string last_reason_contains;
};

std::vector<std::string> HistoryNames(const v1::Remediation& r) {
  std::vector<std::string> out;
  for (const auto& t : r.history())
    out.push_back(StateName(t.to()));
  return out;
}

v1::Remediation Fold(const std::vector<std::string>& events, int times = 1) {
  Store s;
  for (const auto& e : events) {
    for (int i = 0; i < times; ++i)
      Events().at(e)(s);
  }
  auto r = s.Get(kId);
  EXPECT_TRUE(r.has_value());
  return r.value_or(v1::Remediation());
}

const std::vector<Case>& Cases() {
  using S = v1::RemediationState;
  static const std::vector<Case> cases = {
      {"AnomalyOnly", {"A"}, S::REMEDIATION_STATE_DETECTED, {"Detected"}},
      {"Evidence", {"A", "E"}, S::REMEDIATION_STATE_DIAGNOSING, {"Detected", "Diagnosing"}},
      {"EvidenceWithoutAnomaly", {"E"}, S::REMEDIATION_STATE_DIAGNOSING, {"Diagnosing"}},
      {"Proposal",
       {"A", "E", "P"},
       S::REMEDIATION_STATE_READY_FOR_REVIEW,
       {"Detected", "Diagnosing", "Proposed", "ReadyForReview"}},
      {"ManualProposalIsFailedNoSafeFix",
       {"A", "E", "PM"},
       S::REMEDIATION_STATE_FAILED,
       {"Detected", "Diagnosing", "Proposed", "Failed"},
       0,
       0,
       0,
       "no safe fix"},
      {"AnomalyUpdateKeepsState",
       {"A", "E", "P", "A2"},
       S::REMEDIATION_STATE_READY_FOR_REVIEW,
       {"Detected", "Diagnosing", "Proposed", "ReadyForReview"}},
      {"RegeneratedProposalDoesNotReplaceTheFirst",
       {"A", "E", "P", "P'"},
       S::REMEDIATION_STATE_READY_FOR_REVIEW,
       {"Detected", "Diagnosing", "Proposed", "ReadyForReview"}},
      {"Approved",
       {"A", "E", "P", "D+"},
       S::REMEDIATION_STATE_APPROVED,
       {"Detected", "Diagnosing", "Proposed", "ReadyForReview", "Approved"},
       1,
       1},
      {"Rejected",
       {"A", "E", "P", "D-"},
       S::REMEDIATION_STATE_REJECTED,
       {"Detected", "Diagnosing", "Proposed", "ReadyForReview", "Rejected"},
       0,
       1,
       0,
       "bob says so"},
      {"Expired",
       {"A", "E", "P", "DX"},
       S::REMEDIATION_STATE_EXPIRED,
       {"Detected", "Diagnosing", "Proposed", "ReadyForReview", "Expired"},
       0,
       1},
      {"FirstFinalDecisionWins",
       {"A", "E", "P", "D+", "D-late"},
       S::REMEDIATION_STATE_APPROVED,
       {"Detected", "Diagnosing", "Proposed", "ReadyForReview", "Approved"},
       1,
       2},
      {"PartialApprovalKeepsReadyForReview",
       {"A", "E", "P", "Pa"},
       S::REMEDIATION_STATE_READY_FOR_REVIEW,
       {"Detected", "Diagnosing", "Proposed", "ReadyForReview", "ReadyForReview"},
       1,
       1},
      {"TwoPersonApproved",
       {"A", "E", "P", "Pa", "D+ab"},
       S::REMEDIATION_STATE_APPROVED,
       {"Detected", "Diagnosing", "Proposed", "ReadyForReview", "ReadyForReview", "Approved"},
       2,
       2},
      {"Verified",
       {"A", "E", "P", "D+", "X1", "X2", "X3"},
       S::REMEDIATION_STATE_VERIFIED,
       {"Detected", "Diagnosing", "Proposed", "ReadyForReview", "Approved", "Applying", "Applied",
        "Verified"},
       1,
       1,
       3},
      {"FailedThenRolledBack",
       {"A", "E", "P", "D+", "X1", "XF", "XR"},
       S::REMEDIATION_STATE_ROLLED_BACK,
       {"Detected", "Diagnosing", "Proposed", "ReadyForReview", "Approved", "Applying", "Failed",
        "RolledBack"},
       1,
       1,
       3},
      {"StaleIsFailed",
       {"A", "E", "P", "D+", "XS"},
       S::REMEDIATION_STATE_FAILED,
       {"Detected", "Diagnosing", "Proposed", "ReadyForReview", "Approved", "Failed"},
       1,
       1,
       1,
       "stale: generation 8 != 7"},
      {"ExecutionAfterRejectionIsIgnored",
       {"A", "E", "P", "D-", "X1"},
       S::REMEDIATION_STATE_REJECTED,
       {"Detected", "Diagnosing", "Proposed", "ReadyForReview", "Rejected"},
       0,
       1,
       1},
      {"ExecutionWithoutItsDecisionYet",
       {"A", "E", "P", "X2"},
       S::REMEDIATION_STATE_APPLIED,
       {"Detected", "Diagnosing", "Proposed", "ReadyForReview", "Applied"},
       0,
       0,
       1},
  };
  return cases;
}

class TransitionTest : public ::testing::TestWithParam<Case> {};

TEST_P(TransitionTest, FoldsToTheExpectedStateAndHistory) {
  const auto& c = GetParam();
  auto r = Fold(c.events);
  EXPECT_EQ(StateName(r.state()), StateName(c.state));
  EXPECT_EQ(HistoryNames(r), c.history);
  EXPECT_EQ(r.approvals_size(), c.approvals);
  EXPECT_EQ(r.decisions_size(), c.decisions);
  EXPECT_EQ(r.executions_size(), c.executions);
  EXPECT_EQ(r.id(), kId);
  EXPECT_EQ(r.cluster(), "prod");
  EXPECT_EQ(r.workload().name(), "web");
  if (!c.last_reason_contains.empty()) {
    ASSERT_GT(r.history_size(), 0);
    EXPECT_THAT(r.history(r.history_size() - 1).reason(), HasSubstr(c.last_reason_contains));
  }
}

TEST_P(TransitionTest, EveryMessageDeliveredTwiceGivesTheSameRecord) {
  const auto& c = GetParam();
  EXPECT_EQ(Fold(c.events, 2).SerializeAsString(), Fold(c.events).SerializeAsString());
}

TEST_P(TransitionTest, AnyArrivalOrderGivesTheSameRecord) {
  const auto& c = GetParam();
  const auto expected = Fold(c.events).SerializeAsString();
  auto order = c.events;
  std::sort(order.begin(), order.end());
  int checked = 0;
  do {
    ASSERT_EQ(Fold(order).SerializeAsString(), expected)
        << "order: " << ::testing::PrintToString(order);
    ++checked;
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_GE(checked, 1);
}

INSTANTIATE_TEST_SUITE_P(Sequences, TransitionTest, ::testing::ValuesIn(Cases()),
                         [](const auto& info) { return info.param.name; });

TEST(StoreTest, RecordCarriesTheViewAReviewerNeeds) {
  auto r = Fold({"A", "E", "P", "A2"});
  EXPECT_EQ(r.anomaly().affected_pods(), 5u) << "the latest anomaly update is shown";
  EXPECT_EQ(r.proposal().summary(), "image tag nginx:1.99 does not exist");
  EXPECT_EQ(r.evidence().pods(), 1u);
  ASSERT_EQ(r.evidence().key_events_size(), 1);
  EXPECT_EQ(r.evidence().key_events(0), "Failed: Failed to pull image (x3)");
  EXPECT_EQ(r.evidence().workload_generation(), 7);
  EXPECT_EQ(r.failure_class(), v1::FAILURE_CLASS_IMAGE_PULL);
  EXPECT_EQ(r.trace_id(), "trace-" + kId);
  EXPECT_EQ(FromProto(r.created()), T(1));
  EXPECT_EQ(FromProto(r.updated()), T(6));
  EXPECT_TRUE(r.times().has_proposed());
  EXPECT_EQ(r.history(0).actor(), "aiops-detector/test");
  EXPECT_THAT(r.history(0).reason(), HasSubstr("ImagePullBackOff"));
}

TEST(StoreTest, ApplyReportsDuplicates) {
  Store s;
  EXPECT_EQ(s.Apply(MakeAnomaly(kId), T(1)), Store::Result::kApplied);
  EXPECT_EQ(s.Apply(MakeAnomaly(kId), T(1)), Store::Result::kDuplicate);
  EXPECT_EQ(s.version(), 1u);
}

TEST(StoreTest, ListFiltersAndOrdersByCreation) {
  Store s;
  s.Apply(MakeAnomaly("rem-b", "pay", "api"), T(5));
  s.Apply(MakeAnomaly("rem-a", "shop", "web"), T(9));
  s.Apply(MakeProposal("rem-c"), T(1));
  v1::RemediationFilter all;
  auto list = s.List(all);
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].id(), "rem-c");
  EXPECT_EQ(list[1].id(), "rem-b");
  EXPECT_EQ(list[2].id(), "rem-a");
  v1::RemediationFilter shop;
  shop.set_namespace_("shop");
  EXPECT_EQ(s.List(shop).size(), 2u);
  v1::RemediationFilter ready;
  ready.add_states(v1::REMEDIATION_STATE_READY_FOR_REVIEW);
  ASSERT_EQ(s.List(ready).size(), 1u);
  EXPECT_EQ(s.List(ready)[0].id(), "rem-c");
  v1::RemediationFilter other;
  other.set_cluster("staging");
  EXPECT_TRUE(s.List(other).empty());
}

TEST(StoreTest, ChangeFeedReturnsOnlyChangedRecords) {
  Store s;
  s.Apply(MakeAnomaly("rem-a"), T(1));
  s.Apply(MakeAnomaly("rem-b"), T(1));
  uint64_t v = s.version();
  s.Apply(MakeEvidence("rem-b"), T(2));
  uint64_t now = 0;
  auto changed = s.ChangedSince(v, &now);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].id(), "rem-b");
  EXPECT_EQ(now, s.version());
  EXPECT_FALSE(s.WaitForChange(now, std::chrono::milliseconds(1)));
  EXPECT_TRUE(s.WaitForChange(v, std::chrono::milliseconds(1)));
}

TEST(StoreTest, ApprovedSinceCountsFinalApprovalsPerWorkload) {
  Store s;
  for (const char* id : {"rem-1", "rem-2"}) {
    s.Apply(MakeProposal(id), T(1));
    s.Apply(MakeDecision(id, V::VERDICT_APPROVED, "alice", 100), T(100));
  }
  s.Apply(MakeProposal("rem-3", v1::RISK_LEVEL_LOW, "shop", "other"), T(1));
  s.Apply(MakeDecision("rem-3", V::VERDICT_APPROVED, "alice", 100), T(100));
  s.Apply(MakeProposal("rem-4"), T(1));
  s.Apply(MakeDecision("rem-4", V::VERDICT_REJECTED, "alice", 100), T(100));
  auto key = WorkloadKey("prod", Workload());
  EXPECT_EQ(key, "prod/shop/deployment/web");
  EXPECT_EQ(s.ApprovedSince(key, T(50)), 2);
  EXPECT_EQ(s.ApprovedSince(key, T(101)), 0);
}

TEST(StoreTest, StateNamesParseBack) {
  for (int i = v1::REMEDIATION_STATE_DETECTED; i <= v1::REMEDIATION_STATE_ROLLED_BACK; ++i) {
    auto s = static_cast<v1::RemediationState>(i);
    EXPECT_EQ(ParseState(StateName(s)), s);
    EXPECT_EQ(ParseState(v1::RemediationState_Name(s)), s);
  }
  EXPECT_EQ(ParseState("ready-for-review"), v1::REMEDIATION_STATE_READY_FOR_REVIEW);
  EXPECT_EQ(ParseState("nonsense"), std::nullopt);
}

}  // namespace
