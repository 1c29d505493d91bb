#include "remediation_format.hpp"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

namespace aiopsctl {

namespace {

using aiops::v1::Remediation;
using google::protobuf::util::TimeUtil;
using Clock = std::chrono::system_clock;

Clock::time_point FromProto(const google::protobuf::Timestamp& t) {
  return Clock::time_point(std::chrono::microseconds(TimeUtil::TimestampToMicroseconds(t)));
}

std::string Rfc3339(const google::protobuf::Timestamp& t) {
  std::time_t secs = t.seconds();
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string EnumTail(const std::string& name, const std::string& prefix) {
  std::string tail = name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
  std::transform(tail.begin(), tail.end(), tail.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return tail;
}

std::string Or(const std::string& s, const std::string& fallback = "-") {
  return s.empty() ? fallback : s;
}

std::string WorkloadText(const aiops::v1::WorkloadRef& w) {
  if (w.name().empty()) return "-";
  std::string kind = w.kind();
  std::transform(kind.begin(), kind.end(), kind.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return (kind.empty() ? "" : kind + "/") + w.name();
}

std::string Problem(const Remediation& r) {
  if (!r.anomaly().reason().empty()) return r.anomaly().reason();
  if (r.failure_class() != aiops::v1::FAILURE_CLASS_UNSPECIFIED)
    return EnumTail(aiops::v1::FailureClass_Name(r.failure_class()), "FAILURE_CLASS_");
  return "-";
}

std::string Risk(const Remediation& r) {
  if (!r.has_proposal() || r.proposal().risk() == aiops::v1::RISK_LEVEL_UNSPECIFIED) return "-";
  return EnumTail(aiops::v1::RiskLevel_Name(r.proposal().risk()), "RISK_LEVEL_");
}

std::string Source(const Remediation& r) {
  if (!r.has_proposal()) return "-";
  const auto& s = r.proposal().source();
  switch (s.kind()) {
    case aiops::v1::ProposalSource::KIND_RUNBOOK:
      return "runbook" + (s.runbook_id().empty() ? "" : ":" + s.runbook_id());
    case aiops::v1::ProposalSource::KIND_LLM:
      return "llm" + (s.model().empty() ? "" : ":" + s.model());
    default:
      return "-";
  }
}

YAML::Node JsonToNode(const nlohmann::json& j) {
  if (j.is_object()) {
    YAML::Node n(YAML::NodeType::Map);
    for (auto it = j.begin(); it != j.end(); ++it)
      n[it.key()] = JsonToNode(it.value());
    return n;
  }
  if (j.is_array()) {
    YAML::Node n(YAML::NodeType::Sequence);
    for (const auto& v : j)
      n.push_back(JsonToNode(v));
    return n;
  }
  if (j.is_string()) return YAML::Node(j.get<std::string>());
  if (j.is_boolean()) return YAML::Node(j.get<bool>());
  if (j.is_number_integer()) return YAML::Node(j.get<long long>());
  if (j.is_number()) return YAML::Node(j.get<double>());
  return YAML::Node(YAML::NodeType::Null);
}

std::string Indent(const std::string& text, const std::string& pad) {
  std::stringstream in(text), out;
  std::string line;
  while (std::getline(in, line))
    out << pad << line << "\n";
  return out.str();
}

std::string ActionLine(const aiops::v1::Action& a) {
  std::string line = Or(a.id(), "?") + "  ";
  if (a.type() == aiops::v1::Action::TYPE_ROLLBACK_TO_REVISION) {
    line += "rollback " + WorkloadText(a.target()) + " to revision " +
            std::to_string(a.rollback_to_revision());
  } else {
    line += "server-side apply to " + WorkloadText(a.target());
  }
  if (!a.description().empty()) line += ": " + a.description();
  return line;
}

}  // namespace

std::string StateText(aiops::v1::RemediationState state) {
  if (state == aiops::v1::REMEDIATION_STATE_UNSPECIFIED) return "Unknown";
  std::string name = aiops::v1::RemediationState_Name(state);
  name = name.substr(std::string("REMEDIATION_STATE_").size());
  std::string out;
  bool upper = true;
  for (char c : name) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper ? c : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    upper = false;
  }
  return out;
}

std::optional<aiops::v1::RemediationState> ParseStateText(const std::string& text) {
  auto norm = [](const std::string& s) {
    std::string out;
    for (char c : s) {
      if (c == '-' || c == '_' || c == ' ') continue;
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
  };
  for (int i = aiops::v1::REMEDIATION_STATE_DETECTED; i <= aiops::v1::REMEDIATION_STATE_ROLLED_BACK;
       ++i) {
    auto s = static_cast<aiops::v1::RemediationState>(i);
    if (norm(StateText(s)) == norm(text)) return s;
  }
  return std::nullopt;
}

std::string Age(Clock::duration d) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  if (s < 0) s = 0;
  if (s < 120) return std::to_string(s) + "s";
  if (s < 2 * 3600) return std::to_string(s / 60) + "m";
  if (s < 2 * 86400) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

std::string FormatTable(const std::vector<Remediation>& items, Clock::time_point now) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back(
      {"ID", "AGE", "CLUSTER", "NAMESPACE", "WORKLOAD", "PROBLEM", "STATE", "RISK", "SOURCE"});
  for (const auto& r : items) {
    rows.push_back({r.id(), Age(now - FromProto(r.created())), Or(r.cluster()),
                    Or(r.workload().namespace_()), WorkloadText(r.workload()), Problem(r),
                    StateText(r.state()), Risk(r), Source(r)});
  }
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i)
      width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 3, ' ');
    }
    out += line + "\n";
  }
  return out;
}

std::string FormatSummary(const Remediation& r, Clock::time_point now) {
  std::ostringstream o;
  auto field = [&](const std::string& name, const std::string& value) {
    o << std::left << std::setw(12) << (name + ":") << value << "\n";
  };
  field("ID", r.id());
  field("State", StateText(r.state()));
  field("Cluster", Or(r.cluster()));
  const auto& w = r.workload();
  field("Workload", w.name().empty() ? "-" : w.kind() + " " + w.namespace_() + "/" + w.name());
  std::string problem = Problem(r);
  if (!r.anomaly().message().empty()) problem += ": " + r.anomaly().message();
  field("Problem", problem);
  field("Created", Rfc3339(r.created()) + " (" + Age(now - FromProto(r.created())) + " ago)");
  field("Trace", Or(r.trace_id()));

  if (r.has_evidence()) {
    const auto& e = r.evidence();
    o << "\nEvidence:   " << e.pods() << " pod(s), " << e.events() << " event(s), generation "
      << e.workload_generation() << "\n";
    for (const auto& k : e.key_events())
      o << "  event: " << k << "\n";
    for (const auto& m : e.missing_references())
      o << "  missing: " << m << "\n";
    for (const auto& c : e.collection_errors())
      o << "  not collected: " << c << "\n";
  }
  if (r.has_proposal()) {
    const auto& p = r.proposal();
    o << "\nProposal:   " << Source(r) << ", risk " << Risk(r) << ", confidence "
      << std::setprecision(2) << p.confidence() << (p.manual() ? ", manual (no safe fix)" : "")
      << "\n";
    if (!p.summary().empty()) o << "  summary:    " << p.summary() << "\n";
    if (!p.root_cause().empty()) o << "  root cause: " << p.root_cause() << "\n";
    for (const auto& reason : p.risk_reasons())
      o << "  risk:       " << reason << "\n";
    if (!p.actions().empty()) o << "  actions:\n";
    for (const auto& a : p.actions()) {
      o << "    " << ActionLine(a) << "\n";
      if (!a.patch().empty()) o << "      patch:\n" << Indent(JsonToYaml(a.patch()), "        ");
    }
    if (!p.rollback_actions().empty()) o << "  rollback:\n";
    for (const auto& a : p.rollback_actions()) {
      o << "    " << ActionLine(a) << "\n";
      if (!a.patch().empty()) o << "      patch:\n" << Indent(JsonToYaml(a.patch()), "        ");
    }
  }
  if (!r.approvals().empty()) {
    o << "\nApprovals:\n";
    for (const auto& a : r.approvals()) {
      o << "  " << a.actor() << " at " << Rfc3339(a.at())
        << (a.comment().empty() ? "" : ": " + a.comment()) << "\n";
    }
  }
  if (!r.decisions().empty()) {
    o << "\nDecisions:\n";
    for (const auto& d : r.decisions()) {
      std::string verdict =
          d.verdict() == aiops::v1::Decision::VERDICT_UNSPECIFIED
              ? "partial approval"
              : EnumTail(aiops::v1::Decision::Verdict_Name(d.verdict()), "VERDICT_");
      o << "  " << Rfc3339(d.decided_at()) << "  " << verdict << " by " << d.actor()
        << (d.policy().empty() ? "" : " (policy " + d.policy() + ")")
        << (d.comment().empty() ? "" : ": " + d.comment()) << "\n";
    }
  }
  if (!r.executions().empty()) {
    o << "\nExecutions:\n";
    for (const auto& x : r.executions()) {
      o << "  attempt " << x.attempt() << "  "
        << EnumTail(aiops::v1::ExecutionResult::Status_Name(x.status()), "STATUS_")
        << (x.reason().empty() ? "" : ": " + x.reason()) << "\n";
    }
  }
  if (!r.history().empty()) {
    o << "\nHistory:\n";
    for (const auto& t : r.history()) {
      o << "  " << Rfc3339(t.at()) << "  "
        << (t.from() == t.to() ? StateText(t.to())
                               : StateText(t.from()) + " -> " + StateText(t.to()))
        << (t.actor().empty() ? "" : "  by " + t.actor())
        << (t.reason().empty() ? "" : ": " + t.reason()) << "\n";
    }
  }
  return o.str();
}

std::string ToJson(const google::protobuf::Message& m, bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.add_whitespace = pretty;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(m, &out, options).ok()) return "{}";
  return out;
}

std::string ToJsonArray(const std::vector<Remediation>& items) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& r : items)
    arr.push_back(nlohmann::json::parse(ToJson(r, false)));
  return arr.dump(2);
}

std::string ToYaml(const google::protobuf::Message& m) {
  YAML::Emitter out;
  out << JsonToNode(nlohmann::json::parse(ToJson(m, false)));
  return std::string(out.c_str()) + "\n";
}

std::string JsonToYaml(const std::string& json) {
  auto doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return json + "\n";
  YAML::Emitter out;
  out << JsonToNode(doc);
  return std::string(out.c_str()) + "\n";
}

std::string FormatEvent(const aiops::v1::RemediationEvent& ev) {
  const auto& r = ev.remediation();
  std::string type =
      ev.type() == aiops::v1::RemediationEvent::TYPE_SNAPSHOT ? "EXISTING" : "CHANGED";
  std::string line = Rfc3339(r.updated()) + "  " + type + "  " + r.id() + "  " +
                     StateText(r.state()) + "  " + Or(r.workload().namespace_()) + "/" +
                     WorkloadText(r.workload()) + "  " + Problem(r);
  if (!r.history().empty()) {
    const auto& t = r.history(r.history_size() - 1);
    if (!t.actor().empty()) line += "  by " + t.actor();
    if (!t.reason().empty()) line += ": " + t.reason();
  }
  return line;
}

}  // namespace aiopsctl
