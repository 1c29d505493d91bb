// Builds librdkafka configurations from KafkaConfig, for the wrappers in common/ and for
// tools that need a raw librdkafka handle.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <map>
#include <memory>
#include <string>

#include "aiops/kafka_config.hpp"

namespace aiops::kafka::internal {

// bootstrap.servers, client.id and the pass-through properties, then `overrides`.
// Throws std::runtime_error naming the property librdkafka refused.
std::unique_ptr<RdKafka::Conf> BuildConf(const KafkaConfig& config, const std::string& client_id,
                                         const std::map<std::string, std::string>& overrides);

// Sets one property or throws with librdkafka's message.
void SetOrThrow(RdKafka::Conf& conf, const std::string& key, const std::string& value);

}  // namespace aiops::kafka::internal
