// The rules every proposed action must pass before it can reach aiops.proposals, whatever
// wrote it (runbook or LLM): allowed kinds, the incident's own workload, allowed fields only,
// and the pod-security baseline (no privileged, host namespaces, hostPath, added
// capabilities, unpinned or :latest images).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "aiops/v1/evidence.pb.h"
#include "proposer/candidate.hpp"

namespace aiops::proposer {

struct ValidationLimits {
  int max_replicas = 50;
};

// Every problem found, each naming the action and the field path; empty when valid.
std::vector<std::string> ValidateCandidate(const Candidate& candidate, const v1::Evidence& evidence,
                                           const ValidationLimits& limits = {});

// Checks one apply configuration against the incident workload. `workload` is the current
// object (for container names), may be empty.
std::vector<std::string> ValidatePatch(const nlohmann::json& patch, const v1::WorkloadRef& target,
                                       const nlohmann::json& workload,
                                       const ValidationLimits& limits = {});

// An image reference with an explicit tag other than "latest", or a digest. `why` says what
// is wrong otherwise.
bool ImageIsPinned(const std::string& image, std::string* why);

bool KindAllowed(const std::string& kind);

}  // namespace aiops::proposer
