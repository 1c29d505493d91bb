// What every service's main() shares: the command line (--config, --log-format, --set ...),
// configuration from defaults < file < environment < flags, logging set-up, the metrics
// registry, the /healthz /readyz /metrics server and signal handling. A service registers
// its own keys on schema() before Init(), then wires its core.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aiops/config.hpp"
#include "aiops/health_server.hpp"
#include "aiops/kafka_config.hpp"
#include "aiops/metrics.hpp"

namespace aiops {

class Service {
 public:
  // `default_listen` is the health/metrics address unless configured ("127.0.0.1:9101").
  Service(std::string name, std::string description, std::string default_listen);

  config::Schema& schema() { return schema_; }
  CLI::App& cli() { return app_; }

  // Parses the command line and loads the configuration. Returns an exit code when the
  // process should end now (--help: 0; bad flags or configuration: 2, with the error
  // printed naming the key); nullopt to go on.
  std::optional<int> Init(int argc, char** argv);

  // Starts the health/metrics server; `ready` decides /readyz.
  void StartHttp(http::ReadinessCheck ready);

  const std::string& name() const { return name_; }
  // "<name>/<hostname>-<pid>": the producer recorded in envelopes.
  std::string instance() const;
  kafka::KafkaConfig& kafka() { return kafka_; }
  metrics::Registry& metrics() { return metrics_; }
  http::HealthServer& http() { return *http_; }
  const std::string& config_file() const { return config_file_; }

 private:
  std::string name_;
  CLI::App app_;
  config::Schema schema_;
  kafka::KafkaConfig kafka_;
  metrics::Registry metrics_;
  std::unique_ptr<http::HealthServer> http_;
  std::string listen_;
  std::string log_level_ = "info";
  std::string log_format_ = "text";
  std::string config_file_;
};

}  // namespace aiops
