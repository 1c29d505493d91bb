// Gathers what a senior SRE reads before touching a broken workload, within a bounded number
// of API calls: the workload and its owner chain, pods, rollout history, events, logs, nodes
// (for scheduling failures) and which referenced ConfigMaps/Secrets/keys exist. A failed
// call never loses the incident: the bundle records what could not be fetched and why.
#pragma once

#include <string>

#include "aiops/v1/evidence.pb.h"
#include "kube_reader.hpp"

namespace aiops::collector {

struct BuilderOptions {
  std::string producer = "aiops-collector";
  int max_api_calls = 40;
  int max_pods = 5;
  int max_events = 30;
  int log_tail_lines = 50;
  int log_limit_bytes = 16384;
  int max_nodes = 10;
  int max_references = 10;
  // The serialised bundle is kept under this size; logs, then events, then pods are cut.
  int max_bundle_bytes = 65536;
};

class EvidenceBuilder {
 public:
  EvidenceBuilder(KubeReader& reader, BuilderOptions options)
      : reader_(reader), options_(std::move(options)) {}

  v1::Evidence Build(const v1::Anomaly& anomaly);

 private:
  class Session;
  KubeReader& reader_;
  BuilderOptions options_;
};

}  // namespace aiops::collector
