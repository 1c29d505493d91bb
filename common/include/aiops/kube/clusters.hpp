// The `clusters:` section every kube-facing service shares:
//   clusters:
//     - name: prod            # recorded in every envelope
//       kubeconfig: /etc/aiops/prod.kubeconfig   # default: $KUBECONFIG or ~/.kube/config
//       context: prod-admin   # default: the kubeconfig's current-context
//     - name: local
//       in_cluster: true      # the pod's service account
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "aiops/kube/client.hpp"

namespace aiops::kube {

struct ClusterConfig {
  std::string name;
  std::string kubeconfig;
  std::string context;
  bool in_cluster = false;
};

// Parses and validates the section; throws config::ConfigError naming clusters[i].key.
// An empty or missing section means one cluster "default" from the default kubeconfig.
std::vector<ClusterConfig> ParseClusters(const YAML::Node& section);

// Loads credentials and makes one client per cluster, keyed by name. Throws on unreadable
// credentials (a start-up error).
std::map<std::string, std::unique_ptr<Client>> ConnectClusters(
    const std::vector<ClusterConfig>& clusters, const ClientOptions& options = {});

}  // namespace aiops::kube
