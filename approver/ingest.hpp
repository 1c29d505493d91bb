// Kafka side of the approver: topic messages into the Store, decisions out to aiops.decisions.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "aiops/kafka_message.hpp"
#include "aiops/kafka_producer.hpp"
#include "approver.hpp"
#include "store.hpp"

namespace aiops::approver {

struct IngestOutcome {
  enum class Kind { kApplied, kDuplicate, kInvalid, kIgnored };
  Kind kind = Kind::kApplied;
  std::string error;
};

// Decodes a message of one of the five pipeline topics strictly (kafka::Decode) and folds it
// into the store. Undecodable messages are reported as kInvalid and change nothing; messages
// of other topics are kIgnored.
IngestOutcome Ingest(Store& store, const kafka::Message& m);

// Publishes to aiops.decisions keyed by remediation id and waits for the broker's ack.
class KafkaDecisionSink : public DecisionSink {
 public:
  KafkaDecisionSink(kafka::Producer& producer, std::chrono::milliseconds timeout)
      : producer_(producer), timeout_(timeout) {}
  std::optional<std::string> Publish(const v1::Decision& decision) override;

 private:
  kafka::Producer& producer_;
  std::chrono::milliseconds timeout_;
};

}  // namespace aiops::approver
