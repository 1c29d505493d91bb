#include "owner.hpp"

#include "aiops/json_fields.hpp"

namespace aiops::detector {

using nlohmann::json;
// Pods come from the API server as they are; a field of an unexpected type reads as absent.
using json_fields::Field;
using json_fields::String;

v1::WorkloadRef Workload::ToProto() const {
  v1::WorkloadRef ref;
  ref.set_api_version(api_version);
  ref.set_kind(kind);
  ref.set_namespace_(ns);
  ref.set_name(name);
  ref.set_uid(uid);
  return ref;
}

std::optional<json> ControllerRef(const json& object) {
  const auto& refs = Field(Field(object, "metadata"), "ownerReferences");
  if (!refs.is_array()) return std::nullopt;
  for (const auto& ref : refs) {
    if (Field(ref, "controller") == true) return ref;
  }
  return std::nullopt;
}

namespace {
Workload FromRef(const json& ref, const std::string& ns) {
  return {String(ref, "apiVersion"), String(ref, "kind"), ns, String(ref, "name"),
          String(ref, "uid")};
}
}  // namespace

Workload OwnerResolver::Resolve(const json& pod) {
  const auto& meta = Field(pod, "metadata");
  std::string ns = String(meta, "namespace");
  auto ref = ControllerRef(pod);
  if (!ref) return {"v1", "Pod", ns, String(meta, "name"), String(meta, "uid")};
  if (String(*ref, "kind") != "ReplicaSet") return FromRef(*ref, ns);

  std::string rs_name = String(*ref, "name");
  std::string key = ns + "/" + rs_name;
  {
    std::lock_guard lock(mu_);
    if (auto it = replicaset_owner_.find(key); it != replicaset_owner_.end()) return it->second;
  }
  Workload owner = FromRef(*ref, ns);  // a ReplicaSet without owner is the workload
  if (auto rs = lookup_(ns, rs_name)) {
    if (auto rs_ref = ControllerRef(*rs)) owner = FromRef(*rs_ref, ns);
  } else {
    // Cannot read the ReplicaSet: the pod-template-hash naming convention still tells the
    // Deployment (<deployment>-<hash>). Not cached, so a later lookup can confirm it.
    std::string hash = String(Field(meta, "labels"), "pod-template-hash");
    std::string suffix = "-" + hash;
    if (!hash.empty() && rs_name.size() > suffix.size() &&
        rs_name.compare(rs_name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return {"apps/v1", "Deployment", ns, rs_name.substr(0, rs_name.size() - suffix.size()), ""};
    }
    return owner;
  }
  std::lock_guard lock(mu_);
  replicaset_owner_[key] = owner;
  return owner;
}

size_t OwnerResolver::cached() const {
  std::lock_guard lock(mu_);
  return replicaset_owner_.size();
}

}  // namespace aiops::detector
