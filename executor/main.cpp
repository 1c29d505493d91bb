// aiops-executor: applies approved decisions from aiops.decisions to their cluster (guardrails,
// staleness, dry run, server-side apply, rollout verification, automatic rollback) and
// publishes every state change of an attempt to aiops.executions.
#include <iostream>

#include "aiops/envelope.hpp"
#include "aiops/kafka_consumer.hpp"
#include "aiops/kube/clusters.hpp"
#include "aiops/log.hpp"
#include "aiops/service.hpp"
#include "aiops/shutdown.hpp"
#include "aiops/topics.hpp"
#include "aiops/v1/decision.pb.h"
#include "executor_core.hpp"

using namespace aiops;

int main(int argc, char** argv) {
  Service service("aiops-executor",
                  "aiops-executor: applies approved remediations safely and verifies them",
                  "127.0.0.1:9105");
  YAML::Node clusters_section;
  executor::Options opts;
  int verify_timeout_s = 120, rollback_timeout_s = 120, poll_ms = 500, max_in_flight = 32;
  auto& s = service.schema();
  s.AddSection("clusters", &clusters_section,
               "clusters: [{name, kubeconfig, context} | {name, in_cluster: true}]");
  s.Add("executor.field_manager", &opts.field_manager, "server-side apply field manager");
  s.Add("executor.take_over_update_managers", &opts.take_over_update_managers,
        "take fields over from Update (imperative) managers without the decision's force");
  s.Add("executor.verify_timeout_seconds", &verify_timeout_s,
        "deadline for the rollout to become healthy", config::Positive());
  s.Add("executor.rollback_verify_timeout_seconds", &rollback_timeout_s,
        "deadline for the rollback to roll out", config::Positive());
  s.Add("executor.poll_interval_ms", &poll_ms, "rollout polling interval", config::Positive());
  s.Add("executor.fail_fast", &opts.fail_fast,
        "fail verification at once when a new pod is in a hard failure state");
  s.Add("executor.max_in_flight", &max_in_flight,
        "decisions executed at the same time (one workload's stay one after the other)",
        config::Positive());
  if (auto rc = service.Init(argc, argv)) return *rc;
  opts.producer = service.instance();
  opts.verify_timeout = std::chrono::seconds(verify_timeout_s);
  opts.rollback_verify_timeout = std::chrono::seconds(rollback_timeout_s);
  opts.poll_interval = std::chrono::milliseconds(poll_ms);

  std::map<std::string, std::unique_ptr<kube::Client>> clients;
  try {
    clients = kube::ConnectClusters(kube::ParseClusters(clusters_section));
  } catch (const std::exception& e) {
    std::cerr << "aiops-executor: " << e.what() << "\n";
    return 2;
  }

  auto& metrics = service.metrics();
  kafka::Producer producer(service.kafka(), service.name(), &metrics);
  std::atomic<bool> stopping{false};
  auto publish = [&](const v1::ExecutionResult& r) {
    auto d = producer.PublishAndWait(topics::kExecutions, r.envelope().remediation_id(), r,
                                     std::chrono::seconds(30));
    if (!d.ok) log::Warn({log::Rid(r.envelope().remediation_id())}, "publish failed: {}", d.error);
    return d.ok;
  };

  // Verification waits for the rollout, so decisions run concurrently; two decisions about
  // the same workload never do (the second must see the first's result: staleness, marker).
  kafka::ConsumerOptions consumer_opts{{topics::kDecisions}};
  consumer_opts.max_in_flight = max_in_flight;
  consumer_opts.order_key = [](const kafka::Message& m) {
    v1::Decision d;
    if (kafka::Decode(m, d)) return m.key;  // undecodable: dead-lettered by the handler
    const auto& w = d.workload();
    return d.envelope().cluster() + "/" + w.namespace_() + "/" + w.kind() + "/" + w.name();
  };
  kafka::Consumer consumer(
      service.kafka(), service.name(), consumer_opts,
      kafka::Decoding<v1::Decision>(
          [&](const v1::Decision& decision, const kafka::Message&) -> kafka::Outcome {
            const auto& id = decision.envelope().remediation_id();
            // Rejections and expiries change nothing; there is nothing to execute.
            if (decision.verdict() != v1::Decision::VERDICT_APPROVED) return kafka::Outcome::Ok();
            auto it = clients.find(decision.envelope().cluster());
            if (it == clients.end()) {
              v1::ExecutionResult r;
              *r.mutable_envelope() = envelope::Next(decision.envelope(), service.instance());
              r.set_attempt(decision.attempt());
              r.set_status(v1::ExecutionResult::STATUS_FAILED);
              r.set_reason("unknown cluster '" + decision.envelope().cluster() +
                           "' (not in clusters:)");
              metrics
                  .GetCounter("aiops_executor_executions_total", "Executions by final status",
                              {{"status", "failed"}})
                  .Inc();
              return publish(r) ? kafka::Outcome::Ok() : kafka::Outcome::Retry("publish failed");
            }
            executor::ClientKubeApi api(*it->second);
            executor::Executor ex(api, opts, {}, &metrics, &stopping);
            bool aborted = false;
            auto result = ex.Execute(decision, publish, &aborted);
            if (aborted) return kafka::Outcome::Retry("execution interrupted before its end");
            if (!publish(result)) return kafka::Outcome::Retry("publishing the result failed");
            log::Info({log::Rid(id), {"status", v1::ExecutionResult::Status_Name(result.status())}},
                      "execution published");
            return kafka::Outcome::Ok();
          }),
      producer, &metrics);

  service.StartHttp([&]() -> std::optional<std::string> {
    if (!producer.Reachable(std::chrono::seconds(1))) return "kafka unreachable";
    return std::nullopt;
  });
  shutdown::OnStop([&] {
    stopping = true;
    consumer.Stop();
  });
  consumer.Run();
  producer.Flush(std::chrono::seconds(10));
  log::Info({}, "aiops-executor stopped");
  return 0;
}
