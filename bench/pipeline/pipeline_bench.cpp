// pipeline-bench: N distinct broken workloads flow through all five real services to VERIFIED.
//  1. A kube-sim scenario with N OOM-killed Deployments (one replica each; the built-in runbook
//     raises the memory limit, which heals them: medium risk) is generated.
//  2. `aiops-local up --auto-approve medium` starts broker, kube-sim and the five services.
//     The Deployments start with 0 replicas; once every consumer group has its partitions they
//     are scaled to 1 at once, so the pods fail while the pipeline is in its steady state (not
//     while consumer groups are still joining, which takes seconds on the development broker).
//  3. The topics are read as a log (aiops.anomalies, aiops.proposals, aiops.executions) until
//     every remediation ended (or nothing moves for --stall-seconds).
//  4. From the envelopes' StageTimes of the VERIFIED results: incidents per second end to end
//     (first detection to last verification) and p50/p99/max of every hop; from the anomaly's
//     first_seen: pod failure -> proposal ready. Counts what did not reach VERIFIED (states
//     from the approver) and remediations per workload (must be 1).
// Prints a table and writes JSON (--json-out). Targets (2-core machine, runbook path):
// pod failure -> proposal p50 <= 100 ms, p99 <= 500 ms; >= 200 incidents/s end to end.
#include <CLI/CLI.hpp>

#include <atomic>

#include <cmath>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "aiops/envelope.hpp"
#include "aiops/kube/client.hpp"
#include "aiops/kube/credentials.hpp"
#include "aiops/topics.hpp"
#include "aiops/v1/anomaly.pb.h"
#include "aiops/v1/execution.pb.h"
#include "aiops/v1/proposal.pb.h"
#include "bench_support.hpp"
#include "local_stack.hpp"
#include "metrics_probe.hpp"

using namespace aiops;
using namespace aiops::bench;
using Json = nlohmann::json;
using SysClock = std::chrono::system_clock;
using namespace std::chrono_literals;

namespace {

constexpr const char* kImage = "registry.example.com/bench/worker:1.0.0";
constexpr int kPerNamespace = 100;

std::string Name(int i) {
  std::ostringstream s;
  s << "w-" << std::setw(5) << std::setfill('0') << i;
  return s.str();
}
std::string Namespace(int i) {
  return "bench-" + std::to_string(i / kPerNamespace);
}

// N single-replica Deployments whose worker needs 300 MiB under a 256Mi limit: OOM-killed,
// then CrashLoopBackOff, until the limit is raised (the oom-killed runbook: 512Mi). The
// default progress deadline (600 sim-seconds): on a loaded machine kube-sim's clock jumps
// ahead, and a short deadline then fails healthy rollouts (the executor rolls them back).
std::string Scenario(int n) {
  std::ostringstream y;
  y << "name: pipeline-bench\nregistry:\n  images:\n    - {image: " << kImage
    << ", memoryMiB: 300, oomAfterSeconds: 2}\nnodes:\n";
  int nodes = (2 * n) / 400 + 1;  // room for every pod and its replacement
  for (int i = 0; i < nodes; ++i)
    y << "  - {name: node-" << i << ", cpu: \"64\", memory: 512Gi, pods: 400}\n";
  y << "objects:\n";
  for (int i = 0; i < n; i += kPerNamespace)
    y << "  - {apiVersion: v1, kind: Namespace, metadata: {name: " << Namespace(i) << "}}\n";
  for (int i = 0; i < n; ++i) {
    std::string name = Name(i);
    y << "  - apiVersion: apps/v1\n    kind: Deployment\n    metadata: {name: " << name
      << ", namespace: " << Namespace(i) << ", labels: {app: " << name << "}}\n"
      << "    spec:\n      replicas: 0\n      progressDeadlineSeconds: 600\n"
      << "      selector: {matchLabels: {app: " << name << "}}\n"
      << "      template:\n        metadata: {labels: {app: " << name << "}}\n"
      << "        spec:\n          containers:\n            - name: worker\n              image: "
      << kImage << "\n              resources: {requests: {cpu: 10m, memory: 64Mi}, limits: "
      << "{memory: 256Mi}}\n";
  }
  return y.str();
}

double Ms(SysClock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// What the topics said about one remediation.
struct Remediation {
  std::string workload;  // namespace/name
  std::optional<SysClock::time_point> first_seen, proposed;
  std::vector<std::optional<SysClock::time_point>> stages;  // of the VERIFIED result
  std::string final_status;                                 // last execution status
  std::string reason;                                       // of a result that is not VERIFIED
  int applied = 0;
};

bool Terminal(const std::string& status) {
  return status == "STATUS_VERIFIED" || status == "STATUS_FAILED" ||
         status == "STATUS_ROLLED_BACK" || status == "STATUS_STALE" || status == "STATUS_REFUSED";
}

class Ledger {
 public:
  void Add(const kafka::Message& m) {
    std::lock_guard lock(mu_);
    ++messages_;
    if (m.topic == topics::kAnomalies) {
      v1::Anomaly a;
      if (kafka::Decode(m, a)) return;
      ++anomalies_;
      auto& r = rems_[a.envelope().remediation_id()];
      r.workload = a.workload().namespace_() + "/" + a.workload().name();
      if (a.status() == v1::Anomaly::STATUS_OPEN && !r.first_seen) {
        r.first_seen = SysClock::time_point(std::chrono::seconds(a.first_seen().seconds()) +
                                            std::chrono::nanoseconds(a.first_seen().nanos()));
      }
    } else if (m.topic == topics::kProposals) {
      v1::Proposal p;
      if (kafka::Decode(m, p)) return;
      ++proposals_;
      auto& r = rems_[p.envelope().remediation_id()];
      if (!r.proposed) r.proposed = envelope::StampOf(p.envelope(), envelope::Stage::kProposed);
    } else if (m.topic == topics::kExecutions) {
      v1::ExecutionResult e;
      if (kafka::Decode(m, e)) return;
      auto& r = rems_[e.envelope().remediation_id()];
      std::string status = v1::ExecutionResult::Status_Name(e.status());
      if (e.status() == v1::ExecutionResult::STATUS_APPLIED) ++r.applied;
      if (!Terminal(r.final_status)) r.final_status = status;
      if (Terminal(status) && e.status() != v1::ExecutionResult::STATUS_VERIFIED) {
        r.reason = e.reason();
      }
      if (Terminal(status)) ++terminal_;
      if (e.status() == v1::ExecutionResult::STATUS_VERIFIED) {
        r.stages.clear();
        for (auto s :
             {envelope::Stage::kDetected, envelope::Stage::kCollected, envelope::Stage::kProposed,
              envelope::Stage::kDecided, envelope::Stage::kExecuted, envelope::Stage::kVerified}) {
          r.stages.push_back(envelope::StampOf(e.envelope(), s));
        }
      }
    }
  }
  long messages() const {
    std::lock_guard lock(mu_);
    return messages_;
  }
  long terminal() const {
    std::lock_guard lock(mu_);
    return terminal_;
  }
  // A consistent copy for the report.
  std::map<std::string, Remediation> Snapshot(long* anomalies, long* proposals) const {
    std::lock_guard lock(mu_);
    *anomalies = anomalies_;
    *proposals = proposals_;
    return rems_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, Remediation> rems_;
  long messages_ = 0, anomalies_ = 0, proposals_ = 0, terminal_ = 0;
};

// True once the service's consumer logged its first partition assignment.
bool Assigned(const testing::LocalStack& stack, const std::string& service) {
  return testing::ReadFile(stack.File("logs/" + service + ".log"))
             .find("kafka partitions assigned") != std::string::npos;
}

// Scales every Deployment to one replica, from a few client threads; returns the failures.
// rate > 0: the i-th one at i / rate seconds (an open-loop arrival rate, so latency is measured
// below capacity instead of behind a queue of N); rate 0: all at once (throughput).
int ScaleUp(const testing::LocalStack& stack, int n, double rate) {
  auto creds = kube::LoadKubeconfig(stack.File("kubeconfig"));
  std::atomic<int> next{0}, failed{0};
  std::vector<std::thread> threads;
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      kube::Client client(creds);
      for (int i = next++; i < n; i = next++) {
        if (rate > 0) {
          std::this_thread::sleep_until(  // the arrival schedule, not a synchronisation
              start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                          std::chrono::duration<double>(i / rate)));
        }
        auto r = client.Patch(kube::Path("apps", "v1", "deployments", Namespace(i), Name(i)),
                              Json{{"spec", {{"replicas", 1}}}}, kube::PatchType::kMerge,
                              {"pipeline-bench", false, false});
        if (!r.ok()) ++failed;
      }
    });
  }
  for (auto& t : threads)
    t.join();
  return failed;
}

Json ToJson(const Summary& s) {
  return {{"n", s.n}, {"p50_ms", s.p50}, {"p99_ms", s.p99}, {"max_ms", s.max}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app(
      "N OOM-killed workloads through detector, collector, proposer (runbooks), approver "
      "(auto-approve medium) and executor to VERIFIED; end-to-end rate and per-hop latency",
      "pipeline-bench");
  int workloads = 1000;
  int timeout_s = 1200, stall_s = 120;
  StackOptions opts;
  opts.json_out = "pipeline-bench.json";
  app.add_option("-n,--workloads", workloads, "broken workloads (one pod each)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  double rate = 0;
  app.add_option("--rate", rate,
                 "workloads broken per second (0: all at once). Below capacity it measures "
                 "latency; all at once measures throughput")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--timeout", timeout_s, "give up after this many seconds")->capture_default_str();
  app.add_option("--stall-seconds", stall_s, "stop waiting when no message arrived for this long")
      ->capture_default_str();
  AddStackOptions(app, opts);
  CLI11_PARSE(app, argc, argv);

  testing::TempDir scenario_dir;
  std::string scenario = scenario_dir.File("pipeline-bench.yaml");
  WriteText(scenario, Scenario(workloads));

  std::string load_before = LoadAvg();
  std::cout << "pipeline-bench: " << workloads << " OOM-killed workloads"
            << (rate > 0 ? " at " + std::to_string(rate) + "/s" : std::string(" at once"))
            << ", kube-sim speed " << opts.speed << ", load " << load_before << "\n";
  auto stack_ptr = StartStack({"--auto-approve", "medium"}, opts, scenario);
  if (!stack_ptr) return 1;
  testing::LocalStack& stack = *stack_ptr;

  if (!testing::PollUntil(
          [&] {
            for (const char* svc : {"collector", "proposer", "executor"})
              if (!Assigned(stack, svc)) return false;
            return true;
          },
          120s)) {
    std::cerr << "the consumer groups did not form\n" << stack.Logs();
    return 1;
  }
  if (int failed = ScaleUp(stack, workloads, rate); failed > 0) {
    std::cerr << failed << " Deployments could not be scaled up\n";
    return 1;
  }

  Ledger ledger;
  TopicTap tap(stack.Bootstrap(), {topics::kAnomalies, topics::kProposals, topics::kExecutions},
               [&](const kafka::Message& m) { ledger.Add(m); });

  // Wait for every remediation to end; a run that stops moving ends the wait early.
  auto started = std::chrono::steady_clock::now();
  long last_messages = -1;
  auto last_progress = started;
  bool stalled = false;
  testing::PollUntil(
      [&] {
        if (ledger.terminal() >= workloads) return true;
        long now_messages = ledger.messages();
        auto now = std::chrono::steady_clock::now();
        if (now_messages != last_messages) {
          last_messages = now_messages;
          last_progress = now;
        } else if (now - last_progress > std::chrono::seconds(stall_s)) {
          stalled = true;
          return true;
        }
        return !stack.Running();
      },
      std::chrono::seconds(timeout_s), 500ms);
  std::string load_after = LoadAvg();

  // The approver's view: states of what did not reach VERIFIED.
  std::map<std::string, int> states;
  std::string list_out;
  if (stack.Ctl("list -o json", &list_out) == 0) {
    auto list = Json::parse(list_out, nullptr, false);
    if (list.is_array()) {
      for (const auto& r : list)
        ++states[r.value("state", "?")];
    }
  }

  // Per-stage cost from the services' own metrics: where the time goes.
  Json handlers = Json::object();
  auto processes = stack.Processes();
  Json cpu = Json::object();
  for (const auto& [name, p] : processes)
    cpu[name] = CpuSeconds(p.pid);
  for (const char* svc : {"collector", "proposer", "executor"}) {
    const std::string& http = processes[svc].http;
    double sum = testing::ScrapeMetric(http, "aiops_kafka_handler_seconds_sum");
    double count = testing::ScrapeMetric(http, "aiops_kafka_handler_seconds_count");
    handlers[svc] = {{"messages", count}, {"handler_seconds", sum}};
  }

  long anomalies = 0, proposals = 0;
  auto rems = ledger.Snapshot(&anomalies, &proposals);
  const char* hop_names[] = {"detected -> collected", "collected -> proposed",
                             "proposed -> decided", "decided -> executed", "executed -> verified"};
  std::vector<std::vector<double>> hops(5);
  std::vector<double> failure_to_proposal, detected_to_proposed, detected_to_verified;
  std::optional<SysClock::time_point> first_detected, last_verified;
  std::map<std::string, std::set<std::string>> per_workload;
  std::map<std::string, int> applies_per_workload;
  std::map<std::string, int> final_statuses;
  std::vector<std::string> failures;  // a few reasons, to explain what did not verify
  int verified = 0;
  for (const auto& [id, r] : rems) {
    if (!r.workload.empty()) per_workload[r.workload].insert(id);
    applies_per_workload[r.workload] += r.applied;
    ++final_statuses[r.final_status.empty() ? "(not executed)" : r.final_status];
    if (!r.reason.empty() && failures.size() < 5) {
      failures.push_back(r.workload + " " + r.final_status + ": " + r.reason);
    }
    if (r.first_seen && r.proposed) failure_to_proposal.push_back(Ms(*r.proposed - *r.first_seen));
    if (r.stages.size() != 6 || !r.stages[0] || !r.stages[5]) continue;
    ++verified;
    for (size_t h = 0; h < 5; ++h) {
      if (r.stages[h] && r.stages[h + 1]) hops[h].push_back(Ms(*r.stages[h + 1] - *r.stages[h]));
    }
    if (r.stages[2]) detected_to_proposed.push_back(Ms(*r.stages[2] - *r.stages[0]));
    detected_to_verified.push_back(Ms(*r.stages[5] - *r.stages[0]));
    if (!first_detected || *r.stages[0] < *first_detected) first_detected = r.stages[0];
    if (!last_verified || *r.stages[5] > *last_verified) last_verified = r.stages[5];
  }
  double span_s = first_detected && last_verified ? Ms(*last_verified - *first_detected) / 1000 : 0;
  double incidents_per_s = span_s > 0 ? verified / span_s : 0;
  int multi_rem = 0, multi_apply = 0;
  for (const auto& [w, ids] : per_workload)
    multi_rem += ids.size() > 1 ? 1 : 0;
  for (const auto& [w, n] : applies_per_workload)
    multi_apply += n > 1 ? 1 : 0;
  int undetected = workloads - static_cast<int>(per_workload.size());

  Summary f2p = Summarize(failure_to_proposal), d2p = Summarize(detected_to_proposed),
          d2v = Summarize(detected_to_verified);
  auto row = [](const std::string& name, const Summary& s) {
    std::cout << std::left << std::setw(34) << name << std::right << std::setw(6) << s.n
              << std::fixed << std::setprecision(1) << std::setw(12) << s.p50 << std::setw(12)
              << s.p99 << std::setw(12) << s.max << "\n";
  };
  std::cout << "\n"
            << std::left << std::setw(34) << "latency (ms)" << std::right << std::setw(6) << "n"
            << std::setw(12) << "p50" << std::setw(12) << "p99" << std::setw(12) << "max"
            << "\n";
  Json hop_json = Json::object();
  for (size_t h = 0; h < 5; ++h) {
    Summary s = Summarize(hops[h]);
    row(hop_names[h], s);
    hop_json[hop_names[h]] = ToJson(s);
  }
  row("pod failure -> proposal ready", f2p);
  row("detected -> proposal ready", d2p);
  row("detected -> verified", d2v);
  std::cout << std::setprecision(1) << "\nverified " << verified << " of " << workloads << " in "
            << span_s << " s (first detection to last verification): " << incidents_per_s
            << " incidents/s (target >= 200)\n"
            << "anomaly messages " << anomalies << ", proposals " << proposals
            << ", workloads never detected " << undetected
            << ", workloads with more than one remediation " << multi_rem
            << ", with more than one apply " << multi_apply << (stalled ? ", STALLED" : "")
            << "\nexecution outcome per remediation:";
  for (const auto& [s, n] : final_statuses)
    std::cout << " " << s << "=" << n;
  for (const auto& f : failures)
    std::cout << "\n  " << f;
  std::cout << "\napprover states:";
  for (const auto& [s, n] : states)
    std::cout << " " << s << "=" << n;
  std::cout << "\nhandler time (s / messages): ";
  for (const auto& [svc, h] : handlers.items())
    std::cout << svc << " " << h["handler_seconds"] << "/" << h["messages"] << "  ";
  std::cout << "\nCPU seconds:";
  for (const auto& [name, secs] : cpu.items())
    std::cout << " " << name << " " << secs.get<double>();
  std::cout << "\nload before " << load_before << ", after " << load_after << "\n";
  bool proposal_ok = f2p.n > 0 && f2p.p50 <= 100 && f2p.p99 <= 500;
  std::cout << "targets: pod failure -> proposal p50<=100 ms and p99<=500 ms: "
            << (proposal_ok ? "met" : "NOT met")
            << "; >= 200 incidents/s: " << (incidents_per_s >= 200 ? "met" : "NOT met") << "\n";

  Json out = {{"benchmark", "pipeline-bench"},
              {"workloads", workloads},
              {"arrivals_per_second", rate},
              {"speed", opts.speed},
              {"sets", opts.sets},
              {"load_before", load_before},
              {"load_after", load_after},
              {"verified", verified},
              {"span_seconds", span_s},
              {"incidents_per_second", incidents_per_s},
              {"hops", hop_json},
              {"pod_failure_to_proposal", ToJson(f2p)},
              {"detected_to_proposal", ToJson(d2p)},
              {"detected_to_verified", ToJson(d2v)},
              {"anomaly_messages", anomalies},
              {"proposals", proposals},
              {"undetected_workloads", undetected},
              {"workloads_with_multiple_remediations", multi_rem},
              {"workloads_with_multiple_applies", multi_apply},
              {"execution_outcomes", final_statuses},
              {"approver_states", states},
              {"failure_samples", failures},
              {"handlers", handlers},
              {"cpu_seconds", cpu},
              {"stalled", stalled},
              {"targets",
               {{"pod_failure_to_proposal", proposal_ok},
                {"incidents_per_second", incidents_per_s >= 200}}}};
  WriteText(opts.json_out, out.dump(2) + "\n");
  std::cout << "wrote " << opts.json_out << "\n";
  return verified > 0 ? 0 : 1;
}
