// aiops-devbroker: a development and test Kafka broker. It runs the librdkafka mock cluster,
// a real Kafka-protocol broker on localhost that any client (our services, kcat) can use,
// and creates the aiops.* topics. Everything is in memory: no durability, no security.
// Never use it in production.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "aiops/log.hpp"
#include "aiops/shutdown.hpp"
#include "aiops/topics.hpp"
#include "control_server.hpp"

namespace {

// Writes atomically (temp file + rename) so a reader never sees a half-written address.
void WriteAddressFile(const std::string& path, const std::string& address) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    if (!out) throw std::runtime_error("cannot write " + tmp);
    out << address << "\n";
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app(
      "Development Kafka broker for the AIOps pipeline: the librdkafka mock cluster on "
      "localhost with the aiops.* topics. In memory only, for development and tests; "
      "never for production.",
      "aiops-devbroker");
  int brokers = 1;
  int partitions = 6;
  std::string bootstrap_file;
  std::string log_format = "text";
  std::vector<std::string> extra_topics;
  std::string control_listen;
  std::string control_file;
  app.add_option("--brokers", brokers, "number of brokers in the mock cluster")
      ->check(CLI::Range(1, 9));
  app.add_option("--partitions", partitions, "partitions per aiops.* topic")
      ->check(CLI::Range(1, 256));
  app.add_option("--bootstrap-file", bootstrap_file,
                 "also write the bootstrap address to this file (atomically)");
  app.add_option("--topic", extra_topics, "create an extra topic (repeatable)");
  app.add_option("--control-listen", control_listen,
                 "serve the fault-injection endpoint on this loopback host:port (port 0 picks "
                 "one; prints control=HOST:PORT)");
  app.add_option("--control-file", control_file,
                 "also write the control endpoint's HOST:PORT to this file (atomically)")
      ->needs(app.get_option("--control-listen"));
  app.add_option("--log-format", log_format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  CLI11_PARSE(app, argc, argv);

  aiops::log::Init("aiops-devbroker", "info", log_format);
  aiops::shutdown::Install();

  // The mock cluster hangs off a client handle; a producer handle is the lightest one.
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "client.id", "aiops-devbroker", err, sizeof(err));
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (rk == nullptr) {
    std::cerr << "aiops-devbroker: cannot create client handle: " << err << "\n";
    return 1;
  }
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(rk, brokers);
  if (cluster == nullptr) {
    std::cerr << "aiops-devbroker: cannot start the mock cluster\n";
    rd_kafka_destroy(rk);
    return 1;
  }
  // The mock does not implement CreateTopics (NOTES.md): create topics through its API.
  std::vector<std::string> topics = aiops::topics::All();
  topics.insert(topics.end(), extra_topics.begin(), extra_topics.end());
  int replication = std::min(brokers, 3);
  for (const auto& topic : topics) {
    auto rc = rd_kafka_mock_topic_create(cluster, topic.c_str(), partitions, replication);
    if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::cerr << "aiops-devbroker: cannot create topic " << topic << ": " << rd_kafka_err2str(rc)
                << "\n";
      rd_kafka_mock_cluster_destroy(cluster);
      rd_kafka_destroy(rk);
      return 1;
    }
  }
  std::string bootstrap = rd_kafka_mock_cluster_bootstraps(cluster);
  try {
    if (!bootstrap_file.empty()) WriteAddressFile(bootstrap_file, bootstrap);
  } catch (const std::exception& e) {
    std::cerr << "aiops-devbroker: " << e.what() << "\n";
    rd_kafka_mock_cluster_destroy(cluster);
    rd_kafka_destroy(rk);
    return 1;
  }
  std::unique_ptr<aiops::devbroker::ControlServer> control;
  if (!control_listen.empty()) {
    try {
      control = std::make_unique<aiops::devbroker::ControlServer>(cluster, bootstrap, brokers);
      std::string address = control->Start(control_listen);
      if (!control_file.empty()) WriteAddressFile(control_file, address);
      std::cout << "control=" << address << std::endl;
    } catch (const std::exception& e) {
      std::cerr << "aiops-devbroker: " << e.what() << "\n";
      rd_kafka_mock_cluster_destroy(cluster);
      rd_kafka_destroy(rk);
      return 1;
    }
  }
  std::cout << "bootstrap=" << bootstrap << std::endl;
  aiops::log::Info({{"bootstrap", bootstrap},
                    {"brokers", std::to_string(brokers)},
                    {"partitions", std::to_string(partitions)},
                    {"topics", std::to_string(topics.size())}},
                   "development broker ready (in memory, not for production)");

  aiops::shutdown::Wait();

  control.reset();  // before the cluster it points at
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(rk);
  std::error_code ec;  // removing what another run may already have removed is no error
  if (!bootstrap_file.empty()) std::filesystem::remove(bootstrap_file, ec);
  if (!control_file.empty()) std::filesystem::remove(control_file, ec);
  aiops::log::Info({}, "development broker stopped");
  return 0;
}
