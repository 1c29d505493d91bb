// The one YAML configuration aiops-local writes for every service it starts (each service
// reads its own keys and ignores the other services' sections).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace aiops_local {

struct LocalOptions {
  std::string dir = ".aiops-local";
  std::string scenario = "demo";  // kube-sim scenario name or file
  double speed = 4;               // kube-sim clock speed
  std::string kubeconfig;         // real cluster instead of kube-sim
  std::string context;            // kubeconfig context
  std::string cluster_name;       // default: kube-sim, or the context / "cluster"
  std::string llm_url;            // LLM server; empty: runbooks only
  std::string llm_model;
  std::string llm_backend;   // ollama | openai; empty: guessed from the URL
  std::string auto_approve;  // "", low, medium
  std::string grpc_listen = "127.0.0.1:50051";
  std::string identity;         // approver identity of the local user
  std::string bin_dir;          // where the binaries are; default: next to aiops-local
  bool broker_control = false;  // serve the dev broker's fault-injection endpoint (tests)
  std::vector<std::pair<std::string, std::string>> sets;  // extra key=value (dotted keys)
};

struct ConfigInputs {
  std::string bootstrap;
  std::string kubeconfig_path;  // kube-sim's or the user's
  std::string grpc_listen;      // resolved host:port
  std::string token_file;
};

// "ollama" or "openai": an explicit backend wins; a URL ending in /v1 or naming port 8000
// (vLLM), 8080 (llama.cpp) or api.openai.com means openai; everything else Ollama.
std::string GuessLlmBackend(const LocalOptions& o);

// Renders the YAML. Throws std::invalid_argument on an unusable option (e.g. --set without '=').
std::string RenderConfig(const LocalOptions& o, const ConfigInputs& in);

// Parses "key=value" (key dotted). Throws std::invalid_argument.
std::pair<std::string, std::string> ParseSet(const std::string& kv);

}  // namespace aiops_local
