#include "detector_core.hpp"

#include <algorithm>

namespace aiops::detector {

using nlohmann::json;

bool Scope::Covers(const std::string& ns) const {
  auto has = [&](const std::vector<std::string>& list) {
    return std::find(list.begin(), list.end(), ns) != list.end();
  };
  if (!include_namespaces.empty() && !has(include_namespaces)) return false;
  return !has(exclude_namespaces);
}

DetectorCore::DetectorCore(TrackerOptions options, Scope scope,
                           OwnerResolver::ReplicaSetLookup lookup, int64_t oom_window_seconds)
    : tracker_(std::move(options)),
      scope_(std::move(scope)),
      owners_(std::move(lookup)),
      oom_window_seconds_(oom_window_seconds) {}

namespace {
std::string PodKey(const json& pod) {
  const auto& meta = pod["metadata"];
  return meta.value("namespace", "") + "/" + meta.value("name", "");
}
}  // namespace

void DetectorCore::OnPod(const json& pod, Clock::time_point now) {
  if (!pod.is_object() || !pod.contains("metadata") || !pod["metadata"].is_object()) return;
  const auto& meta = pod["metadata"];
  if (!scope_.Covers(meta.value("namespace", ""))) return;
  PodObservation obs;
  obs.pod_key = PodKey(pod);
  obs.pod_name = meta.value("name", "");
  obs.workload = owners_.Resolve(pod);
  auto unix_now = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  obs.failure = Classify(pod, unix_now, oom_window_seconds_);
  auto labels = meta.value("labels", json::object());
  obs.revision = labels.value("pod-template-hash", "");
  if (obs.revision.empty()) obs.revision = labels.value("controller-revision-hash", "");
  if (obs.revision.empty()) obs.revision = meta.value("uid", "");
  tracker_.Observe(obs, now);
}

void DetectorCore::OnPodDeleted(const json& pod, Clock::time_point now) {
  if (!pod.is_object() || !pod.contains("metadata")) return;
  tracker_.Remove(PodKey(pod), now);
}

}  // namespace aiops::detector
