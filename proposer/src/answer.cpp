#include "proposer/answer.hpp"

#include <algorithm>

namespace aiops::proposer {

using nlohmann::json;

const json& AnswerSchema() {
  static const json schema = json::parse(R"({
  "type": "object",
  "additionalProperties": false,
  "required": ["summary", "root_cause", "reasoning", "manual", "actions", "risk", "risk_reasons", "confidence"],
  "properties": {
    "summary": {"type": "string", "description": "one line for the reviewer"},
    "root_cause": {"type": "string"},
    "reasoning": {"type": "array", "items": {
      "type": "object", "additionalProperties": false,
      "required": ["observation", "thought"],
      "properties": {"observation": {"type": "string"}, "thought": {"type": "string"}}}},
    "manual": {"type": "boolean", "description": "true when no safe change exists; then actions is empty"},
    "actions": {"type": "array", "items": {
      "type": "object", "additionalProperties": false,
      "required": ["type", "target", "description"],
      "properties": {
        "type": {"type": "string", "enum": ["server_side_apply", "rollback_to_revision"]},
        "target": {"type": "object", "additionalProperties": false,
          "required": ["api_version", "kind", "namespace", "name"],
          "properties": {"api_version": {"type": "string"}, "kind": {"type": "string"},
                         "namespace": {"type": "string"}, "name": {"type": "string"}}},
        "description": {"type": "string"},
        "patch": {"type": "object", "description": "server_side_apply: apply configuration with apiVersion, kind, metadata.name/namespace and only the fields to set"},
        "rollback_to_revision": {"type": "integer", "minimum": 1}}}},
    "risk": {"type": "string", "enum": ["low", "medium", "high"]},
    "risk_reasons": {"type": "array", "items": {"type": "string"}},
    "confidence": {"type": "number", "minimum": 0, "maximum": 1}
  }
})");
  return schema;
}

namespace {

bool HasType(const json& v, const std::string& type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_boolean();
  if (type == "integer") return v.is_number_integer();
  if (type == "number") return v.is_number();
  if (type == "null") return v.is_null();
  return true;
}

// Deepest nesting of arrays and objects outside strings; stops scanning once past `limit`.
int NestingDepth(const std::string& text, int limit) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) break;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

void CheckSchema(const json& schema, const json& value, const std::string& path,
                 std::vector<std::string>* errors) {
  const std::string where = path.empty() ? "(answer)" : path;
  if (schema.contains("type") && !HasType(value, schema["type"].get<std::string>())) {
    errors->push_back(where + ": must be " + schema["type"].get<std::string>());
    return;
  }
  if (schema.contains("enum")) {
    bool found = false;
    for (const auto& e : schema["enum"])
      found = found || e == value;
    if (!found) errors->push_back(where + ": must be one of " + schema["enum"].dump());
  }
  if (value.is_number()) {
    if (schema.contains("minimum") && value.get<double>() < schema["minimum"].get<double>()) {
      errors->push_back(where + ": must be >= " + schema["minimum"].dump());
    }
    if (schema.contains("maximum") && value.get<double>() > schema["maximum"].get<double>()) {
      errors->push_back(where + ": must be <= " + schema["maximum"].dump());
    }
  }
  if (value.is_object()) {
    if (schema.contains("required")) {
      for (const auto& r : schema["required"]) {
        if (!value.contains(r.get<std::string>())) {
          errors->push_back((path.empty() ? "" : path + ".") + r.get<std::string>() + ": required");
        }
      }
    }
    const json props = schema.value("properties", json::object());
    for (auto it = value.begin(); it != value.end(); ++it) {
      std::string sub = path.empty() ? it.key() : path + "." + it.key();
      if (props.contains(it.key())) {
        CheckSchema(props[it.key()], it.value(), sub, errors);
      } else if (schema.contains("additionalProperties") &&
                 schema["additionalProperties"] == false) {
        errors->push_back(sub + ": unknown property");
      }
    }
  }
  if (value.is_array() && schema.contains("items")) {
    for (size_t i = 0; i < value.size(); ++i) {
      CheckSchema(schema["items"], value[i], path + "[" + std::to_string(i) + "]", errors);
    }
  }
}

std::optional<Candidate> ParseAnswer(const std::string& content, std::vector<std::string>* errors) {
  std::string text = content;
  auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) {
    errors->push_back("the answer is empty");
    return std::nullopt;
  }
  if (content.size() > kMaxAnswerBytes) {
    errors->push_back("the answer is " + std::to_string(content.size()) + " bytes, more than the " +
                      std::to_string(kMaxAnswerBytes) + " allowed");
    return std::nullopt;
  }
  text = text.substr(first);
  if (text.rfind("```", 0) == 0) {
    auto nl = text.find('\n');
    auto end = text.rfind("```");
    if (nl != std::string::npos && end != std::string::npos && end > nl) {
      text = text.substr(nl + 1, end - nl - 1);
    }
  }
  // Scanned before parsing: cheap, and nothing deep is ever built.
  if (NestingDepth(text, kMaxAnswerDepth) > kMaxAnswerDepth) {
    errors->push_back("the answer nests deeper than " + std::to_string(kMaxAnswerDepth) +
                      " levels");
    return std::nullopt;
  }
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    std::string head = content.substr(0, 80);
    errors->push_back("the answer is not JSON (starts with \"" + head + "\")");
    return std::nullopt;
  }
  size_t before = errors->size();
  CheckSchema(AnswerSchema(), j, "", errors);
  if (errors->size() > before) return std::nullopt;

  Candidate c;
  c.summary = j["summary"].get<std::string>();
  c.root_cause = j["root_cause"].get<std::string>();
  for (const auto& s : j["reasoning"]) {
    c.reasoning.emplace_back(s["observation"].get<std::string>(), s["thought"].get<std::string>());
  }
  c.manual = j["manual"].get<bool>();
  c.risk = RiskFromString(j["risk"].get<std::string>());
  for (const auto& r : j["risk_reasons"])
    c.risk_reasons.push_back(r.get<std::string>());
  c.confidence = j["confidence"].get<double>();
  for (size_t i = 0; i < j["actions"].size(); ++i) {
    const auto& a = j["actions"][i];
    const std::string p = "actions[" + std::to_string(i) + "]";
    CandidateAction act;
    act.api_version = a["target"]["api_version"].get<std::string>();
    act.kind = a["target"]["kind"].get<std::string>();
    act.ns = a["target"]["namespace"].get<std::string>();
    act.name = a["target"]["name"].get<std::string>();
    act.description = a["description"].get<std::string>();
    if (a["type"] == "server_side_apply") {
      act.type = CandidateAction::Type::kApply;
      if (!a.contains("patch")) errors->push_back(p + ".patch: required for server_side_apply");
      act.patch = a.value("patch", json::object());
    } else {
      act.type = CandidateAction::Type::kRollback;
      if (!a.contains("rollback_to_revision")) {
        errors->push_back(p + ".rollback_to_revision: required for rollback_to_revision");
      }
      act.revision = a.value("rollback_to_revision", 0);
    }
    c.actions.push_back(std::move(act));
  }
  if (errors->size() > before) return std::nullopt;
  return c;
}

}  // namespace aiops::proposer
