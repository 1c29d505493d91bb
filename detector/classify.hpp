// Turns one pod's status into at most one failure, the way an SRE reads `kubectl get pods`:
// container waiting reasons, OOM kills, unschedulable and evicted pods.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "aiops/v1/envelope.pb.h"

namespace aiops::detector {

struct PodFailure {
  v1::FailureClass failure_class = v1::FAILURE_CLASS_UNSPECIFIED;
  std::string reason;   // as Kubernetes says it: "ImagePullBackOff", "OOMKilled", ...
  std::string message;  // the matching status message
  std::string container;
  bool init_container = false;
};

// The most telling failure of the pod, or nullopt for a pod that is fine (or merely
// starting). Init containers are checked first: a pod stuck in init never runs the others.
// A container that was OOM-killed but runs and is ready again counts only while the kill is
// recent (finishedAt within `oom_window_seconds` of `now_unix`): an OOM kill from last week
// is history, a kill a minute ago is an incident even if the restart came up.
std::optional<PodFailure> Classify(const nlohmann::json& pod, int64_t now_unix,
                                   int64_t oom_window_seconds = 600);

// RFC 3339 ("2026-11-22T02:20:00Z") to Unix seconds; nullopt when unparsable.
std::optional<int64_t> ParseTime(const std::string& rfc3339);

}  // namespace aiops::detector
