// Facts: named values derived from evidence (current image, a known-good image, memory limit,
// the previous healthy revision, what is missing, scheduling numbers, ...). Runbooks match on
// them and fill their templates with them; docs/runbooks.md lists every fact.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "aiops/names.hpp"
#include "aiops/v1/evidence.pb.h"

namespace aiops::proposer {

// The workload object of the evidence (parsed workload_json), or a minimal one synthesised
// from the pod evidence when the JSON is missing or unparsable. Never null: at least {}.
nlohmann::json WorkloadObject(const v1::Evidence& evidence);

// Computes the facts of `evidence`. `params` are a runbook's parameters (memory_factor,
// memory_max). A fact that cannot be established is absent (never guessed).
nlohmann::json ComputeFacts(const v1::Evidence& evidence,
                            const nlohmann::json& params = nlohmann::json::object());

// Replaces "{{fact}}" in every string of `tmpl`. A string that is exactly one placeholder
// takes the fact's JSON value (numbers stay numbers). Unknown facts are collected in `missing`.
nlohmann::json RenderTemplate(const nlohmann::json& tmpl, const nlohmann::json& facts,
                              std::vector<std::string>* missing = nullptr);
std::string RenderText(const std::string& text, const nlohmann::json& facts,
                       std::vector<std::string>* missing = nullptr);

// Error signature for the cache: reason plus the message with digits/hex runs and pod-name
// suffixes folded, so recurrences of one failure share it.
std::string ErrorSignature(const v1::Evidence& evidence);

}  // namespace aiops::proposer
