// The resource types kube-sim serves, with the discovery facts kubectl relies on
// (kind, plural, short names, verbs, namespaced, subresources).
#pragma once

#include <string>
#include <vector>

namespace kubesim {

struct ResourceInfo {
  std::string group;     // "" for core
  std::string version;   // "v1"
  std::string resource;  // plural, e.g. "pods"
  std::string singular;
  std::string kind;
  bool namespaced = true;
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  std::vector<std::string> subresources;  // "status", "scale", "log"
  bool has_status = false;                // status is only writable through /status
  bool has_spec = false;                  // spec changes bump metadata.generation

  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
  // Store key: "pods", "apps/deployments".
  std::string Key() const { return group.empty() ? resource : group + "/" + resource; }
};

const std::vector<ResourceInfo>& AllResources();
// Finds by group and plural (the URL form). nullptr when unknown.
const ResourceInfo* FindResource(const std::string& group, const std::string& resource);
const ResourceInfo* FindByKind(const std::string& api_version, const std::string& kind);

// Well-known pointers used by the controllers.
const ResourceInfo& Pods();
const ResourceInfo& Nodes();
const ResourceInfo& Namespaces();
const ResourceInfo& Events();
const ResourceInfo& ConfigMaps();
const ResourceInfo& Secrets();
const ResourceInfo& Services();
const ResourceInfo& Deployments();
const ResourceInfo& ReplicaSets();
const ResourceInfo& StatefulSets();
const ResourceInfo& DaemonSets();

}  // namespace kubesim
