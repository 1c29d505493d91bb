// storm-bench: ONE Deployment with R failing replicas (a tag that was never pushed, so every
// pod sits in ErrImagePull/ImagePullBackOff) and the proposer in llm-first mode against
// scripted-llm-server. A storm of failing pods must stay one incident and cost at most one
// LLM call.
//  1. Generates the kube-sim scenario and an LLM fixture (a valid proposal: the pushed tag).
//  2. Starts scripted-llm-server and `aiops-local up --llm-url ... --llm-model storm`.
//  3. Reads aiops.anomalies, aiops.evidence and aiops.proposals as a log until the detector
//     announced all R pods and a proposal exists, then keeps counting for --observe-seconds
//     (a measurement window: late duplicates would show up there).
//  4. Counts anomaly messages (by status), incidents (distinct incident keys), remediations
//     (distinct ids), evidence bundles, proposals, and the LLM calls the server received.
// Prints a table and writes JSON (--json-out). Target: exactly 1 incident, at most 1 LLM call.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "aiops/topics.hpp"
#include "aiops/v1/anomaly.pb.h"
#include "bench_support.hpp"
#include "local_stack.hpp"
#include "metrics_probe.hpp"

using namespace aiops;
using namespace aiops::bench;
using Json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr const char* kGoodImage = "registry.example.com/storm/api:2.0.0";
constexpr const char* kBadImage = "registry.example.com/storm/api:2.0.1";

std::string Scenario(int replicas) {
  std::ostringstream y;
  y << "name: storm-bench\nregistry:\n  images:\n    - {image: " << kGoodImage << "}\nnodes:\n";
  int nodes = replicas / 300 + 1;
  for (int i = 0; i < nodes; ++i)
    y << "  - {name: node-" << i << ", cpu: \"64\", memory: 512Gi, pods: 300}\n";
  y << "objects:\n  - {apiVersion: v1, kind: Namespace, metadata: {name: storm}}\n"
    << "  - apiVersion: apps/v1\n    kind: Deployment\n"
    << "    metadata: {name: api, namespace: storm, labels: {app: api}}\n"
    << "    spec:\n      replicas: " << replicas << "\n"
    << "      selector: {matchLabels: {app: api}}\n"
    << "      template:\n        metadata: {labels: {app: api}}\n"
    << "        spec:\n          containers:\n            - name: api\n              image: "
    << kBadImage << "\n              resources: {requests: {cpu: 10m, memory: 32Mi}}\n";
  return y.str();
}

// The scripted model's one answer: go back to the tag that exists.
Json Fixture() {
  Json patch = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", "api"}, {"namespace", "storm"}}},
      {"spec",
       {{"template", {{"spec", {{"containers", {{{"name", "api"}, {"image", kGoodImage}}}}}}}}}}};
  Json answer = {{"summary", "Use the pushed tag 2.0.0"},
                 {"root_cause", "tag 2.0.1 was never pushed: every pod fails to pull it"},
                 {"reasoning",
                  {{{"observation", "Failed to pull image ... not found"},
                    {"thought", "the tag is missing"}}}},
                 {"manual", false},
                 {"actions",
                  {{{"type", "server_side_apply"},
                    {"target",
                     {{"api_version", "apps/v1"},
                      {"kind", "Deployment"},
                      {"namespace", "storm"},
                      {"name", "api"}}},
                    {"description", "set image of container api to 2.0.0"},
                    {"patch", patch}}}},
                 {"risk", "low"},
                 {"risk_reasons", {"image change to a tag that exists"}},
                 {"confidence", 0.8}};
  return {{"responses", {{{"content_json", answer}}}}};
}

class Counts {
 public:
  void Add(const kafka::Message& m) {
    std::lock_guard lock(mu_);
    ++by_topic_[m.topic];
    if (m.topic != topics::kAnomalies) return;
    v1::Anomaly a;
    if (kafka::Decode(m, a)) return;
    ++by_status_[v1::Anomaly::Status_Name(a.status())];
    incidents_.insert(a.incident_key());
    remediations_.insert(a.envelope().remediation_id());
    max_pods_ = std::max(max_pods_, a.affected_pods());
  }
  int On(const std::string& topic) const {
    std::lock_guard lock(mu_);
    auto it = by_topic_.find(topic);
    return it == by_topic_.end() ? 0 : it->second;
  }
  uint32_t max_pods() const {
    std::lock_guard lock(mu_);
    return max_pods_;
  }
  Json ToJson() const {
    std::lock_guard lock(mu_);
    return {{"anomaly_messages", On(topics::kAnomalies, by_topic_)},
            {"anomalies_by_status", by_status_},
            {"incidents", incidents_.size()},
            {"remediations", remediations_.size()},
            {"evidence", On(topics::kEvidence, by_topic_)},
            {"proposals", On(topics::kProposals, by_topic_)},
            {"max_affected_pods", max_pods_}};
  }

 private:
  static int On(const std::string& topic, const std::map<std::string, int>& m) {
    auto it = m.find(topic);
    return it == m.end() ? 0 : it->second;
  }
  mutable std::mutex mu_;
  std::map<std::string, int> by_topic_, by_status_;
  std::set<std::string> incidents_, remediations_;
  uint32_t max_pods_ = 0;
};

// Requests the scripted LLM server received (GET /_test/requests); -1 if it did not answer.
int LlmCalls(const std::string& url) {
  std::string out;
  if (testing::RunCommand("curl -sf " + url + "/_test/requests", &out) != 0) return -1;
  auto j = Json::parse(out, nullptr, false);
  return j.is_array() ? static_cast<int>(j.size()) : -1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app(
      "one Deployment with R failing replicas, proposer llm-first against scripted-llm-server: "
      "anomalies, incidents, proposals and LLM calls of the storm",
      "storm-bench");
  int replicas = 1000, observe_s = 30, timeout_s = 600;
  StackOptions opts;
  opts.json_out = "storm-bench.json";
  app.add_option("-r,--replicas", replicas, "failing replicas of the one Deployment")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--observe-seconds", observe_s,
                 "measurement window after the storm is fully announced and proposed")
      ->capture_default_str();
  app.add_option("--timeout", timeout_s, "give up waiting for the storm after this many seconds")
      ->capture_default_str();
  AddStackOptions(app, opts);
  CLI11_PARSE(app, argc, argv);

  testing::TempDir files;
  WriteText(files.File("storm-bench.yaml"), Scenario(replicas));
  std::filesystem::create_directory(files.File("fixtures"));
  WriteText(files.File("fixtures/storm.json"), Fixture().dump(2));

  testing::Subprocess llm({testing::Bin("scripted-llm-server"), "--listen", "127.0.0.1:0",
                           "--fixtures", files.File("fixtures")});
  std::smatch found;
  std::string llm_url;
  if (!testing::PollUntil(
          [&] {
            std::string out = llm.Output();
            static const std::regex re("listening on (http://[0-9.]+:[0-9]+)");
            if (!std::regex_search(out, found, re)) return false;
            llm_url = found[1];
            return true;
          },
          60s)) {
    std::cerr << "scripted-llm-server did not start\n" << llm.Output();
    return 1;
  }

  std::string load_before = LoadAvg();
  std::cout << "storm-bench: 1 Deployment, " << replicas << " replicas pulling a missing tag, "
            << "proposer llm-first (" << llm_url << "), load " << load_before << "\n";
  auto stack_ptr = StartStack({"--llm-url", llm_url, "--llm-model", "storm"}, opts,
                              files.File("storm-bench.yaml"));
  if (!stack_ptr) return 1;
  testing::LocalStack& stack = *stack_ptr;
  Counts counts;
  TopicTap tap(stack.Bootstrap(), {topics::kAnomalies, topics::kEvidence, topics::kProposals},
               [&](const kafka::Message& m) { counts.Add(m); });

  auto t0 = std::chrono::steady_clock::now();
  bool settled = testing::PollUntil(
      [&] {
        return counts.max_pods() >= static_cast<uint32_t>(replicas) &&
               counts.On(topics::kProposals) > 0;
      },
      std::chrono::seconds(timeout_s), 250ms);
  double settle_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (settled) {
    // A measurement window, not synchronisation: duplicates would arrive during it.
    std::this_thread::sleep_for(std::chrono::seconds(observe_s));
  } else {
    std::cerr << "the storm did not settle within " << timeout_s << " s (largest announced pod "
              << "count " << counts.max_pods() << ", proposals " << counts.On(topics::kProposals)
              << ")\n";
  }
  int llm_calls = LlmCalls(llm_url);
  Json c = counts.ToJson();
  auto processes = stack.Processes();
  double watch_events =
      testing::ScrapeMetric(processes["detector"].http, "aiops_detector_watch_events_total");
  double cache_hits =
      testing::ScrapeMetric(processes["proposer"].http, "aiops_proposer_cache_hits_total");
  std::string load_after = LoadAvg();

  int incidents = c["incidents"];
  bool met = incidents == 1 && llm_calls >= 0 && llm_calls <= 1;
  std::cout << "\nmeasure                         value\n"
            << "failing replicas                " << replicas << "\n"
            << "largest announced pod count     " << c["max_affected_pods"] << "\n"
            << "detector watch events           " << watch_events << "\n"
            << "anomaly messages                " << c["anomaly_messages"] << " "
            << c["anomalies_by_status"].dump() << "\n"
            << "incidents (incident keys)       " << incidents << "\n"
            << "remediations (ids)              " << c["remediations"] << "\n"
            << "evidence bundles                " << c["evidence"] << "\n"
            << "proposals                       " << c["proposals"] << "\n"
            << "LLM calls                       " << llm_calls << "\n"
            << "proposer cache hits             " << cache_hits << "\n"
            << "storm announced + proposed in   " << settle_s << " s, then observed " << observe_s
            << " s\n"
            << "load before " << load_before << ", after " << load_after << "\n"
            << "target: exactly 1 incident and at most 1 LLM call: " << (met ? "met" : "NOT met")
            << "\n";

  Json out = c;
  out.update({{"benchmark", "storm-bench"},
              {"replicas", replicas},
              {"speed", opts.speed},
              {"sets", opts.sets},
              {"settled", settled},
              {"settle_seconds", settle_s},
              {"observe_seconds", observe_s},
              {"llm_calls", llm_calls},
              {"proposer_cache_hits", cache_hits},
              {"detector_watch_events", watch_events},
              {"load_before", load_before},
              {"load_after", load_after},
              {"target_met", met}});
  WriteText(opts.json_out, out.dump(2) + "\n");
  std::cout << "wrote " << opts.json_out << "\n";
  return settled ? 0 : 1;
}
