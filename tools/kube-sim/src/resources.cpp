#include "resources.hpp"

namespace kubesim {

const std::vector<ResourceInfo>& AllResources() {
  static const std::vector<ResourceInfo> kAll = {
      {"",
       "v1",
       "namespaces",
       "namespace",
       "Namespace",
       false,
       {"ns"},
       {},
       {"status"},
       true,
       false},
      {"", "v1", "nodes", "node", "Node", false, {"no"}, {}, {"status"}, true, false},
      {"", "v1", "pods", "pod", "Pod", true, {"po"}, {"all"}, {"status", "log"}, true, false},
      {"", "v1", "events", "event", "Event", true, {"ev"}, {}, {}, false, false},
      {"", "v1", "configmaps", "configmap", "ConfigMap", true, {"cm"}, {}, {}, false, false},
      {"", "v1", "secrets", "secret", "Secret", true, {}, {}, {}, false, false},
      {"", "v1", "services", "service", "Service", true, {"svc"}, {"all"}, {"status"}, true, false},
      {"apps",
       "v1",
       "deployments",
       "deployment",
       "Deployment",
       true,
       {"deploy"},
       {"all"},
       {"status", "scale"},
       true,
       true},
      {"apps",
       "v1",
       "replicasets",
       "replicaset",
       "ReplicaSet",
       true,
       {"rs"},
       {"all"},
       {"status", "scale"},
       true,
       true},
      {"apps",
       "v1",
       "statefulsets",
       "statefulset",
       "StatefulSet",
       true,
       {"sts"},
       {"all"},
       {"status", "scale"},
       true,
       true},
      {"apps",
       "v1",
       "daemonsets",
       "daemonset",
       "DaemonSet",
       true,
       {"ds"},
       {"all"},
       {"status"},
       true,
       true},
  };
  return kAll;
}

const ResourceInfo* FindResource(const std::string& group, const std::string& resource) {
  for (const auto& r : AllResources()) {
    if (r.group == group && r.resource == resource) return &r;
  }
  return nullptr;
}

const ResourceInfo* FindByKind(const std::string& api_version, const std::string& kind) {
  for (const auto& r : AllResources()) {
    if (r.ApiVersion() == api_version && r.kind == kind) return &r;
  }
  return nullptr;
}

static const ResourceInfo& Must(const char* group, const char* resource) {
  return *FindResource(group, resource);
}

const ResourceInfo& Pods() {
  static const auto& r = Must("", "pods");
  return r;
}
const ResourceInfo& Nodes() {
  static const auto& r = Must("", "nodes");
  return r;
}
const ResourceInfo& Namespaces() {
  static const auto& r = Must("", "namespaces");
  return r;
}
const ResourceInfo& Events() {
  static const auto& r = Must("", "events");
  return r;
}
const ResourceInfo& ConfigMaps() {
  static const auto& r = Must("", "configmaps");
  return r;
}
const ResourceInfo& Secrets() {
  static const auto& r = Must("", "secrets");
  return r;
}
const ResourceInfo& Services() {
  static const auto& r = Must("", "services");
  return r;
}
const ResourceInfo& Deployments() {
  static const auto& r = Must("apps", "deployments");
  return r;
}
const ResourceInfo& ReplicaSets() {
  static const auto& r = Must("apps", "replicasets");
  return r;
}
const ResourceInfo& StatefulSets() {
  static const auto& r = Must("apps", "statefulsets");
  return r;
}
const ResourceInfo& DaemonSets() {
  static const auto& r = Must("apps", "daemonsets");
  return r;
}

}  // namespace kubesim
