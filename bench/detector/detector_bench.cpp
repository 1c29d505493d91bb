// detector-bench: aiops-detector (the real binary) against kube-sim holding N pods.
//  1. N pods in W workloads are created in kube-sim (API only, no simulation).
//  2. The detector starts: time until its initial list is done -> pods listed per second.
//  3. The detector is paused (SIGSTOP) while every pod's status flips to ImagePullBackOff,
//     so a backlog of N watch events waits for it; then it resumes (SIGCONT) and the time
//     until its watch-event counter reaches N gives the events it processes per second.
//  4. Peak RSS (VmHWM) of the detector, and the anomalies it produced (W expected).
// Prints a table and writes JSON (--json PATH). Targets (2-core machine): >= 20,000
// events/s and < 150 MB peak RSS at 100,000 pods.
#include <signal.h>
#include <CLI/CLI.hpp>

#include <atomic>
#include <fstream>
#include <iostream>
#include <regex>
#include <thread>

#include "aiops/kube/client.hpp"
#include "aiops/kube/credentials.hpp"
#include "devbroker.hpp"

using namespace aiops;
using namespace aiops::testing;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// Runs fn(i) for i in [0, n) on `threads` threads; each thread gets its own client.
void Parallel(int n, int threads, const kube::Credentials& creds,
              const std::function<void(kube::Client&, int)>& fn) {
  std::atomic<int> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      kube::Client client(creds);
      for (int i = next++; i < n; i = next++)
        fn(client, i);
    });
  }
  for (auto& th : pool)
    th.join();
}

long PeakRssKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string content((std::istreambuf_iterator<char>(in)), {});
  auto close = content.rfind(')');
  std::istringstream rest(content.substr(close + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stol(field);
    if (i == 15) stime = std::stol(field);
  }
  return static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
}

// Reads one counter (summed over label sets) from a Prometheus text page.
double Metric(int port, const std::string& name) {
  std::string out;
  RunCommand("curl -s http://127.0.0.1:" + std::to_string(port) + "/metrics", &out);
  double sum = 0;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) == 0 && (line[name.size()] == '{' || line[name.size()] == ' ')) {
      sum += std::stod(line.substr(line.rfind(' ') + 1));
    }
  }
  return sum;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("detector at scale against kube-sim", "detector-bench");
  int pods = 100000, workloads = 100, threads = 4;
  std::string json_path = "detector-bench.json";
  app.add_option("--pods", pods, "pods to create")->check(CLI::PositiveNumber);
  app.add_option("--workloads", workloads, "ReplicaSets the pods belong to")
      ->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, "client threads creating and updating pods");
  app.add_option("--json", json_path, "write the figures here");
  CLI11_PARSE(app, argc, argv);

  DevBroker broker;
  TempDir dir;
  auto kubeconfig = dir.File("kubeconfig");
  Subprocess sim({Bin("kube-sim"), "--no-simulation", "--listen", "127.0.0.1:0", "--kubeconfig-out",
                  kubeconfig, "--watch-cache-events", std::to_string(pods * 3), "--log-level",
                  "warn"});
  if (!PollUntil([&] { return !ReadFile(kubeconfig).empty(); }, std::chrono::seconds(60))) {
    std::cerr << "kube-sim did not start\n" << sim.Output();
    return 1;
  }
  auto creds = kube::LoadKubeconfig(kubeconfig);
  kube::Client admin(creds);
  admin.Request("POST", "/api/v1/namespaces", R"({"metadata": {"name": "bench"}})",
                "application/json");
  for (int w = 0; w < workloads; ++w) {
    auto name = "app-" + std::to_string(w);
    admin.Request(
        "POST", "/apis/apps/v1/namespaces/bench/replicasets",
        nlohmann::json{{"metadata",
                        {{"name", name + "-5d8f7c"},
                         {"ownerReferences",
                          {{{"apiVersion", "apps/v1"},
                            {"kind", "Deployment"},
                            {"name", name},
                            {"uid", "uid-" + name},
                            {"controller", true}}}}}},
                       {"spec",
                        {{"selector", {{"matchLabels", {{"app", name}}}}},
                         {"template",
                          {{"metadata", {{"labels", {{"app", name}}}}},
                           {"spec", {{"containers", {{{"name", "c"}, {"image", "x:1"}}}}}}}}}}}
            .dump(),
        "application/json");
  }
  auto t_create = Clock::now();
  std::atomic<int> create_errors{0};
  Parallel(pods, threads, creds, [&](kube::Client& c, int i) {
    auto app = "app-" + std::to_string(i % workloads);
    nlohmann::json pod = {
        {"metadata",
         {{"name", "p-" + std::to_string(i)},
          {"labels", {{"app", app}, {"pod-template-hash", "5d8f7c"}}},
          {"ownerReferences",
           {{{"apiVersion", "apps/v1"},
             {"kind", "ReplicaSet"},
             {"name", app + "-5d8f7c"},
             {"uid", "rs-" + app},
             {"controller", true}}}}}},
        {"spec",
         {{"nodeName", "node-1"},
          {"containers", {{{"name", "c"}, {"image", "registry.example.com/" + app + ":1.0"}}}}}}};
    auto r = c.Request("POST", "/api/v1/namespaces/bench/pods", pod.dump(), "application/json");
    if (r.status != 201) ++create_errors;
  });
  double create_s = Seconds(Clock::now() - t_create);

  std::string config = dir.File("aiops.yaml");
  std::ofstream(config) << "clusters:\n  - name: bench\n    kubeconfig: " << kubeconfig
                        << "\nkafka:\n  bootstrap: " << broker.bootstrap()
                        << "\ndetector:\n  grace_seconds: 0\n  tick_ms: 200\n  page_size: 500\n";
  int http_port = FreePort();
  auto t_start = Clock::now();
  Subprocess detector({Bin("aiops-detector"), "--config", config, "--http-listen",
                       "127.0.0.1:" + std::to_string(http_port)});
  std::regex listed("initial pod list done.*pods=(\\d+)");
  bool ok = detector.WaitForOutput("initial pod list done", std::chrono::seconds(600));
  double list_s = Seconds(Clock::now() - t_start);
  if (!ok) {
    std::cerr << "detector did not finish listing\n" << detector.Output();
    return 1;
  }
  long rss_after_list = PeakRssKb(detector.pid());

  // The storm: queue N status changes while the detector is paused.
  kill(detector.pid(), SIGSTOP);
  auto t_storm = Clock::now();
  Parallel(pods, threads, creds, [&](kube::Client& c, int i) {
    c.Request("PATCH", "/api/v1/namespaces/bench/pods/p-" + std::to_string(i) + "/status",
              R"({"status": {"phase": "Pending", "containerStatuses": [{"name": "c",
                  "ready": false, "restartCount": 0, "image": "x", "imageID": "",
                  "state": {"waiting": {"reason": "ImagePullBackOff",
                  "message": "Back-off pulling image"}}}]}})",
              "application/merge-patch+json");
  });
  double storm_write_s = Seconds(Clock::now() - t_storm);
  double cpu_before = CpuSeconds(detector.pid());
  auto t_resume = Clock::now();
  kill(detector.pid(), SIGCONT);
  bool caught_up =
      PollUntil([&] { return Metric(http_port, "aiops_detector_watch_events_total") >= pods; },
                std::chrono::seconds(600), std::chrono::milliseconds(20));
  double events_s = Seconds(Clock::now() - t_resume);
  double cpu_events = CpuSeconds(detector.pid()) - cpu_before;
  PollUntil([&] { return Metric(http_port, "aiops_detector_anomalies_total") >= workloads; },
            std::chrono::seconds(60));
  double anomalies = Metric(http_port, "aiops_detector_anomalies_total");
  long peak_rss = PeakRssKb(detector.pid());
  double total_cpu = CpuSeconds(detector.pid());
  detector.Stop(SIGTERM);

  double listed_per_s = pods / list_s;
  double events_per_s = caught_up ? pods / events_s : 0;
  std::printf("\ndetector-bench: %d pods in %d workloads (kube-sim, %u cores)\n", pods, workloads,
              std::thread::hardware_concurrency());
  std::printf("%-44s %12s\n", "measure", "value");
  std::printf("%-44s %12.0f\n", "pods created per second (kube-sim writes)", pods / create_s);
  std::printf("%-44s %12.2f\n", "detector start to initial list done (s)", list_s);
  std::printf("%-44s %12.0f\n", "pods listed per second", listed_per_s);
  std::printf("%-44s %12.0f\n", "storm writes per second (kube-sim)", pods / storm_write_s);
  std::printf("%-44s %12.0f%s\n", "watch events processed per second", events_per_s,
              caught_up ? "" : " (did not catch up)");
  std::printf("%-44s %12.2f\n", "detector CPU seconds for the storm", cpu_events);
  std::printf("%-44s %12.2f\n", "detector CPU seconds in total", total_cpu);
  std::printf("%-44s %12.1f\n", "RSS after initial list (MB)", rss_after_list / 1024.0);
  std::printf("%-44s %12.1f\n", "peak RSS (MB)", peak_rss / 1024.0);
  std::printf("%-44s %12.0f\n", "anomalies published (expected = workloads)", anomalies);
  std::printf("%-44s %12d\n", "pod create errors", create_errors.load());

  std::ofstream(json_path) << nlohmann::json{{"pods", pods},
                                             {"workloads", workloads},
                                             {"list_seconds", list_s},
                                             {"pods_listed_per_second", listed_per_s},
                                             {"watch_events_per_second", events_per_s},
                                             {"storm_cpu_seconds", cpu_events},
                                             {"total_cpu_seconds", total_cpu},
                                             {"peak_rss_mb", peak_rss / 1024.0},
                                             {"anomalies", anomalies}}
                                  .dump(2)
                           << "\n";
  bool pass =
      caught_up && events_per_s >= 20000 && peak_rss / 1024.0 < 150 && anomalies == workloads;
  std::printf("targets (>= 20000 events/s, < 150 MB, one anomaly per workload): %s\n",
              pass ? "met" : "NOT met");
  return caught_up ? 0 : 1;
}
