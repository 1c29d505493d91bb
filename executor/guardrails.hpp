// The executor's guardrails: checks made before anything is sent to a cluster (what a patch may
// touch) and on the object the dry run returns (pod-security baseline). Each refusal carries
// its own message naming the offending path or value.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "aiops/v1/decision.pb.h"

namespace aiops::executor {

using Json = nlohmann::json;

// Kinds the executor may change.
bool AllowedKind(const std::string& kind);

// Checks one approved action against the allow list of kinds and field paths and the
// decision's workload. Returns the refusal reason, or nullopt when the action may proceed.
std::optional<std::string> CheckAction(const v1::Action& action, const v1::WorkloadRef& workload);

// Checks every action of a decision (and that there is at least one); first refusal wins.
std::optional<std::string> CheckDecision(const v1::Decision& decision);

// Pod-security baseline on a workload object (Deployment/StatefulSet/DaemonSet) as it would
// be after the patch: every violation found, empty when it passes.
std::vector<std::string> CheckPodSecurity(const Json& workload);

// An image reference, parsed as container runtimes do.
struct ImageRef {
  std::string name;  // everything before tag/digest
  std::string tag;   // empty when none
  std::string digest;
};
ImageRef ParseImage(const std::string& image);
// Why an image reference is not pinned (no tag, `:latest`, empty), or nullopt.
std::optional<std::string> CheckImagePinned(const std::string& image);

}  // namespace aiops::executor
