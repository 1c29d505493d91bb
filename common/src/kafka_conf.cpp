#include "aiops/kafka_conf.hpp"

#include <stdexcept>

namespace aiops::kafka::internal {

void SetOrThrow(RdKafka::Conf& conf, const std::string& key, const std::string& value) {
  std::string err;
  if (conf.set(key, value, err) != RdKafka::Conf::CONF_OK) {
    throw std::runtime_error("kafka property " + key + "=" + value + ": " + err);
  }
}

std::unique_ptr<RdKafka::Conf> BuildConf(const KafkaConfig& config, const std::string& client_id,
                                         const std::map<std::string, std::string>& overrides) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  SetOrThrow(*conf, "bootstrap.servers", config.bootstrap);
  SetOrThrow(*conf, "client.id", client_id);
  for (const auto& [k, v] : config.properties)
    SetOrThrow(*conf, k, v);
  for (const auto& [k, v] : overrides)
    SetOrThrow(*conf, k, v);
  return conf;
}

}  // namespace aiops::kafka::internal
