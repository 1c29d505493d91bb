#include "aiops/kafka_config.hpp"

#include "aiops/config.hpp"

namespace aiops::kafka {

void KafkaConfig::Register(config::Schema& schema) {
  schema.Add("kafka.bootstrap", &bootstrap,
             "Kafka bootstrap servers, host:port[,host:port] (the development broker prints its "
             "own)",
             config::NonEmpty());
  schema.Add("kafka.client_id", &client_id, "client.id prefix", config::NonEmpty());
  schema.Add("kafka.group_id", &group_id, "consumer group id (default: the service name)");
  schema.Add("kafka.handler_retries", &handler_retries,
             "retries of a failing message handler before the message is dead-lettered",
             config::NonNegative());
  schema.Add("kafka.retry_backoff_ms", &retry_backoff_ms,
             "first back-off between handler retries, doubled each retry", config::Positive());
  schema.Add("kafka.deadletter_topic", &deadletter_topic, "dead-letter topic", config::NonEmpty());
  schema.Add("kafka.properties", &properties,
             "extra librdkafka properties, e.g. security.protocol: SASL_SSL");
}

}  // namespace aiops::kafka
