#include "owner.hpp"

namespace aiops::detector {

using nlohmann::json;

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
  if (!object.contains("metadata")) return std::nullopt;
  const auto& meta = object["metadata"];
  if (!meta.contains("ownerReferences") || !meta["ownerReferences"].is_array()) {
    return std::nullopt;
  }
  for (const auto& ref : meta["ownerReferences"]) {
    if (ref.value("controller", false)) return ref;
  }
  return std::nullopt;
}

namespace {
Workload FromRef(const json& ref, const std::string& ns) {
  return {ref.value("apiVersion", ""), ref.value("kind", ""), ns, ref.value("name", ""),
          ref.value("uid", "")};
}
}  // namespace

Workload OwnerResolver::Resolve(const json& pod) {
  const auto& meta = pod["metadata"];
  std::string ns = meta.value("namespace", "");
  auto ref = ControllerRef(pod);
  if (!ref) return {"v1", "Pod", ns, meta.value("name", ""), meta.value("uid", "")};
  if (ref->value("kind", "") != "ReplicaSet") return FromRef(*ref, ns);

  std::string rs_name = ref->value("name", "");
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
    auto labels = meta.value("labels", json::object());
    std::string hash = labels.value("pod-template-hash", "");
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
