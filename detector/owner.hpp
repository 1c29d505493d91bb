// Resolves the workload a pod belongs to by following ownerReferences:
// Pod -> ReplicaSet -> Deployment, Pod -> StatefulSet | DaemonSet | Job; a pod without a
// controller is its own workload. ReplicaSet owners are looked up once and cached (they
// never change owner), so 100,000 pods cost one lookup per ReplicaSet.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "aiops/v1/envelope.pb.h"

namespace aiops::detector {

struct Workload {
  std::string api_version;
  std::string kind;
  std::string ns;
  std::string name;
  std::string uid;

  std::string Key() const { return ns + "/" + kind + "/" + name; }
  v1::WorkloadRef ToProto() const;
};

class OwnerResolver {
 public:
  // Fetches a ReplicaSet (namespace, name); nullopt when it cannot be read.
  using ReplicaSetLookup =
      std::function<std::optional<nlohmann::json>(const std::string&, const std::string&)>;

  explicit OwnerResolver(ReplicaSetLookup lookup) : lookup_(std::move(lookup)) {}

  Workload Resolve(const nlohmann::json& pod);
  size_t cached() const;

 private:
  ReplicaSetLookup lookup_;
  mutable std::mutex mu_;
  std::map<std::string, Workload> replicaset_owner_;  // "ns/rs-name" -> workload
};

// The controller ownerReference of an object (controller: true), if any.
std::optional<nlohmann::json> ControllerRef(const nlohmann::json& object);

}  // namespace aiops::detector
