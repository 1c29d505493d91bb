// Runs a common Kafka consumer on a thread inside a test and records what its handler saw.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "aiops/envelope.hpp"
#include "aiops/kafka_consumer.hpp"
#include "aiops/v1/anomaly.pb.h"

namespace aiops::testing {

inline kafka::KafkaConfig TestKafkaConfig(const std::string& bootstrap, const std::string& group) {
  kafka::KafkaConfig config;
  config.bootstrap = bootstrap;
  config.group_id = group;
  config.handler_retries = 1;
  config.retry_backoff_ms = 20;
  // A member that died is noticed after the session timeout; the default 45 s would make
  // the crash tests wait that long for the rebalance.
  config.properties["session.timeout.ms"] = "6000";
  config.properties["heartbeat.interval.ms"] = "500";
  return config;
}

inline v1::Anomaly TestAnomaly(const std::string& id, const std::string& reason) {
  v1::Anomaly a;
  *a.mutable_envelope() = envelope::New(id, "test-cluster", "", "integration-test");
  envelope::Stamp(*a.mutable_envelope(), envelope::Stage::kDetected);
  a.set_reason(reason);
  a.set_failure_class(v1::FAILURE_CLASS_IMAGE_PULL);
  a.mutable_workload()->set_kind("Deployment");
  a.mutable_workload()->set_namespace_("shop");
  a.mutable_workload()->set_name("web");
  return a;
}

class RunningConsumer {
 public:
  // max_in_flight > 1: handled concurrently (ConsumerOptions::max_in_flight).
  RunningConsumer(const kafka::KafkaConfig& config, const std::string& topic,
                  kafka::Handler handler, kafka::Producer& deadletter, int max_in_flight = 1)
      : consumer_(
            config, "integration-test", Options(topic, max_in_flight),
            [this, handler](const kafka::Message& m) {
              auto outcome = handler(m);
              std::lock_guard lock(mu_);
              seen_.push_back(m);
              return outcome;
            },
            deadletter),
        thread_([this] { consumer_.Run(); }) {}

  ~RunningConsumer() { Stop(); }

  void Stop() {
    consumer_.Stop();
    if (thread_.joinable()) thread_.join();
  }

  std::vector<kafka::Message> Seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

  bool SawKey(const std::string& key) {
    for (const auto& m : Seen()) {
      if (m.key == key) return true;
    }
    return false;
  }

 private:
  static kafka::ConsumerOptions Options(const std::string& topic, int max_in_flight) {
    kafka::ConsumerOptions o{{topic}};
    o.max_in_flight = max_in_flight;
    return o;
  }

  std::mutex mu_;
  std::vector<kafka::Message> seen_;
  kafka::Consumer consumer_;
  std::thread thread_;
};

}  // namespace aiops::testing
