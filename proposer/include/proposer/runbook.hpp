// Runbooks: data files (deploy/runbooks/*.yaml, format in docs/runbooks.md) matched on the
// failure class and facts of the evidence, each with a patch template, risk and text.
// Operators add their own without rebuilding.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "aiops/v1/evidence.pb.h"
#include "proposer/candidate.hpp"

namespace aiops::proposer {

class RunbookError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Runbook {
  std::string id;
  std::string title;
  std::string file;
  int priority = 0;
  std::vector<v1::FailureClass> failure_classes;  // empty: any
  std::vector<std::string> requires_facts;
  std::vector<std::string> unless_facts;
  std::string signal;  // regex over reason, messages, events and logs; empty: none
  std::optional<std::regex> signal_re;
  nlohmann::json params = nlohmann::json::object();
  // Action: "apply" (patch template), "rollback" (revision template) or none (diagnosis).
  std::string action_type;
  nlohmann::json patch;  // the part below apiVersion/kind/metadata, e.g. {"spec": ...}
  std::string revision;  // "{{previous_revision}}"
  std::string action_description;
  bool defer_to_llm = false;
  v1::RiskLevel risk = v1::RISK_LEVEL_MEDIUM;
  std::vector<std::string> risk_reasons;
  double confidence = 0.5;
  std::string summary;
  std::string root_cause;
  std::vector<std::pair<std::string, std::string>> reasoning;
  std::string guidance;  // a line for the LLM prompt

  bool manual() const { return action_type.empty(); }
};

class RunbookSet {
 public:
  RunbookSet() = default;
  // Loads every *.yaml / *.yml of `dir` (sorted by name). Throws RunbookError naming the file
  // and the problem; ids must be unique.
  static RunbookSet LoadDir(const std::string& dir);
  // Parses one runbook. Throws RunbookError.
  static Runbook Parse(const std::string& yaml_text, const std::string& origin);

  void Add(Runbook r);
  const std::vector<Runbook>& all() const { return runbooks_; }

  // Runbooks whose match holds for the evidence, highest priority first (ties: by id).
  std::vector<const Runbook*> Matching(const v1::Evidence& evidence) const;
  static bool Matches(const Runbook& r, const v1::Evidence& evidence);

  // The candidate a runbook gives for the evidence. Throws RunbookError when a template
  // needs a fact the evidence does not establish.
  static Candidate Apply(const Runbook& r, const v1::Evidence& evidence);

 private:
  std::vector<Runbook> runbooks_;
};

// Text searched by a runbook's `signal`: reason, messages, events, logs.
std::string SignalText(const v1::Evidence& evidence);

}  // namespace aiops::proposer
