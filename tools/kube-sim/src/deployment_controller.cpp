// Deployment -> ReplicaSet -> Pod, after kube-controller-manager's deployment and replicaset
// controllers: pod-template-hash, revisions, rolling updates bounded by maxSurge/maxUnavailable,
// history pruning, and the Progressing/Available conditions including ProgressDeadlineExceeded.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_map>

#include "controllers.hpp"
#include "status.hpp"

namespace kubesim {
namespace {

const char kRevision[] = "deployment.kubernetes.io/revision";

int64_t Revision(const json& rs) {
  std::string r = PathString(rs, {"metadata", "annotations", kRevision});
  return r.empty() ? 0 : std::atoll(r.c_str());
}

json TemplateWithoutHash(const json& tmpl) {
  json t = tmpl;
  if (t.contains("metadata") && t["metadata"].is_object() && t["metadata"].contains("labels")) {
    t["metadata"]["labels"].erase("pod-template-hash");
    if (t["metadata"]["labels"].empty()) t["metadata"].erase("labels");
  }
  if (t.contains("metadata") && t["metadata"].is_object()) t["metadata"].erase("creationTimestamp");
  return t;
}

int64_t SpecReplicas(const json& o) {
  return PathInt(o, {"spec", "replicas"}, 1);
}

void ScaleRs(SimContext& ctx, const json& d, const json& rs, int64_t to) {
  int64_t from = SpecReplicas(rs);
  if (from == to) return;
  ctx.objects.Mutate(ReplicaSets(), Namespace(rs), Name(rs), [&](json& o) {
    o["spec"]["replicas"] = to;
    o["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] =
        std::to_string(SpecReplicas(d));
    return true;
  });
  ctx.events.Record(d, "Normal", "ScalingReplicaSet",
                    std::string(to > from ? "Scaled up" : "Scaled down") + " replica set " +
                        Name(rs) + " from " + std::to_string(from) + " to " + std::to_string(to),
                    "deployment-controller");
}

void ReconcileDeployment(SimContext& ctx, const json& d, const std::vector<ObjPtr>& all_rs) {
  std::string ns = Namespace(d), uid = Uid(d), name = Name(d);
  std::string now = Rfc3339(ctx.now);
  int64_t replicas = SpecReplicas(d);
  const json& tmpl = Path(d, {"spec", "template"});
  json tmpl_cmp = TemplateWithoutHash(tmpl);

  std::vector<json> owned;
  for (const auto& rs : all_rs) {
    if (Namespace(rs->obj) == ns && ControllerUid(rs->obj) == uid) owned.push_back(rs->obj);
  }
  json new_rs;
  std::vector<json> old_rs;
  int64_t max_old_revision = 0;
  for (const auto& rs : owned) {
    if (new_rs.is_null() && TemplateWithoutHash(Path(rs, {"spec", "template"})) == tmpl_cmp) {
      new_rs = rs;
    } else {
      old_rs.push_back(rs);
      max_old_revision = std::max(max_old_revision, Revision(rs));
    }
  }
  std::sort(old_rs.begin(), old_rs.end(),
            [](const json& a, const json& b) { return Revision(a) < Revision(b); });
  bool paused = Path(d, {"spec", "paused"}) == true;
  bool created_new = false;
  std::string strategy = PathString(d, {"spec", "strategy", "type"}, "RollingUpdate");
  int64_t surge =
      strategy == "RollingUpdate"
          ? ResolveIntOrPercent(Path(d, {"spec", "strategy", "rollingUpdate", "maxSurge"}),
                                replicas, true, 1)
          : 0;
  int64_t unavailable =
      strategy == "RollingUpdate"
          ? ResolveIntOrPercent(Path(d, {"spec", "strategy", "rollingUpdate", "maxUnavailable"}),
                                replicas, false, 0)
          : replicas;
  if (strategy == "RollingUpdate" && surge == 0 && unavailable == 0) unavailable = 1;

  if (new_rs.is_null() && !paused) {
    std::string hash = TemplateHash(tmpl);
    json rs_tmpl = tmpl;
    rs_tmpl["metadata"]["labels"]["pod-template-hash"] = hash;
    json selector = Path(d, {"spec", "selector"});
    selector["matchLabels"]["pod-template-hash"] = hash;
    json labels = rs_tmpl["metadata"]["labels"];
    bool no_old_pods = old_rs.empty();
    json rs = {{"apiVersion", "apps/v1"},
               {"kind", "ReplicaSet"},
               {"metadata",
                {{"name", name + "-" + hash},
                 {"namespace", ns},
                 {"labels", labels},
                 {"annotations",
                  {{kRevision, std::to_string(max_old_revision + 1)},
                   {"deployment.kubernetes.io/desired-replicas", std::to_string(replicas)},
                   {"deployment.kubernetes.io/max-replicas", std::to_string(replicas + surge)}}},
                 {"ownerReferences", json::array({ControllerRef(d)})}}},
               {"spec",
                {{"replicas", no_old_pods && strategy == "RollingUpdate" ? replicas : 0},
                 {"minReadySeconds", PathInt(d, {"spec", "minReadySeconds"})},
                 {"selector", selector},
                 {"template", rs_tmpl}}}};
    try {
      new_rs = ctx.objects.Create(ReplicaSets(), ns, rs);
      created_new = true;
      if (SpecReplicas(new_rs) > 0)
        ctx.events.Record(d, "Normal", "ScalingReplicaSet",
                          "Scaled up replica set " + Name(new_rs) + " from 0 to " +
                              std::to_string(SpecReplicas(new_rs)),
                          "deployment-controller");
    } catch (const ApiError& e) {
      spdlog::debug("creating replica set for {}/{}: {}", ns, name, e.what());
      return;
    }
  } else if (!new_rs.is_null() && Revision(new_rs) <= max_old_revision) {
    // A rollback made an old template current again: it becomes the newest revision.
    ObjPtr p = ctx.objects.Mutate(ReplicaSets(), ns, Name(new_rs), [&](json& o) {
      o["metadata"]["annotations"][kRevision] = std::to_string(max_old_revision + 1);
      return true;
    });
    if (p) new_rs = p->obj;
  }
  if (new_rs.is_null()) return;

  if (!paused) {
    if (strategy == "Recreate") {
      bool old_running = false;
      for (const auto& rs : old_rs) {
        if (SpecReplicas(rs) > 0) {
          ScaleRs(ctx, d, rs, 0);
          old_running = true;
        }
        if (PathInt(rs, {"status", "replicas"}) > 0) old_running = true;
      }
      if (!old_running) ScaleRs(ctx, d, new_rs, replicas);
    } else {
      int64_t new_spec = SpecReplicas(new_rs);
      int64_t total = new_spec;
      for (const auto& rs : old_rs)
        total += SpecReplicas(rs);
      if (new_spec < replicas) {
        int64_t allowed = replicas + surge - total;
        if (allowed > 0) {
          int64_t to = std::min(replicas, new_spec + allowed);
          ScaleRs(ctx, d, new_rs, to);
          total += to - new_spec;
          new_spec = to;
        }
      } else if (new_spec > replicas) {
        ScaleRs(ctx, d, new_rs, replicas);
        total -= new_spec - replicas;
        new_spec = replicas;
      }
      int64_t min_available = replicas - unavailable;
      int64_t new_unavailable = new_spec - PathInt(new_rs, {"status", "availableReplicas"});
      int64_t max_scaled_down = total - min_available - new_unavailable;
      if (max_scaled_down > 0) {
        // First old replicas that are not available anyway, oldest revision first.
        for (auto& rs : old_rs) {
          if (max_scaled_down <= 0) break;
          int64_t spec = SpecReplicas(rs);
          int64_t unhealthy = spec - PathInt(rs, {"status", "availableReplicas"});
          int64_t down = std::min(unhealthy, max_scaled_down);
          if (down <= 0) continue;
          ScaleRs(ctx, d, rs, spec - down);
          rs["spec"]["replicas"] = spec - down;
          max_scaled_down -= down;
        }
        int64_t available = PathInt(new_rs, {"status", "availableReplicas"});
        for (const auto& rs : old_rs)
          available += std::min(PathInt(rs, {"status", "availableReplicas"}), SpecReplicas(rs));
        int64_t budget = available - min_available;
        for (auto& rs : old_rs) {
          if (budget <= 0) break;
          int64_t spec = SpecReplicas(rs);
          int64_t down = std::min(spec, budget);
          if (down <= 0) continue;
          ScaleRs(ctx, d, rs, spec - down);
          rs["spec"]["replicas"] = spec - down;
          budget -= down;
        }
      }
    }
    // Keep at most revisionHistoryLimit old, fully scaled-down replica sets.
    int64_t limit = PathInt(d, {"spec", "revisionHistoryLimit"}, 10);
    std::vector<json> idle;
    for (const auto& rs : old_rs) {
      if (SpecReplicas(rs) == 0 && PathInt(rs, {"status", "replicas"}) == 0) idle.push_back(rs);
    }
    for (size_t i = 0; static_cast<int64_t>(idle.size() - i) > limit; ++i) {
      try {
        ctx.objects.Delete(ReplicaSets(), ns, Name(idle[i]));
      } catch (const ApiError&) {
      }
    }
  }

  // Status, computed from the replica sets as they are now.
  int64_t st_replicas = 0, ready = 0, available = 0;
  for (const auto& rs : owned) {
    st_replicas += PathInt(rs, {"status", "replicas"});
    ready += PathInt(rs, {"status", "readyReplicas"});
    available += PathInt(rs, {"status", "availableReplicas"});
  }
  int64_t updated = PathInt(new_rs, {"status", "replicas"});
  std::string revision = PathString(new_rs, {"metadata", "annotations", kRevision});
  ctx.objects.Mutate(Deployments(), ns, name, [&](json& o) {
    if (Uid(o) != uid) return false;
    if (!revision.empty()) o["metadata"]["annotations"][kRevision] = revision;
    json& st = o["status"];
    json old = st;
    // The generation this pass reconciled, not the stored one: a spec written meanwhile must
    // not look observed with conditions computed from the previous spec (a client would read
    // the old rollout's ProgressDeadlineExceeded as the verdict on its change).
    st["observedGeneration"] = PathInt(d, {"metadata", "generation"}, 1);
    st["replicas"] = st_replicas;
    st["updatedReplicas"] = updated;
    st["readyReplicas"] = ready;
    st["availableReplicas"] = available;
    int64_t unavail = std::max<int64_t>(0, st_replicas - available);
    if (unavail > 0)
      st["unavailableReplicas"] = unavail;
    else
      st.erase("unavailableReplicas");
    for (const char* k : {"readyReplicas", "availableReplicas", "updatedReplicas", "replicas"}) {
      if (st[k] == 0) st.erase(k);
    }
    json conds = st.contains("conditions") ? st["conditions"] : json::array();
    if (available >= replicas - unavailable)
      conds = SetCondition(conds, "Available", "True", "MinimumReplicasAvailable",
                           "Deployment has minimum availability.", now, true);
    else
      conds = SetCondition(conds, "Available", "False", "MinimumReplicasUnavailable",
                           "Deployment does not have minimum availability.", now, true);
    std::string rs_name = Name(new_rs);
    bool complete = updated == replicas && available >= replicas && st_replicas == replicas &&
                    PathInt(new_rs, {"status", "availableReplicas"}) >= replicas;
    bool progressed =
        created_new || PathInt(old, {"updatedReplicas"}) < updated ||
        PathInt(old, {"readyReplicas"}) < ready ||
        PathInt(old, {"availableReplicas"}) < available ||
        (PathInt(old, {"replicas"}) - PathInt(old, {"updatedReplicas"})) > (st_replicas - updated);
    json prog;
    for (const auto& c : conds) {
      if (c.value("type", "") == "Progressing") prog = c;
    }
    if (paused) {
      conds = SetCondition(conds, "Progressing", "Unknown", "DeploymentPaused",
                           "Deployment is paused", now, true);
    } else if (complete) {
      conds =
          SetCondition(conds, "Progressing", "True", "NewReplicaSetAvailable",
                       "ReplicaSet \"" + rs_name + "\" has successfully progressed.", now, true);
    } else if (created_new) {
      conds = SetCondition(conds, "Progressing", "True", "NewReplicaSetCreated",
                           "Created new replica set \"" + rs_name + "\"", now, true);
    } else if (progressed || prog.is_null() ||
               prog.value("reason", "") == "NewReplicaSetAvailable" ||
               prog.value("reason", "") == "DeploymentPaused" ||
               prog.value("message", "").find("\"" + rs_name + "\"") == std::string::npos) {
      // Progress (or a new rollout starting): refresh lastUpdateTime so the deadline restarts.
      conds = SetCondition(conds, "Progressing", "True", "ReplicaSetUpdated",
                           "ReplicaSet \"" + rs_name + "\" is progressing.", now, true);
      for (auto& c : conds) {
        if (c.value("type", "") == "Progressing") c["lastUpdateTime"] = now;
      }
    } else if (prog.value("reason", "") != "ProgressDeadlineExceeded") {
      SimTime last;
      int64_t deadline = PathInt(o, {"spec", "progressDeadlineSeconds"}, 600);
      if (ParseRfc3339(prog.value("lastUpdateTime", ""), &last) &&
          ctx.now - last > std::chrono::seconds(deadline)) {
        conds =
            SetCondition(conds, "Progressing", "False", "ProgressDeadlineExceeded",
                         "ReplicaSet \"" + rs_name + "\" has timed out progressing.", now, true);
      }
    }
    // Same order as the real controller: Available first, then Progressing.
    std::stable_sort(conds.begin(), conds.end(), [](const json& a, const json& b) {
      return a.value("type", "") < b.value("type", "");
    });
    st["conditions"] = conds;
    return true;
  });
}

}  // namespace

void ReconcileDeployments(SimContext& ctx) {
  auto all_rs = ctx.objects.List(ReplicaSets(), "");
  for (const auto& d : ctx.objects.List(Deployments(), "")) {
    try {
      ReconcileDeployment(ctx, d->obj, all_rs);
    } catch (const std::exception& e) {
      spdlog::warn("deployment {}/{}: {}", Namespace(d->obj), Name(d->obj), e.what());
    }
  }
}

void ReconcileReplicaSets(SimContext& ctx) {
  // Index pods by controlling owner once per pass: per-ReplicaSet scans would be quadratic.
  std::unordered_map<std::string, std::vector<ObjPtr>> by_owner;
  for (auto& p : ctx.objects.List(Pods(), "")) {
    std::string owner = ControllerUid(p->obj);
    if (!owner.empty() && PodActive(p->obj)) by_owner[owner].push_back(p);
  }
  for (const auto& rsp : ctx.objects.List(ReplicaSets(), "")) {
    const json& rs = rsp->obj;
    std::string ns = Namespace(rs);
    auto pods = by_owner[Uid(rs)];
    int64_t want = SpecReplicas(rs);
    int64_t have = static_cast<int64_t>(pods.size());
    if (have < want) {
      for (int64_t i = have; i < want && i - have < 500; ++i) {
        json pod = PodFromTemplate(Path(rs, {"spec", "template"}), rs,
                                   Name(rs) + "-" + RandomSuffix(), json::object());
        try {
          ctx.objects.Create(Pods(), ns, pod);
          ctx.events.Record(rs, "Normal", "SuccessfulCreate",
                            "Created pod: " + PathString(pod, {"metadata", "name"}),
                            "replicaset-controller");
        } catch (const ApiError& e) {
          spdlog::debug("creating pod for {}: {}", Name(rs), e.what());
        }
      }
    } else if (have > want) {
      // Delete the least useful pods first: unscheduled, then not ready, then the newest.
      std::vector<json> order;
      for (const auto& p : pods)
        order.push_back(p->obj);
      auto rank = [](const json& p) {
        if (PathString(p, {"spec", "nodeName"}).empty()) return 0;
        if (!PodReady(p)) return 1;
        return 2;
      };
      std::stable_sort(order.begin(), order.end(), [&](const json& a, const json& b) {
        if (rank(a) != rank(b)) return rank(a) < rank(b);
        return PathString(a, {"metadata", "creationTimestamp"}) >
               PathString(b, {"metadata", "creationTimestamp"});
      });
      for (int64_t i = 0; i < have - want; ++i) {
        try {
          ctx.objects.Delete(Pods(), ns, Name(order[static_cast<size_t>(i)]));
          ctx.events.Record(rs, "Normal", "SuccessfulDelete",
                            "Deleted pod: " + Name(order[static_cast<size_t>(i)]),
                            "replicaset-controller");
        } catch (const ApiError&) {
        }
      }
    }
    if (have != want) pods = OwnedPods(ctx, ns, Uid(rs));
    int64_t ready = 0, available = 0;
    int64_t min_ready = PathInt(rs, {"spec", "minReadySeconds"});
    for (const auto& p : pods) {
      if (PodReady(p->obj)) ++ready;
      if (PodAvailable(p->obj, min_ready, ctx.now)) ++available;
    }
    int64_t count = static_cast<int64_t>(pods.size());
    ctx.objects.Mutate(ReplicaSets(), ns, Name(rs), [&](json& o) {
      json st = {{"replicas", count},
                 {"observedGeneration", PathInt(o, {"metadata", "generation"}, 1)}};
      if (count) st["fullyLabeledReplicas"] = count;
      if (ready) st["readyReplicas"] = ready;
      if (available) st["availableReplicas"] = available;
      o["status"] = st;
      return true;
    });
  }
}

}  // namespace kubesim
