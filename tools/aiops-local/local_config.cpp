#include "local_config.hpp"

#include <yaml-cpp/yaml.h>

#include <stdexcept>

namespace aiops_local {

std::string GuessLlmBackend(const LocalOptions& o) {
  if (!o.llm_backend.empty()) return o.llm_backend;
  const std::string& u = o.llm_url;
  auto ends_with = [&](const std::string& s) {
    return u.size() >= s.size() && u.compare(u.size() - s.size(), s.size(), s) == 0;
  };
  if (ends_with("/v1") || ends_with("/v1/") || u.find(":8000") != std::string::npos ||
      u.find(":8080") != std::string::npos || u.find("api.openai.com") != std::string::npos) {
    return "openai";
  }
  return "ollama";
}

std::pair<std::string, std::string> ParseSet(const std::string& kv) {
  auto eq = kv.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw std::invalid_argument("--set needs KEY=VALUE, got '" + kv + "'");
  }
  return {kv.substr(0, eq), kv.substr(eq + 1)};
}

namespace {

// Sets a dotted key ("executor.verify_timeout_seconds") in a YAML map, creating the maps.
// Below kafka.properties the rest is one librdkafka property name, dots and all
// ("kafka.properties.fetch.wait.max.ms").
void SetDotted(YAML::Node root, const std::string& key, const std::string& value) {
  static const std::string kPassThrough = "kafka.properties.";
  YAML::Node node = root;
  size_t start = 0;
  while (true) {
    auto dot = key.find('.', start);
    if (start == kPassThrough.size() && key.rfind(kPassThrough, 0) == 0) dot = std::string::npos;
    std::string part =
        key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (part.empty()) throw std::invalid_argument("bad key '" + key + "'");
    if (dot == std::string::npos) {
      node[part] = YAML::Load(value);  // numbers stay numbers, lists stay lists
      return;
    }
    YAML::Node next = node[part];
    if (!next.IsMap()) {
      node[part] = YAML::Node(YAML::NodeType::Map);
      next = node[part];
    }
    node.reset(next);
    start = dot + 1;
  }
}

}  // namespace

std::string RenderConfig(const LocalOptions& o, const ConfigInputs& in) {
  YAML::Node root(YAML::NodeType::Map);
  const bool sim = o.kubeconfig.empty();

  YAML::Node cluster;
  cluster["name"] = !o.cluster_name.empty() ? o.cluster_name
                    : sim                   ? std::string("kube-sim")
                    : !o.context.empty()    ? o.context
                                            : std::string("cluster");
  cluster["kubeconfig"] = in.kubeconfig_path;
  if (!o.context.empty()) cluster["context"] = o.context;
  root["clusters"].push_back(cluster);

  root["kafka"]["bootstrap"] = in.bootstrap;
  // A SIGKILLed group member otherwise holds its partitions for 45 s.
  root["kafka"]["properties"]["session.timeout.ms"] = "6000";
  // The development broker answers an empty fetch only when fetch.wait.max.ms (500) ran out,
  // even if a message arrived meanwhile: up to 500 ms per hop (measured with kcat: 40-470 ms,
  // 10-20 ms with 10). A real broker answers at once when data arrives.
  root["kafka"]["properties"]["fetch.wait.max.ms"] = "10";

  // Quick detection: the demo should be reviewable within a minute.
  root["detector"]["grace_seconds"] = 2;
  root["detector"]["unschedulable_grace_seconds"] = 3;
  root["detector"]["update_interval_seconds"] = 2;
  root["detector"]["tick_ms"] = 250;

  if (!o.llm_url.empty()) {
    root["proposer"]["mode"] = "llm-first";
    root["llm"]["backend"] = GuessLlmBackend(o);
    root["llm"]["url"] = o.llm_url;
    root["llm"]["model"] = o.llm_model;
  } else {
    root["proposer"]["mode"] = "runbook-first";
  }

  root["grpc"]["listen"] = in.grpc_listen;
  YAML::Node token;
  token["identity"] = o.identity.empty() ? std::string("local-user") : o.identity;
  token["role"] = "approver";
  token["token_file"] = in.token_file;
  root["auth"]["tokens"].push_back(token);

  if (!o.auto_approve.empty()) {
    YAML::Node rule;
    rule["name"] = "local-auto-approve-" + o.auto_approve;
    rule["sources"].push_back("runbook");
    rule["risks"].push_back("low");
    if (o.auto_approve == "medium") rule["risks"].push_back("medium");
    root["policies"]["auto_approve"].push_back(rule);
  }
  // kube-sim's scenario objects are owned by kubectl-client-side-apply (as if an operator had
  // applied them), so the executor's server-side apply must take ownership of the fields it
  // fixes. Against a real cluster the default (fail on conflict) stays.
  if (sim) root["policies"]["force_conflicts"] = true;

  for (const auto& [k, v] : o.sets)
    SetDotted(root, k, v);

  YAML::Emitter out;
  out << root;
  return std::string("# Written by aiops-local; every service reads its own sections.\n") +
         out.c_str() + "\n";
}

}  // namespace aiops_local
