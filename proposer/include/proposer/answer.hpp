// The JSON an LLM must answer with: its schema (sent as Ollama `format` / OpenAI
// `response_format`), a checker for that schema, and its conversion to a Candidate.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "proposer/candidate.hpp"

namespace aiops::proposer {

const nlohmann::json& AnswerSchema();

// Checks `value` against the supported subset of JSON Schema (type, required, properties,
// additionalProperties: false, enum, items, minimum, maximum). Appends "path: problem".
void CheckSchema(const nlohmann::json& schema, const nlohmann::json& value, const std::string& path,
                 std::vector<std::string>* errors);

// Limits on the model's text, checked before it is parsed. A real answer is a few KB and nests
// about a dozen levels (patch -> spec.template.spec.containers[].env[].valueFrom...). The size
// cap keeps a proposal, and the repair prompt quoting the answer, far below Kafka's 1 MB
// message limit; the depth cap keeps recursive code (validator, json dump) away from
// structures deep enough to overflow the stack.
inline constexpr size_t kMaxAnswerBytes = 256 * 1024;
inline constexpr int kMaxAnswerDepth = 64;

// Parses the model's text: JSON (a ```json fence is tolerated), then the schema. Returns the
// candidate, or nullopt with the problems in `errors`.
std::optional<Candidate> ParseAnswer(const std::string& content, std::vector<std::string>* errors);

}  // namespace aiops::proposer
