// A consumed Kafka message, copied out of librdkafka, and how protobuf payloads are decoded.
#pragma once

#include <google/protobuf/message.h>

#include <cstdint>
#include <optional>
#include <string>

#include "aiops/kafka_producer.hpp"

namespace RdKafka {
class Message;
}

namespace aiops::kafka {

struct Message {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
  std::string key;
  std::string payload;
  Headers headers;
  int64_t timestamp_ms = 0;

  // Value of the first header with this name.
  std::optional<std::string> Header(const std::string& name) const;

  static Message From(const RdKafka::Message& m);
};

// Parses a topic message strictly: the message-type header, when present, must name `out`'s
// type; the bytes must parse; the envelope must be present and valid; the Kafka key must be
// the remediation id. Returns the reason when any of that fails.
std::optional<std::string> Decode(const Message& m, google::protobuf::Message& out);

}  // namespace aiops::kafka
