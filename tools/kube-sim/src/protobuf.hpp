// Decoding of the Kubernetes protobuf wire format for request bodies. kubectl's typed clients
// (`kubectl create deployment|namespace|configmap|secret|service`) send
// `application/vnd.kubernetes.protobuf` bodies and cannot fall back to JSON, so kube-sim decodes
// the kinds those commands create into JSON. Responses are always JSON (kubectl accepts it).
#pragma once

#include <optional>
#include <string>

#include "json_util.hpp"

namespace kubesim {

// Decodes a "k8s\0"-prefixed runtime.Unknown envelope holding one of the supported kinds
// (Namespace, ConfigMap, Secret, Service, Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet).
// nullopt when the body is not such an envelope or the kind is not supported.
std::optional<json> DecodeKubernetesProtobuf(const std::string& body);

}  // namespace kubesim
