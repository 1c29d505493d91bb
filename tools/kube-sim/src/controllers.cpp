#include "controllers.hpp"

#include <cmath>

namespace kubesim {

std::string Uid(const json& obj) {
  return PathString(obj, {"metadata", "uid"});
}
std::string Name(const json& obj) {
  return PathString(obj, {"metadata", "name"});
}
std::string Namespace(const json& obj) {
  return PathString(obj, {"metadata", "namespace"});
}

std::string ControllerUid(const json& obj) {
  for (const auto& ref : Path(obj, {"metadata", "ownerReferences"})) {
    if (ref.value("controller", false)) return ref.value("uid", "");
  }
  return "";
}

json ControllerRef(const json& owner) {
  return {{"apiVersion", PathString(owner, {"apiVersion"})},
          {"kind", PathString(owner, {"kind"})},
          {"name", Name(owner)},
          {"uid", Uid(owner)},
          {"controller", true},
          {"blockOwnerDeletion", true}};
}

bool PodActive(const json& pod) {
  std::string phase = PathString(pod, {"status", "phase"});
  return phase != "Succeeded" && phase != "Failed" &&
         PathString(pod, {"metadata", "deletionTimestamp"}).empty();
}

bool PodReady(const json& pod) {
  for (const auto& c : Path(pod, {"status", "conditions"})) {
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  }
  return false;
}

bool PodAvailable(const json& pod, int64_t min_ready_seconds, SimTime now) {
  if (!PodReady(pod)) return false;
  if (min_ready_seconds <= 0) return true;
  for (const auto& c : Path(pod, {"status", "conditions"})) {
    if (c.value("type", "") != "Ready") continue;
    SimTime t;
    if (!ParseRfc3339(c.value("lastTransitionTime", ""), &t)) return true;
    return now - t >= std::chrono::seconds(min_ready_seconds);
  }
  return false;
}

std::string TemplateHash(const json& tmpl) {
  json t = tmpl;
  if (t.contains("metadata") && t["metadata"].contains("labels"))
    t["metadata"]["labels"].erase("pod-template-hash");
  return SafeEncode(std::to_string(Fnv32a(t.dump())));
}

json PodFromTemplate(const json& tmpl, const json& owner, const std::string& name,
                     const json& extra_labels) {
  json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}};
  json meta = tmpl.contains("metadata") ? tmpl["metadata"] : json::object();
  meta.erase("creationTimestamp");
  meta["name"] = name;
  meta["namespace"] = Namespace(owner);
  if (!meta.contains("labels") || !meta["labels"].is_object()) meta["labels"] = json::object();
  for (const auto& [k, v] : extra_labels.items())
    meta["labels"][k] = v;
  meta["ownerReferences"] = json::array({ControllerRef(owner)});
  pod["metadata"] = meta;
  pod["spec"] = tmpl.contains("spec") ? tmpl["spec"] : json::object();
  return pod;
}

std::vector<ObjPtr> OwnedPods(SimContext& ctx, const std::string& ns,
                              const std::string& owner_uid) {
  std::vector<ObjPtr> out;
  for (auto& p : ctx.objects.List(Pods(), ns)) {
    if (ControllerUid(p->obj) == owner_uid && PodActive(p->obj)) out.push_back(p);
  }
  return out;
}

json SetCondition(json conditions, const std::string& type, const std::string& status,
                  const std::string& reason, const std::string& message, const std::string& now,
                  bool with_update_time) {
  if (!conditions.is_array()) conditions = json::array();
  for (auto& c : conditions) {
    if (c.value("type", "") != type) continue;
    bool changed = c.value("status", "") != status;
    if (changed) c["lastTransitionTime"] = now;
    if (with_update_time &&
        (changed || c.value("reason", "") != reason || c.value("message", "") != message))
      c["lastUpdateTime"] = now;
    c["status"] = status;
    c["reason"] = reason;
    c["message"] = message;
    return conditions;
  }
  json c = {{"type", type},
            {"status", status},
            {"reason", reason},
            {"message", message},
            {"lastTransitionTime", now}};
  if (with_update_time) c["lastUpdateTime"] = now;
  conditions.push_back(c);
  return conditions;
}

int64_t ResolveIntOrPercent(const json& v, int64_t total, bool round_up, int64_t def) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (!s.empty() && s.back() == '%') {
      double pct = std::atof(s.substr(0, s.size() - 1).c_str());
      double x = pct * static_cast<double>(total) / 100.0;
      return static_cast<int64_t>(round_up ? std::ceil(x) : std::floor(x));
    }
    return std::atoll(s.c_str());
  }
  return def;
}

}  // namespace kubesim
