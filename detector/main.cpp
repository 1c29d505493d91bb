// aiops-detector: watches pods in every configured cluster and publishes one Anomaly per
// incident to aiops.anomalies. The logic is in DetectorCore; this file wires config, the
// kube clients, the Kafka producer and the health server.
#include <atomic>
#include <iostream>
#include <thread>

#include "aiops/kafka_producer.hpp"
#include "aiops/kube/clusters.hpp"
#include "aiops/kube/list_watch.hpp"
#include "aiops/log.hpp"
#include "aiops/names.hpp"
#include "aiops/service.hpp"
#include "aiops/shutdown.hpp"
#include "aiops/topics.hpp"
#include "detector_core.hpp"

using namespace aiops;

namespace {

struct Settings {
  YAML::Node clusters;
  std::vector<std::string> namespaces;
  std::vector<std::string> exclude_namespaces = {"kube-system"};
  std::string label_selector;
  int grace_seconds = 5;
  int unschedulable_grace_seconds = 30;
  int cooldown_seconds = 60;
  int update_interval_seconds = 10;
  int oom_window_seconds = 600;
  int tick_ms = 500;
  int page_size = 500;

  void Register(config::Schema& s) {
    s.AddSection("clusters", &clusters,
                 "clusters to watch: [{name, kubeconfig, context} | {name, in_cluster: true}]");
    s.Add("detector.namespaces", &namespaces, "only these namespaces (empty: all)");
    s.Add("detector.exclude_namespaces", &exclude_namespaces, "never these namespaces");
    s.Add("detector.label_selector", &label_selector, "only pods matching this label selector");
    s.Add("detector.grace_seconds", &grace_seconds,
          "a failure must last this long before it counts (filters transient states)",
          config::NonNegative());
    s.Add("detector.unschedulable_grace_seconds", &unschedulable_grace_seconds,
          "how long a pod may stay unschedulable before it counts", config::NonNegative());
    s.Add("detector.cooldown_seconds", &cooldown_seconds,
          "an incident with no failing pod closes after this long", config::NonNegative());
    s.Add("detector.update_interval_seconds", &update_interval_seconds,
          "minimum time between two updates of an open incident", config::NonNegative());
    s.Add("detector.oom_window_seconds", &oom_window_seconds,
          "an OOM kill this recent counts even if the container runs again", config::Positive());
    s.Add("detector.tick_ms", &tick_ms, "how often incidents are evaluated", config::Positive());
    s.Add("detector.page_size", &page_size, "list page size", config::Positive());
  }
};

struct ClusterWatch {
  std::string name;
  std::unique_ptr<kube::Client> client;
  std::unique_ptr<detector::DetectorCore> core;
  std::atomic<int> unsynced{0};  // list-watch loops that have not listed once yet
};

}  // namespace

int main(int argc, char** argv) {
  Service service("aiops-detector",
                  "aiops-detector: watches pods and publishes one anomaly per incident",
                  "127.0.0.1:9101");
  Settings settings;
  settings.Register(service.schema());
  if (auto rc = service.Init(argc, argv)) return *rc;

  std::vector<kube::ClusterConfig> cluster_configs;
  std::map<std::string, std::unique_ptr<kube::Client>> clients;
  try {
    cluster_configs = kube::ParseClusters(settings.clusters);
    clients = kube::ConnectClusters(cluster_configs);
  } catch (const std::exception& e) {
    log::Error({}, "cannot set up cluster access: {}", e.what());
    std::cerr << "aiops-detector: " << e.what() << "\n";
    return 2;
  }

  auto& metrics = service.metrics();
  kafka::Producer producer(service.kafka(), service.name(), &metrics);
  detector::Scope scope{settings.namespaces, settings.exclude_namespaces, settings.label_selector};

  std::vector<std::unique_ptr<ClusterWatch>> watches;
  for (auto& [name, client] : clients) {
    auto w = std::make_unique<ClusterWatch>();
    w->name = name;
    w->client = std::move(client);
    detector::TrackerOptions opts;
    opts.cluster = name;
    opts.producer = service.instance();
    opts.grace = std::chrono::seconds(settings.grace_seconds);
    opts.unschedulable_grace = std::chrono::seconds(settings.unschedulable_grace_seconds);
    opts.cooldown = std::chrono::seconds(settings.cooldown_seconds);
    opts.update_interval = std::chrono::seconds(settings.update_interval_seconds);
    kube::Client* c = w->client.get();
    w->core = std::make_unique<detector::DetectorCore>(
        opts, scope,
        [c](const std::string& ns, const std::string& rs) -> std::optional<nlohmann::json> {
          auto r = c->Get(kube::Path("apps", "v1", "replicasets", ns, rs));
          if (!r.ok()) return std::nullopt;
          return r.value();
        },
        settings.oom_window_seconds);
    watches.push_back(std::move(w));
  }

  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (auto& w : watches) {
    // One watch over all namespaces, or one per included namespace.
    std::vector<std::string> paths;
    if (settings.namespaces.empty()) {
      paths.push_back(kube::Path("", "v1", "pods"));
    } else {
      for (const auto& ns : settings.namespaces)
        paths.push_back(kube::Path("", "v1", "pods", ns));
    }
    w->unsynced = static_cast<int>(paths.size());
    auto& events = metrics.GetCounter("aiops_detector_watch_events_total",
                                      "Pod watch events processed", {{"cluster", w->name}});
    auto& restarts = metrics.GetCounter("aiops_detector_watch_restarts_total",
                                        "Pod watches restarted (closed, 410 Gone, errors)",
                                        {{"cluster", w->name}});
    for (const auto& path : paths) {
      threads.emplace_back([&, path, cw = w.get()] {
        kube::ListWatchOptions opts;
        opts.list.label_selector = settings.label_selector;
        opts.list.page_size = settings.page_size;
        bool synced = false;
        kube::ListWatchHandlers h;
        h.on_relist_begin = [&] { cw->core->BeginResync(); };
        h.on_listed = [&](const nlohmann::json& pod) {
          cw->core->OnPod(pod, detector::Clock::now());
        };
        h.on_relist_end = [&] {
          cw->core->EndResync(detector::Clock::now());
          if (!synced) {
            synced = true;
            --cw->unsynced;
            log::Info({{"cluster", cw->name},
                       {"path", path},
                       {"pods", std::to_string(cw->core->tracker().pods())}},
                      "initial pod list done");
          }
        };
        h.on_event = [&](const kube::WatchEvent& ev) {
          events.Inc();
          if (ev.type == "DELETED") {
            cw->core->OnPodDeleted(ev.object, detector::Clock::now());
          } else {
            cw->core->OnPod(ev.object, detector::Clock::now());
          }
        };
        h.on_restart = [&](const std::string&) { restarts.Inc(); };
        kube::RunListWatch(*cw->client, path, opts, h, stop);
      });
    }
  }

  // Evaluate incidents and publish what is due; a failed publish is retried next tick.
  threads.emplace_back([&] {
    while (!stop) {
      for (auto& w : watches) {
        auto due = w->core->Tick(detector::Clock::now());
        std::vector<std::pair<v1::Anomaly, std::future<kafka::Delivery>>> pending;
        for (auto& a : due) {
          auto f = producer.Publish(topics::kAnomalies, a.envelope().remediation_id(), a);
          pending.emplace_back(std::move(a), std::move(f));
        }
        for (auto& [a, f] : pending) {
          const auto& id = a.envelope().remediation_id();
          auto d = f.get();
          auto status = v1::Anomaly::Status_Name(a.status());
          if (!d.ok) {
            log::Error({log::Rid(id), {"error", d.error}}, "publishing anomaly failed, will retry");
            if (a.status() == v1::Anomaly::STATUS_OPEN) w->core->Unannounce(id);
            continue;
          }
          metrics
              .GetCounter("aiops_detector_anomalies_total", "Anomalies published",
                          {{"cluster", w->name},
                           {"class", FailureClassName(a.failure_class())},
                           {"status", status}})
              .Inc();
          log::Info({log::Rid(id),
                     {"status", status},
                     {"workload", a.workload().namespace_() + "/" + a.workload().kind() + "/" +
                                      a.workload().name()},
                     {"class", FailureClassName(a.failure_class())},
                     {"pods", std::to_string(a.affected_pods())}},
                    "anomaly {}: {}", status, a.reason());
        }
        metrics
            .GetGauge("aiops_detector_pods_tracked", "Pods currently tracked",
                      {{"cluster", w->name}})
            .Set(static_cast<double>(w->core->tracker().pods()));
        metrics
            .GetGauge("aiops_detector_open_incidents", "Incidents currently open",
                      {{"cluster", w->name}})
            .Set(static_cast<double>(w->core->tracker().open_incidents()));
      }
      shutdown::WaitFor(std::chrono::milliseconds(settings.tick_ms));
    }
  });

  service.StartHttp([&]() -> std::optional<std::string> {
    for (auto& w : watches) {
      if (w->unsynced > 0) return "cluster " + w->name + " not listed yet";
    }
    if (!producer.Reachable(std::chrono::seconds(1))) return "kafka unreachable";
    return std::nullopt;
  });
  log::Info({{"clusters", std::to_string(watches.size())}}, "aiops-detector running");
  shutdown::OnStop([&] { stop = true; });
  shutdown::Wait();
  for (auto& t : threads)
    t.join();
  producer.Flush(std::chrono::seconds(10));
  log::Info({}, "aiops-detector stopped");
  return 0;
}
