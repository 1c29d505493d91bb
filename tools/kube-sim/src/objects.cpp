#include "objects.hpp"

#include <atomic>
#include <regex>

#include "managed_fields.hpp"
#include "patch.hpp"
#include "status.hpp"

namespace kubesim {
namespace {

bool ValidName(const std::string& n) {
  static const std::regex kDns1123(
      "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  return !n.empty() && n.size() <= 253 && std::regex_match(n, kDns1123);
}

json Cause(const std::string& reason, const std::string& message, const std::string& field) {
  return {{"reason", reason}, {"message", message}, {"field", field}};
}

// The image tag decides the default pull policy, exactly as the API server's defaulting does.
std::string DefaultPullPolicy(const std::string& image) {
  if (image.find('@') != std::string::npos) return "IfNotPresent";
  size_t slash = image.rfind('/');
  size_t colon = image.rfind(':');
  bool has_tag = colon != std::string::npos && (slash == std::string::npos || colon > slash);
  if (!has_tag || image.substr(colon + 1) == "latest") return "Always";
  return "IfNotPresent";
}

void DefaultContainers(json& containers) {
  if (!containers.is_array()) return;
  for (auto& c : containers) {
    if (!c.is_object()) continue;
    if (!c.contains("imagePullPolicy") && c.contains("image") && c["image"].is_string())
      c["imagePullPolicy"] = DefaultPullPolicy(c["image"].get<std::string>());
    if (!c.contains("terminationMessagePath")) c["terminationMessagePath"] = "/dev/termination-log";
    if (!c.contains("terminationMessagePolicy")) c["terminationMessagePolicy"] = "File";
    if (!c.contains("resources")) c["resources"] = json::object();
    if (c.contains("ports") && c["ports"].is_array()) {
      for (auto& p : c["ports"]) {
        if (p.is_object() && !p.contains("protocol")) p["protocol"] = "TCP";
      }
    }
  }
}

void DefaultPodSpec(json& spec) {
  if (!spec.is_object()) return;
  if (!spec.contains("restartPolicy")) spec["restartPolicy"] = "Always";
  if (!spec.contains("dnsPolicy")) spec["dnsPolicy"] = "ClusterFirst";
  if (!spec.contains("schedulerName")) spec["schedulerName"] = "default-scheduler";
  if (!spec.contains("terminationGracePeriodSeconds")) spec["terminationGracePeriodSeconds"] = 30;
  if (!spec.contains("securityContext")) spec["securityContext"] = json::object();
  if (!spec.contains("enableServiceLinks")) spec["enableServiceLinks"] = true;
  DefaultContainers(spec["containers"]);
  if (spec.contains("initContainers")) DefaultContainers(spec["initContainers"]);
}

std::string QosClass(const json& spec) {
  bool any = false, guaranteed = true;
  for (const auto& c : Path(spec, {"containers"})) {
    const json& req = Path(c, {"resources", "requests"});
    const json& lim = Path(c, {"resources", "limits"});
    if (!req.empty() || !lim.empty()) any = true;
    for (const char* res : {"cpu", "memory"}) {
      const json& l = Path(lim, {res});
      const json& r = Path(req, {res});
      if (l.is_null() || (!r.is_null() && r != l)) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

void ValidatePodSpec(const json& spec, const std::string& prefix, json& causes) {
  const json& containers = Path(spec, {"containers"});
  if (!containers.is_array() || containers.empty()) {
    causes.push_back(Cause("FieldValueRequired", "Required value", prefix + ".containers"));
    return;
  }
  for (size_t i = 0; i < containers.size(); ++i) {
    std::string f = prefix + ".containers[" + std::to_string(i) + "]";
    if (PathString(containers[i], {"name"}).empty())
      causes.push_back(Cause("FieldValueRequired", "Required value", f + ".name"));
    if (PathString(containers[i], {"image"}).empty())
      causes.push_back(Cause("FieldValueRequired", "Required value", f + ".image"));
  }
}

std::atomic<uint32_t> g_service_ip{10};

}  // namespace

void ObjectService::SetDefaults(const ResourceInfo& r, json& obj) {
  if (!obj.contains("apiVersion")) obj["apiVersion"] = r.ApiVersion();
  if (!obj.contains("kind")) obj["kind"] = r.kind;
  json& meta = obj["metadata"];
  if (!meta.is_object()) meta = json::object();
  if (&r == &Pods()) {
    DefaultPodSpec(obj["spec"]);
    if (!obj.contains("status") || !obj["status"].is_object()) obj["status"] = json::object();
    if (!obj["status"].contains("phase")) obj["status"]["phase"] = "Pending";
    obj["status"]["qosClass"] = QosClass(obj["spec"]);
  } else if (&r == &Deployments() || &r == &ReplicaSets() || &r == &StatefulSets() ||
             &r == &DaemonSets()) {
    json& spec = obj["spec"];
    if (!spec.is_object()) spec = json::object();
    if (&r != &DaemonSets() && !spec.contains("replicas")) spec["replicas"] = 1;
    if (&r != &ReplicaSets() && !spec.contains("revisionHistoryLimit"))
      spec["revisionHistoryLimit"] = 10;
    if (&r == &Deployments()) {
      if (!spec.contains("progressDeadlineSeconds")) spec["progressDeadlineSeconds"] = 600;
      if (!spec.contains("strategy")) spec["strategy"] = json::object();
      if (!spec["strategy"].contains("type")) spec["strategy"]["type"] = "RollingUpdate";
      if (spec["strategy"]["type"] == "RollingUpdate") {
        json& ru = spec["strategy"]["rollingUpdate"];
        if (!ru.is_object()) ru = json::object();
        if (!ru.contains("maxSurge")) ru["maxSurge"] = "25%";
        if (!ru.contains("maxUnavailable")) ru["maxUnavailable"] = "25%";
      }
    } else if (&r == &StatefulSets()) {
      if (!spec.contains("podManagementPolicy")) spec["podManagementPolicy"] = "OrderedReady";
      if (!spec.contains("updateStrategy"))
        spec["updateStrategy"] = {{"type", "RollingUpdate"}, {"rollingUpdate", {{"partition", 0}}}};
    } else if (&r == &DaemonSets()) {
      if (!spec.contains("updateStrategy"))
        spec["updateStrategy"] = {{"type", "RollingUpdate"},
                                  {"rollingUpdate", {{"maxUnavailable", 1}, {"maxSurge", 0}}}};
    }
    if (spec.contains("template") && spec["template"].is_object())
      DefaultPodSpec(spec["template"]["spec"]);
    if (!obj.contains("status") || !obj["status"].is_object()) obj["status"] = json::object();
  } else if (&r == &Services()) {
    json& spec = obj["spec"];
    if (!spec.is_object()) spec = json::object();
    if (!spec.contains("type")) spec["type"] = "ClusterIP";
    if (!spec.contains("clusterIP")) {
      uint32_t n = g_service_ip++;
      spec["clusterIP"] =
          "10.96." + std::to_string((n >> 8) & 0xff) + "." + std::to_string(n & 0xff);
      spec["clusterIPs"] = json::array({spec["clusterIP"]});
    }
    if (!spec.contains("sessionAffinity")) spec["sessionAffinity"] = "None";
    if (!spec.contains("ipFamilies")) spec["ipFamilies"] = json::array({"IPv4"});
    if (!spec.contains("ipFamilyPolicy")) spec["ipFamilyPolicy"] = "SingleStack";
    if (!spec.contains("internalTrafficPolicy")) spec["internalTrafficPolicy"] = "Cluster";
    if (spec.contains("ports") && spec["ports"].is_array()) {
      for (auto& p : spec["ports"]) {
        if (!p.is_object()) continue;
        if (!p.contains("protocol")) p["protocol"] = "TCP";
        if (!p.contains("targetPort") && p.contains("port")) p["targetPort"] = p["port"];
      }
    }
    if (!obj.contains("status")) obj["status"] = {{"loadBalancer", json::object()}};
  } else if (&r == &Secrets()) {
    if (!obj.contains("type")) obj["type"] = "Opaque";
  } else if (&r == &Namespaces()) {
    if (!obj.contains("spec")) obj["spec"] = {{"finalizers", json::array({"kubernetes"})}};
    obj["status"] = {{"phase", "Active"}};
    std::string name = PathString(obj, {"metadata", "name"});
    if (!name.empty()) meta["labels"]["kubernetes.io/metadata.name"] = name;
  } else if (&r == &Nodes()) {
    json& st = obj["status"];
    if (!st.is_object()) st = json::object();
    if (!st.contains("capacity"))
      st["capacity"] = {{"cpu", "4"}, {"memory", "8Gi"}, {"pods", "110"}};
    if (!st.contains("allocatable")) st["allocatable"] = st["capacity"];
  }
}

void ObjectService::Validate(const ResourceInfo& r, const json& obj) {
  json causes = json::array();
  std::string name = PathString(obj, {"metadata", "name"});
  if (&r != &Events() && !ValidName(name)) {
    causes.push_back(Cause("FieldValueInvalid",
                           "Invalid value: \"" + name +
                               "\": a lowercase RFC 1123 subdomain must consist of lower case "
                               "alphanumeric characters, '-' or '.', and must start and end with "
                               "an alphanumeric character",
                           "metadata.name"));
  }
  if (&r == &Pods()) {
    ValidatePodSpec(Path(obj, {"spec"}), "spec", causes);
  } else if (&r == &Deployments() || &r == &ReplicaSets() || &r == &StatefulSets() ||
             &r == &DaemonSets()) {
    const json& sel = Path(obj, {"spec", "selector"});
    const json& labels = Path(obj, {"spec", "template", "metadata", "labels"});
    if (!sel.is_object() || sel.empty()) {
      causes.push_back(Cause("FieldValueRequired", "Required value", "spec.selector"));
    } else if (!LabelSelector::FromObject(sel).Matches(labels)) {
      causes.push_back(
          Cause("FieldValueInvalid",
                "Invalid value: " + labels.dump() + ": `selector` does not match template `labels`",
                "spec.template.metadata.labels"));
    }
    const json& replicas = Path(obj, {"spec", "replicas"});
    if (replicas.is_number() && replicas.get<int64_t>() < 0)
      causes.push_back(
          Cause("FieldValueInvalid",
                "Invalid value: " + replicas.dump() + ": must be greater than or equal to 0",
                "spec.replicas"));
    ValidatePodSpec(Path(obj, {"spec", "template", "spec"}), "spec.template.spec", causes);
  }
  if (!causes.empty()) throw Invalid(r, name, causes);
}

json ObjectService::PrepareCreate(Store::Txn& txn, const ResourceInfo& r, const std::string& ns,
                                  json obj) {
  if (!obj.is_object()) throw BadRequest("the body of the request must be a JSON object");
  if (obj.contains("kind") && obj["kind"] != r.kind)
    throw BadRequest("the API version in the data (" + obj.value("apiVersion", "") +
                     ") does not match the expected API version (" + r.ApiVersion() + ") or kind " +
                     obj.value("kind", "") + " is not " + r.kind);
  json& meta = obj["metadata"];
  if (!meta.is_object()) meta = json::object();
  if (r.namespaced) {
    std::string body_ns = meta.value("namespace", "");
    if (!body_ns.empty() && body_ns != ns)
      throw BadRequest(
          "the namespace of the provided object does not match the namespace sent "
          "on the request");
    meta["namespace"] = ns;
    if (!txn.Get(Namespaces().Key(), ns)) throw NotFound(Namespaces(), ns);
  } else {
    meta.erase("namespace");
  }
  if (meta.value("name", "").empty()) {
    std::string gen = meta.value("generateName", "");
    if (gen.empty()) {
      throw Invalid(r, "",
                    json::array({Cause("FieldValueRequired",
                                       "Required value: name or generateName is required",
                                       "metadata.name")}));
    }
    meta["name"] = gen + RandomSuffix();
  }
  meta["uid"] = NewUid();
  meta["creationTimestamp"] = Now();
  meta.erase("resourceVersion");
  meta.erase("deletionTimestamp");
  if (r.has_spec) meta["generation"] = 1;
  // Status is the controllers' business; what a client sends on create is dropped.
  if (r.has_status && &r != &Nodes()) obj.erase("status");
  SetDefaults(r, obj);
  Validate(r, obj);
  return obj;
}

json ObjectService::PrepareUpdate(const ResourceInfo& r, const json& current, json obj,
                                  const WriteOptions& o, bool track_fields) {
  if (!obj.is_object()) throw BadRequest("the body of the request must be a JSON object");
  const json& cm = current["metadata"];
  std::string name = cm.value("name", "");
  json& meta = obj["metadata"];
  if (!meta.is_object()) meta = json::object();
  if (meta.contains("name") && meta["name"] != name)
    throw BadRequest("the name of the object (" + meta.value("name", "") +
                     ") does not match the name on the URL (" + name + ")");
  if (meta.contains("namespace") && cm.contains("namespace") &&
      meta["namespace"] != cm["namespace"])
    throw BadRequest(
        "the namespace of the provided object does not match the namespace sent on "
        "the request");
  std::string rv = meta.value("resourceVersion", "");
  if (!rv.empty() && rv != cm.value("resourceVersion", "")) throw ConflictModified(r, name);

  json result;
  if (o.subresource == "status") {
    result = current;
    if (obj.contains("status"))
      result["status"] = obj["status"];
    else
      result.erase("status");
    return result;
  }
  result = std::move(obj);
  json& rm = result["metadata"];
  for (const char* k : {"name", "namespace", "uid", "creationTimestamp", "generation",
                        "deletionTimestamp", "resourceVersion"}) {
    if (cm.contains(k))
      rm[k] = cm[k];
    else
      rm.erase(k);
  }
  if (!rm.contains("managedFields") && cm.contains("managedFields"))
    rm["managedFields"] = cm["managedFields"];
  if (r.has_status) {
    if (current.contains("status"))
      result["status"] = current["status"];
    else
      result.erase("status");
  }
  if (!result.contains("apiVersion")) result["apiVersion"] = r.ApiVersion();
  if (!result.contains("kind")) result["kind"] = r.kind;
  if (result["kind"] != r.kind)
    throw BadRequest("kind " + result.value("kind", "") + " is not " + r.kind);
  SetDefaults(r, result);
  Validate(r, result);
  if (r.has_spec && Path(result, {"spec"}) != Path(current, {"spec"}))
    rm["generation"] = PathInt(current, {"metadata", "generation"}, 1) + 1;
  if (track_fields && !o.field_manager.empty())
    rm["managedFields"] = RecordUpdate(current, result, o.field_manager, r.ApiVersion(), Now());
  if (rm.contains("managedFields") && rm["managedFields"].empty()) rm.erase("managedFields");
  return result;
}

json ObjectService::Finish(Store::Txn& txn, const ResourceInfo& r, const std::string& key,
                           const json* current, json obj, const WriteOptions& o) {
  // Writing an identical object is a no-op, as in the real API server: no new
  // resourceVersion, no watch event (controllers rely on this to settle).
  if (current && obj == *current) return obj;
  if (o.dry_run) return obj;
  return txn.Put(r.Key(), key, std::move(obj))->obj;
}

json ObjectService::Create(const ResourceInfo& r, const std::string& ns, json obj,
                           const WriteOptions& o) {
  return store_.Transact([&](Store::Txn& txn) {
    json prepared = PrepareCreate(txn, r, r.namespaced ? ns : "", std::move(obj));
    std::string name = prepared["metadata"]["name"];
    std::string key = ObjectKey(r.namespaced ? ns : "", name);
    if (txn.Get(r.Key(), key)) throw AlreadyExists(r, name);
    if (!o.field_manager.empty())
      prepared["metadata"]["managedFields"] =
          RecordUpdate(nullptr, prepared, o.field_manager, r.ApiVersion(), Now());
    if (prepared["metadata"].contains("managedFields") &&
        prepared["metadata"]["managedFields"].empty())
      prepared["metadata"].erase("managedFields");
    return Finish(txn, r, key, nullptr, std::move(prepared), o);
  });
}

json ObjectService::Update(const ResourceInfo& r, const std::string& ns, const std::string& name,
                           json obj, const WriteOptions& o) {
  return store_.Transact([&](Store::Txn& txn) {
    std::string key = ObjectKey(r.namespaced ? ns : "", name);
    ObjPtr cur = txn.Get(r.Key(), key);
    if (!cur) throw NotFound(r, name);
    json result = PrepareUpdate(r, cur->obj, std::move(obj), o, true);
    return Finish(txn, r, key, &cur->obj, std::move(result), o);
  });
}

json ObjectService::Patch(const ResourceInfo& r, const std::string& ns, const std::string& name,
                          const std::string& content_type_in, const std::string& body,
                          const WriteOptions& o, bool force) {
  std::string ct = content_type_in.substr(0, content_type_in.find(';'));
  while (!ct.empty() && ct.back() == ' ')
    ct.pop_back();
  bool apply = ct == "application/apply-patch+yaml";
  if (!apply && ct != "application/merge-patch+json" && ct != "application/json-patch+json" &&
      ct != "application/strategic-merge-patch+json")
    throw UnsupportedMediaType(ct);
  json patch;
  try {
    patch = ParseBody(body);
  } catch (const std::exception& e) {
    throw BadRequest(std::string("error decoding patch: ") + e.what());
  }
  if (apply && o.field_manager.empty())
    throw ApiError(422, "Invalid",
                   "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is "
                   "required for apply patch");
  return store_.Transact([&](Store::Txn& txn) {
    std::string key = ObjectKey(r.namespaced ? ns : "", name);
    ObjPtr cur = txn.Get(r.Key(), key);
    if (apply) {
      if (!patch.is_object()) throw BadRequest("apply patch must be an object");
      if (patch.value("kind", "") != r.kind || patch.value("apiVersion", "") != r.ApiVersion())
        throw BadRequest("apply patch must name apiVersion " + r.ApiVersion() + " and kind " +
                         r.kind);
      if (patch.contains("metadata") && patch["metadata"].contains("name") &&
          patch["metadata"]["name"] != name)
        throw BadRequest("the name of the object (" + patch["metadata"].value("name", "") +
                         ") does not match the name on the URL (" + name + ")");
      patch["metadata"]["name"] = name;
      if (r.namespaced) {
        if (patch["metadata"].contains("namespace") && patch["metadata"]["namespace"] != ns)
          throw BadRequest(
              "the namespace of the provided object does not match the namespace "
              "sent on the request");
        patch["metadata"]["namespace"] = ns;
      }
      ApplyOutcome out = ServerSideApply(cur ? cur->obj : json(), patch, o.field_manager, force,
                                         r.ApiVersion(), Now());
      if (!out.conflicts.empty()) {
        json causes = json::array();
        for (const auto& c : out.conflicts)
          causes.push_back({{"reason", "FieldManagerConflict"},
                            {"message", "conflict with " + c.manager},
                            {"field", c.field}});
        json details = {{"name", name}, {"kind", r.resource}, {"causes", causes}};
        if (!r.group.empty()) details["group"] = r.group;
        throw ApiError(409, "Conflict", ConflictMessage(out.conflicts), details);
      }
      if (!cur) {
        json managed = out.object["metadata"]["managedFields"];
        json prepared = PrepareCreate(txn, r, r.namespaced ? ns : "", std::move(out.object));
        prepared["metadata"]["managedFields"] = managed;
        return Finish(txn, r, key, nullptr, std::move(prepared), o);
      }
      json result = PrepareUpdate(r, cur->obj, std::move(out.object), o, false);
      return Finish(txn, r, key, &cur->obj, std::move(result), o);
    }
    if (!cur) throw NotFound(r, name);
    json patched;
    if (ct == "application/merge-patch+json")
      patched = ApplyMergePatch(cur->obj, patch);
    else if (ct == "application/json-patch+json")
      patched = ApplyJsonPatch(cur->obj, patch);
    else
      patched = ApplyStrategicMergePatch(cur->obj, patch);
    json result = PrepareUpdate(r, cur->obj, std::move(patched), o, true);
    return Finish(txn, r, key, &cur->obj, std::move(result), o);
  });
}

json ObjectService::Delete(const ResourceInfo& r, const std::string& ns, const std::string& name,
                           const DeleteOptions& o) {
  return store_.Transact([&](Store::Txn& txn) {
    std::string key = ObjectKey(r.namespaced ? ns : "", name);
    ObjPtr cur = txn.Get(r.Key(), key);
    if (!cur) throw NotFound(r, name);
    if (!o.precondition_uid.empty() &&
        o.precondition_uid != PathString(cur->obj, {"metadata", "uid"}))
      throw ApiError(409, "Conflict",
                     "Precondition failed: UID in precondition: " + o.precondition_uid +
                         ", UID in object meta: " + PathString(cur->obj, {"metadata", "uid"}));
    if (!o.precondition_rv.empty() &&
        o.precondition_rv != PathString(cur->obj, {"metadata", "resourceVersion"}))
      throw ApiError(409, "Conflict",
                     "Precondition failed: ResourceVersion in precondition: " + o.precondition_rv +
                         ", ResourceVersion in object meta: " +
                         PathString(cur->obj, {"metadata", "resourceVersion"}));
    if (o.dry_run) return cur->obj;
    if (&r == &Pods() && graceful_pods_ && !PathString(cur->obj, {"spec", "nodeName"}).empty()) {
      int64_t grace = o.grace_period_seconds.value_or(
          PathInt(cur->obj, {"spec", "terminationGracePeriodSeconds"}, 30));
      bool terminating = !PathString(cur->obj, {"metadata", "deletionTimestamp"}).empty();
      if (grace > 0) {
        if (terminating) return cur->obj;
        // Graceful: the kubelet stops the containers, then removes the pod (kubelet.cpp).
        json obj = cur->obj;
        obj["metadata"]["deletionTimestamp"] = Rfc3339(clock_.Now() + std::chrono::seconds(grace));
        obj["metadata"]["deletionGracePeriodSeconds"] = grace;
        return txn.Put(r.Key(), key, std::move(obj))->obj;
      }
    }
    if (o.propagation_policy == "Orphan") {
      // Dependents stay, without the owner reference pointing at the deleted object.
      std::string uid = PathString(cur->obj, {"metadata", "uid"});
      for (const auto* dep : {&ReplicaSets(), &Pods()}) {
        std::vector<std::pair<std::string, json>> updates;
        const auto& items = txn.Items(dep->Key());
        for (auto it = items.lower_bound(ns + "/");
             it != items.end() && it->first.compare(0, ns.size() + 1, ns + "/") == 0; ++it) {
          const json& refs = Path(it->second->obj, {"metadata", "ownerReferences"});
          if (!refs.is_array()) continue;
          json kept = json::array();
          for (const auto& ref : refs) {
            if (ref.value("uid", "") != uid) kept.push_back(ref);
          }
          if (kept.size() == refs.size()) continue;
          json obj = it->second->obj;
          if (kept.empty())
            obj["metadata"].erase("ownerReferences");
          else
            obj["metadata"]["ownerReferences"] = kept;
          updates.emplace_back(it->first, std::move(obj));
        }
        for (auto& [k, obj] : updates)
          txn.Put(dep->Key(), k, std::move(obj));
      }
    }
    if (&r == &Namespaces()) {
      // The namespace controller's job, done at once: everything inside goes too.
      for (const auto& other : AllResources()) {
        if (!other.namespaced) continue;
        std::vector<std::string> keys;
        const auto& items = txn.Items(other.Key());
        for (auto it = items.lower_bound(name + "/");
             it != items.end() && it->first.compare(0, name.size() + 1, name + "/") == 0; ++it)
          keys.push_back(it->first);
        for (const auto& k : keys)
          txn.Delete(other.Key(), k);
      }
    }
    return txn.Delete(r.Key(), key)->obj;
  });
}

ObjPtr ObjectService::Get(const ResourceInfo& r, const std::string& ns, const std::string& name) {
  return store_.Get(r.Key(), ObjectKey(r.namespaced ? ns : "", name));
}

std::vector<ObjPtr> ObjectService::List(const ResourceInfo& r, const std::string& ns,
                                        const LabelSelector* selector) {
  auto page = store_.List(r.Key(), r.namespaced ? ns : "", "", 0,
                          selector ? std::function<bool(const json&)>([selector](const json& o) {
                            return selector->Matches(Path(o, {"metadata", "labels"}));
                          })
                                   : nullptr);
  return std::move(page.items);
}

ObjPtr ObjectService::Mutate(const ResourceInfo& r, const std::string& ns, const std::string& name,
                             const std::function<bool(json&)>& fn) {
  return store_.Transact([&](Store::Txn& txn) -> ObjPtr {
    std::string key = ObjectKey(r.namespaced ? ns : "", name);
    ObjPtr cur = txn.Get(r.Key(), key);
    if (!cur) return nullptr;
    json copy = cur->obj;
    if (!fn(copy)) return cur;
    if (r.has_spec && Path(copy, {"spec"}) != Path(cur->obj, {"spec"}))
      copy["metadata"]["generation"] = PathInt(cur->obj, {"metadata", "generation"}, 1) + 1;
    if (copy == cur->obj) return cur;
    return txn.Put(r.Key(), key, std::move(copy));
  });
}

}  // namespace kubesim
