// Turns a validated Candidate into the v1::Proposal published on aiops.proposals: envelope,
// incident identity, actions with ids, and rollback actions computed from the evidence.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "aiops/v1/evidence.pb.h"
#include "aiops/v1/proposal.pb.h"
#include "proposer/candidate.hpp"

namespace aiops::proposer {

// The apply configuration that restores the current values (from `workload`) of the fields
// `patch` sets. Containers and env entries are matched by name; fields the workload did not
// have are left out, so re-applying with the same field manager removes them.
nlohmann::json RollbackPatch(const nlohmann::json& patch, const nlohmann::json& workload);

// Builds the proposal. The caller fills source and usage.
v1::Proposal BuildProposal(const Candidate& candidate, const v1::Evidence& evidence,
                           const std::string& producer);

// A proposal with no actions that says why no safe change could be proposed.
v1::Proposal FailedProposal(const v1::Evidence& evidence, const std::string& producer,
                            const std::string& reason, const std::vector<std::string>& details);

}  // namespace aiops::proposer
