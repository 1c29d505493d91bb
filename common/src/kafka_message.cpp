#include "aiops/kafka_message.hpp"

#include <librdkafka/rdkafkacpp.h>

#include "aiops/envelope.hpp"

namespace aiops::kafka {

std::optional<std::string> Message::Header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return std::nullopt;
}

Message Message::From(const RdKafka::Message& m) {
  Message out;
  out.topic = m.topic_name();
  out.partition = m.partition();
  out.offset = m.offset();
  if (m.key_pointer() != nullptr) {
    out.key.assign(static_cast<const char*>(m.key_pointer()), m.key_len());
  }
  if (m.payload() != nullptr) out.payload.assign(static_cast<const char*>(m.payload()), m.len());
  out.timestamp_ms = m.timestamp().timestamp;
  if (auto* h = const_cast<RdKafka::Message&>(m).headers()) {
    for (const auto& header : h->get_all()) {
      std::string value;
      if (header.value() != nullptr) {
        value.assign(static_cast<const char*>(header.value()), header.value_size());
      }
      out.headers.emplace_back(header.key(), value);
    }
  }
  return out;
}

std::optional<std::string> Decode(const Message& m, google::protobuf::Message& out) {
  const std::string expected = out.GetTypeName();
  if (auto type = m.Header(kHeaderMessageType); type && *type != expected) {
    return "message-type header is '" + *type + "', expected '" + expected + "'";
  }
  if (m.payload.empty()) return "empty payload, expected " + expected;
  if (!out.ParseFromString(m.payload)) {
    return "payload is not a valid " + expected + " (" + std::to_string(m.payload.size()) +
           " bytes)";
  }
  const auto* env = envelope::Of(out);
  if (env == nullptr) return expected + " has no envelope";
  if (auto err = envelope::Validate(*env)) return *err;
  if (m.key != env->remediation_id()) {
    return "message key '" + m.key.substr(0, 64) + "' differs from envelope.remediation_id '" +
           env->remediation_id() + "'";
  }
  return std::nullopt;
}

}  // namespace aiops::kafka
