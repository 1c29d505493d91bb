// The scheduler: binds pending pods to nodes with enough allocatable cpu/memory/pods, matching
// nodeSelector and tolerating NoSchedule taints. A pod that fits nowhere gets
// PodScheduled=False/Unschedulable and a FailedScheduling event worded like kube-scheduler's.
#include <map>

#include "controllers.hpp"
#include "quantity.hpp"
#include "status.hpp"

namespace kubesim {
namespace {

struct Usage {
  double cpu = 0, mem = 0;
  int64_t pods = 0;
};

double ResourceOf(const json& container, const char* res) {
  const json& req = Path(container, {"resources", "requests", res});
  const json& lim = Path(container, {"resources", "limits", res});
  const json& v = req.is_null() ? lim : req;  // limits default requests
  if (v.is_string()) return ParseQuantity(v.get<std::string>()).value_or(0);
  if (v.is_number()) return v.get<double>();
  return 0;
}

Usage PodRequests(const json& pod) {
  Usage u;
  for (const auto& c : Path(pod, {"spec", "containers"})) {
    u.cpu += ResourceOf(c, "cpu");
    u.mem += ResourceOf(c, "memory");
  }
  for (const auto& c : Path(pod, {"spec", "initContainers"})) {
    u.cpu = std::max(u.cpu, ResourceOf(c, "cpu"));
    u.mem = std::max(u.mem, ResourceOf(c, "memory"));
  }
  u.pods = 1;
  return u;
}

double Alloc(const json& node, const char* res, double def) {
  const json& v = Path(node, {"status", "allocatable", res});
  if (v.is_string()) return ParseQuantity(v.get<std::string>()).value_or(def);
  if (v.is_number()) return v.get<double>();
  return def;
}

bool Tolerates(const json& pod, const json& taint) {
  for (const auto& t : Path(pod, {"spec", "tolerations"})) {
    std::string op = t.value("operator", "Equal");
    std::string key = t.value("key", "");
    std::string effect = t.value("effect", "");
    if (!effect.empty() && effect != taint.value("effect", "")) continue;
    if (op == "Exists" && (key.empty() || key == taint.value("key", ""))) return true;
    if (op == "Equal" && key == taint.value("key", "") &&
        t.value("value", "") == taint.value("value", ""))
      return true;
  }
  return false;
}

}  // namespace

void SchedulePods(SimContext& ctx) {
  auto nodes = ctx.objects.List(Nodes(), "");
  auto pods = ctx.objects.List(Pods(), "");
  std::map<std::string, Usage> used;
  for (const auto& p : pods) {
    std::string node = PathString(p->obj, {"spec", "nodeName"});
    if (node.empty() || !PodActive(p->obj)) continue;
    Usage r = PodRequests(p->obj);
    used[node].cpu += r.cpu;
    used[node].mem += r.mem;
    used[node].pods += 1;
  }
  std::string now = Rfc3339(ctx.now);
  for (const auto& p : pods) {
    const json& pod = p->obj;
    if (!PathString(pod, {"spec", "nodeName"}).empty() || !PodActive(pod)) continue;
    if (PathString(pod, {"spec", "schedulerName"}, "default-scheduler") != "default-scheduler")
      continue;
    Usage req = PodRequests(pod);
    std::map<std::string, int> reasons;
    int resource_failures = 0;
    std::string best;
    double best_free = -1;
    for (const auto& n : nodes) {
      const json& node = n->obj;
      std::string name = Name(node);
      if (Path(node, {"spec", "unschedulable"}) == true) {
        reasons["node(s) were unschedulable"]++;
        continue;
      }
      bool selector_ok = true;
      for (const auto& [k, v] : Path(pod, {"spec", "nodeSelector"}).items()) {
        const json& labels = Path(node, {"metadata", "labels"});
        if (!labels.is_object() || !labels.contains(k) || labels[k] != v) selector_ok = false;
      }
      if (!selector_ok) {
        reasons["node(s) didn't match Pod's node affinity/selector"]++;
        continue;
      }
      bool taint_ok = true;
      for (const auto& t : Path(node, {"spec", "taints"})) {
        std::string effect = t.value("effect", "");
        if ((effect == "NoSchedule" || effect == "NoExecute") && !Tolerates(pod, t)) {
          reasons["node(s) had untolerated taint {" + t.value("key", "") + ": " +
                  t.value("value", "") + "}"]++;
          taint_ok = false;
          break;
        }
      }
      if (!taint_ok) continue;
      Usage u = used[name];
      bool fits = true;
      double cpu_cap = Alloc(node, "cpu", 4), mem_cap = Alloc(node, "memory", 8.0 * (1 << 30));
      if (u.pods + 1 > static_cast<int64_t>(Alloc(node, "pods", 110))) {
        reasons["Too many pods"]++;
        fits = false;
      }
      if (req.cpu > 0 && u.cpu + req.cpu > cpu_cap + 1e-9) {
        reasons["Insufficient cpu"]++;
        fits = false;
      }
      if (req.mem > 0 && u.mem + req.mem > mem_cap) {
        reasons["Insufficient memory"]++;
        fits = false;
      }
      if (!fits) {
        ++resource_failures;
        continue;
      }
      double free = (mem_cap - u.mem) / mem_cap + (cpu_cap - u.cpu) / cpu_cap;
      if (free > best_free) {
        best_free = free;
        best = name;
      }
    }
    std::string ns = Namespace(pod), name = Name(pod);
    if (!best.empty()) {
      ObjPtr bound = ctx.objects.Mutate(Pods(), ns, name, [&](json& o) {
        if (!PathString(o, {"spec", "nodeName"}).empty()) return false;
        o["spec"]["nodeName"] = best;
        o["status"]["conditions"] = SetCondition(Path(o, {"status", "conditions"}), "PodScheduled",
                                                 "True", "", "", now, false);
        for (auto& c : o["status"]["conditions"]) {
          if (c["type"] == "PodScheduled") {
            c.erase("reason");
            c.erase("message");
          }
        }
        return true;
      });
      if (bound && PathString(bound->obj, {"spec", "nodeName"}) == best) {
        used[best].cpu += req.cpu;
        used[best].mem += req.mem;
        used[best].pods += 1;
        ctx.events.Record(bound->obj, "Normal", "Scheduled",
                          "Successfully assigned " + ns + "/" + name + " to " + best,
                          "default-scheduler");
      }
      continue;
    }
    std::string msg;
    size_t total = nodes.size();
    if (total == 0) {
      msg = "no nodes available to schedule pods";
    } else {
      msg = "0/" + std::to_string(total) + " nodes are available: ";
      bool first = true;
      for (const auto& [reason, count] : reasons) {
        msg += (first ? "" : ", ") + std::to_string(count) + " " + reason;
        first = false;
      }
      msg += ". preemption: 0/" + std::to_string(total) + " nodes are available: ";
      size_t not_helpful = total - static_cast<size_t>(resource_failures);
      std::string pre;
      if (not_helpful > 0)
        pre += std::to_string(not_helpful) + " Preemption is not helpful for scheduling";
      if (resource_failures > 0)
        pre += (pre.empty() ? "" : ", ") + std::to_string(resource_failures) +
               " No preemption victims found for incoming pod";
      msg += pre + ".";
    }
    bool changed = false;
    ObjPtr updated = ctx.objects.Mutate(Pods(), ns, name, [&](json& o) {
      json before = Path(o, {"status", "conditions"});
      o["status"]["conditions"] =
          SetCondition(before, "PodScheduled", "False", "Unschedulable", msg, now, false);
      changed = o["status"]["conditions"] != before;
      return true;
    });
    // kube-scheduler retries periodically; one event per attempt, aggregated by the recorder.
    if (updated && (changed || ctx.resync)) {
      ctx.events.Record(updated->obj, "Warning", "FailedScheduling", msg, "default-scheduler");
    }
  }
}

}  // namespace kubesim
