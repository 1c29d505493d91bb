// The bad messages the fault-injection suite puts on each pipeline topic: random bytes, valid
// messages truncated, oversized, the wrong type, empty, without a key, with an invalid
// envelope. Each carries the header `x-test-case` so the test can find its dead letter.
#pragma once

#include <google/protobuf/message.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aiops/kafka_producer.hpp"

namespace aiops::testing {

inline constexpr const char* kTestCaseHeader = "x-test-case";

struct BadMessage {
  std::string name;  // also the x-test-case header value
  std::string key;
  bool null_key = false;  // produce without a key at all (kcat), not an empty one
  // The case is one a consumer must refuse (the test checks the decoder agrees); false for
  // valid input a service must merely survive (huge field, unlabelled wrong type, a cut that
  // may land on a field boundary).
  bool must_refuse = true;
  std::string payload;
  kafka::Headers headers;
  // What the consumers' decoder says (kafka::Decode with the topic's type); nullopt when the
  // message decodes, i.e. it is valid input a service must handle (huge field, some wrong types).
  std::optional<std::string> refusal;
};

// An empty message of the type `topic` carries (aiops.v1.Anomaly for aiops.anomalies, ...).
std::unique_ptr<google::protobuf::Message> NewOfTopic(const std::string& topic);

// A valid message of the topic's type for remediation `rid`: envelope, a workload that does
// not exist in the cluster (analytics/ghost-*), and `filler` in one free-text field.
std::string ValidPayload(const std::string& topic, const std::string& rid,
                         const std::string& filler = "bad-input test message");

// Every bad message for one topic; `tag` makes keys and remediation ids unique per topic.
std::vector<BadMessage> BadMessagesFor(const std::string& topic, const std::string& tag);

}  // namespace aiops::testing
