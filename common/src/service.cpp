#include "aiops/service.hpp"

#include <unistd.h>

#include <iostream>

#include "aiops/log.hpp"
#include "aiops/shutdown.hpp"

namespace aiops {

Service::Service(std::string name, std::string description, std::string default_listen)
    : name_(std::move(name)), app_(std::move(description), name_), listen_(default_listen) {
  kafka_.group_id = name_;
  kafka_.Register(schema_);
  // The sections of every pipeline service: one shared file may hold them all.
  schema_.IgnoreSections({"clusters", "detector", "collector", "proposer", "llm", "approver",
                          "auth", "grpc", "policies", "executor"});
  schema_.Add("http.listen", &listen_, "address of /healthz, /readyz and /metrics (host:port)",
              config::HostPort());
  schema_.Add("log.level", &log_level_, "trace, debug, info, warn or error",
              config::OneOf({"trace", "debug", "info", "warn", "error", "off"}));
  schema_.Add("log.format", &log_format_, "text (human) or json (one object per line)",
              config::OneOf({"text", "json"}));
}

std::optional<int> Service::Init(int argc, char** argv) {
  std::optional<std::string> flag_bootstrap, flag_listen, flag_level, flag_format;
  std::vector<std::string> sets;
  bool help_config = false;
  app_.add_option("--config", config_file_, "YAML configuration file");
  app_.add_option("--kafka-bootstrap", flag_bootstrap, "Kafka bootstrap servers (kafka.bootstrap)");
  app_.add_option("--http-listen", flag_listen, "health/metrics address (http.listen)");
  app_.add_option("--log-level", flag_level, "log level (log.level)");
  app_.add_option("--log-format", flag_format, "text or json (log.format)");
  app_.add_option("--set", sets, "override any key: --set kafka.handler_retries=5 (repeatable)");
  app_.add_flag("--help-config", help_config, "list every configuration key and its variable");
  app_.footer(
      "Configuration: built-in defaults, then --config FILE, then AIOPS_* environment "
      "variables, then flags. See --help-config.");
  try {
    app_.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app_.exit(e);
  }
  if (help_config) {
    std::cout << "Configuration keys of " << name_ << " (file key, environment variable):\n"
              << schema_.Describe();
    return 0;
  }
  try {
    if (!config_file_.empty()) schema_.LoadFile(config_file_);
    schema_.ApplyProcessEnv();
    if (flag_bootstrap) schema_.Set("kafka.bootstrap", *flag_bootstrap, "--kafka-bootstrap");
    if (flag_listen) schema_.Set("http.listen", *flag_listen, "--http-listen");
    if (flag_level) schema_.Set("log.level", *flag_level, "--log-level");
    if (flag_format) schema_.Set("log.format", *flag_format, "--log-format");
    for (const auto& s : sets) {
      auto eq = s.find('=');
      if (eq == std::string::npos) throw config::ConfigError("--set " + s + ": expected key=value");
      schema_.Set(s.substr(0, eq), s.substr(eq + 1), "--set");
    }
    schema_.Validate();
  } catch (const config::ConfigError& e) {
    std::cerr << name_ << ": configuration error: " << e.what() << "\n";
    return 2;
  }
  log::Init(name_, log_level_, log_format_);
  shutdown::Install();
  log::Info(
      {{"config", config_file_.empty() ? "(defaults)" : config_file_}, {"kafka", kafka_.bootstrap}},
      "{} starting", name_);
  return std::nullopt;
}

void Service::StartHttp(http::ReadinessCheck ready) {
  http_ = std::make_unique<http::HealthServer>(metrics_, std::move(ready));
  http_->Start(listen_);
  log::Info({{"address", http_->host() + ":" + std::to_string(http_->port())}},
            "serving /healthz /readyz /metrics");
}

std::string Service::instance() const {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return name_ + "/" + host + "-" + std::to_string(getpid());
}

}  // namespace aiops
