// How aiopsctl shows remediations: the `list` table, the `get` summary (patches as YAML),
// JSON/YAML renderings and the one-line `watch` events.
#pragma once

#include <google/protobuf/message.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "aiops/v1/approval.pb.h"
#include "aiops/v1/remediation.pb.h"

namespace aiopsctl {

// REMEDIATION_STATE_READY_FOR_REVIEW -> "ReadyForReview".
std::string StateText(aiops::v1::RemediationState state);
// "ready-for-review", "ReadyForReview", "approved" -> the state; nullopt when unknown.
std::optional<aiops::v1::RemediationState> ParseStateText(const std::string& text);
// Age like kubectl: "45s", "12m", "5h", "3d".
std::string Age(std::chrono::system_clock::duration d);

std::string FormatTable(const std::vector<aiops::v1::Remediation>& items,
                        std::chrono::system_clock::time_point now);
std::string FormatSummary(const aiops::v1::Remediation& r,
                          std::chrono::system_clock::time_point now);
// Protobuf JSON mapping with field names as in the .proto files; `pretty` indents.
std::string ToJson(const google::protobuf::Message& m, bool pretty = true);
std::string ToJsonArray(const std::vector<aiops::v1::Remediation>& items);
// The JSON mapping rendered as YAML.
std::string ToYaml(const google::protobuf::Message& m);
// A JSON document (an apply patch) as YAML; the text itself when it is not JSON.
std::string JsonToYaml(const std::string& json);
// One line per watch event.
std::string FormatEvent(const aiops::v1::RemediationEvent& ev);

}  // namespace aiopsctl
