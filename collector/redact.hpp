// Keeps secret values out of evidence (DESIGN.md safety rule 7). Evidence is published to a
// topic many people and tools read; nothing that could be a credential may reach it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace aiops::collector {

inline constexpr const char* kRedacted = "[REDACTED]";

// True for env var names that look like they hold a credential (PASSWORD, TOKEN, SECRET,
// KEY, CREDENTIAL, ... in any case, as a word part: DB_PASSWORD, apiKey).
bool SecretLikeName(const std::string& name);

// Scrubs bearer tokens, JWTs, AWS/GCP keys, private key blocks and `password=...`-style
// assignments from free text (logs, messages). Returns how many were replaced.
int RedactText(std::string& text);

// Redacts a Kubernetes object in place: drops managedFields and the last-applied annotation
// (it copies env values), masks literal env values with secret-like names in every
// container list, and blanks `data`/`stringData` of Secrets. `notes` receives what was
// redacted (paths, never values).
void RedactObject(nlohmann::json& object, std::vector<std::string>& notes);

}  // namespace aiops::collector
