// aiops-test-consumer: a consumer-group member built on the common Kafka consumer, run as a
// separate process by the integration tests so they can kill it at a precise moment.
// For every aiops.v1.Anomaly it prints "handling key=K offset=O"; when the key equals
// --hang-on it never returns from the handler (the test then SIGKILLs it before the offset
// is stored); otherwise it prints "handled key=K".
#include <CLI/CLI.hpp>

#include <iostream>
#include <thread>

#include "aiops/kafka_consumer.hpp"
#include "aiops/log.hpp"
#include "aiops/shutdown.hpp"
#include "aiops/v1/anomaly.pb.h"

int main(int argc, char** argv) {
  CLI::App app("test consumer for integration tests", "aiops-test-consumer");
  aiops::kafka::KafkaConfig config;
  std::string topic = "aiops.anomalies";
  std::string hang_on;
  app.add_option("--bootstrap", config.bootstrap)->required();
  app.add_option("--group", config.group_id)->required();
  app.add_option("--topic", topic);
  app.add_option("--hang-on", hang_on, "never finish handling the message with this key");
  CLI11_PARSE(app, argc, argv);
  // Same short session as the in-process test consumers (consumer_harness.hpp).
  config.properties["session.timeout.ms"] = "6000";
  config.properties["heartbeat.interval.ms"] = "500";

  aiops::log::Init("aiops-test-consumer", "info", "text");
  aiops::shutdown::Install();
  aiops::kafka::Producer deadletter(config, "aiops-test-consumer");
  aiops::kafka::Consumer consumer(
      config, "aiops-test-consumer", {{topic}},
      aiops::kafka::Decoding<aiops::v1::Anomaly>(
          [&](const aiops::v1::Anomaly&, const aiops::kafka::Message& m) {
            std::cout << "handling key=" << m.key << " offset=" << m.offset << std::endl;
            if (!hang_on.empty() && m.key == hang_on) {
              while (true)
                std::this_thread::sleep_for(std::chrono::hours(1));
            }
            std::cout << "handled key=" << m.key << std::endl;
            return aiops::kafka::Outcome::Ok();
          }),
      deadletter);
  aiops::shutdown::OnStop([&] { consumer.Stop(); });
  consumer.Run();
  std::cout << "stopped" << std::endl;
  return 0;
}
