// Kafka topic names and the protobuf message type each carries.
#pragma once

#include <google/protobuf/message.h>

#include <string>
#include <vector>

namespace aiops::topics {

inline constexpr const char* kAnomalies = "aiops.anomalies";
inline constexpr const char* kEvidence = "aiops.evidence";
inline constexpr const char* kProposals = "aiops.proposals";
inline constexpr const char* kDecisions = "aiops.decisions";
inline constexpr const char* kExecutions = "aiops.executions";
// Messages no handler could process, with the reason and origin in headers.
inline constexpr const char* kDeadLetter = "aiops.deadletter";

// All six topics, in pipeline order, dead-letter last.
const std::vector<std::string>& All();
// The five topics that carry pipeline messages (everything but the dead-letter topic).
const std::vector<std::string>& Pipeline();
// Full protobuf type name carried by a pipeline topic ("aiops.v1.Anomaly"); empty if none.
std::string MessageTypeFor(const std::string& topic);
// Default instance of the message a pipeline topic carries (New() it to decode); nullptr for
// the dead-letter topic and unknown topics.
const google::protobuf::Message* PrototypeFor(const std::string& topic);

}  // namespace aiops::topics
