// Idempotent Kafka producer (acks=all implied) whose delivery reports reach the caller as a
// future, so a stage can act only once the broker has acknowledged its message.
#pragma once

#include <google/protobuf/message.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "aiops/kafka_config.hpp"

namespace RdKafka {
class Producer;
class Topic;
}  // namespace RdKafka

namespace aiops::metrics {
class Registry;
}

namespace aiops::kafka {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Header names set on every message we produce.
inline constexpr const char* kHeaderContentType = "content-type";
inline constexpr const char* kHeaderMessageType = "message-type";
inline constexpr const char* kHeaderSchemaVersion = "schema-version";
inline constexpr const char* kContentTypeProtobuf = "application/x-protobuf";

struct Delivery {
  bool ok = false;
  std::string error;
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
};

class Producer {
 public:
  // Throws std::runtime_error when librdkafka rejects the configuration.
  Producer(const KafkaConfig& config, const std::string& service,
           metrics::Registry* metrics = nullptr);
  ~Producer();  // flushes (bounded) and stops the poll thread
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Queues a message; the future resolves with the broker's acknowledgement or the error.
  std::future<Delivery> Send(const std::string& topic, const std::string& key,
                             const std::string& payload, const Headers& headers = {});
  // Serialises a topic message and adds content-type, message-type and schema-version headers.
  std::future<Delivery> Publish(const std::string& topic, const std::string& key,
                                const google::protobuf::Message& message);
  // Send and wait up to `timeout` for the delivery report.
  Delivery SendAndWait(const std::string& topic, const std::string& key, const std::string& payload,
                       const Headers& headers, std::chrono::milliseconds timeout);
  Delivery PublishAndWait(const std::string& topic, const std::string& key,
                          const google::protobuf::Message& message,
                          std::chrono::milliseconds timeout);

  // Waits until every queued message is delivered or failed; false on timeout.
  bool Flush(std::chrono::milliseconds timeout);
  // True when a metadata request to the cluster succeeds within `timeout` (for /readyz).
  bool Reachable(std::chrono::milliseconds timeout);

 private:
  class DeliveryCallback;
  std::unique_ptr<DeliveryCallback> callback_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::atomic<bool> stop_{false};
  std::thread poller_;
  // Handles of the aiops.* topics whose metadata is fetched at start (see WarmUp in the .cpp);
  // declared after producer_ so they are released before it.
  std::vector<std::unique_ptr<RdKafka::Topic>> warm_topics_;
  std::thread warmer_;
};

}  // namespace aiops::kafka
