// At-least-once consumer-group consumer. A message's offset is stored (and later committed)
// only after its handler succeeded or the message was safely dead-lettered, so a crash at
// any point redelivers rather than loses. Handlers must therefore be idempotent.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aiops/kafka_config.hpp"
#include "aiops/kafka_message.hpp"
#include "aiops/kafka_producer.hpp"

namespace RdKafka {
class KafkaConsumer;
}

namespace aiops::metrics {
class Registry;
}

namespace aiops::kafka {

// Header names on dead-lettered messages (the payload and key are the original ones).
inline constexpr const char* kHeaderDlqError = "x-aiops-error";
inline constexpr const char* kHeaderDlqTopic = "x-aiops-origin-topic";
inline constexpr const char* kHeaderDlqPartition = "x-aiops-origin-partition";
inline constexpr const char* kHeaderDlqOffset = "x-aiops-origin-offset";
inline constexpr const char* kHeaderDlqGroup = "x-aiops-consumer-group";

// What a handler says about one message.
struct Outcome {
  enum class Kind {
    kOk,          // done: store the offset
    kRetry,       // transient failure: retry with back-off, dead-letter when retries run out
    kDeadLetter,  // will never succeed (undecodable, invalid): dead-letter at once
  };
  Kind kind = Kind::kOk;
  std::string reason;

  static Outcome Ok() { return {}; }
  static Outcome Retry(std::string reason) { return {Kind::kRetry, std::move(reason)}; }
  static Outcome DeadLetter(std::string reason) { return {Kind::kDeadLetter, std::move(reason)}; }
};

using Handler = std::function<Outcome(const Message&)>;

// Wraps a handler of one protobuf type: undecodable or invalid messages are dead-lettered
// with the decoder's reason and never reach `handle`.
template <class Msg>
Handler Decoding(std::function<Outcome(const Msg&, const Message&)> handle) {
  return [handle = std::move(handle)](const Message& m) -> Outcome {
    Msg msg;
    if (auto err = Decode(m, msg)) return Outcome::DeadLetter(*err);
    return handle(msg, m);
  };
}

struct ConsumerOptions {
  std::vector<std::string> topics;
  // Where a group with no committed offset starts: "earliest" (default: nothing is skipped)
  // or "latest".
  std::string auto_offset_reset = "earliest";
  // Messages handled at the same time. 1: one after the other on the Run() thread. Above 1:
  // a pool of this many threads; messages with the same ordering key stay in order, others
  // run concurrently, and a partition's offset is stored only up to its oldest unfinished
  // message, so a crash still redelivers rather than loses (handlers stay idempotent).
  int max_in_flight = 1;
  // The ordering key of a message (default: the Kafka key). Messages with equal keys are
  // never handled at the same time.
  std::function<std::string(const Message&)> order_key = nullptr;
};

class Consumer {
 public:
  // `deadletter` produces to config.deadletter_topic; it must outlive the consumer.
  Consumer(const KafkaConfig& config, const std::string& service, ConsumerOptions options,
           Handler handler, Producer& deadletter, metrics::Registry* metrics = nullptr);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Consumes until Stop(); then commits stored offsets and leaves the group. Never throws
  // for bad input: handler exceptions count as retryable failures.
  void Run();
  // Thread-safe; Run() returns within about one poll interval.
  void Stop() { stop_ = true; }
  // True once the group gave this member at least one partition.
  bool HasAssignment() const { return assigned_partitions_ > 0; }
  const std::string& group_id() const { return group_id_; }

 private:
  class Rebalancer;
  class Pool;
  // Next message from the broker within the poll interval (errors logged, rate-limited).
  std::optional<Message> Poll();
  void RunConcurrent();
  // Runs the handler (retries, dead-letter); true when the offset may be stored.
  bool Handle(const Message& m);
  // Produces to the dead-letter topic until acknowledged; false if stopped first.
  bool SendToDeadLetter(const Message& m, const std::string& reason);
  // Stores `next` (the next offset to read) for the partition.
  void StoreOffset(const std::string& topic, int32_t partition, int64_t next);
  // Sleeps in small steps so Stop() is honoured; false when stopped.
  bool Backoff(int ms);

  KafkaConfig config_;
  std::string group_id_;
  ConsumerOptions options_;
  Handler handler_;
  Producer& deadletter_;
  metrics::Registry* metrics_;
  std::unique_ptr<Rebalancer> rebalancer_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::atomic<bool> stop_{false};
  std::atomic<int> assigned_partitions_{0};
  std::chrono::steady_clock::time_point last_error_log_{};
};

}  // namespace aiops::kafka
