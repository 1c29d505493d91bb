// Helpers for the Envelope every topic message carries (proto/aiops/v1/envelope.proto).
#pragma once

#include <google/protobuf/message.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "aiops/v1/envelope.pb.h"

namespace aiops::envelope {

// Bumped when a change to the messages needs readers to know (a new meaning, not a new field).
inline constexpr uint32_t kSchemaVersion = 1;

enum class Stage { kDetected, kCollected, kProposed, kDecided, kExecuted, kVerified };

// Deterministic remediation id from the parts that identify an incident (cluster, namespace,
// workload, failure class, and an occurrence marker): "rem-" + 20 hex chars of SHA-256.
// The same parts always give the same id, so a restarted detector re-announces the same id.
std::string RemediationId(const std::vector<std::string>& parts);
// A random 128-bit trace id as 32 hex chars.
std::string NewTraceId();

// A new envelope for a remediation, stamped with schema version and producer.
v1::Envelope New(const std::string& remediation_id, const std::string& cluster,
                 const std::string& trace_id, const std::string& producer);
// Copies ids and earlier stage times from `upstream` into a new envelope for the next stage.
v1::Envelope Next(const v1::Envelope& upstream, const std::string& producer);
// Records `at` as the time `stage` handled the remediation (keeps an earlier stamp).
void Stamp(v1::Envelope& env, Stage stage,
           std::chrono::system_clock::time_point at = std::chrono::system_clock::now());
// The stamp of a stage, if present.
std::optional<std::chrono::system_clock::time_point> StampOf(const v1::Envelope& env, Stage stage);

// Checks what every consumer relies on; returns the problem, or nullopt when valid.
std::optional<std::string> Validate(const v1::Envelope& env);

// Finds the `envelope` field (field 1, type aiops.v1.Envelope) of any topic message.
const v1::Envelope* Of(const google::protobuf::Message& msg);

}  // namespace aiops::envelope
