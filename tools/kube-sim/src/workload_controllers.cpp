// StatefulSets and DaemonSets (create and report pods, roll template changes), the garbage
// collector for orphaned dependents, and node bookkeeping.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "controllers.hpp"
#include "selectors.hpp"
#include "status.hpp"

namespace kubesim {
namespace {

int64_t Ordinal(const std::string& pod_name, const std::string& sts_name) {
  if (pod_name.size() <= sts_name.size() + 1 ||
      pod_name.compare(0, sts_name.size() + 1, sts_name + "-") != 0)
    return -1;
  std::string rest = pod_name.substr(sts_name.size() + 1);
  if (rest.empty() || rest.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::atoll(rest.c_str());
}

bool PodRunningReady(const json& p) {
  return PathString(p, {"status", "phase"}) == "Running" && PodReady(p);
}

bool NodeEligible(const json& node, const json& pod_spec) {
  const json& sel = Path(pod_spec, {"nodeSelector"});
  const json& labels = Path(node, {"metadata", "labels"});
  for (const auto& [k, v] : sel.items()) {
    if (!labels.is_object() || !labels.contains(k) || labels[k] != v) return false;
  }
  return true;
}

}  // namespace

void ReconcileStatefulSets(SimContext& ctx) {
  for (const auto& sp : ctx.objects.List(StatefulSets(), "")) {
    const json& sts = sp->obj;
    std::string ns = Namespace(sts), name = Name(sts);
    int64_t replicas = PathInt(sts, {"spec", "replicas"}, 1);
    bool parallel = PathString(sts, {"spec", "podManagementPolicy"}) == "Parallel";
    std::string update_rev = name + "-" + TemplateHash(Path(sts, {"spec", "template"}));
    std::map<int64_t, json> pods;
    for (const auto& p : OwnedPods(ctx, ns, Uid(sts))) {
      int64_t ord = Ordinal(Name(p->obj), name);
      if (ord >= 0) pods[ord] = p->obj;
    }
    bool all_ready = true;
    for (int64_t i = 0; i < replicas; ++i) {
      auto it = pods.find(i);
      if (it != pods.end()) {
        if (!PodRunningReady(it->second)) all_ready = false;
        continue;
      }
      if (!parallel && !all_ready) break;
      std::string pod_name = name + "-" + std::to_string(i);
      json extra = {{"controller-revision-hash", update_rev},
                    {"statefulset.kubernetes.io/pod-name", pod_name},
                    {"apps.kubernetes.io/pod-index", std::to_string(i)}};
      json pod = PodFromTemplate(Path(sts, {"spec", "template"}), sts, pod_name, extra);
      pod["spec"]["hostname"] = pod_name;
      std::string svc = PathString(sts, {"spec", "serviceName"});
      if (!svc.empty()) pod["spec"]["subdomain"] = svc;
      try {
        pods[i] = ctx.objects.Create(Pods(), ns, pod);
        ctx.events.Record(sts, "Normal", "SuccessfulCreate",
                          "create Pod " + pod_name + " in StatefulSet " + name + " successful",
                          "statefulset-controller");
      } catch (const ApiError& e) {
        spdlog::debug("statefulset {}: {}", name, e.what());
      }
      all_ready = false;
      if (!parallel) break;
    }
    // Scale down from the highest ordinal.
    for (auto it = pods.rbegin(); it != pods.rend();) {
      if (it->first < replicas) break;
      try {
        ctx.objects.Delete(Pods(), ns, Name(it->second));
        ctx.events.Record(
            sts, "Normal", "SuccessfulDelete",
            "delete Pod " + Name(it->second) + " in StatefulSet " + name + " successful",
            "statefulset-controller");
      } catch (const ApiError&) {
      }
      pods.erase(std::next(it).base());
      it = pods.rbegin();
      if (!parallel) break;
    }
    // Rolling update: replace the highest outdated pod once everything is running and ready.
    bool everyone_ready = static_cast<int64_t>(pods.size()) == replicas;
    for (const auto& [ord, p] : pods)
      everyone_ready = everyone_ready && PodRunningReady(p);
    if (everyone_ready) {
      for (auto it = pods.rbegin(); it != pods.rend(); ++it) {
        if (PathString(it->second, {"metadata", "labels", "controller-revision-hash"}) !=
            update_rev) {
          try {
            ctx.objects.Delete(Pods(), ns, Name(it->second));
          } catch (const ApiError&) {
          }
          break;
        }
      }
    }
    int64_t ready = 0, updated = 0;
    for (const auto& [ord, p] : pods) {
      if (PodReady(p)) ++ready;
      if (PathString(p, {"metadata", "labels", "controller-revision-hash"}) == update_rev)
        ++updated;
    }
    int64_t count = static_cast<int64_t>(pods.size());
    ctx.objects.Mutate(StatefulSets(), ns, name, [&](json& o) {
      json& st = o["status"];
      std::string current_rev = PathString(st, {"currentRevision"}, update_rev);
      if (updated == count && count == replicas) current_rev = update_rev;
      st["observedGeneration"] = PathInt(o, {"metadata", "generation"}, 1);
      st["replicas"] = count;
      st["readyReplicas"] = ready;
      st["availableReplicas"] = ready;
      st["currentReplicas"] = current_rev == update_rev ? updated : count - updated;
      st["updatedReplicas"] = updated;
      st["currentRevision"] = current_rev;
      st["updateRevision"] = update_rev;
      st["collisionCount"] = 0;
      return true;
    });
  }
}

void ReconcileDaemonSets(SimContext& ctx) {
  auto nodes = ctx.objects.List(Nodes(), "");
  for (const auto& dp : ctx.objects.List(DaemonSets(), "")) {
    const json& ds = dp->obj;
    std::string ns = Namespace(ds), name = Name(ds);
    const json& tmpl = Path(ds, {"spec", "template"});
    std::string hash = TemplateHash(tmpl);
    std::map<std::string, std::vector<json>> by_node;
    for (const auto& p : OwnedPods(ctx, ns, Uid(ds)))
      by_node[PathString(p->obj, {"spec", "nodeName"})].push_back(p->obj);
    std::set<std::string> eligible;
    for (const auto& n : nodes) {
      if (NodeEligible(n->obj, Path(tmpl, {"spec"}))) eligible.insert(Name(n->obj));
    }
    int64_t desired = static_cast<int64_t>(eligible.size());
    for (const auto& node : eligible) {
      if (!by_node[node].empty()) continue;
      json extra = {
          {"controller-revision-hash", hash},
          {"pod-template-generation", std::to_string(PathInt(ds, {"metadata", "generation"}, 1))}};
      json pod = PodFromTemplate(tmpl, ds, name + "-" + RandomSuffix(), extra);
      // The real controller pins pods with node affinity; binding directly is equivalent here.
      pod["spec"]["nodeName"] = node;
      try {
        json created = ctx.objects.Create(Pods(), ns, pod);
        by_node[node].push_back(created);
        ctx.events.Record(ds, "Normal", "SuccessfulCreate", "Created pod: " + Name(created),
                          "daemonset-controller");
      } catch (const ApiError&) {
      }
    }
    bool deleted_outdated = false;
    for (auto& [node, list] : by_node) {
      bool keep_node = eligible.count(node) > 0;
      for (size_t i = 0; i < list.size(); ++i) {
        bool extra = !keep_node || i > 0;
        bool outdated =
            PathString(list[i], {"metadata", "labels", "controller-revision-hash"}) != hash;
        if (extra || (outdated && !deleted_outdated)) {
          if (outdated && !extra) deleted_outdated = true;
          try {
            ctx.objects.Delete(Pods(), ns, Name(list[i]));
          } catch (const ApiError&) {
          }
        }
      }
    }
    int64_t current = 0, ready = 0, updated = 0;
    for (const auto& node : eligible) {
      const auto& list = by_node[node];
      if (list.empty()) continue;
      ++current;
      if (PodReady(list[0])) ++ready;
      if (PathString(list[0], {"metadata", "labels", "controller-revision-hash"}) == hash)
        ++updated;
    }
    ctx.objects.Mutate(DaemonSets(), ns, name, [&](json& o) {
      json st = {{"observedGeneration", PathInt(o, {"metadata", "generation"}, 1)},
                 {"desiredNumberScheduled", desired},
                 {"currentNumberScheduled", current},
                 {"numberReady", ready},
                 {"numberAvailable", ready},
                 {"updatedNumberScheduled", updated},
                 {"numberMisscheduled", 0}};
      if (desired - ready > 0) st["numberUnavailable"] = desired - ready;
      o["status"] = st;
      return true;
    });
  }
}

void CollectGarbage(SimContext& ctx) {
  std::set<std::string> owners;
  for (const auto* r : {&Deployments(), &ReplicaSets(), &StatefulSets(), &DaemonSets()}) {
    for (const auto& o : ctx.objects.List(*r, ""))
      owners.insert(Uid(o->obj));
  }
  // Background propagation: dependents whose controlling owner is gone are deleted.
  for (const auto* r : {&ReplicaSets(), &Pods()}) {
    for (const auto& o : ctx.objects.List(*r, "")) {
      std::string owner = ControllerUid(o->obj);
      if (owner.empty() || owners.count(owner)) continue;
      try {
        ctx.objects.Delete(*r, Namespace(o->obj), Name(o->obj));
      } catch (const ApiError&) {
      }
    }
  }
}

void ExpireEvents(SimContext& ctx) {
  // The API server keeps events for one hour (--event-ttl); same-format RFC 3339 timestamps
  // compare correctly as strings.
  std::string cutoff = Rfc3339(ctx.now - std::chrono::hours(1));
  for (const auto& e : ctx.objects.List(Events(), "")) {
    std::string last = PathString(e->obj, {"lastTimestamp"});
    if (last.empty() || last >= cutoff) continue;
    try {
      ctx.objects.Delete(Events(), Namespace(e->obj), Name(e->obj));
    } catch (const ApiError&) {
    }
  }
}

void ReconcileNodes(SimContext& ctx) {
  int index = 0;
  for (const auto& n : ctx.objects.List(Nodes(), "")) {
    ++index;
    std::string now = Rfc3339(ctx.now);
    ctx.objects.Mutate(Nodes(), "", Name(n->obj), [&](json& o) {
      json& st = o["status"];
      if (!st.contains("conditions")) {
        json conds = json::array();
        for (auto [type, status, reason, msg] :
             std::vector<std::tuple<const char*, const char*, const char*, const char*>>{
                 {"MemoryPressure", "False", "KubeletHasSufficientMemory",
                  "kubelet has sufficient memory available"},
                 {"DiskPressure", "False", "KubeletHasNoDiskPressure",
                  "kubelet has no disk pressure"},
                 {"PIDPressure", "False", "KubeletHasSufficientPID",
                  "kubelet has sufficient PID available"},
                 {"Ready", "True", "KubeletReady", "kubelet is posting ready status"}}) {
          conds.push_back({{"type", type},
                           {"status", status},
                           {"reason", reason},
                           {"message", msg},
                           {"lastHeartbeatTime", now},
                           {"lastTransitionTime", now}});
        }
        st["conditions"] = conds;
      }
      if (!st.contains("addresses"))
        st["addresses"] = json::array(
            {{{"type", "InternalIP"}, {"address", "10.0.0." + std::to_string(index + 1)}},
             {{"type", "Hostname"}, {"address", Name(o)}}});
      if (!st.contains("nodeInfo"))
        st["nodeInfo"] = {{"kubeletVersion", "v1.32.0"},
                          {"kubeProxyVersion", "v1.32.0"},
                          {"containerRuntimeVersion", "containerd://1.7.22"},
                          {"osImage", "kube-sim simulated node"},
                          {"kernelVersion", "6.1.0-kube-sim"},
                          {"operatingSystem", "linux"},
                          {"architecture", "amd64"},
                          {"machineID", Fnv32a(Name(o)) ? std::to_string(Fnv32a(Name(o))) : "0"},
                          {"systemUUID", Uid(o)},
                          {"bootID", Uid(o)}};
      if (!st.contains("daemonEndpoints"))
        st["daemonEndpoints"] = {{"kubeletEndpoint", {{"Port", 10250}}}};
      if (!o["metadata"].contains("labels") ||
          !o["metadata"]["labels"].contains("kubernetes.io/hostname")) {
        o["metadata"]["labels"]["kubernetes.io/hostname"] = Name(o);
        o["metadata"]["labels"]["kubernetes.io/os"] = "linux";
        o["metadata"]["labels"]["kubernetes.io/arch"] = "amd64";
      }
      return true;
    });
  }
}

}  // namespace kubesim
