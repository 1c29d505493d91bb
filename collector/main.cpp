// aiops-collector: for every new incident on aiops.anomalies, gathers evidence from the
// incident's cluster and publishes it to aiops.evidence.
#include <deque>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include "aiops/kafka_consumer.hpp"
#include "aiops/kube/clusters.hpp"
#include "aiops/log.hpp"
#include "aiops/service.hpp"
#include "aiops/shutdown.hpp"
#include "aiops/topics.hpp"
#include "aiops/v1/anomaly.pb.h"
#include "evidence_builder.hpp"

using namespace aiops;

namespace {

// Remembers the last N remediation ids collected, so a re-announced incident (a restarted
// detector, a redelivered message) is not collected twice by this instance. Thread-safe:
// incidents are collected concurrently.
class RecentIds {
 public:
  explicit RecentIds(size_t capacity) : capacity_(capacity) {}
  bool Contains(const std::string& id) const {
    std::lock_guard lock(mu_);
    return set_.count(id) > 0;
  }
  void Add(const std::string& id) {
    std::lock_guard lock(mu_);
    if (!set_.insert(id).second) return;
    order_.push_back(id);
    if (order_.size() > capacity_) {
      set_.erase(order_.front());
      order_.pop_front();
    }
  }

 private:
  size_t capacity_;
  mutable std::mutex mu_;
  std::set<std::string> set_;
  std::deque<std::string> order_;
};

}  // namespace

int main(int argc, char** argv) {
  Service service("aiops-collector",
                  "aiops-collector: gathers the evidence of each incident from its cluster",
                  "127.0.0.1:9102");
  YAML::Node clusters_section;
  collector::BuilderOptions opts;
  int remember = 10000;
  int max_in_flight = 8;
  auto& s = service.schema();
  s.AddSection("clusters", &clusters_section,
               "clusters: [{name, kubeconfig, context} | {name, in_cluster: true}]");
  s.Add("collector.max_api_calls", &opts.max_api_calls, "API calls per incident",
        config::Positive());
  s.Add("collector.max_pods", &opts.max_pods, "pods described per incident", config::Positive());
  s.Add("collector.max_events", &opts.max_events, "events kept per incident", config::Positive());
  s.Add("collector.log_tail_lines", &opts.log_tail_lines, "log lines per container",
        config::Positive());
  s.Add("collector.log_limit_bytes", &opts.log_limit_bytes, "log bytes per container",
        config::Positive());
  s.Add("collector.max_bundle_bytes", &opts.max_bundle_bytes, "size cap of one evidence bundle",
        config::Positive());
  s.Add("collector.remember_ids", &remember, "incidents remembered to skip repeats",
        config::Positive());
  s.Add("collector.max_in_flight", &max_in_flight,
        "incidents collected at the same time (API calls wait on the network, not the CPU)",
        config::Positive());
  if (auto rc = service.Init(argc, argv)) return *rc;
  opts.producer = service.instance();

  std::map<std::string, std::unique_ptr<kube::Client>> clients;
  try {
    clients = kube::ConnectClusters(kube::ParseClusters(clusters_section));
  } catch (const std::exception& e) {
    std::cerr << "aiops-collector: " << e.what() << "\n";
    return 2;
  }

  auto& metrics = service.metrics();
  kafka::Producer producer(service.kafka(), service.name(), &metrics);
  RecentIds recent(static_cast<size_t>(remember));
  auto& duration =
      metrics.GetHistogram("aiops_collector_collect_seconds", "Time to gather one evidence bundle");

  kafka::ConsumerOptions consumer_opts{{topics::kAnomalies}};
  consumer_opts.max_in_flight = max_in_flight;  // one incident's messages stay in order
  kafka::Consumer consumer(
      service.kafka(), service.name(), consumer_opts,
      kafka::Decoding<v1::Anomaly>([&](const v1::Anomaly& anomaly,
                                       const kafka::Message&) -> kafka::Outcome {
        const auto& id = anomaly.envelope().remediation_id();
        if (anomaly.status() != v1::Anomaly::STATUS_OPEN) return kafka::Outcome::Ok();
        if (recent.Contains(id)) {
          log::Debug({log::Rid(id)}, "incident already collected, skipping repeat");
          return kafka::Outcome::Ok();
        }
        auto it = clients.find(anomaly.envelope().cluster());
        if (it == clients.end()) {
          return kafka::Outcome::DeadLetter("unknown cluster '" + anomaly.envelope().cluster() +
                                            "' (not in clusters:)");
        }
        auto started = std::chrono::steady_clock::now();
        collector::ClientReader reader(*it->second);
        collector::EvidenceBuilder builder(reader, opts);
        auto evidence = builder.Build(anomaly);
        duration.Observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        auto d = producer.PublishAndWait(topics::kEvidence, id, evidence, std::chrono::seconds(30));
        if (!d.ok) return kafka::Outcome::Retry("publishing evidence failed: " + d.error);
        recent.Add(id);
        metrics
            .GetCounter("aiops_collector_evidence_total", "Evidence bundles published",
                        {{"complete", evidence.collection_errors_size() == 0 ? "true" : "false"}})
            .Inc();
        log::Info({log::Rid(id),
                   {"pods", std::to_string(evidence.pods_size())},
                   {"events", std::to_string(evidence.events_size())},
                   {"logs", std::to_string(evidence.logs_size())},
                   {"api_calls", std::to_string(evidence.api_calls())},
                   {"errors", std::to_string(evidence.collection_errors_size())},
                   {"bytes", std::to_string(evidence.ByteSizeLong())}},
                  "evidence published");
        return kafka::Outcome::Ok();
      }),
      producer, &metrics);

  service.StartHttp([&]() -> std::optional<std::string> {
    if (!producer.Reachable(std::chrono::seconds(1))) return "kafka unreachable";
    return std::nullopt;
  });
  shutdown::OnStop([&] { consumer.Stop(); });
  consumer.Run();
  producer.Flush(std::chrono::seconds(10));
  log::Info({}, "aiops-collector stopped");
  return 0;
}
