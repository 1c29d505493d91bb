// A proposal before it becomes a v1::Proposal: what a runbook or an LLM answer says, in a form
// the validator can check field by field (patches as JSON, not text).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "aiops/v1/envelope.pb.h"

namespace aiops::proposer {

struct CandidateAction {
  enum class Type { kApply, kRollback };
  Type type = Type::kApply;
  std::string api_version;
  std::string kind;
  std::string ns;
  std::string name;
  // kApply: the apply configuration (apiVersion, kind, metadata, spec...).
  nlohmann::json patch;
  // kRollback: the revision whose pod template is restored.
  int64_t revision = 0;
  std::string description;
};

struct Candidate {
  std::string summary;
  std::string root_cause;
  std::vector<std::pair<std::string, std::string>> reasoning;  // observation, thought
  std::vector<CandidateAction> actions;
  bool manual = false;
  v1::RiskLevel risk = v1::RISK_LEVEL_UNSPECIFIED;
  std::vector<std::string> risk_reasons;
  double confidence = 0;
};

// "low" / "medium" / "high" <-> RiskLevel (unknown text: unspecified).
v1::RiskLevel RiskFromString(const std::string& s);

}  // namespace aiops::proposer
