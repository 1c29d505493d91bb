// The decisions: Approve and Reject on behalf of an authenticated caller, the automatic ones
// (auto-approve rules, expiry) in Sweep(), and the read side (List, Get). Independent of
// gRPC transport and Kafka: decisions leave through a DecisionSink, which in production
// publishes to aiops.decisions and waits for the broker's acknowledgement.
#pragma once

#include <grpcpp/support/status.h>

#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "aiops/metrics.hpp"
#include "aiops/v1/approval.pb.h"
#include "auth.hpp"
#include "policy.hpp"
#include "store.hpp"

namespace aiops::approver {

class DecisionSink {
 public:
  virtual ~DecisionSink() = default;
  // Publishes the decision (keyed by remediation id) and waits for the acknowledgement.
  // Returns the error, or nullopt once it is durably recorded.
  virtual std::optional<std::string> Publish(const v1::Decision& decision) = 0;
};

// Names used in Decision.policy and in "policy:<name>" actors.
inline constexpr const char* kTwoPersonPolicy = "two-person";
inline constexpr const char* kExpiryPolicy = "expiry";

class Approver {
 public:
  using Now = std::function<TimePoint()>;

  Approver(
      Store& store, Policies policies, DecisionSink& sink, std::string producer,
      metrics::Registry* metrics = nullptr, Now now = [] { return Clock::now(); });

  grpc::Status List(const v1::ListRemediationsRequest& req,
                    v1::ListRemediationsResponse* resp) const;
  grpc::Status Get(const v1::GetRemediationRequest& req, v1::Remediation* resp) const;
  grpc::Status Approve(const Identity& who, const v1::ApproveRequest& req,
                       v1::ApproveResponse* resp);
  grpc::Status Reject(const Identity& who, const v1::RejectRequest& req, v1::RejectResponse* resp);

  // Publishes what policy decides on its own: auto-approvals of matching remediations ready
  // for review, and expiry of those undecided beyond the TTL. Returns the decisions published.
  int Sweep();
  // Refreshes the remediations-by-state gauge.
  void UpdateGauges();

  const Policies& policies() const { return policies_; }

  // Checks an id from a request: nullopt when acceptable.
  static std::optional<std::string> CheckId(const std::string& id);

 private:
  v1::Decision Build(const v1::Remediation& r, v1::Decision::Verdict verdict,
                     const std::string& actor, const std::string& comment,
                     const std::string& policy) const;
  // Publishes, then folds the decision into the store (read-your-writes for the caller).
  grpc::Status PublishAndApply(const v1::Decision& d);
  // Non-OK when the workload reached the rate limit.
  grpc::Status CheckRateLimit(const v1::Remediation& r) const;
  void ObserveDecision(const v1::Remediation& r, const v1::Decision& d);

  Store& store_;
  Policies policies_;
  DecisionSink& sink_;
  std::string producer_;
  metrics::Registry* metrics_;
  Now now_;
  // One decision at a time in this process: a state check and its publication are atomic.
  std::mutex decide_mu_;
  std::set<std::string> rate_limited_logged_;
};

std::string FormatDuration(std::chrono::seconds s);

}  // namespace aiops::approver
