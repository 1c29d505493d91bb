// Kafka connection settings shared by producers and consumers of every service.
#pragma once

#include <map>
#include <string>

namespace aiops::config {
class Schema;
}

namespace aiops::kafka {

struct KafkaConfig {
  std::string bootstrap = "127.0.0.1:9092";
  // Client id prefix; the service name is appended.
  std::string client_id = "aiops";
  // Consumer group id; services default it to their own name.
  std::string group_id;
  // Handler failures are retried this many times (with doubling back-off) before the
  // message is dead-lettered.
  int handler_retries = 3;
  int retry_backoff_ms = 200;
  std::string deadletter_topic = "aiops.deadletter";
  // Extra librdkafka properties (security.protocol, sasl.*, ssl.*, ...), passed through.
  std::map<std::string, std::string> properties;

  // Registers kafka.* keys (AIOPS_KAFKA_BOOTSTRAP, ...) in a config schema.
  void Register(config::Schema& schema);
};

}  // namespace aiops::kafka
