#include "proposer/proposal_builder.hpp"

#include "aiops/envelope.hpp"
#include "proposer/facts.hpp"

namespace aiops::proposer {

using nlohmann::json;

namespace {

bool IsNamedList(const json& v) {
  if (!v.is_array() || v.empty()) return false;
  for (const auto& e : v) {
    if (!e.is_object() || !e.contains("name")) return false;
  }
  return true;
}

// Returns the current values of the fields in `patch`; null when the workload has none.
json Restore(const json& patch, const json& current) {
  if (patch.is_object()) {
    if (!current.is_object()) return nullptr;
    json out = json::object();
    for (auto it = patch.begin(); it != patch.end(); ++it) {
      auto cur = current.find(it.key());
      if (cur == current.end()) continue;
      json r = Restore(it.value(), *cur);
      if (!r.is_null()) out[it.key()] = r;
    }
    return out.empty() ? json(nullptr) : out;
  }
  if (IsNamedList(patch)) {
    if (!current.is_array()) return nullptr;
    json out = json::array();
    for (const auto& item : patch) {
      for (const auto& c : current) {
        if (c.is_object() && c.value("name", json()) == item["name"]) {
          json r = Restore(item, c);
          if (r.is_null()) r = json::object();
          r["name"] = item["name"];
          out.push_back(r);
        }
      }
    }
    return out.empty() ? json(nullptr) : out;
  }
  return current;  // a leaf (or a list replaced as a whole): its current value
}

void FillRef(const CandidateAction& a, v1::WorkloadRef* ref, const v1::WorkloadRef& incident) {
  ref->set_api_version(a.api_version.empty() ? "apps/v1" : a.api_version);
  ref->set_kind(a.kind);
  ref->set_namespace_(a.ns);
  ref->set_name(a.name);
  if (a.kind == incident.kind() && a.name == incident.name() && a.ns == incident.namespace_()) {
    ref->set_uid(incident.uid());
  }
}

void FillCommon(v1::Proposal& p, const v1::Evidence& evidence, const std::string& producer) {
  *p.mutable_envelope() = envelope::Next(evidence.envelope(), producer);
  envelope::Stamp(*p.mutable_envelope(), envelope::Stage::kProposed);
  p.set_failure_class(evidence.anomaly().failure_class());
  *p.mutable_workload() = evidence.anomaly().workload();
  p.set_evidence_generation(evidence.workload_generation());
  p.set_evidence_resource_version(evidence.workload_resource_version());
}

int64_t CurrentRevision(const v1::Evidence& evidence) {
  int64_t best = 0;
  for (const auto& r : evidence.revisions())
    best = std::max(best, r.revision());
  return best;
}

}  // namespace

json RollbackPatch(const json& patch, const json& workload) {
  json out = {{"apiVersion", patch.value("apiVersion", "apps/v1")},
              {"kind", patch.value("kind", "")},
              {"metadata", patch.value("metadata", json::object())}};
  if (patch.contains("spec")) {
    json spec =
        Restore(patch["spec"], workload.is_object() && workload.contains("spec") ? workload["spec"]
                                                                                 : json::object());
    if (!spec.is_null()) out["spec"] = spec;
  }
  return out;
}

v1::Proposal BuildProposal(const Candidate& c, const v1::Evidence& evidence,
                           const std::string& producer) {
  v1::Proposal p;
  FillCommon(p, evidence, producer);
  p.set_summary(c.summary);
  p.set_root_cause(c.root_cause);
  for (const auto& [obs, thought] : c.reasoning) {
    auto* s = p.add_reasoning();
    s->set_observation(obs);
    s->set_thought(thought);
  }
  const json workload = WorkloadObject(evidence);
  const auto& incident = evidence.anomaly().workload();
  int n = 0;
  for (const auto& a : c.actions) {
    ++n;
    auto* act = p.add_actions();
    act->set_id("a" + std::to_string(n));
    FillRef(a, act->mutable_target(), incident);
    act->set_description(a.description);
    auto* rb = p.add_rollback_actions();
    rb->set_id("r" + std::to_string(n));
    FillRef(a, rb->mutable_target(), incident);
    if (a.type == CandidateAction::Type::kRollback) {
      act->set_type(v1::Action::TYPE_ROLLBACK_TO_REVISION);
      act->set_rollback_to_revision(a.revision);
      int64_t current = CurrentRevision(evidence);
      rb->set_type(v1::Action::TYPE_ROLLBACK_TO_REVISION);
      rb->set_rollback_to_revision(current);
      rb->set_description("undo a" + std::to_string(n) + ": restore the pod template of revision " +
                          std::to_string(current));
    } else {
      act->set_type(v1::Action::TYPE_SERVER_SIDE_APPLY);
      act->set_patch(a.patch.dump());
      rb->set_type(v1::Action::TYPE_SERVER_SIDE_APPLY);
      rb->set_patch(RollbackPatch(a.patch, workload).dump());
      rb->set_description("undo a" + std::to_string(n) + ": restore the values before the change");
    }
  }
  p.set_risk(c.risk == v1::RISK_LEVEL_UNSPECIFIED ? v1::RISK_LEVEL_MEDIUM : c.risk);
  for (const auto& r : c.risk_reasons)
    p.add_risk_reasons(r);
  p.set_confidence(c.confidence);
  p.set_manual(c.actions.empty());
  return p;
}

v1::Proposal FailedProposal(const v1::Evidence& evidence, const std::string& producer,
                            const std::string& reason, const std::vector<std::string>& details) {
  v1::Proposal p;
  FillCommon(p, evidence, producer);
  p.set_manual(true);
  p.set_summary("No safe change proposed: " + reason);
  std::string root = reason;
  for (const auto& d : details)
    root += "\n- " + d;
  p.set_root_cause(root);
  p.set_risk(v1::RISK_LEVEL_HIGH);
  p.add_risk_reasons("proposal failed: " + reason);
  p.set_confidence(0);
  return p;
}

}  // namespace aiops::proposer
