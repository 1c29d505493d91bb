#include "incidents.hpp"

#include "aiops/envelope.hpp"
#include "aiops/names.hpp"

namespace aiops::detector {

namespace {
google::protobuf::Timestamp ToProto(Clock::time_point t) {
  google::protobuf::Timestamp ts;
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  ts.set_seconds(us / 1000000);
  ts.set_nanos(static_cast<int32_t>((us % 1000000) * 1000));
  return ts;
}
}  // namespace

std::shared_ptr<const Workload> IncidentTracker::Intern(const Workload& w) {
  auto key = w.Key();
  auto& slot = workloads_[key];
  if (auto existing = slot.lock()) return existing;
  auto fresh = std::make_shared<const Workload>(w);
  slot = fresh;
  return fresh;
}

std::string IncidentTracker::IncidentKey(const Workload& w, v1::FailureClass c) const {
  return w.Key() + "/" + FailureClassName(c);
}

std::chrono::seconds IncidentTracker::GraceFor(v1::FailureClass c) const {
  return c == v1::FAILURE_CLASS_UNSCHEDULABLE ? options_.unschedulable_grace : options_.grace;
}

void IncidentTracker::Uncount(const std::string& pod_key, PodState& st, Clock::time_point now) {
  pending_.erase(pod_key);
  if (!st.counted || !st.failure) {
    st.counted = false;
    return;
  }
  st.counted = false;
  auto it = incidents_.find(IncidentKey(*st.workload, st.failure->failure_class));
  if (it == incidents_.end()) return;
  it->second.pods.erase(pod_key);
  if (it->second.pods.empty()) it->second.healthy_since = now;
}

void IncidentTracker::Observe(const PodObservation& pod, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = pods_.try_emplace(pod.pod_key);
  PodState& st = it->second;
  st.epoch = epoch_;
  bool same_failure = !inserted && st.failure.has_value() == pod.failure.has_value() &&
                      (!pod.failure || st.failure->failure_class == pod.failure->failure_class) &&
                      st.workload && st.workload->Key() == pod.workload.Key();
  if (same_failure) {
    if (pod.failure) {
      st.failure = pod.failure;  // keep the latest message
      if (st.counted) {
        auto inc = incidents_.find(IncidentKey(*st.workload, st.failure->failure_class));
        if (inc != incidents_.end()) {
          inc->second.latest = *pod.failure;
          inc->second.last_seen = now;
        }
      }
    }
    return;
  }
  if (!inserted) Uncount(pod.pod_key, st, now);
  st.workload = Intern(pod.workload);
  st.failure = pod.failure;
  st.name = pod.pod_name;
  st.revision = pod.revision;
  st.since = now;
  if (st.failure) pending_.insert(pod.pod_key);
}

void IncidentTracker::Remove(const std::string& pod_key, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = pods_.find(pod_key);
  if (it == pods_.end()) return;
  Uncount(pod_key, it->second, now);
  pods_.erase(it);
}

void IncidentTracker::BeginResync() {
  std::lock_guard lock(mu_);
  ++epoch_;
}

void IncidentTracker::EndResync(Clock::time_point now) {
  std::lock_guard lock(mu_);
  for (auto it = pods_.begin(); it != pods_.end();) {
    if (it->second.epoch != epoch_) {
      Uncount(it->first, it->second, now);
      it = pods_.erase(it);
    } else {
      ++it;
    }
  }
}

std::vector<v1::Anomaly> IncidentTracker::Tick(Clock::time_point now) {
  std::lock_guard lock(mu_);
  // 1. Failures that outlasted their grace period join (or open) their incident.
  for (auto it = pending_.begin(); it != pending_.end();) {
    auto pit = pods_.find(*it);
    if (pit == pods_.end() || !pit->second.failure) {
      it = pending_.erase(it);
      continue;
    }
    PodState& st = pit->second;
    if (now - st.since < GraceFor(st.failure->failure_class)) {
      ++it;
      continue;
    }
    auto key = IncidentKey(*st.workload, st.failure->failure_class);
    auto [inc_it, created] = incidents_.try_emplace(key);
    Incident& inc = inc_it->second;
    if (created) {
      inc.workload = st.workload;
      inc.failure_class = st.failure->failure_class;
      inc.first_seen = st.since;
      const auto& w = *st.workload;
      inc.id = envelope::RemediationId({options_.cluster, w.ns, w.kind, w.name,
                                        FailureClassName(inc.failure_class), st.revision});
    }
    inc.latest = *st.failure;
    inc.last_seen = now;
    inc.pods.insert(*it);
    inc.healthy_since.reset();
    st.counted = true;
    it = pending_.erase(it);
  }

  // 2. Announce what changed.
  std::vector<v1::Anomaly> out;
  for (auto it = incidents_.begin(); it != incidents_.end();) {
    Incident& inc = it->second;
    if (inc.pods.empty() && inc.healthy_since && now - *inc.healthy_since >= options_.cooldown) {
      if (inc.announced) out.push_back(Build(inc, v1::Anomaly::STATUS_RESOLVED, now));
      it = incidents_.erase(it);
      continue;
    }
    if (!inc.announced && !inc.pods.empty()) {
      out.push_back(Build(inc, v1::Anomaly::STATUS_OPEN, now));
      inc.announced = true;
      inc.announced_count = inc.pods.size();
      inc.announced_at = now;
    } else if (inc.announced && !inc.pods.empty() && inc.pods.size() != inc.announced_count &&
               now - inc.announced_at >= options_.update_interval) {
      out.push_back(Build(inc, v1::Anomaly::STATUS_UPDATED, now));
      inc.announced_count = inc.pods.size();
      inc.announced_at = now;
    }
    ++it;
  }
  return out;
}

void IncidentTracker::Unannounce(const std::string& remediation_id) {
  std::lock_guard lock(mu_);
  for (auto& [key, inc] : incidents_) {
    if (inc.id == remediation_id) inc.announced = false;
  }
}

v1::Anomaly IncidentTracker::Build(const Incident& inc, v1::Anomaly::Status status,
                                   Clock::time_point now) const {
  v1::Anomaly a;
  *a.mutable_envelope() = envelope::New(inc.id, options_.cluster, "", options_.producer);
  // The trace id follows the remediation: derive it from the id so a re-announcement after a
  // detector restart carries the same trace.
  a.mutable_envelope()->set_trace_id(envelope::RemediationId({"trace", inc.id}).substr(4));
  envelope::Stamp(*a.mutable_envelope(), envelope::Stage::kDetected, now);
  a.set_status(status);
  a.set_failure_class(inc.failure_class);
  a.set_reason(inc.latest.reason);
  a.set_message(inc.latest.message);
  *a.mutable_workload() = inc.workload->ToProto();
  a.set_container(inc.latest.container);
  a.set_init_container(inc.latest.init_container);
  a.set_affected_pods(static_cast<uint32_t>(inc.pods.size()));
  for (const auto& key : inc.pods) {
    if (a.sample_pods_size() >= static_cast<int>(options_.sample_pods)) break;
    a.add_sample_pods(key.substr(key.find('/') + 1));
  }
  *a.mutable_first_seen() = ToProto(inc.first_seen);
  *a.mutable_last_seen() = ToProto(inc.last_seen);
  a.set_incident_key(options_.cluster + "/" + inc.workload->ns + "/" + inc.workload->kind + "/" +
                     inc.workload->name + "/" + FailureClassName(inc.failure_class));
  return a;
}

size_t IncidentTracker::pods() const {
  std::lock_guard lock(mu_);
  return pods_.size();
}

size_t IncidentTracker::open_incidents() const {
  std::lock_guard lock(mu_);
  return incidents_.size();
}

size_t IncidentTracker::failing_pods() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [k, st] : pods_)
    n += st.failure ? 1 : 0;
  return n;
}

}  // namespace aiops::detector
