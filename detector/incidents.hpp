// Coalesces failing pods into incidents: one per (cluster, namespace, workload, failure
// class). A pod counts once its failure outlasted the grace period; more failing pods of the
// same workload update the count instead of opening new incidents; an incident with no
// failing pod left closes after a cool-down, and a later recurrence is a new incident.
//
// Memory: per pod only a small record (no pod objects are kept).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "aiops/v1/anomaly.pb.h"
#include "classify.hpp"
#include "owner.hpp"

namespace aiops::detector {

using Clock = std::chrono::system_clock;

struct TrackerOptions {
  std::string cluster = "default";
  std::string producer = "aiops-detector";
  std::chrono::seconds grace{5};
  std::chrono::seconds unschedulable_grace{30};
  std::chrono::seconds cooldown{60};
  // An open incident re-announces a changed pod count at most this often.
  std::chrono::seconds update_interval{10};
  size_t sample_pods = 5;
};

struct PodObservation {
  std::string pod_key;  // namespace/name
  std::string pod_name;
  Workload workload;
  std::optional<PodFailure> failure;
  // Identifies the pod template generation (pod-template-hash / controller-revision-hash,
  // or the uid of a bare pod): part of the remediation id, so a re-announcement of a live
  // incident keeps its id while a recurrence after a rollout gets a new one.
  std::string revision;
};

class IncidentTracker {
 public:
  explicit IncidentTracker(TrackerOptions options) : options_(std::move(options)) {}

  void Observe(const PodObservation& pod, Clock::time_point now);
  void Remove(const std::string& pod_key, Clock::time_point now);
  // A relist: pods not observed between Begin and End are treated as deleted.
  void BeginResync();
  void EndResync(Clock::time_point now);
  // Anomalies due now (OPEN, UPDATED, RESOLVED), envelopes filled and stamped.
  std::vector<v1::Anomaly> Tick(Clock::time_point now);
  // The publish of this OPEN announcement failed: announce it again on the next tick.
  void Unannounce(const std::string& remediation_id);

  size_t pods() const;
  size_t open_incidents() const;
  size_t failing_pods() const;

 private:
  struct PodState {
    std::shared_ptr<const Workload> workload;
    std::optional<PodFailure> failure;
    Clock::time_point since;
    std::string name;
    std::string revision;
    bool counted = false;  // past grace and part of its incident
    uint32_t epoch = 0;
  };
  struct Incident {
    std::string id;
    std::shared_ptr<const Workload> workload;
    v1::FailureClass failure_class;
    PodFailure latest;
    std::set<std::string> pods;
    Clock::time_point first_seen;
    Clock::time_point last_seen;
    bool announced = false;
    size_t announced_count = 0;
    Clock::time_point announced_at;
    std::optional<Clock::time_point> healthy_since;
  };

  std::shared_ptr<const Workload> Intern(const Workload& w);
  std::string IncidentKey(const Workload& w, v1::FailureClass c) const;
  void Uncount(const std::string& pod_key, PodState& st, Clock::time_point now);
  std::chrono::seconds GraceFor(v1::FailureClass c) const;
  v1::Anomaly Build(const Incident& inc, v1::Anomaly::Status status, Clock::time_point now) const;

  TrackerOptions options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, PodState> pods_;
  std::set<std::string> pending_;  // failing, not yet past grace
  std::map<std::string, Incident> incidents_;
  std::map<std::string, std::weak_ptr<const Workload>> workloads_;
  uint32_t epoch_ = 0;
};

}  // namespace aiops::detector
