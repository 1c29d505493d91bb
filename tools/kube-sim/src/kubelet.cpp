// The simulated kubelet: runs the containers of pods bound to known nodes against the image
// registry, and reports what a real kubelet would: ErrImagePull/ImagePullBackOff,
// CreateContainerConfigError, OOMKilled and Error exits with CrashLoopBackOff and exponential
// back-off, restart counts, logs, readiness, and kubelet-worded events.
#include <cmath>
#include <set>

#include "controllers.hpp"
#include "kubelet.hpp"
#include "quantity.hpp"
#include "status.hpp"

namespace kubesim {
namespace {

using Stage = ContainerSim::Stage;

std::chrono::milliseconds Seconds(double s) {
  return std::chrono::milliseconds(static_cast<int64_t>(s * 1000));
}

// 10s, 20s, 40s ... capped at 5 minutes, as kubelet's container and image back-off.
std::chrono::seconds Backoff(int failures) {
  int64_t s = 10;
  for (int i = 1; i < failures && s < 300; ++i)
    s *= 2;
  return std::chrono::seconds(std::min<int64_t>(s, 300));
}

// The first missing ConfigMap/Secret/key an env var or envFrom needs, as kubelet words it.
std::string ConfigError(SimContext& ctx, const std::string& ns, const json& c) {
  for (const auto& e : Path(c, {"env"})) {
    for (const char* kind : {"configMapKeyRef", "secretKeyRef"}) {
      const json& ref = Path(e, {"valueFrom", kind});
      if (ref.is_null()) continue;
      bool optional = ref.value("optional", false);
      bool cm = std::string(kind) == "configMapKeyRef";
      std::string name = ref.value("name", ""), key = ref.value("key", "");
      ObjPtr o = ctx.objects.Get(cm ? ConfigMaps() : Secrets(), ns, name);
      if (!o) {
        if (optional) continue;
        return std::string(cm ? "configmap" : "secret") + " \"" + name + "\" not found";
      }
      bool has = Path(o->obj, {"data", key.c_str()}).is_string() ||
                 Path(o->obj, {cm ? "binaryData" : "stringData", key.c_str()}).is_string();
      if (!has && !optional)
        return "couldn't find key " + key + " in " + (cm ? "ConfigMap " : "Secret ") + ns + "/" +
               name;
    }
  }
  for (const auto& e : Path(c, {"envFrom"})) {
    for (const char* kind : {"configMapRef", "secretRef"}) {
      const json& ref = Path(e, {kind});
      if (ref.is_null() || ref.value("optional", false)) continue;
      bool cm = std::string(kind) == "configMapRef";
      std::string name = ref.value("name", "");
      if (!ctx.objects.Get(cm ? ConfigMaps() : Secrets(), ns, name))
        return std::string(cm ? "configmap" : "secret") + " \"" + name + "\" not found";
    }
  }
  return "";
}

// Environment variable names the container will see with a non-empty value.
std::set<std::string> EnvNames(SimContext& ctx, const std::string& ns, const json& c) {
  std::set<std::string> names;
  for (const auto& e : Path(c, {"envFrom"})) {
    std::string prefix = e.value("prefix", "");
    for (const char* kind : {"configMapRef", "secretRef"}) {
      const json& ref = Path(e, {kind});
      if (ref.is_null()) continue;
      ObjPtr o = ctx.objects.Get(std::string(kind) == "configMapRef" ? ConfigMaps() : Secrets(), ns,
                                 ref.value("name", ""));
      if (!o) continue;
      for (const auto& [k, v] : Path(o->obj, {"data"}).items()) {
        if (v.is_string() && !v.get<std::string>().empty()) names.insert(prefix + k);
      }
    }
  }
  for (const auto& e : Path(c, {"env"})) {
    std::string name = e.value("name", "");
    if (e.contains("valueFrom"))
      names.insert(name);
    else if (e.contains("value") && e["value"].is_string() &&
             !e["value"].get<std::string>().empty())
      names.insert(name);
    else
      names.erase(name);
  }
  return names;
}

std::string ContainerId(const std::string& uid, const std::string& name, int restarts) {
  char buf[80];
  snprintf(buf, sizeof buf, "containerd://%08x%08x%08x%08x", Fnv32a(uid + name),
           Fnv32a(name + uid + std::to_string(restarts)), Fnv32a(std::to_string(restarts) + uid),
           Fnv32a(uid + std::to_string(restarts) + name));
  return buf;
}

class PodRunner {
 public:
  PodRunner(SimContext& ctx, const json& pod, PodSim& ps, const std::string& node)
      : ctx_(ctx),
        pod_(pod),
        ps_(ps),
        node_(node),
        ns_(Namespace(pod)),
        name_(Name(pod)),
        uid_(Uid(pod)),
        now_(ctx.now),
        now_s_(Rfc3339(ctx.now)) {}

  void Step(const json& c) {
    std::string cname = c.value("name", "");
    std::string image = c.value("image", "");
    ContainerSim& cs = ps_.containers[cname];
    std::string field = "spec.containers{" + cname + "}";
    if (!cs.image.empty() && cs.image != image && cs.stage != Stage::kInit) {
      if (cs.stage == Stage::kRunning)
        Event("Normal", "Killing", "Container " + cname + " definition changed, will be restarted",
              field);
      cs.stage = Stage::kInit;
      cs.ready = false;
      cs.pull_failures = 0;
      cs.fate.clear();
    }
    cs.image = image;
    // Several transitions may be due at once (a fast sim clock): run them until stable.
    for (int guard = 0; guard < 6; ++guard) {
      Stage before = cs.stage;
      Advance(c, cs, cname, image, field);
      if (cs.stage == before) break;
    }
  }

  json Status(const json& c) {
    std::string cname = c.value("name", "");
    ContainerSim& cs = ps_.containers[cname];
    json s = {{"name", cname},
              {"image", c.value("image", "")},
              {"imageID", cs.image_id},
              {"ready", cs.ready},
              {"restartCount", cs.restarts},
              {"started", cs.stage == Stage::kRunning},
              {"lastState", cs.last_state}};
    if (cs.stage == Stage::kRunning) {
      s["state"] = {{"running", {{"startedAt", Rfc3339(cs.started_at)}}}};
    } else if (cs.stage == Stage::kDone) {
      s["state"] = {{"terminated", cs.terminated}};
    } else {
      s["state"] = {
          {"waiting", cs.waiting.is_null() ? json{{"reason", "ContainerCreating"}} : cs.waiting}};
    }
    if (!cs.container_id.empty()) s["containerID"] = cs.container_id;
    return s;
  }

 private:
  void Event(const std::string& type, const std::string& reason, const std::string& msg,
             const std::string& field_path) {
    ctx_.events.Record(pod_, type, reason, msg, "kubelet", node_, field_path);
  }

  void Advance(const json& c, ContainerSim& cs, const std::string& cname, const std::string& image,
               const std::string& field) {
    switch (cs.stage) {
      case Stage::kInit:
      case Stage::kConfigError: {
        std::string err = ConfigError(ctx_, ns_, c);
        if (!err.empty()) {
          if (cs.stage != Stage::kConfigError || ctx_.resync)
            Event("Warning", "Failed", "Error: " + err, field);
          cs.stage = Stage::kConfigError;
          cs.waiting = {{"reason", "CreateContainerConfigError"}, {"message", err}};
          return;
        }
        auto behavior = ctx_.registry.Find(image);
        bool present = ctx_.kubelet.node_images[node_].count(NormalizeImage(image)) > 0;
        bool always = c.value("imagePullPolicy", "IfNotPresent") == "Always";
        if (!behavior) {
          Event("Normal", "Pulling", "Pulling image \"" + image + "\"", field);
          std::string n = NormalizeImage(image);
          std::string detail =
              "rpc error: code = NotFound desc = failed to pull and unpack image \"" + n +
              "\": failed to resolve reference \"" + n + "\": " + n + ": not found";
          Event("Warning", "Failed", "Failed to pull image \"" + image + "\": " + detail, field);
          Event("Warning", "Failed", "Error: ErrImagePull", field);
          cs.pull_failures++;
          cs.stage = Stage::kPullError;
          cs.waiting = {{"reason", "ErrImagePull"}, {"message", detail}};
          cs.next = now_ + std::chrono::seconds(2);
          return;
        }
        if (present && !always) {
          Event("Normal", "Pulled", "Container image \"" + image + "\" already present on machine",
                field);
        } else {
          Event("Normal", "Pulling", "Pulling image \"" + image + "\"", field);
          char dur[32];
          snprintf(dur, sizeof dur, "%.3gs", behavior->pull_seconds);
          Event("Normal", "Pulled",
                "Successfully pulled image \"" + image + "\" in " + dur + " (" + dur +
                    " including waiting). Image size: " + std::to_string(behavior->size_bytes) +
                    " bytes.",
                field);
          ctx_.kubelet.node_images[node_].insert(NormalizeImage(image));
        }
        Start(c, cs, cname, *behavior, field);
        return;
      }
      case Stage::kPullError:
        if (now_ < cs.next) return;
        cs.stage = Stage::kPullBackOff;
        cs.waiting = {{"reason", "ImagePullBackOff"},
                      {"message", "Back-off pulling image \"" + image +
                                      "\": ErrImagePull: " + cs.waiting.value("message", "")}};
        cs.next = now_ + Backoff(cs.pull_failures);
        Event("Normal", "BackOff", "Back-off pulling image \"" + image + "\"", field);
        Event("Warning", "Failed", "Error: ImagePullBackOff", field);
        return;
      case Stage::kPullBackOff:
        if (now_ >= cs.next) cs.stage = Stage::kInit;  // retry the pull
        return;
      case Stage::kRunning:
        if (!cs.fate.empty() && now_ >= cs.fate_at) {
          Terminate(c, cs, cname, field);
          return;
        }
        if (!cs.ready && now_ >= cs.ready_at) cs.ready = true;
        return;
      case Stage::kCrashBackOff:
        if (now_ < cs.next) return;
        cs.stage = Stage::kInit;
        return;
      case Stage::kDone:
        return;
    }
  }

  void Start(const json& c, ContainerSim& cs, const std::string& cname, const ImageBehavior& b,
             const std::string& field) {
    Event("Normal", "Created", "Created container: " + cname, field);
    Event("Normal", "Started", "Started container " + cname, field);
    cs.stage = Stage::kRunning;
    cs.ever_started = true;
    cs.started_at = now_;
    cs.ready = false;
    cs.ready_at = now_ + Seconds(b.ready_after_seconds);
    cs.waiting = nullptr;
    cs.container_id = ContainerId(uid_, cname, cs.restarts);
    std::string n = NormalizeImage(c.value("image", ""));
    std::string repo =
        n.find('@') != std::string::npos ? n.substr(0, n.find('@')) : n.substr(0, n.rfind(':'));
    cs.image_id = repo + "@" + ImageRegistry::DigestOf(n);
    ctx_.logs.Started(uid_, cname);
    for (const auto& line : b.logs)
      ctx_.logs.Append(uid_, cname, now_, line);
    cs.fate.clear();
    cs.fate_logs.clear();
    std::set<std::string> env = EnvNames(ctx_, ns_, c);
    std::vector<std::string> missing;
    for (const auto& v : b.required_env) {
      if (!env.count(v)) missing.push_back(v);
    }
    double limit = 0;
    const json& lim = Path(c, {"resources", "limits", "memory"});
    if (lim.is_string()) limit = ParseQuantity(lim.get<std::string>()).value_or(0);
    if (!missing.empty()) {
      cs.fate = "crash";
      cs.fate_code = b.crash_exit_code;
      cs.fate_at = now_ + Seconds(b.crash_after_seconds);
      cs.fate_logs = b.crash_logs;
      if (cs.fate_logs.empty())
        cs.fate_logs = {"fatal: environment variable " + missing[0] + " is not set"};
      cs.ready_at = cs.fate_at + std::chrono::hours(24 * 365);  // never becomes ready
    } else if (b.memory_mib > 0 && limit > 0 && b.memory_mib * 1048576.0 > limit) {
      cs.fate = "oom";
      cs.fate_code = 137;
      cs.fate_at = now_ + Seconds(b.oom_after_seconds);
      char buf[128];
      snprintf(buf, sizeof buf, "allocating working set: %.0fMi of %.0fMi", b.memory_mib,
               limit / 1048576.0);
      cs.fate_logs = {buf};
    } else if (b.exit_after_seconds) {
      cs.fate = "exit";
      cs.fate_code = b.exit_code;
      cs.fate_at = now_ + Seconds(*b.exit_after_seconds);
    }
  }

  void Terminate(const json& c, ContainerSim& cs, const std::string& cname,
                 const std::string& field) {
    (void)c;
    for (const auto& line : cs.fate_logs)
      ctx_.logs.Append(uid_, cname, cs.fate_at, line);
    std::string reason =
        cs.fate == "oom" ? "OOMKilled" : (cs.fate_code == 0 ? "Completed" : "Error");
    json term = {{"exitCode", cs.fate_code},
                 {"reason", reason},
                 {"startedAt", Rfc3339(cs.started_at)},
                 {"finishedAt", Rfc3339(cs.fate_at)},
                 {"containerID", cs.container_id}};
    ctx_.logs.Terminated(uid_, cname);
    cs.ready = false;
    std::string policy = PathString(pod_, {"spec", "restartPolicy"}, "Always");
    bool restart = policy == "Always" || (policy == "OnFailure" && cs.fate_code != 0);
    if (!restart) {
      cs.stage = Stage::kDone;
      cs.terminated = term;
      return;
    }
    cs.last_state = {{"terminated", term}};
    cs.restarts++;
    auto backoff = Backoff(cs.restarts);
    cs.stage = Stage::kCrashBackOff;
    cs.next = now_ + backoff;
    std::string pod_ref = name_ + "_" + ns_ + "(" + uid_ + ")";
    cs.waiting = {{"reason", "CrashLoopBackOff"},
                  {"message", "back-off " + std::to_string(backoff.count()) +
                                  "s restarting failed container=" + cname + " pod=" + pod_ref}};
    Event("Warning", "BackOff",
          "Back-off restarting failed container " + cname + " in pod " + pod_ref, field);
  }

  SimContext& ctx_;
  const json& pod_;
  PodSim& ps_;
  std::string node_, ns_, name_, uid_;
  SimTime now_;
  std::string now_s_;
};

}  // namespace

void RunKubelet(SimContext& ctx) {
  std::set<std::string> nodes;
  std::map<std::string, std::string> node_ip;
  for (const auto& n : ctx.objects.List(Nodes(), "")) {
    nodes.insert(Name(n->obj));
    for (const auto& a : Path(n->obj, {"status", "addresses"})) {
      if (a.value("type", "") == "InternalIP") node_ip[Name(n->obj)] = a.value("address", "");
    }
  }
  std::set<std::string> live;
  std::string now = Rfc3339(ctx.now);
  for (const auto& p : ctx.objects.List(Pods(), "")) {
    const json& pod = p->obj;
    std::string uid = Uid(pod);
    live.insert(uid);
    std::string node = PathString(pod, {"spec", "nodeName"});
    if (node.empty() || !nodes.count(node)) continue;
    auto [it, fresh] = ctx.kubelet.pods.try_emplace(uid);
    PodSim& ps = it->second;
    if (!PathString(pod, {"metadata", "deletionTimestamp"}).empty()) {
      // Graceful deletion: stop the containers (simulated processes exit at once on SIGTERM),
      // then remove the pod for good, as kubelet's status manager does with grace period 0.
      if (!ps.terminating) {
        ps.terminating = true;
        ps.terminating_since = ctx.now;
        for (const auto& c : Path(pod, {"spec", "containers"})) {
          std::string cname = c.value("name", "");
          if (ps.containers[cname].stage == Stage::kRunning) {
            ctx.events.Record(pod, "Normal", "Killing", "Stopping container " + cname, "kubelet",
                              node, "spec.containers{" + cname + "}");
          }
        }
      } else if (ctx.now - ps.terminating_since >= std::chrono::seconds(1)) {
        DeleteOptions now;
        now.grace_period_seconds = 0;
        try {
          ctx.objects.Delete(Pods(), Namespace(pod), Name(pod), now);
        } catch (const ApiError&) {
        }
      }
      continue;
    }
    std::string phase = PathString(pod, {"status", "phase"});
    if (phase == "Succeeded" || phase == "Failed") continue;
    if (fresh) {
      uint32_t n = ctx.kubelet.next_ip++;
      ps.ip = "10.244." + std::to_string((n >> 8) & 0xff) + "." + std::to_string(n & 0xff);
      ps.start = ctx.now;
    }
    PodRunner runner(ctx, pod, ps, node);
    const json& containers = Path(pod, {"spec", "containers"});
    for (const auto& c : containers)
      runner.Step(c);
    json statuses = json::array();
    bool all_ready = !containers.empty(), all_started = true, all_done = true, any_failed = false;
    std::vector<std::string> unready;
    for (const auto& c : containers) {
      json s = runner.Status(c);
      const ContainerSim& cs = ps.containers[c.value("name", "")];
      if (!cs.ready) {
        all_ready = false;
        unready.push_back(c.value("name", ""));
      }
      if (!cs.ever_started) all_started = false;
      if (cs.stage != Stage::kDone)
        all_done = false;
      else if (cs.terminated.value("exitCode", 0) != 0)
        any_failed = true;
      statuses.push_back(s);
    }
    std::string new_phase =
        all_done ? (any_failed ? "Failed" : "Succeeded") : (all_started ? "Running" : "Pending");
    std::string unready_msg;
    for (const auto& u : unready)
      unready_msg += (unready_msg.empty() ? "" : " ") + u;
    ctx.objects.Mutate(Pods(), Namespace(pod), Name(pod), [&](json& o) {
      if (Uid(o) != uid) return false;
      json& st = o["status"];
      st["phase"] = new_phase;
      st["hostIP"] = node_ip.count(node) ? node_ip[node] : "10.0.0.1";
      st["hostIPs"] = json::array({{{"ip", st["hostIP"]}}});
      st["podIP"] = ps.ip;
      st["podIPs"] = json::array({{{"ip", ps.ip}}});
      st["startTime"] = Rfc3339(ps.start);
      st["containerStatuses"] = statuses;
      json conds = Path(st, {"conditions"});
      conds = SetCondition(conds, "PodReadyToStartContainers", "True", "", "", now, false);
      conds = SetCondition(conds, "Initialized", "True", "", "", now, false);
      if (all_ready) {
        conds = SetCondition(conds, "Ready", "True", "", "", now, false);
        conds = SetCondition(conds, "ContainersReady", "True", "", "", now, false);
      } else {
        std::string msg = "containers with unready status: [" + unready_msg + "]";
        conds = SetCondition(conds, "Ready", "False",
                             all_done ? "PodCompleted" : "ContainersNotReady", msg, now, false);
        conds = SetCondition(conds, "ContainersReady", "False",
                             all_done ? "PodCompleted" : "ContainersNotReady", msg, now, false);
      }
      // Empty reason/message fields are not serialised by the real API server.
      for (auto& c : conds) {
        if (c.value("reason", "x").empty()) c.erase("reason");
        if (c.value("message", "x").empty()) c.erase("message");
      }
      static const char* kOrder[] = {"PodReadyToStartContainers", "Initialized", "Ready",
                                     "ContainersReady", "PodScheduled"};
      json ordered = json::array();
      for (const char* t : kOrder) {
        for (const auto& c : conds) {
          if (c.value("type", "") == t) ordered.push_back(c);
        }
      }
      st["conditions"] = ordered;
      return true;
    });
  }
  for (auto it = ctx.kubelet.pods.begin(); it != ctx.kubelet.pods.end();) {
    if (live.count(it->first)) {
      ++it;
    } else {
      ctx.logs.Forget(it->first);
      it = ctx.kubelet.pods.erase(it);
    }
  }
}

}  // namespace kubesim
