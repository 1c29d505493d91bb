// Builders of topic messages for the approver's unit tests.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "aiops/envelope.hpp"
#include "aiops/v1/anomaly.pb.h"
#include "aiops/v1/decision.pb.h"
#include "aiops/v1/evidence.pb.h"
#include "aiops/v1/execution.pb.h"
#include "aiops/v1/proposal.pb.h"
#include "approver.hpp"
#include "store.hpp"

namespace aiops::approver::testing {

// A fixed instant so records are reproducible: 2025-01-01T00:00:00Z + seconds.
inline TimePoint T(int seconds) {
  return TimePoint(std::chrono::seconds(1735689600 + seconds));
}

inline v1::Envelope Env(const std::string& id, const std::string& producer) {
  return envelope::New(id, "prod", "trace-" + id, producer);
}

inline v1::WorkloadRef Workload(const std::string& ns = "shop", const std::string& name = "web") {
  v1::WorkloadRef w;
  w.set_api_version("apps/v1");
  w.set_kind("Deployment");
  w.set_namespace_(ns);
  w.set_name(name);
  return w;
}

inline v1::Anomaly MakeAnomaly(const std::string& id, const std::string& ns = "shop",
                               const std::string& name = "web") {
  v1::Anomaly a;
  *a.mutable_envelope() = Env(id, "aiops-detector/test");
  a.set_status(v1::Anomaly::STATUS_OPEN);
  a.set_failure_class(v1::FAILURE_CLASS_IMAGE_PULL);
  a.set_reason("ImagePullBackOff");
  a.set_message("Back-off pulling image nginx:1.99");
  *a.mutable_workload() = Workload(ns, name);
  a.set_affected_pods(2);
  return a;
}

inline v1::Evidence MakeEvidence(const std::string& id) {
  v1::Evidence e;
  *e.mutable_envelope() = Env(id, "aiops-collector/test");
  *e.mutable_anomaly() = MakeAnomaly(id);
  e.add_pods()->set_name("web-1");
  auto* ev = e.add_events();
  ev->set_type("Warning");
  ev->set_reason("Failed");
  ev->set_message("Failed to pull image");
  ev->set_count(3);
  e.set_workload_generation(7);
  return e;
}

inline v1::Proposal MakeProposal(const std::string& id, v1::RiskLevel risk = v1::RISK_LEVEL_LOW,
                                 const std::string& ns = "shop", const std::string& name = "web",
                                 bool manual = false) {
  v1::Proposal p;
  *p.mutable_envelope() = Env(id, "aiops-proposer/test");
  envelope::Stamp(*p.mutable_envelope(), envelope::Stage::kProposed, T(3));
  p.set_summary("image tag nginx:1.99 does not exist");
  p.set_root_cause("bad image tag");
  p.set_risk(risk);
  p.set_failure_class(v1::FAILURE_CLASS_IMAGE_PULL);
  *p.mutable_workload() = Workload(ns, name);
  p.mutable_source()->set_kind(v1::ProposalSource::KIND_RUNBOOK);
  p.mutable_source()->set_runbook_id("image-pull");
  p.set_evidence_generation(7);
  p.set_evidence_resource_version("12345");
  p.set_manual(manual);
  if (!manual) {
    auto* a = p.add_actions();
    a->set_id("a1");
    a->set_type(v1::Action::TYPE_SERVER_SIDE_APPLY);
    *a->mutable_target() = Workload(ns, name);
    a->set_patch(
        R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"shop"},)"
        R"("spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.25.3"}]}}}})");
    a->set_description("set image of container web to nginx:1.25.3");
    auto* rb = p.add_rollback_actions();
    rb->set_id("r1");
    rb->set_type(v1::Action::TYPE_ROLLBACK_TO_REVISION);
    rb->set_rollback_to_revision(3);
  }
  return p;
}

inline v1::ApprovalRecord Approval(const std::string& actor, int at) {
  v1::ApprovalRecord r;
  r.set_actor(actor);
  r.set_comment("ok");
  *r.mutable_at() = ToProto(T(at));
  return r;
}

inline v1::Decision MakeDecision(const std::string& id, v1::Decision::Verdict verdict,
                                 const std::string& actor, int at,
                                 std::vector<std::string> approvers = {}) {
  v1::Decision d;
  *d.mutable_envelope() = Env(id, "aiops-approver/test");
  d.set_verdict(verdict);
  d.set_actor(actor);
  d.set_comment(actor + " says so");
  if (approvers.empty() && verdict == v1::Decision::VERDICT_APPROVED) approvers = {actor};
  for (const auto& a : approvers)
    *d.add_approvals() = Approval(a, at);
  d.set_attempt(1);
  *d.mutable_decided_at() = ToProto(T(at));
  return d;
}

inline v1::ExecutionResult MakeExecution(const std::string& id, v1::ExecutionResult::Status status,
                                         const std::string& reason = "") {
  v1::ExecutionResult x;
  *x.mutable_envelope() = Env(id, "aiops-executor/test");
  x.set_attempt(1);
  x.set_status(status);
  x.set_reason(reason.empty() ? v1::ExecutionResult::Status_Name(status) : reason);
  return x;
}

// Records what would have gone to aiops.decisions.
class FakeSink : public DecisionSink {
 public:
  std::optional<std::string> Publish(const v1::Decision& d) override {
    if (fail) return std::string("broker down");
    published.push_back(d);
    return std::nullopt;
  }
  std::vector<v1::Decision> published;
  bool fail = false;
};

}  // namespace aiops::approver::testing
