#include "aiops/kube/clusters.hpp"

#include <set>

#include "aiops/config.hpp"

namespace aiops::kube {

std::vector<ClusterConfig> ParseClusters(const YAML::Node& section) {
  std::vector<ClusterConfig> out;
  if (!section || section.IsNull()) {
    out.push_back({"default", "", "", false});
    return out;
  }
  if (!section.IsSequence()) throw config::ConfigError("clusters: expected a list");
  std::set<std::string> names;
  for (size_t i = 0; i < section.size(); ++i) {
    const auto& item = section[i];
    std::string where = "clusters[" + std::to_string(i) + "]";
    if (!item.IsMap()) throw config::ConfigError(where + ": expected a map");
    ClusterConfig c;
    for (const auto& kv : item) {
      auto key = kv.first.as<std::string>();
      try {
        if (key == "name") {
          c.name = kv.second.as<std::string>();
        } else if (key == "kubeconfig") {
          c.kubeconfig = kv.second.as<std::string>();
        } else if (key == "context") {
          c.context = kv.second.as<std::string>();
        } else if (key == "in_cluster") {
          c.in_cluster = kv.second.as<bool>();
        } else {
          throw config::ConfigError(where + ": unknown key '" + key + "'");
        }
      } catch (const YAML::Exception&) {
        throw config::ConfigError(where + "." + key + ": invalid value");
      }
    }
    if (c.name.empty()) throw config::ConfigError(where + ".name: must not be empty");
    if (!names.insert(c.name).second) {
      throw config::ConfigError(where + ".name: '" + c.name + "' is used twice");
    }
    if (c.in_cluster && (!c.kubeconfig.empty() || !c.context.empty())) {
      throw config::ConfigError(where + ": in_cluster excludes kubeconfig and context");
    }
    out.push_back(c);
  }
  return out;
}

std::map<std::string, std::unique_ptr<Client>> ConnectClusters(
    const std::vector<ClusterConfig>& clusters, const ClientOptions& options) {
  std::map<std::string, std::unique_ptr<Client>> out;
  for (const auto& c : clusters) {
    Credentials creds =
        c.in_cluster ? InClusterFromProcess()
                     : LoadKubeconfig(c.kubeconfig.empty() ? DefaultKubeconfigPath() : c.kubeconfig,
                                      c.context);
    out[c.name] = std::make_unique<Client>(std::move(creds), options);
  }
  return out;
}

}  // namespace aiops::kube
