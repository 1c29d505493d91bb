// `aiopsctl audit`: the audit trail is the topics themselves; this renders each message as
// one line (text for people, JSON for jq) with its topic, partition, offset and key.
#pragma once

#include <string>

#include "aiops/kafka_message.hpp"

namespace aiopsctl {

enum class OutputFormat { kText, kJson };

// One line (no trailing newline). Pipeline messages are decoded with the protobuf JSON
// mapping; dead-lettered or undecodable messages show the error and the payload in base64.
std::string FormatAuditRecord(const aiops::kafka::Message& m, OutputFormat format);

}  // namespace aiopsctl
