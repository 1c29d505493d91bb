// Approval policies (config section `policies`, see docs/approver.md): auto-approve rules,
// the two-person rule, a per-workload rate limit and the expiry of undecided proposals.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "aiops/names.hpp"

#include "aiops/v1/remediation.pb.h"

namespace aiops::approver {

struct AutoApproveRule {
  std::string name;
  // Each set empty = any value; every non-empty set must contain the proposal's value.
  std::set<std::string> sources;  // "runbook", "llm"
  std::set<v1::RiskLevel> risks;  // required (a rule must say which risks it accepts)
  std::set<v1::FailureClass> failure_classes;
  std::set<std::string> namespaces;
  std::set<std::string> clusters;
};

struct Policies {
  std::vector<AutoApproveRule> auto_approve;
  // Risks that need two approvals from distinct identities.
  std::set<v1::RiskLevel> two_person_risks = {v1::RISK_LEVEL_HIGH};
  // At most this many approved executions per workload in a sliding hour; 0 = no limit.
  int max_per_workload_per_hour = 3;
  // A proposal not decided within this time expires; 0 = never.
  std::chrono::seconds ttl = std::chrono::hours(24);
  // Passed to the executor in every Decision (take ownership of conflicting fields).
  bool force_conflicts = false;

  // Parses the `policies` section; an undefined node gives the defaults. Throws
  // config::ConfigError naming the key on unknown keys or bad values.
  static Policies FromYaml(const YAML::Node& node);

  // 2 under the two-person rule, otherwise 1.
  int RequiredApprovals(const v1::Proposal& p) const;
  // The first auto-approve rule matching a remediation ready for review, if any. Never
  // matches when the two-person rule applies (a policy can demand more, not less).
  const AutoApproveRule* AutoApproval(const v1::Remediation& r) const;
};

// Failure class and risk names and parsers: aiops/names.hpp.
// "30s", "15m", "24h", "7d" or plain seconds.
std::optional<std::chrono::seconds> ParseDuration(const std::string& text);
// Short lower-case name of a proposal's source for display: "runbook", "llm".
std::string SourceKindName(const v1::Proposal& p);

}  // namespace aiops::approver
