#include "executor_core.hpp"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "aiops/envelope.hpp"
#include "aiops/log.hpp"

namespace aiops::executor {

namespace {

using Step = v1::ExecutionStep;
using Result = v1::ExecutionResult;

google::protobuf::Timestamp ToProto(std::chrono::system_clock::time_point t) {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

std::string KindLabel(Step::Kind k) {
  std::string n = Step::Kind_Name(k);
  return n.rfind("KIND_", 0) == 0 ? n.substr(5) : n;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string StatusLabel(Result::Status s) {
  std::string n = Result::Status_Name(s);
  return Lower(n.rfind("STATUS_", 0) == 0 ? n.substr(7) : n);
}

std::string Selector(const Json& workload) {
  std::string out;
  const Json ml = workload.value("spec", Json::object())
                      .value("selector", Json::object())
                      .value("matchLabels", Json::object());
  for (auto it = ml.begin(); it != ml.end(); ++it) {
    if (!out.empty()) out += ",";
    out += it.key() + "=" + (it.value().is_string() ? it.value().get<std::string>() : "");
  }
  return out;
}

std::string Annotation(const Json& obj, const std::string& key) {
  const Json a = obj.value("metadata", Json::object()).value("annotations", Json::object());
  if (a.is_object() && a.contains(key) && a[key].is_string()) return a[key].get<std::string>();
  return "";
}

int64_t Int(const Json& obj, std::initializer_list<const char*> path, int64_t def = 0) {
  const Json* cur = &obj;
  for (const char* p : path) {
    if (!cur->is_object() || !cur->contains(p)) return def;
    cur = &(*cur)[p];
  }
  return cur->is_number_integer() ? cur->get<int64_t>() : def;
}

bool OwnedBy(const Json& obj, const std::string& uid) {
  for (const auto& o :
       obj.value("metadata", Json::object()).value("ownerReferences", Json::array()))
    if (o.value("uid", "") == uid) return true;
  return false;
}

const std::set<std::string> kHardWaiting = {
    "ImagePullBackOff",     "InvalidImageName",  "CrashLoopBackOff", "CreateContainerConfigError",
    "CreateContainerError", "RunContainerError", "ErrImageNeverPull"};
const std::set<std::string> kSoftWaiting = {"ErrImagePull"};

// The first failure of a pod's containers, or empty.
std::string PodFailure(const Json& pod, bool* hard) {
  const Json st = pod.value("status", Json::object());
  std::string name = pod.value("metadata", Json::object()).value("name", "?");
  if (st.value("phase", "") == "Failed") {
    *hard = true;
    return "pod " + name + " failed";
  }
  for (const char* list : {"initContainerStatuses", "containerStatuses"}) {
    for (const auto& cs : st.value(list, Json::array())) {
      const Json waiting = cs.value("state", Json::object()).value("waiting", Json::object());
      std::string reason = waiting.value("reason", "");
      if (kHardWaiting.count(reason) || kSoftWaiting.count(reason)) {
        if (kHardWaiting.count(reason)) *hard = true;
        std::string msg = waiting.value("message", "");
        return "pod " + name + " container " + cs.value("name", "?") + ": " + reason +
               (msg.empty() ? "" : " (" + msg + ")");
      }
      const Json last = cs.value("lastState", Json::object()).value("terminated", Json::object());
      if (cs.value("restartCount", 0) > 0 && !last.empty() && last.value("exitCode", 0) != 0) {
        *hard = cs.value("restartCount", 0) >= 2;
        return "pod " + name + " container " + cs.value("name", "?") + " restarted (" +
               last.value("reason", "exit " + std::to_string(last.value("exitCode", 0))) + ")";
      }
    }
  }
  return "";
}

// Parses "conflict with \"mgr\" using apps/v1" (real API server) or "conflict with mgr".
std::string ManagerFromMessage(std::string m) {
  const std::string prefix = "conflict with ";
  if (m.rfind(prefix, 0) == 0) m = m.substr(prefix.size());
  if (!m.empty() && m[0] == '"') {
    auto end = m.find('"', 1);
    return m.substr(1, end == std::string::npos ? std::string::npos : end - 1);
  }
  if (auto u = m.find(" using "); u != std::string::npos) m = m.substr(0, u);
  return m;
}

Json CaptureNode(const Json& patch, const Json& live, bool* present) {
  *present = true;
  if (patch.is_object()) {
    if (!live.is_object()) {
      *present = false;
      return nullptr;
    }
    Json out = Json::object();
    for (auto it = patch.begin(); it != patch.end(); ++it) {
      if (!live.contains(it.key())) continue;
      bool p = false;
      Json sub = CaptureNode(it.value(), live[it.key()], &p);
      if (p) out[it.key()] = std::move(sub);
    }
    return out;
  }
  if (patch.is_array() && !patch.empty() && patch[0].is_object() && patch[0].contains("name") &&
      live.is_array()) {
    // A list keyed by name (containers, env): only the entries the patch names.
    Json out = Json::array();
    for (const auto& e : patch) {
      for (const auto& l : live) {
        if (l.is_object() && l.value("name", "") == e.value("name", "")) {
          bool p = false;
          Json sub = CaptureNode(e, l, &p);
          sub["name"] = e["name"];
          out.push_back(std::move(sub));
          break;
        }
      }
    }
    return out;
  }
  return live;  // scalars and atomic lists (envFrom, command) are restored whole
}

}  // namespace

std::vector<FieldConflict> ParseConflicts(const Json& status) {
  std::vector<FieldConflict> out;
  const Json causes = status.value("details", Json::object()).value("causes", Json::array());
  for (const auto& c : causes) {
    if (c.value("reason", "") != "FieldManagerConflict") continue;
    out.push_back({ManagerFromMessage(c.value("message", "")), c.value("field", "")});
  }
  return out;
}

Json CaptureRollback(const Json& patch, const Json& live) {
  Json out = Json::object();
  out["apiVersion"] = patch.value("apiVersion", "apps/v1");
  out["kind"] = patch.value("kind", "");
  const Json meta = patch.value("metadata", Json::object());
  out["metadata"] = {{"name", meta.value("name", "")}, {"namespace", meta.value("namespace", "")}};
  if (patch.contains("spec") && live.contains("spec")) {
    bool p = false;
    Json spec = CaptureNode(patch["spec"], live["spec"], &p);
    if (p) out["spec"] = std::move(spec);
  }
  return out;
}

Json MergeDiff(const Json& from, const Json& to) {
  if (!from.is_object() || !to.is_object()) return to;
  Json out = Json::object();
  for (auto it = from.begin(); it != from.end(); ++it)
    if (!to.contains(it.key())) out[it.key()] = nullptr;
  for (auto it = to.begin(); it != to.end(); ++it) {
    if (!from.contains(it.key())) {
      out[it.key()] = it.value();
    } else if (from[it.key()] != it.value()) {
      out[it.key()] = MergeDiff(from[it.key()], it.value());
    }
  }
  return out;
}

std::string WorkloadPath(const v1::WorkloadRef& w) {
  std::string resource = Lower(w.kind()) + "s";
  return kube::Path("apps", "v1", resource, w.namespace_(), w.name());
}

// One patch to send: a forward action or a captured rollback.
struct Planned {
  std::string action_id;
  kube::PatchType type = kube::PatchType::kApply;
  Json body;
  bool force = false;
  std::string takeover;  // conflicts taken over from Update managers (decided in the dry run)
};

struct PatchOutcome {
  bool ok = false;
  Json object;
  int http = 0;
  std::string message;
  std::vector<std::string> conflicts;
};

struct Executor::Run {
  Result result;
  std::string id;
  std::string marker;
  bool force_conflicts = false;
  std::vector<Planned> rollbacks;
};

Executor::Executor(KubeApi& kube, Options options, Clock clock, metrics::Registry* metrics,
                   const std::atomic<bool>* stop)
    : kube_(kube),
      options_(std::move(options)),
      clock_(std::move(clock)),
      metrics_(metrics),
      stop_(stop) {}

Step Executor::Begin(Step::Kind kind, const std::string& action_id) {
  Step s;
  s.set_kind(kind);
  s.set_action_id(action_id);
  *s.mutable_started() = ToProto(clock_.now());
  return s;
}

void Executor::End(Run& run, Step step, Step::Outcome outcome, const std::string& message,
                   int http_status) {
  auto now = clock_.now();
  *step.mutable_finished() = ToProto(now);
  *step.mutable_duration() = step.finished() - step.started();
  int64_t ms = google::protobuf::util::TimeUtil::DurationToMilliseconds(step.duration());
  step.set_outcome(outcome);
  step.set_message(message);
  step.set_http_status(http_status);
  if (metrics_) {
    metrics_
        ->GetHistogram("aiops_executor_step_seconds", "Duration of execution steps",
                       {{"kind", Lower(KindLabel(step.kind()))},
                        {"outcome", Lower(Step::Outcome_Name(outcome).substr(8))}})
        .Observe(static_cast<double>(ms) / 1000.0);
  }
  log::Info({log::Rid(run.id),
             {"step", KindLabel(step.kind())},
             {"action", step.action_id()},
             {"outcome", Step::Outcome_Name(outcome)},
             {"ms", std::to_string(ms)}},
            "{}", message);
  *run.result.add_steps() = std::move(step);
}

void Executor::Sleep(std::chrono::milliseconds d) {
  if (clock_.sleep) {
    clock_.sleep(d);
    return;
  }
  auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
    if (stop_ && stop_->load()) return;
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
        std::chrono::milliseconds(50), std::chrono::duration_cast<std::chrono::milliseconds>(
                                           until - std::chrono::steady_clock::now()) +
                                           std::chrono::milliseconds(1)));
  }
}

Result Executor::Finish(Run& run, Result::Status status, const std::string& reason) {
  run.result.set_status(status);
  run.result.set_reason(reason);
  if (metrics_) {
    metrics_
        ->GetCounter("aiops_executor_executions_total", "Executions by final status",
                     {{"status", StatusLabel(status)}})
        .Inc();
  }
  log::Info({log::Rid(run.id), {"status", Result::Status_Name(status)}}, "execution finished: {}",
            reason);
  return run.result;
}

namespace {

// Sends one patch; on a conflict decides (per policy) whether to take the fields over.
PatchOutcome SendPatch(KubeApi& kube, const Options& options, const std::string& path,
                       Planned& planned, bool dry_run, bool force_conflicts, const Json& live,
                       std::string* note) {
  PatchOutcome out;
  kube::PatchOptions po;
  po.field_manager = options.field_manager;
  po.dry_run = dry_run;
  po.force = planned.type == kube::PatchType::kApply && (planned.force || force_conflicts);
  auto r = kube.Patch(path, planned.body, planned.type, po);
  if (r.ok()) {
    out.ok = true;
    out.object = r.value();
    out.http = 200;
    if (!planned.takeover.empty())
      *note = "took over fields from Update manager(s): " + planned.takeover;
    return out;
  }
  out.http = r.error().code;
  out.message = r.error().message;
  if (!r.error().Conflict() || planned.type != kube::PatchType::kApply) return out;
  auto conflicts = ParseConflicts(r.error().status);
  if (conflicts.empty()) return out;
  // Operations each conflicting manager holds fields with.
  std::map<std::string, std::set<std::string>> ops;
  for (const auto& mf :
       live.value("metadata", Json::object()).value("managedFields", Json::array()))
    ops[mf.value("manager", "")].insert(mf.value("operation", ""));
  bool only_update = true;
  std::map<std::string, std::vector<std::string>> by_manager;
  for (const auto& c : conflicts) {
    const auto& o = ops[c.manager];
    bool update_only = !o.empty() && o.count("Apply") == 0;
    if (!update_only) only_update = false;
    by_manager[c.manager].push_back(c.field);
  }
  for (const auto& [m, fields] : by_manager) {
    std::string line =
        m + " (" + (ops[m].count("Apply") ? std::string("Apply") : std::string("Update")) + "):";
    for (const auto& f : fields)
      line += " " + f;
    out.conflicts.push_back(line);
  }
  if (options.take_over_update_managers && only_update && !po.force) {
    planned.force = true;
    po.force = true;
    auto again = kube.Patch(path, planned.body, planned.type, po);
    if (again.ok()) {
      out.ok = true;
      out.object = again.value();
      out.http = 200;
      for (const auto& c : out.conflicts)
        planned.takeover += (planned.takeover.empty() ? "" : "; ") + c;
      *note = "took over fields from Update manager(s): " + planned.takeover;
      return out;
    }
    out.http = again.error().code;
    out.message = again.error().message;
    return out;
  }
  std::string list;
  for (const auto& c : out.conflicts)
    list += (list.empty() ? "" : "; ") + c;
  out.message =
      "conflict with another field manager (force not allowed by the decision's "
      "policy): " +
      list;
  return out;
}

void AddMarker(Planned& p, const std::string& marker, const std::string& phase,
               const std::string& rollback) {
  Json& a = p.body["metadata"]["annotations"];
  a[kMarkerAnnotation] = marker;
  a[kPhaseAnnotation] = phase;
  a[kRollbackAnnotation] = rollback;
}

Json RollbacksToJson(const std::vector<Planned>& rbs) {
  Json arr = Json::array();
  for (const auto& r : rbs)
    arr.push_back({{"action_id", r.action_id},
                   {"patch_type", r.type == kube::PatchType::kApply ? "apply" : "merge"},
                   {"patch", r.body}});
  return arr;
}

std::vector<Planned> RollbacksFromJson(const std::string& s) {
  std::vector<Planned> out;
  try {
    for (const auto& r : Json::parse(s)) {
      Planned p;
      p.action_id = r.value("action_id", "");
      p.type = r.value("patch_type", "apply") == "apply" ? kube::PatchType::kApply
                                                         : kube::PatchType::kMerge;
      p.body = r.value("patch", Json::object());
      out.push_back(std::move(p));
    }
  } catch (const std::exception&) {
    out.clear();
  }
  return out;
}

}  // namespace

std::optional<std::string> Executor::CheckOnce(const v1::WorkloadRef& w, int64_t min_generation,
                                               bool* failed_hard) {
  auto r = kube_.Get(WorkloadPath(w));
  if (!r.ok()) return "cannot read the workload: " + r.error().ToString();
  const Json& obj = r.value();
  const std::string uid = obj.value("metadata", Json::object()).value("uid", "");
  int64_t observed = Int(obj, {"status", "observedGeneration"});
  if (observed < min_generation)
    return "controller has not observed generation " + std::to_string(min_generation) +
           " yet (observed " + std::to_string(observed) + ")";
  const std::string ns = w.namespace_();
  kube::ListOptions lo;
  lo.label_selector = Selector(obj);
  std::string pod_selector;
  int64_t desired = 0, updated = 0, available = 0, total = 0;
  if (w.kind() == "Deployment") {
    for (const auto& c : obj.value("status", Json::object()).value("conditions", Json::array()))
      if (c.value("type", "") == "Progressing" &&
          c.value("reason", "") == "ProgressDeadlineExceeded" && c.value("status", "") == "False") {
        *failed_hard = true;
        return "rollout exceeded its progress deadline: " + c.value("message", "");
      }
    desired = Int(obj, {"spec", "replicas"}, 1);
    updated = Int(obj, {"status", "updatedReplicas"});
    available = Int(obj, {"status", "availableReplicas"});
    total = Int(obj, {"status", "replicas"});
    const std::string revision = Annotation(obj, "deployment.kubernetes.io/revision");
    auto rs = kube_.List(kube::Path("apps", "v1", "replicasets", ns), lo);
    if (rs.ok()) {
      for (const auto& item : rs.value().value("items", Json::array())) {
        if (OwnedBy(item, uid) &&
            Annotation(item, "deployment.kubernetes.io/revision") == revision) {
          const Json labels = item["metadata"].value("labels", Json::object());
          if (labels.contains("pod-template-hash"))
            pod_selector = "pod-template-hash=" + labels["pod-template-hash"].get<std::string>();
        }
      }
    }
    if (pod_selector.empty()) return "new ReplicaSet of revision " + revision + " not found yet";
  } else if (w.kind() == "StatefulSet") {
    desired = Int(obj, {"spec", "replicas"}, 1);
    updated = Int(obj, {"status", "updatedReplicas"});
    available = Int(obj, {"status", "readyReplicas"});
    total = Int(obj, {"status", "replicas"});
    const Json st = obj.value("status", Json::object());
    std::string update_rev = st.value("updateRevision", "");
    if (!update_rev.empty()) {
      pod_selector = "controller-revision-hash=" + update_rev;
      if (!st.value("currentRevision", "").empty() &&
          st.value("currentRevision", "") != update_rev && updated == desired &&
          available == desired) {
        // the controller sets currentRevision once every pod runs the update revision
        return "statefulset revision " + update_rev + " not current yet";
      }
    }
  } else {
    desired = Int(obj, {"status", "desiredNumberScheduled"});
    updated = Int(obj, {"status", "updatedNumberScheduled"});
    available = Int(obj, {"status", "numberAvailable"});
    total = Int(obj, {"status", "currentNumberScheduled"});
  }
  kube::ListOptions po;
  po.label_selector = lo.label_selector;
  if (!pod_selector.empty())
    po.label_selector += (po.label_selector.empty() ? "" : ",") + pod_selector;
  auto pods = kube_.List(kube::Path("", "v1", "pods", ns), po);
  if (!pods.ok()) return "cannot list pods: " + pods.error().ToString();
  for (const auto& pod : pods.value().value("items", Json::array())) {
    if (w.kind() != "Deployment" && !OwnedBy(pod, uid)) continue;
    if (pod.value("metadata", Json::object()).contains("deletionTimestamp")) continue;
    bool hard = false;
    std::string f = PodFailure(pod, &hard);
    if (!f.empty()) {
      if (hard && options_.fail_fast) *failed_hard = true;
      return f;
    }
  }
  if (updated == desired && available == desired && total == desired) return std::nullopt;
  return "updated/available/total/desired replicas " + std::to_string(updated) + "/" +
         std::to_string(available) + "/" + std::to_string(total) + "/" + std::to_string(desired);
}

Executor::Verdict Executor::VerifyRollout(const v1::WorkloadRef& w, int64_t min_generation,
                                          std::chrono::milliseconds timeout) {
  auto deadline = clock_.now() + timeout;
  std::string last;
  while (true) {
    bool hard = false;
    auto problem = CheckOnce(w, min_generation, &hard);
    if (!problem) return {true, "rollout complete"};
    last = *problem;
    if (hard) return {false, last};
    if (stop_ && stop_->load()) return {false, "stopped"};
    if (clock_.now() >= deadline)
      return {false, "not healthy within " + std::to_string(timeout.count() / 1000) + "s: " + last};
    Sleep(options_.poll_interval);
  }
}

Result Executor::Execute(const v1::Decision& decision, const Publish& publish, bool* aborted) {
  if (aborted) *aborted = false;
  Run run;
  run.id = decision.envelope().remediation_id();
  run.marker = run.id + "/" + std::to_string(decision.attempt());
  run.force_conflicts = decision.force_conflicts();
  *run.result.mutable_envelope() = envelope::Next(decision.envelope(), options_.producer);
  run.result.set_attempt(decision.attempt());
  const auto& w = decision.workload();
  const std::string path = WorkloadPath(w);

  // 1. Guardrails on the actions as approved.
  auto step = Begin(Step::KIND_GUARDRAIL);
  if (decision.verdict() != v1::Decision::VERDICT_APPROVED) {
    End(run, step, Step::OUTCOME_FAILED, "the decision is not an approval");
    return Finish(run, Result::STATUS_REFUSED, "the decision is not an approval");
  }
  if (auto refusal = CheckDecision(decision)) {
    End(run, step, Step::OUTCOME_FAILED, *refusal);
    return Finish(run, Result::STATUS_REFUSED, *refusal);
  }
  End(run, step, Step::OUTCOME_SUCCEEDED,
      std::to_string(decision.actions_size()) + " action(s) within the allow list");

  // 2. Read the live object: marker (idempotency), then staleness.
  step = Begin(Step::KIND_STALENESS_CHECK);
  auto live_r = kube_.Get(path);
  if (!live_r.ok()) {
    std::string why = "reading " + w.kind() + " " + w.namespace_() + "/" + w.name() +
                      " failed: " + live_r.error().ToString();
    End(run, step, Step::OUTCOME_FAILED, why, live_r.error().code);
    return Finish(run, live_r.error().NotFound() ? Result::STATUS_STALE : Result::STATUS_FAILED,
                  why);
  }
  const Json live = live_r.value();
  const int64_t generation = Int(live, {"metadata", "generation"});
  if (Annotation(live, kMarkerAnnotation) == run.marker) {
    const std::string phase = Annotation(live, kPhaseAnnotation);
    End(run, step, Step::OUTCOME_SKIPPED,
        "already executed by an earlier delivery (annotation " + std::string(kMarkerAnnotation) +
            "=" + run.marker + ", phase " + phase + "); not applied again",
        200);
    for (auto kind : {Step::KIND_CAPTURE_ROLLBACK, Step::KIND_DRY_RUN, Step::KIND_APPLY})
      End(run, Begin(kind), Step::OUTCOME_SKIPPED, "already applied by an earlier delivery");
    if (phase == "rolled-back") {
      return Finish(run, Result::STATUS_ROLLED_BACK,
                    "an earlier delivery of this attempt was already rolled back; nothing applied "
                    "again");
    }
    run.rollbacks = RollbacksFromJson(Annotation(live, kRollbackAnnotation));
    for (const auto& r : run.rollbacks)
      run.result.add_captured_rollback(r.body.dump());
    envelope::Stamp(*run.result.mutable_envelope(), envelope::Stage::kExecuted, clock_.now());
  } else {
    const int64_t expected = decision.expected_generation();
    std::string fresh_msg = "generation " + std::to_string(generation) + " matches the evidence";
    if (expected == 0) {
      fresh_msg = "the decision names no evidence generation; live generation " +
                  std::to_string(generation);
    } else if (generation != expected) {
      // Changed since the evidence: still fresh only if every field the actions set holds the
      // value the evidence showed (the decision's rollback actions were computed from it).
      std::string stale;
      for (int i = 0; i < decision.actions_size() && stale.empty(); ++i) {
        const auto& a = decision.actions(i);
        const v1::Action* rb =
            i < decision.rollback_actions_size() ? &decision.rollback_actions(i) : nullptr;
        if (a.type() != v1::Action::TYPE_SERVER_SIDE_APPLY || !rb ||
            rb->type() != v1::Action::TYPE_SERVER_SIDE_APPLY) {
          stale = "the evidence's values of the fields action " + a.id() + " changes are unknown";
          break;
        }
        Json now = CaptureRollback(Json::parse(a.patch()), live);
        Json then;
        try {
          then = Json::parse(rb->patch());
        } catch (const std::exception&) {
          stale = "rollback action of " + a.id() + " is not valid JSON";
          break;
        }
        Json now_spec = now.value("spec", Json::object());
        Json then_spec = then.value("spec", Json::object());
        if (now_spec != then_spec)
          stale = "the fields action " + a.id() +
                  " changes no longer hold the evidence's values (live " + now_spec.dump() +
                  ", evidence " + then_spec.dump() + ")";
      }
      if (!stale.empty()) {
        std::string why = w.kind() + " " + w.namespace_() + "/" + w.name() +
                          " changed since the evidence: generation " + std::to_string(expected) +
                          " -> " + std::to_string(generation) + "; " + stale;
        End(run, step, Step::OUTCOME_FAILED, why, 200);
        return Finish(run, Result::STATUS_STALE, why);
      }
      fresh_msg = "generation changed " + std::to_string(expected) + " -> " +
                  std::to_string(generation) +
                  " but the fields to change still hold the evidence's values";
    }
    End(run, step, Step::OUTCOME_SUCCEEDED, fresh_msg, 200);

    // 3. Capture the rollback from the live values.
    std::vector<Planned> plan;
    step = Begin(Step::KIND_CAPTURE_ROLLBACK);
    for (const auto& a : decision.actions()) {
      Planned fwd, back;
      fwd.action_id = back.action_id = a.id();
      if (a.type() == v1::Action::TYPE_SERVER_SIDE_APPLY) {
        fwd.body = Json::parse(a.patch());
        back.body = CaptureRollback(fwd.body, live);
      } else {
        kube::ListOptions lo;
        lo.label_selector = Selector(live);
        auto rs = kube_.List(kube::Path("apps", "v1", "replicasets", w.namespace_()), lo);
        if (!rs.ok()) {
          std::string why = "listing ReplicaSets failed: " + rs.error().ToString();
          End(run, step, Step::OUTCOME_FAILED, why, rs.error().code);
          return Finish(run, Result::STATUS_FAILED, why);
        }
        std::optional<Json> tmpl;
        const std::string uid = live["metadata"].value("uid", "");
        for (const auto& item : rs.value().value("items", Json::array()))
          if (OwnedBy(item, uid) && Annotation(item, "deployment.kubernetes.io/revision") ==
                                        std::to_string(a.rollback_to_revision()))
            tmpl = item["spec"]["template"];
        if (!tmpl) {
          std::string why = "revision " + std::to_string(a.rollback_to_revision()) + " of " +
                            w.kind() + " " + w.name() + " not found";
          End(run, step, Step::OUTCOME_FAILED, why, 200);
          return Finish(run, Result::STATUS_FAILED, why);
        }
        // As kubectl rollout undo: the old template without the controller's hash label.
        if ((*tmpl)["metadata"].contains("labels"))
          (*tmpl)["metadata"]["labels"].erase("pod-template-hash");
        const Json cur = live["spec"]["template"];
        fwd.type = back.type = kube::PatchType::kMerge;
        fwd.body = {{"spec", {{"template", MergeDiff(cur, *tmpl)}}}};
        back.body = {{"spec", {{"template", MergeDiff(*tmpl, cur)}}}};
        if (tmpl->value("metadata", Json::object()).value("labels", Json::object()) !=
            cur.value("metadata", Json::object()).value("labels", Json::object())) {
          std::string why = "revision " + std::to_string(a.rollback_to_revision()) +
                            " has other pod template labels; refusing to move selectors";
          End(run, step, Step::OUTCOME_FAILED, why);
          return Finish(run, Result::STATUS_REFUSED, why);
        }
      }
      plan.push_back(std::move(fwd));
      run.rollbacks.push_back(std::move(back));
    }
    const std::string rollback_json = RollbacksToJson(run.rollbacks).dump();
    for (const auto& r : run.rollbacks)
      run.result.add_captured_rollback(r.body.dump());
    for (auto& p : plan)
      AddMarker(p, run.marker, "applied", rollback_json);
    End(run, step, Step::OUTCOME_SUCCEEDED,
        "captured the live values of " + std::to_string(plan.size()) + " action(s)");

    // 4. Dry run every action; pod security on what would result.
    for (auto& p : plan) {
      step = Begin(Step::KIND_DRY_RUN, p.action_id);
      std::string note;
      auto out = SendPatch(kube_, options_, path, p, true, run.force_conflicts, live, &note);
      for (const auto& c : out.conflicts)
        step.add_conflicts(c);
      if (!out.ok) {
        std::string why = "dry run of action " + p.action_id + " failed: " + out.message;
        End(run, step, Step::OUTCOME_FAILED, why, out.http);
        return Finish(run, Result::STATUS_FAILED, why);
      }
      auto violations = CheckPodSecurity(out.object);
      if (!violations.empty()) {
        std::string why = "action " + p.action_id + " would violate the pod-security baseline:";
        for (const auto& v : violations)
          why += " " + v + ";";
        why.pop_back();
        End(run, step, Step::OUTCOME_FAILED, why, out.http);
        return Finish(run, Result::STATUS_REFUSED, why);
      }
      End(run, step, Step::OUTCOME_SUCCEEDED,
          "dry run passed (pod-security baseline ok)" + (note.empty() ? "" : "; " + note),
          out.http);
    }

    // 5. Apply in order.
    run.result.set_status(Result::STATUS_APPLYING);
    if (publish && !publish(run.result)) {
      if (aborted) *aborted = true;
      return run.result;
    }
    envelope::Stamp(*run.result.mutable_envelope(), envelope::Stage::kExecuted, clock_.now());
    size_t applied = 0;
    int64_t new_generation = generation;
    for (auto& p : plan) {
      step = Begin(Step::KIND_APPLY, p.action_id);
      std::string note;
      auto out = SendPatch(kube_, options_, path, p, false, run.force_conflicts, live, &note);
      for (const auto& c : out.conflicts)
        step.add_conflicts(c);
      if (!out.ok) {
        std::string why = "apply of action " + p.action_id + " failed: " + out.message;
        End(run, step, Step::OUTCOME_FAILED, why, out.http);
        if (applied == 0) return Finish(run, Result::STATUS_FAILED, why + "; nothing changed");
        run.rollbacks.resize(applied);
        return RollBack(run, path, w, why, aborted);
      }
      ++applied;
      new_generation = Int(out.object, {"metadata", "generation"}, new_generation);
      End(run, step, Step::OUTCOME_SUCCEEDED,
          "applied (generation " + std::to_string(new_generation) + ")" +
              (note.empty() ? "" : "; " + note),
          out.http);
    }
    run.result.set_status(Result::STATUS_APPLIED);
    if (publish) publish(run.result);
  }
  return VerifyPhase(run, path, w, generation, aborted);
}

Result Executor::RollBack(Run& run, const std::string& path, const v1::WorkloadRef& w,
                          const std::string& first, bool* aborted) {
  if (run.rollbacks.empty()) return Finish(run, Result::STATUS_FAILED, first + "; no rollback");
  const std::string rollback_json = RollbacksToJson(run.rollbacks).dump();
  int64_t rb_gen = 0;
  for (auto it = run.rollbacks.rbegin(); it != run.rollbacks.rend(); ++it) {
    AddMarker(*it, run.marker, "rolled-back", rollback_json);
    auto rstep = Begin(Step::KIND_ROLLBACK, it->action_id);
    std::string note;
    auto fresh = kube_.Get(path);
    auto out = SendPatch(kube_, options_, path, *it, false, run.force_conflicts,
                         fresh.ok() ? fresh.value() : Json::object(), &note);
    for (const auto& c : out.conflicts)
      rstep.add_conflicts(c);
    if (!out.ok) {
      End(run, rstep, Step::OUTCOME_FAILED, "rollback failed: " + out.message, out.http);
      return Finish(run, Result::STATUS_FAILED, first + "; rollback failed: " + out.message);
    }
    rb_gen = Int(out.object, {"metadata", "generation"});
    End(run, rstep, Step::OUTCOME_SUCCEEDED,
        "applied the captured rollback (generation " + std::to_string(rb_gen) + ")" +
            (note.empty() ? "" : "; " + note),
        out.http);
  }
  auto rstep = Begin(Step::KIND_ROLLBACK_VERIFY);
  auto rv = VerifyRollout(w, rb_gen, options_.rollback_verify_timeout);
  if (rv.reason == "stopped") {
    if (aborted) *aborted = true;
    return run.result;
  }
  if (!rv.healthy) {
    // The state before the change may itself have been broken (that is why there was an
    // incident): the rollback is complete once the controller acted on the restored spec.
    auto cur = kube_.Get(path);
    bool observed = cur.ok() && Int(cur.value(), {"status", "observedGeneration"}) >= rb_gen;
    if (!observed) {
      End(run, rstep, Step::OUTCOME_FAILED, rv.reason);
      return Finish(run, Result::STATUS_FAILED, first + "; rollback not rolled out: " + rv.reason);
    }
    End(run, rstep, Step::OUTCOME_SUCCEEDED,
        "previous spec restored and observed by the controller; the workload is as before the "
        "change: " +
            rv.reason);
  } else {
    End(run, rstep, Step::OUTCOME_SUCCEEDED, "previous spec restored; " + rv.reason);
  }
  return Finish(run, Result::STATUS_ROLLED_BACK, first + "; rolled back to the captured values");
}

Result Executor::VerifyPhase(Run& run, const std::string& path, const v1::WorkloadRef& w,
                             int64_t generation, bool* aborted) {
  auto step = Begin(Step::KIND_VERIFY);
  auto cur = kube_.Get(path);
  const int64_t min_gen = cur.ok() ? Int(cur.value(), {"metadata", "generation"}) : generation;
  auto v = VerifyRollout(w, min_gen, options_.verify_timeout);
  if (v.reason == "stopped") {
    if (aborted) *aborted = true;
    return run.result;
  }
  if (v.healthy) {
    End(run, step, Step::OUTCOME_SUCCEEDED, v.reason);
    envelope::Stamp(*run.result.mutable_envelope(), envelope::Stage::kVerified, clock_.now());
    return Finish(run, Result::STATUS_VERIFIED, "rollout complete and healthy");
  }
  End(run, step, Step::OUTCOME_FAILED, v.reason);
  return RollBack(run, path, w, "verification failed: " + v.reason, aborted);
}

}  // namespace aiops::executor
