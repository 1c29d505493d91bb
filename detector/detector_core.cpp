#include "detector_core.hpp"

#include <algorithm>

#include "aiops/json_fields.hpp"

namespace aiops::detector {

using json_fields::Field;
using json_fields::String;
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
// Pods come from the API server: fields of unexpected types must read as missing, never
// throw (an exception here ended the watch thread and with it the detector).
std::string PodKey(const json& pod) {
  const auto& meta = Field(pod, "metadata");
  return String(meta, "namespace") + "/" + String(meta, "name");
}
}  // namespace

void DetectorCore::OnPod(const json& pod, Clock::time_point now) {
  if (!pod.is_object() || !pod.contains("metadata") || !pod["metadata"].is_object()) return;
  const auto& meta = pod["metadata"];
  if (!scope_.Covers(String(meta, "namespace"))) return;
  PodObservation obs;
  obs.pod_key = PodKey(pod);
  obs.pod_name = String(meta, "name");
  obs.workload = owners_.Resolve(pod);
  auto unix_now = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  obs.failure = Classify(pod, unix_now, oom_window_seconds_);
  const auto& labels = Field(meta, "labels");
  obs.revision = String(labels, "pod-template-hash");
  if (obs.revision.empty()) obs.revision = String(labels, "controller-revision-hash");
  if (obs.revision.empty()) obs.revision = String(meta, "uid");
  tracker_.Observe(obs, now);
}

void DetectorCore::OnPodDeleted(const json& pod, Clock::time_point now) {
  if (!pod.is_object() || !pod.contains("metadata")) return;
  tracker_.Remove(PodKey(pod), now);
}

}  // namespace aiops::detector
