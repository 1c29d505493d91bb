// The approver's view of every remediation, folded from the topic messages (Anomaly, Evidence,
// Proposal, Decision, ExecutionResult) into one v1::Remediation per id with its history.
//
// Order independence: every accepted message of a remediation is kept as an event with a
// time (a Decision's decided_at, otherwise the Kafka message timestamp). The record is
// re-folded from its events sorted by (time, pipeline stage, bytes) whenever one arrives, so
// the same set of messages gives the same record whatever order they were read in (replay
// across five topics, redelivery, two replicas). Byte-identical messages count once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "aiops/v1/approval.pb.h"
#include "aiops/v1/evidence.pb.h"
#include "aiops/v1/remediation.pb.h"

namespace aiops::approver {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

// Short name of a state, as people read it ("ReadyForReview").
std::string StateName(v1::RemediationState state);
// Parses a state name case-insensitively ("ready-for-review", "ReadyForReview",
// "REMEDIATION_STATE_READY_FOR_REVIEW"); nullopt when unknown.
std::optional<v1::RemediationState> ParseState(const std::string& text);
// States in which nothing more will happen.
bool IsFinal(v1::RemediationState state);

google::protobuf::Timestamp ToProto(TimePoint t);
TimePoint FromProto(const google::protobuf::Timestamp& t);

// When the record entered ReadyForReview, from its history (nullopt unless in that state).
std::optional<TimePoint> ReadySince(const v1::Remediation& r);

// "cluster/namespace/kind/name": what the rate limit counts per.
std::string WorkloadKey(const std::string& cluster, const v1::WorkloadRef& w);

// The approvals that count toward a decision: those of the final Decision, or the union (by
// actor, first wins) of the partial ones published so far.
class Store {
 public:
  enum class Result { kApplied, kDuplicate };

  Result Apply(const v1::Anomaly& m, TimePoint at);
  Result Apply(const v1::Evidence& m, TimePoint at);
  Result Apply(const v1::Proposal& m, TimePoint at);
  // `at` is ignored when decided_at is set (the decision's own time is used, so a decision
  // applied locally right after publishing and the same one read back later are identical).
  Result Apply(const v1::Decision& m, TimePoint at);
  Result Apply(const v1::ExecutionResult& m, TimePoint at);

  std::optional<v1::Remediation> Get(const std::string& id) const;
  // Matching records ordered by (created, id).
  std::vector<v1::Remediation> List(const v1::RemediationFilter& filter) const;
  size_t size() const;
  std::map<v1::RemediationState, int> CountByState() const;
  // When the record entered ReadyForReview (nullopt if it is not in that state).
  std::optional<TimePoint> ReadySince(const std::string& id) const;
  // Final approvals (VERDICT_APPROVED) for this workload decided at or after `since`.
  int ApprovedSince(const std::string& workload_key, TimePoint since) const;

  // Change feed for WatchRemediations: every accepted event bumps the version.
  uint64_t version() const;
  // Records changed after `after_version`, and the version they bring the caller to.
  std::vector<v1::Remediation> ChangedSince(uint64_t after_version, uint64_t* now_version) const;
  // Blocks until version() > after_version or the timeout; true when it changed.
  bool WaitForChange(uint64_t after_version, std::chrono::milliseconds timeout) const;
  // Called (outside the lock) after every accepted event with the record's id.
  void OnChange(std::function<void(const std::string&)> callback);

  static bool Matches(const v1::Remediation& r, const v1::RemediationFilter& filter);

 private:
  struct Event {
    TimePoint at;
    int stage;  // 0 anomaly .. 4 execution: orders events of the same instant
    std::string bytes;
    std::shared_ptr<const google::protobuf::Message> msg;
  };
  struct Record {
    std::vector<Event> events;  // sorted
    std::set<std::string> seen;
    v1::Remediation view;
    uint64_t version = 0;
  };

  Result Add(const std::string& id, int stage, TimePoint at,
             std::shared_ptr<const google::protobuf::Message> msg);
  static void Fold(const std::string& id, Record& rec);

  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::map<std::string, Record> records_;
  uint64_t version_ = 0;
  std::vector<std::function<void(const std::string&)>> callbacks_;
};

}  // namespace aiops::approver
