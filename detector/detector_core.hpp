// The detector's logic without Kafka or a live cluster: pod objects in (from list and watch),
// anomalies out (from Tick). main.cpp wires it to the kube client and the producer.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "incidents.hpp"
#include "owner.hpp"

namespace aiops::detector {

// Which pods the detector looks at, like a debug policy.
struct Scope {
  std::vector<std::string> include_namespaces;  // empty: all
  std::vector<std::string> exclude_namespaces = {"kube-system"};
  // Passed to the API server as labelSelector (standard syntax).
  std::string label_selector;

  bool Covers(const std::string& ns) const;
};

class DetectorCore {
 public:
  DetectorCore(TrackerOptions options, Scope scope, OwnerResolver::ReplicaSetLookup lookup,
               int64_t oom_window_seconds = 600);

  // A pod from a list or an ADDED/MODIFIED event.
  void OnPod(const nlohmann::json& pod, Clock::time_point now);
  void OnPodDeleted(const nlohmann::json& pod, Clock::time_point now);
  void BeginResync() { tracker_.BeginResync(); }
  void EndResync(Clock::time_point now) { tracker_.EndResync(now); }
  std::vector<v1::Anomaly> Tick(Clock::time_point now) { return tracker_.Tick(now); }
  void Unannounce(const std::string& id) { tracker_.Unannounce(id); }

  const IncidentTracker& tracker() const { return tracker_; }
  const Scope& scope() const { return scope_; }

 private:
  IncidentTracker tracker_;
  Scope scope_;
  OwnerResolver owners_;
  int64_t oom_window_seconds_;
};

}  // namespace aiops::detector
