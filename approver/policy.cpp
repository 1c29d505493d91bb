#include "policy.hpp"

#include <algorithm>
#include <cctype>

#include "aiops/config.hpp"

namespace aiops::approver {

namespace {

using config::ConfigError;

std::string Norm(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '-' || c == '_' || c == ' ') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

void OnlyKeys(const YAML::Node& node, const std::string& where,
              const std::set<std::string>& allowed) {
  if (!node.IsMap()) throw ConfigError(where + ": expected a map");
  for (const auto& kv : node) {
    auto key = kv.first.as<std::string>();
    if (!allowed.count(key)) throw ConfigError(where + ": unknown key '" + key + "'");
  }
}

std::vector<std::string> Strings(const YAML::Node& node, const std::string& where) {
  if (!node.IsDefined() || node.IsNull()) return {};
  if (!node.IsSequence()) throw ConfigError(where + ": expected a list");
  std::vector<std::string> out;
  for (const auto& n : node) {
    if (!n.IsScalar()) throw ConfigError(where + ": expected a list of strings");
    out.push_back(n.as<std::string>());
  }
  return out;
}

template <class T>
T Scalar(const YAML::Node& node, const std::string& where) {
  try {
    return node.as<T>();
  } catch (const YAML::Exception&) {
    throw ConfigError(where + ": bad value '" + (node.IsScalar() ? node.Scalar() : "") + "'");
  }
}

}  // namespace

std::optional<std::chrono::seconds> ParseDuration(const std::string& text) {
  if (text.empty()) return std::nullopt;
  size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (...) {
    return std::nullopt;
  }
  if (v < 0) return std::nullopt;
  std::string unit = text.substr(used);
  if (unit.empty() || unit == "s") return std::chrono::seconds(v);
  if (unit == "m") return std::chrono::seconds(v * 60);
  if (unit == "h") return std::chrono::seconds(v * 3600);
  if (unit == "d") return std::chrono::seconds(v * 86400);
  return std::nullopt;
}

std::string SourceKindName(const v1::Proposal& p) {
  switch (p.source().kind()) {
    case v1::ProposalSource::KIND_RUNBOOK:
      return "runbook";
    case v1::ProposalSource::KIND_LLM:
      return "llm";
    default:
      return "unknown";
  }
}

Policies Policies::FromYaml(const YAML::Node& node) {
  Policies p;
  if (!node.IsDefined() || node.IsNull()) return p;
  const std::string root = "policies";
  OnlyKeys(node, root, {"auto_approve", "two_person", "rate_limit", "expiry", "force_conflicts"});

  if (auto rules = node["auto_approve"]; rules.IsDefined() && !rules.IsNull()) {
    if (!rules.IsSequence()) throw ConfigError(root + ".auto_approve: expected a list of rules");
    std::set<std::string> names;
    for (size_t i = 0; i < rules.size(); ++i) {
      const auto& r = rules[i];
      std::string where = root + ".auto_approve[" + std::to_string(i) + "]";
      OnlyKeys(r, where, {"name", "sources", "risks", "failure_classes", "namespaces", "clusters"});
      AutoApproveRule rule;
      if (!r["name"].IsDefined()) throw ConfigError(where + ".name: required");
      rule.name = Scalar<std::string>(r["name"], where + ".name");
      if (rule.name.empty() || rule.name.find_first_of(" \t\n") != std::string::npos)
        throw ConfigError(where + ".name: must be a non-empty word");
      if (!names.insert(rule.name).second)
        throw ConfigError(where + ".name: duplicate rule name '" + rule.name + "'");
      for (const auto& s : Strings(r["sources"], where + ".sources")) {
        auto n = Norm(s);
        if (n != "runbook" && n != "llm")
          throw ConfigError(where + ".sources: unknown source '" + s + "' (runbook, llm)");
        rule.sources.insert(n);
      }
      for (const auto& s : Strings(r["risks"], where + ".risks")) {
        auto risk = ParseRisk(s);
        if (!risk)
          throw ConfigError(where + ".risks: unknown risk '" + s + "' (low, medium, high)");
        rule.risks.insert(*risk);
      }
      if (rule.risks.empty())
        throw ConfigError(where + ".risks: required (which risk levels this rule approves)");
      for (const auto& s : Strings(r["failure_classes"], where + ".failure_classes")) {
        auto c = ParseFailureClass(s);
        if (!c) throw ConfigError(where + ".failure_classes: unknown failure class '" + s + "'");
        rule.failure_classes.insert(*c);
      }
      for (const auto& s : Strings(r["namespaces"], where + ".namespaces"))
        rule.namespaces.insert(s);
      for (const auto& s : Strings(r["clusters"], where + ".clusters"))
        rule.clusters.insert(s);
      p.auto_approve.push_back(std::move(rule));
    }
  }
  if (auto tp = node["two_person"]; tp.IsDefined() && !tp.IsNull()) {
    OnlyKeys(tp, root + ".two_person", {"risks"});
    p.two_person_risks.clear();
    for (const auto& s : Strings(tp["risks"], root + ".two_person.risks")) {
      auto risk = ParseRisk(s);
      if (!risk) throw ConfigError(root + ".two_person.risks: unknown risk '" + s + "'");
      p.two_person_risks.insert(*risk);
    }
  }
  if (auto rl = node["rate_limit"]; rl.IsDefined() && !rl.IsNull()) {
    OnlyKeys(rl, root + ".rate_limit", {"max_per_workload_per_hour"});
    if (rl["max_per_workload_per_hour"].IsDefined()) {
      p.max_per_workload_per_hour = Scalar<int>(rl["max_per_workload_per_hour"],
                                                root + ".rate_limit.max_per_workload_per_hour");
      if (p.max_per_workload_per_hour < 0)
        throw ConfigError(root + ".rate_limit.max_per_workload_per_hour: must be >= 0");
    }
  }
  if (auto ex = node["expiry"]; ex.IsDefined() && !ex.IsNull()) {
    OnlyKeys(ex, root + ".expiry", {"ttl"});
    if (ex["ttl"].IsDefined()) {
      auto text = Scalar<std::string>(ex["ttl"], root + ".expiry.ttl");
      auto ttl = ParseDuration(text);
      if (!ttl)
        throw ConfigError(root + ".expiry.ttl: bad duration '" + text + "' (e.g. 30m, 24h, 0)");
      p.ttl = *ttl;
    }
  }
  if (node["force_conflicts"].IsDefined())
    p.force_conflicts = Scalar<bool>(node["force_conflicts"], root + ".force_conflicts");
  return p;
}

int Policies::RequiredApprovals(const v1::Proposal& p) const {
  return two_person_risks.count(p.risk()) ? 2 : 1;
}

const AutoApproveRule* Policies::AutoApproval(const v1::Remediation& r) const {
  if (r.state() != v1::REMEDIATION_STATE_READY_FOR_REVIEW || !r.has_proposal()) return nullptr;
  const auto& p = r.proposal();
  if (p.manual() || p.actions().empty() || RequiredApprovals(p) > 1) return nullptr;
  std::string ns =
      p.workload().namespace_().empty() ? r.workload().namespace_() : p.workload().namespace_();
  auto fc =
      p.failure_class() != v1::FAILURE_CLASS_UNSPECIFIED ? p.failure_class() : r.failure_class();
  for (const auto& rule : auto_approve) {
    if (!rule.sources.empty() && !rule.sources.count(SourceKindName(p))) continue;
    if (!rule.risks.count(p.risk())) continue;
    if (!rule.failure_classes.empty() && !rule.failure_classes.count(fc)) continue;
    if (!rule.namespaces.empty() && !rule.namespaces.count(ns)) continue;
    if (!rule.clusters.empty() && !rule.clusters.count(r.cluster())) continue;
    return &rule;
  }
  return nullptr;
}

}  // namespace aiops::approver
