// aiops-approver: keeps the life cycle of every remediation (rebuilt from the aiops.* topics
// at start-up), serves the Approval gRPC API, applies approval policies and publishes
// decisions to aiops.decisions. See docs/approver.md.
#include <atomic>
#include <chrono>
#include <iostream>
#include <thread>

#include "aiops/config.hpp"
#include "aiops/kafka_producer.hpp"
#include "aiops/kafka_reader.hpp"
#include "aiops/log.hpp"
#include "aiops/service.hpp"
#include "aiops/shutdown.hpp"
#include "aiops/topics.hpp"
#include "approver.hpp"
#include "auth.hpp"
#include "grpc_service.hpp"
#include "ingest.hpp"
#include "policy.hpp"
#include "store.hpp"

using namespace aiops;
using namespace aiops::approver;

int main(int argc, char** argv) {
  Service svc("aiops-approver",
              "AIOps approver: the remediation life cycle rebuilt from Kafka, the Approval "
              "gRPC API (list, get, approve, reject, watch) and approval policies",
              "127.0.0.1:9104");
  std::string grpc_listen = "127.0.0.1:50051";
  std::string tls_cert, tls_key;
  bool insecure_dev = false;
  int decision_timeout_ms = 10000;
  int sweep_interval_ms = 1000;
  YAML::Node auth_node, policies_node;
  auto& schema = svc.schema();
  schema.Add("grpc.listen", &grpc_listen, "Approval gRPC API address (host:port)",
             config::HostPort());
  schema.Add("grpc.tls_cert", &tls_cert, "PEM certificate chain for TLS (empty: plaintext)");
  schema.Add("grpc.tls_key", &tls_key, "PEM private key for TLS");
  schema.Add("grpc.insecure_dev", &insecure_dev,
             "accept calls without a token (development only; refused unless on loopback)");
  schema.AddSection("auth", &auth_node,
                    "bearer tokens: tokens: [{identity, role: viewer|approver, token_file | "
                    "token_env | token}]");
  schema.AddSection("policies", &policies_node,
                    "auto_approve rules, two_person, rate_limit, expiry (docs/approver.md)");
  schema.Add("approver.decision_timeout_ms", &decision_timeout_ms,
             "how long a decision waits for the broker's acknowledgement", config::Positive());
  schema.Add("approver.sweep_interval_ms", &sweep_interval_ms,
             "how often auto-approvals and expiries are checked", config::Positive());
  bool flag_insecure = false;
  std::optional<std::string> flag_grpc_listen;
  svc.cli().add_flag("--insecure-dev", flag_insecure,
                     "run without tokens (development only; refused unless listening on "
                     "loopback)");
  svc.cli().add_option("--grpc-listen", flag_grpc_listen, "gRPC address (grpc.listen)");

  if (auto rc = svc.Init(argc, argv)) return *rc;

  Policies policies;
  Authenticator auth;
  try {
    if (flag_grpc_listen) schema.Set("grpc.listen", *flag_grpc_listen, "--grpc-listen");
    schema.Validate();
    if (flag_insecure) insecure_dev = true;
    policies = Policies::FromYaml(policies_node);
    auth = Authenticator::FromYaml(auth_node);
    auth.set_insecure_dev(insecure_dev);
    auto [host, port] = config::SplitHostPort(grpc_listen);
    (void)port;
    if (insecure_dev && !IsLoopbackHost(host)) {
      throw config::ConfigError("--insecure-dev is refused: grpc.listen " + grpc_listen +
                                " is not a loopback address (use 127.0.0.1)");
    }
    if (!insecure_dev && auth.size() == 0) {
      throw config::ConfigError(
          "auth.tokens: no tokens configured; configure tokens, or run with --insecure-dev "
          "on a loopback address for development");
    }
    if (tls_cert.empty() != tls_key.empty())
      throw config::ConfigError("grpc.tls_cert and grpc.tls_key must be set together");
    if (tls_cert.empty() && !IsLoopbackHost(host)) {
      log::Warn({{"listen", grpc_listen}},
                "gRPC without TLS on a non-loopback address: bearer tokens travel in clear text");
    }
  } catch (const config::ConfigError& e) {
    std::cerr << "aiops-approver: configuration error: " << e.what() << "\n";
    return 2;
  }
  if (insecure_dev) {
    log::Warn({{"listen", grpc_listen}},
              "--insecure-dev: calls without a token act as '{}' with role approver",
              Authenticator::kInsecureIdentity);
  }

  kafka::Producer producer(svc.kafka(), svc.name(), &svc.metrics());
  Store store;
  KafkaDecisionSink sink(producer, std::chrono::milliseconds(decision_timeout_ms));
  Approver approver(store, policies, sink, svc.instance(), &svc.metrics());
  std::atomic<bool> caught_up{false};
  svc.StartHttp([&]() -> std::optional<std::string> {
    if (!caught_up) return "replaying the aiops.* topics";
    return std::nullopt;
  });

  // Every replica reads the whole history with its own reader group (no commits): the
  // state is a function of the topics, so replicas agree and a restart loses nothing.
  std::thread reader_thread([&] {
    kafka::TopicReader reader(svc.kafka(), topics::Pipeline(), /*from_beginning=*/true);
    auto started = std::chrono::steady_clock::now();
    auto last_progress = started;
    long messages = 0, invalid = 0;
    while (!shutdown::Requested()) {
      if (auto m = reader.Next(std::chrono::milliseconds(200))) {
        ++messages;
        auto out = Ingest(store, *m);
        const char* result = "applied";
        if (out.kind == IngestOutcome::Kind::kDuplicate) result = "duplicate";
        if (out.kind == IngestOutcome::Kind::kIgnored) result = "ignored";
        if (out.kind == IngestOutcome::Kind::kInvalid) {
          result = "invalid";
          ++invalid;
          log::Warn({{"topic", m->topic},
                     {"partition", std::to_string(m->partition)},
                     {"offset", std::to_string(m->offset)},
                     {"error", out.error}},
                    "skipping a message that does not decode");
        }
        svc.metrics()
            .GetCounter("aiops_approver_messages_total", "topic messages read, by result",
                        {{"topic", m->topic}, {"result", result}})
            .Inc();
        continue;
      }
      if (!caught_up && reader.CaughtUp()) {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
        approver.UpdateGauges();
        log::Info({{"messages", std::to_string(messages)},
                   {"invalid", std::to_string(invalid)},
                   {"remediations", std::to_string(store.size())},
                   {"ms", std::to_string(ms)}},
                  "state rebuilt from Kafka");
        caught_up = true;
      }
      if (!caught_up &&
          std::chrono::steady_clock::now() - last_progress > std::chrono::seconds(10)) {
        last_progress = std::chrono::steady_clock::now();
        log::Warn({{"messages", std::to_string(messages)}, {"last_error", reader.last_error()}},
                  "still replaying the topics");
      }
    }
  });

  while (!caught_up && !shutdown::WaitFor(std::chrono::milliseconds(50))) {
  }
  std::unique_ptr<grpc::Server> server;
  ApprovalService service(store, approver, auth, &svc.metrics());
  std::thread sweeper;
  if (!shutdown::Requested()) {
    try {
      int port = 0;
      server = StartServer({grpc_listen, tls_cert, tls_key}, service, &port);
      auto [host, p] = config::SplitHostPort(grpc_listen);
      (void)p;
      log::Info({{"address", host + ":" + std::to_string(port)},
                 {"tls", tls_cert.empty() ? "off" : "on"},
                 {"tokens", std::to_string(auth.size())}},
                "approver ready: serving the Approval gRPC API");
    } catch (const std::exception& e) {
      log::Error({{"error", e.what()}}, "cannot start the gRPC server");
      shutdown::RequestStop();
    }
    sweeper = std::thread([&] {
      uint64_t seen = 0;
      while (!shutdown::Requested()) {
        approver.Sweep();
        approver.UpdateGauges();
        uint64_t v = store.version();
        if (v == seen) store.WaitForChange(seen, std::chrono::milliseconds(sweep_interval_ms));
        seen = v;
      }
    });
  }

  shutdown::Wait();
  log::Info({}, "stopping");
  service.Stop();
  if (server) server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(3));
  if (sweeper.joinable()) sweeper.join();
  reader_thread.join();
  producer.Flush(std::chrono::seconds(5));
  svc.http().Stop();
  log::Info({}, "stopped");
  return 0;
}
