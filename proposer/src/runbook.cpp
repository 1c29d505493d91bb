#include "proposer/runbook.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "proposer/facts.hpp"

namespace aiops::proposer {

using nlohmann::json;

namespace {

// YAML -> JSON. Plain scalars that read as numbers or booleans become numbers/booleans;
// quoted scalars stay strings.
json ToJson(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      json o = json::object();
      for (const auto& kv : n)
        o[kv.first.as<std::string>()] = ToJson(kv.second);
      return o;
    }
    case YAML::NodeType::Sequence: {
      json a = json::array();
      for (const auto& v : n)
        a.push_back(ToJson(v));
      return a;
    }
    case YAML::NodeType::Scalar: {
      const std::string s = n.Scalar();
      if (n.Tag() == "!") return s;  // quoted
      if (s == "true") return true;
      if (s == "false") return false;
      if (s == "null" || s == "~") return nullptr;
      if (!s.empty() && (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-')) {
        try {
          size_t used = 0;
          long long i = std::stoll(s, &used);
          if (used == s.size()) return i;
          double d = std::stod(s, &used);
          if (used == s.size()) return d;
        } catch (const std::exception&) {
        }
      }
      return s;
    }
    default:
      return nullptr;
  }
}

std::vector<std::string> StringList(const YAML::Node& n, const std::string& what,
                                    const std::string& origin) {
  std::vector<std::string> out;
  if (!n) return out;
  if (n.IsScalar()) return {n.as<std::string>()};
  if (!n.IsSequence()) throw RunbookError(origin + ": " + what + " must be a list");
  for (const auto& v : n)
    out.push_back(v.as<std::string>());
  return out;
}

void CheckKeys(const YAML::Node& n, const std::set<std::string>& allowed, const std::string& where,
               const std::string& origin) {
  if (!n.IsMap()) throw RunbookError(origin + ": " + where + " must be a mapping");
  for (const auto& kv : n) {
    auto k = kv.first.as<std::string>();
    if (!allowed.count(k)) throw RunbookError(origin + ": unknown key " + where + "." + k);
  }
}

bool FactDefined(const json& facts, const std::string& name) {
  auto it = facts.find(name);
  return it != facts.end() && !it->is_null() && !(it->is_boolean() && !it->get<bool>());
}

}  // namespace

std::string SignalText(const v1::Evidence& e) {
  std::ostringstream out;
  out << e.anomaly().reason() << "\n" << e.anomaly().message() << "\n";
  for (const auto& p : e.pods()) {
    out << p.reason() << "\n" << p.message() << "\n";
    for (const auto& c : p.containers()) {
      out << c.reason() << "\n" << c.message() << "\n" << c.last_termination_reason() << "\n";
    }
    for (const auto& c : p.conditions())
      out << c.reason() << "\n" << c.message() << "\n";
  }
  for (const auto& ev : e.events())
    out << ev.reason() << ": " << ev.message() << "\n";
  for (const auto& l : e.logs())
    out << l.text() << "\n";
  return out.str();
}

Runbook RunbookSet::Parse(const std::string& text, const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw RunbookError(origin + ": not valid YAML: " + e.what());
  }
  CheckKeys(root,
            {"id", "title", "priority", "match", "params", "action", "defer_to_llm", "risk",
             "risk_reasons", "confidence", "summary", "root_cause", "reasoning", "guidance"},
            "runbook", origin);
  Runbook r;
  r.file = origin;
  try {
    r.id = root["id"].as<std::string>("");
    if (r.id.empty()) throw RunbookError(origin + ": id is required");
    r.title = root["title"].as<std::string>("");
    r.priority = root["priority"].as<int>(0);
    if (auto m = root["match"]) {
      CheckKeys(m, {"failure_classes", "requires", "unless", "signal"}, "match", origin);
      for (const auto& name : StringList(m["failure_classes"], "match.failure_classes", origin)) {
        auto c = ParseFailureClass(name);
        if (!c) throw RunbookError(origin + ": unknown failure class " + name);
        r.failure_classes.push_back(*c);
      }
      r.requires_facts = StringList(m["requires"], "match.requires", origin);
      r.unless_facts = StringList(m["unless"], "match.unless", origin);
      r.signal = m["signal"].as<std::string>("");
      if (!r.signal.empty()) {
        try {
          r.signal_re.emplace(r.signal, std::regex::ECMAScript | std::regex::icase);
        } catch (const std::regex_error& e) {
          throw RunbookError(origin + ": match.signal is not a valid regex: " + e.what());
        }
      }
    }
    if (auto p = root["params"]) r.params = ToJson(p);
    if (auto a = root["action"]) {
      CheckKeys(a, {"type", "patch", "revision", "description"}, "action", origin);
      r.action_type = a["type"].as<std::string>("");
      if (r.action_type == "apply") {
        if (!a["patch"]) throw RunbookError(origin + ": action.patch is required for apply");
        r.patch = ToJson(a["patch"]);
        if (!r.patch.is_object()) throw RunbookError(origin + ": action.patch must be a mapping");
        for (const char* k : {"apiVersion", "kind", "metadata"}) {
          if (r.patch.contains(k)) {
            throw RunbookError(origin + ": action.patch must not set " + std::string(k) +
                               " (the incident's workload is filled in)");
          }
        }
      } else if (r.action_type == "rollback") {
        r.revision = a["revision"].as<std::string>("");
        if (r.revision.empty()) {
          throw RunbookError(origin + ": action.revision is required for rollback");
        }
      } else if (r.action_type != "none" && !r.action_type.empty()) {
        throw RunbookError(origin + ": action.type must be apply, rollback or none");
      }
      if (r.action_type == "none") r.action_type.clear();
      r.action_description = a["description"].as<std::string>("");
    }
    r.defer_to_llm = root["defer_to_llm"].as<bool>(false);
    std::string risk = root["risk"].as<std::string>("medium");
    r.risk = RiskFromString(risk);
    if (r.risk == v1::RISK_LEVEL_UNSPECIFIED) {
      throw RunbookError(origin + ": risk must be low, medium or high");
    }
    r.risk_reasons = StringList(root["risk_reasons"], "risk_reasons", origin);
    r.confidence = root["confidence"].as<double>(0.5);
    if (r.confidence < 0 || r.confidence > 1) {
      throw RunbookError(origin + ": confidence must be within 0..1");
    }
    r.summary = root["summary"].as<std::string>("");
    if (r.summary.empty()) throw RunbookError(origin + ": summary is required");
    r.root_cause = root["root_cause"].as<std::string>("");
    if (auto rs = root["reasoning"]) {
      if (!rs.IsSequence()) throw RunbookError(origin + ": reasoning must be a list");
      for (const auto& s : rs) {
        CheckKeys(s, {"observation", "thought"}, "reasoning[]", origin);
        r.reasoning.emplace_back(s["observation"].as<std::string>(""),
                                 s["thought"].as<std::string>(""));
      }
    }
    r.guidance = root["guidance"].as<std::string>("");
  } catch (const YAML::Exception& e) {
    throw RunbookError(origin + ": " + e.what());
  }
  return r;
}

RunbookSet RunbookSet::LoadDir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw RunbookError("runbook directory " + dir + " not found");
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    auto ext = entry.path().extension().string();
    if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml")) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  RunbookSet set;
  for (const auto& f : files) {
    std::ifstream in(f);
    std::stringstream text;
    text << in.rdbuf();
    set.Add(Parse(text.str(), f.string()));
  }
  return set;
}

void RunbookSet::Add(Runbook r) {
  for (const auto& existing : runbooks_) {
    if (existing.id == r.id) {
      throw RunbookError(r.file + ": runbook id " + r.id + " already defined in " + existing.file);
    }
  }
  runbooks_.push_back(std::move(r));
}

bool RunbookSet::Matches(const Runbook& r, const v1::Evidence& evidence) {
  const auto cls = evidence.anomaly().failure_class();
  if (!r.failure_classes.empty() && std::find(r.failure_classes.begin(), r.failure_classes.end(),
                                              cls) == r.failure_classes.end()) {
    return false;
  }
  json facts = ComputeFacts(evidence, r.params);
  for (const auto& f : r.requires_facts) {
    if (!FactDefined(facts, f)) return false;
  }
  for (const auto& f : r.unless_facts) {
    if (FactDefined(facts, f)) return false;
  }
  if (r.signal_re && !std::regex_search(SignalText(evidence), *r.signal_re)) return false;
  return true;
}

std::vector<const Runbook*> RunbookSet::Matching(const v1::Evidence& evidence) const {
  std::vector<const Runbook*> out;
  for (const auto& r : runbooks_) {
    if (Matches(r, evidence)) out.push_back(&r);
  }
  std::stable_sort(out.begin(), out.end(), [](const Runbook* a, const Runbook* b) {
    return a->priority != b->priority ? a->priority > b->priority : a->id < b->id;
  });
  return out;
}

Candidate RunbookSet::Apply(const Runbook& r, const v1::Evidence& evidence) {
  json facts = ComputeFacts(evidence, r.params);
  facts["runbook"] = r.id;
  std::vector<std::string> text_missing;  // text says "(unknown x)"; fine
  std::vector<std::string> missing;       // the action needs every fact it names
  Candidate c;
  c.summary = RenderText(r.summary, facts, &text_missing);
  c.root_cause = RenderText(r.root_cause, facts, &text_missing);
  for (const auto& [o, t] : r.reasoning) {
    c.reasoning.emplace_back(RenderText(o, facts, &text_missing),
                             RenderText(t, facts, &text_missing));
  }
  c.risk = r.risk;
  for (const auto& rr : r.risk_reasons)
    c.risk_reasons.push_back(RenderText(rr, facts, &text_missing));
  c.confidence = r.confidence;
  const auto& w = evidence.anomaly().workload();
  if (!r.manual()) {
    CandidateAction a;
    a.api_version = w.api_version().empty() ? "apps/v1" : w.api_version();
    a.kind = w.kind();
    a.ns = w.namespace_();
    a.name = w.name();
    a.description = RenderText(r.action_description, facts, &text_missing);
    if (r.action_type == "apply") {
      a.type = CandidateAction::Type::kApply;
      json patch = {{"apiVersion", a.api_version},
                    {"kind", a.kind},
                    {"metadata", {{"name", a.name}, {"namespace", a.ns}}}};
      json body = RenderTemplate(r.patch, facts, &missing);
      for (auto it = body.begin(); it != body.end(); ++it)
        patch[it.key()] = it.value();
      a.patch = patch;
    } else {
      a.type = CandidateAction::Type::kRollback;
      json rev = RenderTemplate(json(r.revision), facts, &missing);
      if (rev.is_number_integer()) {
        a.revision = rev.get<int64_t>();
      } else if (rev.is_string()) {
        try {
          a.revision = std::stoll(rev.get<std::string>());
        } catch (const std::exception&) {
          a.revision = 0;
        }
      }
    }
    c.actions.push_back(std::move(a));
  }
  c.manual = c.actions.empty();
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing)
      list += (list.empty() ? "" : ", ") + m;
    if (!c.actions.empty()) {
      throw RunbookError("runbook " + r.id + " needs facts the evidence lacks: " + list);
    }
  }
  return c;
}

}  // namespace aiops::proposer
