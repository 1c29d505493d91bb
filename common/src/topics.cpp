#include "aiops/topics.hpp"

#include <map>

#include "aiops/v1/anomaly.pb.h"
#include "aiops/v1/decision.pb.h"
#include "aiops/v1/evidence.pb.h"
#include "aiops/v1/execution.pb.h"
#include "aiops/v1/proposal.pb.h"

namespace aiops::topics {

const std::vector<std::string>& All() {
  static const std::vector<std::string> all = {kAnomalies, kEvidence,   kProposals,
                                               kDecisions, kExecutions, kDeadLetter};
  return all;
}

const std::vector<std::string>& Pipeline() {
  static const std::vector<std::string> pipeline = {kAnomalies, kEvidence, kProposals, kDecisions,
                                                    kExecutions};
  return pipeline;
}

const google::protobuf::Message* PrototypeFor(const std::string& topic) {
  static const std::map<std::string, const google::protobuf::Message*> prototypes = {
      {kAnomalies, &v1::Anomaly::default_instance()},
      {kEvidence, &v1::Evidence::default_instance()},
      {kProposals, &v1::Proposal::default_instance()},
      {kDecisions, &v1::Decision::default_instance()},
      {kExecutions, &v1::ExecutionResult::default_instance()},
  };
  auto it = prototypes.find(topic);
  return it == prototypes.end() ? nullptr : it->second;
}

std::string MessageTypeFor(const std::string& topic) {
  const auto* prototype = PrototypeFor(topic);
  return prototype == nullptr ? std::string() : prototype->GetTypeName();
}

}  // namespace aiops::topics
