// Small JSON helpers shared by every part of kube-sim: YAML decoding, safe field access.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kubesim {

using json = nlohmann::json;

// Parses a YAML (or JSON, which is YAML) document into JSON. Quoted scalars stay strings;
// plain scalars become null/bool/number when they look like one (YAML 1.2 core schema).
// Throws std::runtime_error with the parser's message on bad input.
json YamlToJson(const std::string& text);
// All documents of a multi-document YAML stream.
std::vector<json> YamlToJsonAll(const std::string& text);

// Parses a request body that may be JSON or YAML (apply-patch bodies are YAML).
json ParseBody(const std::string& body);

// Reads obj[a][b]... returning `def` when any step is missing or not an object.
const json& Path(const json& obj, std::initializer_list<const char*> keys);
std::string PathString(const json& obj, std::initializer_list<const char*> keys,
                       const std::string& def = "");
int64_t PathInt(const json& obj, std::initializer_list<const char*> keys, int64_t def = 0);

// Deterministic 32-bit FNV-1a, used for pod-template-hash and fake image digests.
uint32_t Fnv32a(const std::string& data);
// Kubernetes' rand.SafeEncodeString alphabet (no vowels, no confusable digits).
std::string SafeEncode(const std::string& s);
// Random suffix as generateName uses (5 chars from the safe alphabet).
std::string RandomSuffix(size_t n = 5);
std::string NewUid();

}  // namespace kubesim
