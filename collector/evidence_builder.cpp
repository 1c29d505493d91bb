#include "evidence_builder.hpp"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <map>
#include <set>

#include "aiops/envelope.hpp"
#include "aiops/quantity.hpp"
#include "redact.hpp"

namespace aiops::collector {

using kube::Json;

namespace {

std::string Str(const Json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

const Json& At(const Json& j, const char* key) {
  static const Json null;
  if (!j.is_object()) return null;
  auto it = j.find(key);
  return it == j.end() ? null : *it;
}

std::string ResourceFor(const std::string& kind, std::string* group) {
  static const std::map<std::string, std::pair<std::string, std::string>> kinds = {
      {"Deployment", {"apps", "deployments"}},
      {"StatefulSet", {"apps", "statefulsets"}},
      {"DaemonSet", {"apps", "daemonsets"}},
      {"ReplicaSet", {"apps", "replicasets"}},
      {"Job", {"batch", "jobs"}},
      {"Pod", {"", "pods"}}};
  auto it = kinds.find(kind);
  if (it == kinds.end()) return "";
  *group = it->second.first;
  return it->second.second;
}

std::string WorkloadPath(const v1::WorkloadRef& w) {
  std::string group;
  auto resource = ResourceFor(w.kind(), &group);
  if (resource.empty()) return "";
  return kube::Path(group, "v1", resource, w.namespace_(), w.name());
}

// matchLabels + matchExpressions in label-selector syntax.
std::string SelectorString(const Json& selector) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : At(selector, "matchLabels").items()) {
    if (v.is_string()) parts.push_back(k + "=" + v.get<std::string>());
  }
  const auto& exprs = At(selector, "matchExpressions");
  if (exprs.is_array()) {
    for (const auto& e : exprs) {
      std::string key = Str(e, "key"), op = Str(e, "operator");
      std::string values;
      for (const auto& v : At(e, "values")) {
        if (!values.empty()) values += ",";
        values += v.is_string() ? v.get<std::string>() : "";
      }
      if (op == "In") parts.push_back(key + " in (" + values + ")");
      if (op == "NotIn") parts.push_back(key + " notin (" + values + ")");
      if (op == "Exists") parts.push_back(key);
      if (op == "DoesNotExist") parts.push_back("!" + key);
    }
  }
  std::string out;
  for (const auto& p : parts)
    out += (out.empty() ? "" : ",") + p;
  return out;
}

google::protobuf::Timestamp Ts(const std::string& rfc3339) {
  google::protobuf::Timestamp ts;
  if (!rfc3339.empty()) google::protobuf::util::TimeUtil::FromString(rfc3339, &ts);
  return ts;
}

std::map<std::string, std::string> StringMap(const Json& j) {
  std::map<std::string, std::string> out;
  if (!j.is_object()) return out;
  for (const auto& [k, v] : j.items()) {
    out[k] = v.is_string() ? v.get<std::string>() : v.dump();
  }
  return out;
}

}  // namespace

// One evidence collection: tracks the call budget and the notes.
class EvidenceBuilder::Session {
 public:
  Session(KubeReader& reader, const BuilderOptions& options, const v1::Anomaly& anomaly)
      : reader_(reader), options_(options), anomaly_(anomaly) {}

  v1::Evidence Run() {
    *ev_.mutable_envelope() = envelope::Next(anomaly_.envelope(), options_.producer);
    *ev_.mutable_anomaly() = anomaly_;
    std::string msg = anomaly_.message();
    RedactText(msg);
    ev_.mutable_anomaly()->set_message(msg);
    const auto& w = anomaly_.workload();
    ns_ = w.namespace_();

    CollectWorkload();
    CollectPods();
    CollectOwnerChain();
    if (w.kind() == "Deployment") CollectRevisions();
    CollectEvents();
    CollectLogs();
    CollectNodes();
    CollectReferences();

    for (const auto& n : redactions_)
      ev_.add_redactions(n);
    ev_.set_api_calls(static_cast<uint32_t>(calls_));
    *ev_.mutable_collected_at() = google::protobuf::util::TimeUtil::GetCurrentTime();
    envelope::Stamp(*ev_.mutable_envelope(), envelope::Stage::kCollected);
    EnforceSizeCap();
    return std::move(ev_);
  }

 private:
  bool Budget(const std::string& what) {
    if (calls_ < options_.max_api_calls) return true;
    Error(what + ": skipped, API call budget of " + std::to_string(options_.max_api_calls) +
          " used up");
    return false;
  }
  void Error(const std::string& e) { ev_.add_collection_errors(e); }

  std::optional<Json> Get(const std::string& path, const std::string& what,
                          bool not_found_is_error = true) {
    if (!Budget(what)) return std::nullopt;
    ++calls_;
    auto r = reader_.Get(path);
    if (r.ok()) return r.value();
    if (r.error().NotFound() && !not_found_is_error) return Json();  // null: absent
    Error(what + ": " + r.error().ToString());
    return std::nullopt;
  }

  std::optional<Json> List(const std::string& path, const kube::ListOptions& opts,
                           const std::string& what) {
    if (!Budget(what)) return std::nullopt;
    ++calls_;
    auto r = reader_.List(path, opts);
    if (r.ok()) return r.value();
    Error(what + ": " + r.error().ToString());
    return std::nullopt;
  }

  void CollectWorkload() {
    const auto& w = anomaly_.workload();
    auto path = WorkloadPath(w);
    if (path.empty()) {
      Error("workload: kind " + w.kind() + " is not supported");
      return;
    }
    auto obj = Get(path, "workload " + w.kind() + "/" + w.name());
    if (!obj) return;
    workload_ = *obj;
    const auto& meta = At(workload_, "metadata");
    ev_.set_workload_generation(
        At(meta, "generation").is_number_integer() ? At(meta, "generation").get<int64_t>() : 0);
    ev_.set_workload_resource_version(Str(meta, "resourceVersion"));
    Json redacted = workload_;
    RedactObject(redacted, redactions_);
    ev_.set_workload_json(redacted.dump());
  }

  void CollectPods() {
    const auto& w = anomaly_.workload();
    std::vector<Json> pods;
    if (w.kind() == "Pod") {
      if (!workload_.is_null()) pods.push_back(workload_);
    } else {
      std::string selector = SelectorString(At(At(workload_, "spec"), "selector"));
      if (selector.empty()) {
        if (!workload_.is_null()) Error("pods: workload has no selector");
        return;
      }
      kube::ListOptions opts;
      opts.label_selector = selector;
      auto list = List(kube::Path("", "v1", "pods", ns_), opts, "pods of " + w.name());
      if (!list) return;
      for (auto& p : (*list)["items"])
        pods.push_back(std::move(p));
    }
    // Failing sample pods first: they are what the incident is about.
    std::set<std::string> samples(anomaly_.sample_pods().begin(), anomaly_.sample_pods().end());
    std::stable_partition(pods.begin(), pods.end(), [&](const Json& p) {
      return samples.count(Str(At(p, "metadata"), "name")) > 0;
    });
    for (size_t i = 0; i < pods.size() && static_cast<int>(i) < options_.max_pods; ++i) {
      AddPod(pods[i]);
    }
    if (!pods.empty()) primary_pod_ = pods.front();
  }

  void AddPod(const Json& pod) {
    auto* pe = ev_.add_pods();
    const auto& meta = At(pod, "metadata");
    const auto& status = At(pod, "status");
    pe->set_name(Str(meta, "name"));
    pe->set_phase(Str(status, "phase"));
    pe->set_node(Str(At(pod, "spec"), "nodeName"));
    pe->set_reason(Str(status, "reason"));
    pe->set_message(Str(status, "message"));
    pe->set_pod_template_hash(Str(At(meta, "labels"), "pod-template-hash"));
    *pe->mutable_created() = Ts(Str(meta, "creationTimestamp"));
    for (const auto& c : At(status, "conditions")) {
      auto* pc = pe->add_conditions();
      pc->set_type(Str(c, "type"));
      pc->set_status(Str(c, "status"));
      pc->set_reason(Str(c, "reason"));
      pc->set_message(Str(c, "message"));
    }
    for (bool init : {true, false}) {
      const auto& specs = At(At(pod, "spec"), init ? "initContainers" : "containers");
      const auto& statuses = At(status, init ? "initContainerStatuses" : "containerStatuses");
      if (!specs.is_array()) continue;
      for (const auto& spec : specs)
        AddContainer(*pe, spec, statuses, init);
    }
  }

  void AddContainer(v1::PodEvidence& pe, const Json& spec, const Json& statuses, bool init) {
    auto* ce = pe.add_containers();
    std::string name = Str(spec, "name");
    ce->set_name(name);
    ce->set_init(init);
    ce->set_image(Str(spec, "image"));
    for (const auto& [k, v] : StringMap(At(At(spec, "resources"), "requests"))) {
      (*ce->mutable_requests())[k] = v;
    }
    for (const auto& [k, v] : StringMap(At(At(spec, "resources"), "limits"))) {
      (*ce->mutable_limits())[k] = v;
    }
    for (const char* probe : {"livenessProbe", "readinessProbe", "startupProbe"}) {
      if (At(spec, probe).is_object()) {
        std::string kind(probe);
        (*ce->mutable_probes())[kind.substr(0, kind.size() - 5)] = At(spec, probe).dump();
      }
    }
    for (const auto& e : At(spec, "env")) {
      auto* env = ce->add_env();
      std::string ename = Str(e, "name");
      env->set_name(ename);
      const auto& from = At(e, "valueFrom");
      if (from.is_object()) {
        if (At(from, "secretKeyRef").is_object()) {
          const auto& r = from["secretKeyRef"];
          env->set_source("secretKeyRef:" + Str(r, "name") + "/" + Str(r, "key"));
          env->set_redacted(true);
        } else if (At(from, "configMapKeyRef").is_object()) {
          const auto& r = from["configMapKeyRef"];
          env->set_source("configMapKeyRef:" + Str(r, "name") + "/" + Str(r, "key"));
        } else {
          env->set_source(from.begin().key());
        }
      } else {
        env->set_source("value");
        std::string v = Str(e, "value");
        if (SecretLikeName(ename)) {
          env->set_redacted(true);
          redactions_.push_back("pod " + pe.name() + " container " + name + " env " + ename);
        } else {
          RedactText(v);
          env->set_value(v);
        }
      }
    }
    if (!statuses.is_array()) return;
    for (const auto& st : statuses) {
      if (Str(st, "name") != name) continue;
      const auto& state = At(st, "state");
      for (const char* s : {"waiting", "running", "terminated"}) {
        if (At(state, s).is_object()) {
          ce->set_state(s);
          ce->set_reason(Str(state[s], "reason"));
          std::string m = Str(state[s], "message");
          RedactText(m);
          ce->set_message(m);
          if (At(state[s], "exitCode").is_number()) ce->set_exit_code(state[s]["exitCode"]);
        }
      }
      if (At(st, "restartCount").is_number()) {
        ce->set_restart_count(At(st, "restartCount").get<uint32_t>());
      }
      ce->set_ready(At(st, "ready") == true);
      const auto& last = At(At(st, "lastState"), "terminated");
      ce->set_last_termination_reason(Str(last, "reason"));
      if (At(last, "exitCode").is_number()) ce->set_last_exit_code(last["exitCode"]);
    }
  }

  void CollectOwnerChain() {
    if (primary_pod_.is_null()) return;
    const Json* obj = &primary_pod_;
    Json fetched;
    for (int depth = 0; depth < 3; ++depth) {
      const auto& refs = At(At(*obj, "metadata"), "ownerReferences");
      const Json* controller = nullptr;
      for (const auto& r : refs) {
        if (At(r, "controller") == true) controller = &r;
      }
      if (controller == nullptr) return;
      auto* o = ev_.add_owner_chain();
      o->set_api_version(Str(*controller, "apiVersion"));
      o->set_kind(Str(*controller, "kind"));
      o->set_name(Str(*controller, "name"));
      o->set_uid(Str(*controller, "uid"));
      if (o->kind() != "ReplicaSet") return;
      // The ReplicaSet's own owner (the Deployment): from the rollout history when we have
      // it, otherwise one GET.
      auto rs = Get(kube::Path("apps", "v1", "replicasets", ns_, o->name()),
                    "owner ReplicaSet " + o->name());
      if (!rs) return;
      fetched = *rs;
      obj = &fetched;
    }
  }

  void CollectRevisions() {
    std::string selector = SelectorString(At(At(workload_, "spec"), "selector"));
    if (selector.empty()) return;
    kube::ListOptions opts;
    opts.label_selector = selector;
    auto list = List(kube::Path("apps", "v1", "replicasets", ns_), opts, "rollout history");
    if (!list) return;
    std::string uid = Str(At(workload_, "metadata"), "uid");
    std::vector<Json> owned;
    for (auto& rs : (*list)["items"]) {
      bool mine = false;
      for (const auto& r : At(At(rs, "metadata"), "ownerReferences")) {
        if (Str(r, "kind") == "Deployment" &&
            (Str(r, "uid") == uid || Str(r, "name") == anomaly_.workload().name())) {
          mine = true;
        }
      }
      if (mine) owned.push_back(std::move(rs));
    }
    auto revision_of = [](const Json& rs) -> int64_t {
      auto r = Str(At(At(rs, "metadata"), "annotations"), "deployment.kubernetes.io/revision");
      try {
        return r.empty() ? 0 : std::stoll(r);
      } catch (const std::exception&) {
        return 0;
      }
    };
    std::sort(owned.begin(), owned.end(),
              [&](const Json& a, const Json& b) { return revision_of(a) > revision_of(b); });
    for (const auto& rs : owned) {
      auto* rev = ev_.add_revisions();
      const auto& meta = At(rs, "metadata");
      const auto& status = At(rs, "status");
      rev->set_revision(revision_of(rs));
      rev->set_name(Str(meta, "name"));
      rev->set_template_hash(Str(At(meta, "labels"), "pod-template-hash"));
      rev->set_change_cause(Str(At(meta, "annotations"), "kubernetes.io/change-cause"));
      *rev->mutable_created() = Ts(Str(meta, "creationTimestamp"));
      auto num = [&](const char* k) -> uint32_t {
        return At(status, k).is_number() ? At(status, k).get<uint32_t>() : 0;
      };
      rev->set_replicas(num("replicas"));
      rev->set_ready_replicas(num("readyReplicas"));
      rev->set_ran_healthy(num("readyReplicas") > 0 || num("availableReplicas") > 0);
      Json tmpl = At(At(rs, "spec"), "template");
      for (const auto& c : At(At(tmpl, "spec"), "containers"))
        rev->add_images(Str(c, "image"));
      Json wrapper = {{"spec", {{"template", tmpl}}}};
      RedactObject(wrapper, redactions_);
      if (wrapper["spec"]["template"].is_object() &&
          wrapper["spec"]["template"].contains("metadata")) {
        // The hash label belongs to the ReplicaSet, not to a template we would restore.
        auto& labels = wrapper["spec"]["template"]["metadata"]["labels"];
        if (labels.is_object()) labels.erase("pod-template-hash");
      }
      rev->set_pod_template_json(wrapper["spec"]["template"].dump());
      if (newest_rs_.empty()) newest_rs_ = rev->name();  // sorted newest first
    }
  }

  void CollectEvents() {
    std::vector<std::pair<std::string, std::string>> targets;  // (kind, name)
    if (!primary_pod_.is_null()) targets.emplace_back("Pod", Str(primary_pod_["metadata"], "name"));
    if (anomaly_.workload().kind() != "Pod") {
      targets.emplace_back(anomaly_.workload().kind(), anomaly_.workload().name());
    }
    if (!newest_rs_.empty()) targets.emplace_back("ReplicaSet", newest_rs_);
    std::vector<Json> events;
    std::set<std::string> seen;
    for (const auto& [kind, name] : targets) {
      kube::ListOptions opts;
      opts.field_selector = "involvedObject.name=" + name + ",involvedObject.kind=" + kind;
      auto list = List(kube::Path("", "v1", "events", ns_), opts, "events of " + kind + "/" + name);
      if (!list) continue;
      for (auto& e : (*list)["items"]) {
        const auto& io = At(e, "involvedObject");
        auto key = Str(io, "kind") + "/" + Str(io, "name") + "/" + Str(e, "reason") + "/" +
                   Str(e, "message");
        if (seen.insert(key).second) events.push_back(std::move(e));
      }
    }
    auto when = [](const Json& e) {
      auto t = Str(e, "lastTimestamp");
      if (t.empty()) t = Str(e, "eventTime");
      if (t.empty()) t = Str(At(e, "metadata"), "creationTimestamp");
      return t;
    };
    std::sort(events.begin(), events.end(),
              [&](const Json& a, const Json& b) { return when(a) > when(b); });
    for (const auto& e : events) {
      if (ev_.events_size() >= options_.max_events) {
        ev_.add_truncated("events: kept the newest " + std::to_string(options_.max_events) +
                          " of " + std::to_string(events.size()));
        break;
      }
      auto* ke = ev_.add_events();
      ke->set_type(Str(e, "type"));
      ke->set_reason(Str(e, "reason"));
      std::string m = Str(e, "message");
      RedactText(m);
      ke->set_message(m);
      ke->set_involved_kind(Str(At(e, "involvedObject"), "kind"));
      ke->set_involved_name(Str(At(e, "involvedObject"), "name"));
      ke->set_count(At(e, "count").is_number() ? At(e, "count").get<uint32_t>() : 1);
      *ke->mutable_first_seen() = Ts(Str(e, "firstTimestamp"));
      *ke->mutable_last_seen() = Ts(when(e));
      ke->set_source(Str(At(e, "source"), "component"));
    }
  }

  void CollectLogs() {
    if (primary_pod_.is_null() || ev_.pods_size() == 0) return;
    std::string pod = Str(primary_pod_["metadata"], "name");
    std::string container = anomaly_.container();
    const v1::ContainerEvidence* ce = nullptr;
    for (const auto& c : ev_.pods(0).containers()) {
      if (container.empty() && !c.init()) container = c.name();
      if (c.name() == container) ce = &c;
    }
    if (container.empty()) return;
    // Scheduling failures have no container output to read.
    if (anomaly_.failure_class() == v1::FAILURE_CLASS_UNSCHEDULABLE) return;
    // A container that never started (image pull, config error) has no log yet; asking
    // would only cost a call and return "waiting to start".
    bool never_ran = ce != nullptr && ce->state() == "waiting" && ce->restart_count() == 0;
    std::vector<bool> which;
    if (!never_ran) which.push_back(false);
    if (ce != nullptr && ce->restart_count() > 0) which.push_back(true);
    for (bool previous : which) {
      std::string what = "logs of " + pod + "/" + container + (previous ? " (previous)" : "");
      if (!Budget(what)) return;
      ++calls_;
      std::string q = "container=" + kube::UrlEncode(container) +
                      "&tailLines=" + std::to_string(options_.log_tail_lines) +
                      "&limitBytes=" + std::to_string(options_.log_limit_bytes);
      if (previous) q += "&previous=true";
      auto r = reader_.Logs(kube::Path("", "v1", "pods", ns_, pod, "log"), q);
      if (!r.ok()) {
        Error(what + ": " + r.error().ToString());
        continue;
      }
      std::string text = r.value();
      int n = RedactText(text);
      if (n > 0) redactions_.push_back(what + ": " + std::to_string(n) + " token-like strings");
      auto* log = ev_.add_logs();
      log->set_pod(pod);
      log->set_container(container);
      log->set_previous(previous);
      log->set_truncated(static_cast<int>(r.value().size()) >= options_.log_limit_bytes);
      log->set_text(text);
    }
  }

  void CollectNodes() {
    if (anomaly_.failure_class() == v1::FAILURE_CLASS_UNSCHEDULABLE ||
        anomaly_.failure_class() == v1::FAILURE_CLASS_EVICTED) {
      auto list = List(kube::Path("", "v1", "nodes"), {}, "nodes");
      if (!list) return;
      int n = 0;
      for (const auto& node : (*list)["items"]) {
        if (n++ >= options_.max_nodes) {
          ev_.add_truncated("nodes: kept " + std::to_string(options_.max_nodes));
          break;
        }
        AddNode(node, true);
      }
      return;
    }
    std::string node_name = primary_pod_.is_null() ? "" : Str(At(primary_pod_, "spec"), "nodeName");
    if (node_name.empty()) return;
    if (auto node = Get(kube::Path("", "v1", "nodes", "", node_name), "node " + node_name)) {
      AddNode(*node, false);
    }
  }

  void AddNode(const Json& node, bool with_requested) {
    auto* ne = ev_.add_nodes();
    std::string name = Str(At(node, "metadata"), "name");
    ne->set_name(name);
    for (const auto& [k, v] : StringMap(At(At(node, "status"), "allocatable"))) {
      (*ne->mutable_allocatable())[k] = v;
    }
    for (const auto& c : At(At(node, "status"), "conditions")) {
      auto* pc = ne->add_conditions();
      pc->set_type(Str(c, "type"));
      pc->set_status(Str(c, "status"));
      pc->set_reason(Str(c, "reason"));
      pc->set_message(Str(c, "message"));
    }
    for (const auto& t : At(At(node, "spec"), "taints")) {
      ne->add_taints(Str(t, "key") + "=" + Str(t, "value") + ":" + Str(t, "effect"));
    }
    ne->set_unschedulable(At(At(node, "spec"), "unschedulable") == true);
    if (!with_requested) return;
    kube::ListOptions opts;
    opts.field_selector = "spec.nodeName=" + name;
    auto pods = List(kube::Path("", "v1", "pods"), opts, "pods on node " + name);
    if (!pods) return;
    double cpu = 0, mem = 0;
    for (const auto& p : (*pods)["items"]) {
      auto phase = Str(At(p, "status"), "phase");
      if (phase == "Succeeded" || phase == "Failed") continue;
      for (const auto& c : At(At(p, "spec"), "containers")) {
        const auto& req = At(At(c, "resources"), "requests");
        if (auto v = ParseQuantity(Str(req, "cpu"))) cpu += *v;
        if (auto v = ParseQuantity(Str(req, "memory"))) mem += *v;
      }
    }
    (*ne->mutable_requested())["cpu"] = FormatCpu(cpu);
    (*ne->mutable_requested())["memory"] = FormatMemory(mem);
  }

  struct Ref {
    std::string kind, name, key, by;
  };

  void CollectReferences() {
    if (primary_pod_.is_null()) return;
    std::vector<Ref> refs;
    const auto& spec = At(primary_pod_, "spec");
    for (const char* list : {"initContainers", "containers"}) {
      for (const auto& c : At(spec, list)) {
        std::string by = "container " + Str(c, "name");
        for (const auto& e : At(c, "env")) {
          const auto& from = At(e, "valueFrom");
          for (const char* kind : {"configMapKeyRef", "secretKeyRef"}) {
            const auto& r = At(from, kind);
            if (r.is_object() && At(r, "optional") != true) {
              refs.push_back({kind[0] == 'c' ? "ConfigMap" : "Secret", Str(r, "name"),
                              Str(r, "key"), by + " env " + Str(e, "name")});
            }
          }
        }
        for (const auto& e : At(c, "envFrom")) {
          for (const char* kind : {"configMapRef", "secretRef"}) {
            const auto& r = At(e, kind);
            if (r.is_object() && At(r, "optional") != true) {
              refs.push_back(
                  {kind[0] == 'c' ? "ConfigMap" : "Secret", Str(r, "name"), "", by + " envFrom"});
            }
          }
        }
      }
    }
    for (const auto& v : At(spec, "volumes")) {
      const auto& cm = At(v, "configMap");
      if (cm.is_object() && At(cm, "optional") != true) {
        refs.push_back({"ConfigMap", Str(cm, "name"), "", "volume " + Str(v, "name")});
      }
      const auto& sec = At(v, "secret");
      if (sec.is_object() && At(sec, "optional") != true) {
        refs.push_back({"Secret", Str(sec, "secretName"), "", "volume " + Str(v, "name")});
      }
    }
    std::map<std::string, std::optional<Json>> fetched;  // kind/name -> object (null: absent)
    for (const auto& r : refs) {
      std::string id = r.kind + "/" + r.name;
      if (!fetched.count(id)) {
        if (static_cast<int>(fetched.size()) >= options_.max_references) {
          Error("references: checked only the first " + std::to_string(options_.max_references));
          break;
        }
        auto resource = r.kind == "ConfigMap" ? "configmaps" : "secrets";
        fetched[id] = Get(kube::Path("", "v1", resource, ns_, r.name), "reference " + id, false);
      }
      const auto& obj = fetched[id];
      if (!obj) continue;  // could not check; recorded as a collection error
      bool missing = obj->is_null();
      if (!missing && !r.key.empty()) {
        // Only key names are looked at; values never leave this function.
        bool has = (At(*obj, "data").is_object() && At(*obj, "data").contains(r.key)) ||
                   (At(*obj, "binaryData").is_object() && At(*obj, "binaryData").contains(r.key));
        missing = !has;
        if (missing) {
          auto* m = ev_.add_missing_references();
          m->set_kind(r.kind);
          m->set_name(r.name);
          m->set_key(r.key);
          m->set_referenced_by(r.by);
        }
        continue;
      }
      if (missing) {
        auto* m = ev_.add_missing_references();
        m->set_kind(r.kind);
        m->set_name(r.name);
        m->set_referenced_by(r.by);
      }
    }
  }

  void EnforceSizeCap() {
    auto size = [&] { return static_cast<int>(ev_.ByteSizeLong()); };
    if (size() <= options_.max_bundle_bytes) return;
    int before = size();
    // 1. Logs keep their tail (the crash is at the end).
    for (auto& log : *ev_.mutable_logs()) {
      if (size() <= options_.max_bundle_bytes) break;
      if (log.text().size() > 4096) {
        auto old = log.text().size();
        log.set_text(log.text().substr(log.text().size() - 4096));
        log.set_truncated(true);
        ev_.add_truncated("logs of " + log.pod() + "/" + log.container() + ": " +
                          std::to_string(old) + " -> 4096 bytes");
      }
    }
    // 2. Older events, 3. extra pods, 4. old revision templates, 5. the workload object.
    while (size() > options_.max_bundle_bytes && ev_.events_size() > 5) {
      ev_.mutable_events()->RemoveLast();
    }
    while (size() > options_.max_bundle_bytes && ev_.pods_size() > 1) {
      ev_.mutable_pods()->RemoveLast();
    }
    for (int i = ev_.revisions_size() - 1; i >= 2 && size() > options_.max_bundle_bytes; --i) {
      ev_.mutable_revisions(i)->clear_pod_template_json();
    }
    if (size() > options_.max_bundle_bytes) ev_.clear_workload_json();
    ev_.add_truncated("bundle: " + std::to_string(before) + " -> " + std::to_string(size()) +
                      " bytes (cap " + std::to_string(options_.max_bundle_bytes) + ")");
  }

  KubeReader& reader_;
  const BuilderOptions& options_;
  const v1::Anomaly& anomaly_;
  v1::Evidence ev_;
  std::string ns_;
  Json workload_;
  Json primary_pod_;
  std::string newest_rs_;
  std::vector<std::string> redactions_;
  int calls_ = 0;
};

v1::Evidence EvidenceBuilder::Build(const v1::Anomaly& anomaly) {
  return Session(reader_, options_, anomaly).Run();
}

}  // namespace aiops::collector
