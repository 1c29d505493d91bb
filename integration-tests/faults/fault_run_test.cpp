// The fault-injection run: N incidents (default 200) flow through the whole product while
//  - the Kafka broker goes down for 30 s and comes back (aiops-devbroker's control endpoint),
//  - every service is SIGKILLed at random moments (aiops-local restarts it),
//  - the kube API answers 500, 429 and slowly now and then (kube-sim's fault switches),
//  - the LLM server times out or fails (scripted-llm-server; the proposer falls back to a
//    runbook).
// At the end every incident is in a terminal state, none is lost and none was applied twice
// (counted from kube-sim's audit of writes, not from what the services say of themselves).
// The test prints the counts of faults injected, incidents lost and duplicate applies.
//
// Knobs (environment): AIOPS_FAULT_INCIDENTS (default 200), AIOPS_FAULT_SEED (default: random,
// printed so a failing run can be replayed).
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "aiops/kube/credentials.hpp"
#include "local_stack.hpp"

using namespace aiops::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}

// One image per wave, so the proposer sees several distinct incidents (its cache answers
// identical ones without asking the LLM again).
std::string Image(int wave) {
  return "registry.example.com/faults/worker-" + std::to_string(wave) + ":1.0.0";
}

std::string Scenario(int waves) {
  std::ostringstream s;
  s << "name: fault-run\nregistry:\n  images:\n";
  for (int w = 0; w < waves; ++w) {
    s << "    - image: " << Image(w) << "\n      memoryMiB: 300\n      oomAfterSeconds: 2\n";
  }
  s << "nodes:\n";
  for (int n = 0; n < 4; ++n)
    s << "  - {name: node-" << n << ", cpu: \"64\", memory: 256Gi}\n";
  s << "objects:\n";
  for (int w = 0; w < waves; ++w) {
    s << "  - {apiVersion: v1, kind: Namespace, metadata: {name: wave-" << w << "}}\n";
  }
  return s.str();
}

// An OOM-killed worker: its 300 MiB do not fit the 256Mi limit; the runbook's raised limit
// heals it (medium risk, auto-approved by the run's policy).
Json Deployment(int wave, int i) {
  Json d = Json::parse(R"({"apiVersion": "apps/v1", "kind": "Deployment",
    "spec": {"replicas": 1, "progressDeadlineSeconds": 60,
      "template": {"spec": {"containers": [{"name": "worker", "resources": {
        "requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}}}]}}}})");
  const std::string name = "worker-" + std::to_string(i);
  d["metadata"] = {{"name", name}, {"namespace", "wave-" + std::to_string(wave)}};
  d["spec"]["selector"]["matchLabels"]["app"] = name;
  d["spec"]["template"]["metadata"]["labels"]["app"] = name;
  d["spec"]["template"]["spec"]["containers"][0]["image"] = Image(wave);
  return d;
}

// The LLM as a flaky server: timeouts (the proposer gives up after llm.timeout_ms), HTTP
// errors and text that is not JSON, then errors for ever. Every answer is useless, so each
// proposal is the runbook fallback.
constexpr int kLlmTimeoutMs = 800;
std::vector<Json> LlmResponses() {
  std::vector<Json> r;
  for (int i = 0; i < 12; ++i) {
    switch (i % 3) {
      case 0:
        r.push_back({{"delay_ms", kLlmTimeoutMs * 3}, {"content", "{}"}});
        break;
      case 1:
        r.push_back({{"status", 503}});
        break;
      default:
        r.push_back({{"content", "the model rambles instead of answering JSON"}});
    }
  }
  r.push_back({{"status", 500}});  // repeats for every later request
  return r;
}

class LlmServer {
 public:
  LlmServer() : responses_(LlmResponses()) {
    Json fixture = {{"responses", responses_}};
    std::ofstream(dir_.File("faulty.json")) << fixture.dump(1);
    server_ = std::make_unique<Subprocess>(std::vector<std::string>{
        Bin("scripted-llm-server"), "--listen", "127.0.0.1:0", "--fixtures", dir_.path()});
  }
  // The base URL once the server listens; empty if it did not start.
  std::string Url() {
    const std::string marker = "listening on ";
    if (!server_->WaitForOutput(marker, 30s)) return "";
    std::string out = server_->Output();
    auto start = out.find(marker) + marker.size();
    auto end = out.find_first_of(" \n", start);
    return out.substr(start, end - start);
  }
  // Requests received, and how many of them got a timeout: the n-th request is answered with
  // the n-th scripted response, the last one repeating.
  std::pair<int, int> Counts(const std::string& url) {
    std::string out;
    if (RunCommand("curl -sf " + url + "/_test/requests", &out) != 0) return {-1, -1};
    Json j = Json::parse(out, nullptr, false);
    Json list = j.is_object() && j.contains("requests") ? j["requests"] : j;
    int n = list.is_array() ? static_cast<int>(list.size()) : -1;
    int timeouts = 0;
    for (int i = 0; i < n; ++i) {
      const Json& r = responses_[std::min<size_t>(i, responses_.size() - 1)];
      timeouts += r.value("delay_ms", 0) > kLlmTimeoutMs ? 1 : 0;
    }
    return {n, timeouts};
  }

 private:
  const std::vector<Json> responses_;
  TempDir dir_;
  std::unique_ptr<Subprocess> server_;
};

// POST with an empty body (cpp-httplib answers 400 to a POST without Content-Length).
bool Post(const std::string& url, const std::string& body = "") {
  std::string out;
  return RunCommand("curl -sf -X POST -H 'Content-Type: application/json' --data '" + body + "' '" +
                        url + "'",
                    &out) == 0;
}

// A fault scheduled at `at` after the start.
struct Event {
  Clock::duration at;
  std::string what;  // "kill <service>", "broker down", "broker up", "wave <n>"
};

}  // namespace

TEST(FaultRunTest, IncidentsSurviveBrokerOutageKillsKubeAndLlmFaults) {
  if (::access(Bin("aiops-executor").c_str(), X_OK) != 0) GTEST_SKIP() << "no aiops-executor";
  const int incidents = EnvInt("AIOPS_FAULT_INCIDENTS", 200);
  const int waves = 10;
  const int per_wave = (incidents + waves - 1) / waves;
  const unsigned seed = static_cast<unsigned>(EnvInt("AIOPS_FAULT_SEED", std::random_device{}()));
  std::cout << "[ faults ] seed " << seed << " (AIOPS_FAULT_SEED=" << seed << " replays it)\n";
  std::mt19937 rng(seed);

  LlmServer llm;
  const std::string llm_url = llm.Url();
  ASSERT_FALSE(llm_url.empty()) << "scripted-llm-server did not start";

  TempDir scenario_dir;
  std::ofstream(scenario_dir.File("scenario.yaml")) << Scenario(waves);
  LocalStack stack({"--auto-approve", "medium", "--broker-control", "--llm-url", llm_url,
                    "--llm-model", "faulty", "--set",
                    "llm.timeout_ms=" + std::to_string(kLlmTimeoutMs), "--set", "llm.retries=0"},
                   scenario_dir.File("scenario.yaml"));
  ASSERT_TRUE(stack.WaitUp()) << stack.Logs();
  const std::string kube_url = aiops::kube::LoadKubeconfig(stack.File("kubeconfig")).server;
  std::string control = ReadFile(stack.File("broker.control"));
  while (!control.empty() && control.back() == '\n')
    control.pop_back();
  ASSERT_FALSE(control.empty()) << "aiops-local --broker-control wrote no broker.control";

  // Intermittent kube API faults for the whole run (not on watches: a watch that fails to
  // open is retried the same way, and the list-watch loop's relists already cover it).
  const Json rules = {{"rules",
                       {{{"status", 500}, {"probability", 0.03}},
                        {{"status", 429}, {"probability", 0.03}, {"retry_after_seconds", 1}},
                        {{"status", 0}, {"delay_ms", 400}, {"probability", 0.03}}}}};
  std::string out;
  ASSERT_EQ(RunCommand("curl -sf -X PUT -H 'Content-Type: application/json' --data '" +
                           rules.dump() + "' " + kube_url + "/_sim/faults",
                       &out),
            0)
      << "kube-sim fault switches: " << out;

  // The schedule: a wave of new broken workloads every 8 s; the broker down from 25 s to
  // 55 s; each service killed twice at random moments between 5 s and 110 s.
  std::vector<Event> events;
  for (int w = 0; w < waves; ++w)
    events.push_back({std::chrono::seconds(8 * w), "wave " + std::to_string(w)});
  events.push_back({25s, "broker down"});
  events.push_back({55s, "broker up"});
  std::uniform_int_distribution<int> when(5, 110);
  for (const char* s : {"detector", "collector", "proposer", "approver", "executor"}) {
    int first = when(rng);
    int second = when(rng);
    while (std::abs(second - first) < 20)
      second = when(rng);
    events.push_back({std::chrono::seconds(first), std::string("kill ") + s});
    events.push_back({std::chrono::seconds(second), std::string("kill ") + s});
  }
  std::sort(events.begin(), events.end(), [](auto& a, auto& b) { return a.at < b.at; });

  auto kube = stack.Kube();
  std::set<std::string> workloads;
  std::map<std::string, int> sigkills;
  int broker_down_ms = 0;
  Clock::time_point down_at{};
  const auto t0 = Clock::now();
  for (const auto& e : events) {
    // The schedule itself, not a synchronisation. The outage lasts 30 s from when it began.
    auto due = t0 + e.at;
    if (e.what == "broker up") due = std::max(due, down_at + 30s);
    std::this_thread::sleep_until(due);
    std::cout << "[ faults ] t=" << std::chrono::duration_cast<std::chrono::seconds>(e.at).count()
              << "s " << e.what << std::endl;
    if (e.what.rfind("wave ", 0) == 0) {
      int w = std::stoi(e.what.substr(5));
      for (int i = 0; i < per_wave && static_cast<int>(workloads.size()) < incidents; ++i) {
        Json d = Deployment(w, i);
        std::string path = "/apis/apps/v1/namespaces/wave-" + std::to_string(w) + "/deployments";
        // The test's own writes meet the injected faults too: retry until created.
        bool created = PollUntil(
            [&] {
              auto r = kube.Request("POST", path, d.dump(), "application/json");
              return r.status == 201 || r.status == 409;
            },
            60s, 200ms);
        ASSERT_TRUE(created) << path << " " << d["metadata"]["name"];
        workloads.insert("wave-" + std::to_string(w) + "/" +
                         d["metadata"]["name"].get<std::string>());
      }
    } else if (e.what == "broker down") {
      ASSERT_TRUE(Post("http://" + control + "/brokers/1/down")) << "broker down";
      down_at = Clock::now();
    } else if (e.what == "broker up") {
      ASSERT_TRUE(Post("http://" + control + "/brokers/1/up")) << "broker up";
      broker_down_ms = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - down_at).count());
    } else {
      std::string service = e.what.substr(5);
      // aiops-local may still be restarting it from the previous kill: wait for the new pid.
      ProcessInfo p;
      ASSERT_TRUE(PollUntil(
          [&] {
            p = stack.Processes()[service];
            return p.pid > 0 && ::kill(p.pid, 0) == 0;
          },
          60s))
          << service << " was not restarted" << stack.Logs();
      ASSERT_EQ(::kill(p.pid, SIGKILL), 0) << service;
      ++sigkills[service];
    }
  }
  const auto faults_end = Clock::now();

  // Every workload ends in a terminal state (no time target: a loaded CI machine is slow).
  std::map<std::string, std::set<std::string>> ids;  // workload -> remediation ids
  std::map<std::string, std::string> state;          // workload -> state of its remediation
  auto settled = [&] {
    Json list = stack.List();
    if (list.empty()) return false;
    ids.clear();
    state.clear();
    for (const auto& r : list) {
      ids[WorkloadKey(r)].insert(Field(r, {"id"}));
      state[WorkloadKey(r)] = Field(r, {"state"});
    }
    for (const auto& w : workloads) {
      if (!state.count(w) || !TerminalState(state[w])) return false;
    }
    return true;
  };
  bool all_terminal = PollUntil(settled, 600s, 2s);
  const auto settle_s =
      std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - faults_end).count();

  // Applies as kube-sim recorded them: one per remediation attempt and object, or it is a
  // duplicate.
  ASSERT_EQ(kube.Request("DELETE", "/_sim/faults", "", "").status, 200) << "clearing faults";
  std::map<std::string, int> applies;
  for (long since = 0;;) {
    Json page;
    ASSERT_TRUE(PollUntil(
        [&] {
          auto r = kube.Request("GET", "/_sim/audit?since=" + std::to_string(since), "", "");
          page = Json::parse(r.body, nullptr, false);
          return r.status == 200 && page.is_object();
        },
        60s, 200ms))
        << "GET /_sim/audit";
    for (const auto& e : page["entries"]) {
      if (e.value("method", "") != "PATCH" || e.value("dryRun", true)) continue;
      int code = e.value("code", 0);
      if (code < 200 || code >= 300) continue;
      const Json a = e.value("annotations", Json::object());
      if (a.value("aiops.io/phase", "") != "applied") continue;
      ++applies[a.value("aiops.io/remediation", "") + " " + e.value("path", "")];
    }
    long next = page.value("next", since);
    if (next == since || page["entries"].empty()) break;
    since = next;
  }
  int duplicate_applies = 0;
  for (const auto& [key, n] : applies) {
    if (n > 1) {
      duplicate_applies += n - 1;
      ADD_FAILURE() << "applied " << n << " times: " << key;
    }
  }

  // What was injected, as the injectors counted it.
  Json kube_faults;
  {
    auto r = kube.Request("GET", "/_sim/faults", "", "");
    kube_faults = Json::parse(r.body, nullptr, false);
  }
  auto injected = [&](const char* k) {
    return kube_faults.is_object() ? kube_faults["injected"].value(k, 0) : -1;
  };
  auto [llm_requests, llm_timeouts] = llm.Counts(llm_url);

  // Why the ones that did not heal ended as they did, for whoever reads the log.
  std::map<std::string, int> reasons;
  for (const auto& r : stack.List()) {
    if (Field(r, {"state"}) == "REMEDIATION_STATE_VERIFIED") continue;
    const Json ex = r.value("executions", Json::array());
    std::string why =
        ex.empty() ? Field(r, {"proposal", "root_cause"}) : Field(ex.back(), {"reason"});
    ++reasons[Field(r, {"state"}) + ": " + why.substr(0, 160)];
  }
  for (const auto& [why, n] : reasons)
    std::cout << "[ faults ] " << n << " x " << why << "\n";

  int lost = 0, more_than_one = 0;
  std::map<std::string, int> by_state;
  for (const auto& w : workloads) {
    if (!state.count(w) || !TerminalState(state[w])) {
      ++lost;
      ADD_FAILURE() << w << " not terminal: " << (state.count(w) ? state[w] : "no remediation");
    } else {
      ++by_state[state[w]];
    }
    if (ids[w].size() > 1) ++more_than_one;
  }
  int kills = 0;
  for (const auto& [s, n] : sigkills)
    kills += n;
  std::cout << "[ faults ] incidents " << workloads.size() << ", settled "
            << (all_terminal ? "" : "NOT ") << settle_s << " s after the last fault\n"
            << "[ faults ] injected: broker down " << broker_down_ms / 1000.0 << " s, SIGKILLs "
            << kills << ", kube 500 " << injected("500") << ", kube 429 " << injected("429")
            << ", kube slow " << injected("delay") << ", LLM requests " << llm_requests
            << " (timeouts " << llm_timeouts << ")\n"
            << "[ faults ] lost " << lost << ", duplicate applies " << duplicate_applies
            << ", workloads with more than one remediation " << more_than_one << "\n[ faults ]";
  for (const auto& [s, n] : by_state)
    std::cout << " " << s.substr(std::string("REMEDIATION_STATE_").size()) << "=" << n;
  std::cout << std::endl;
  RecordProperty("lost", lost);
  RecordProperty("duplicate_applies", duplicate_applies);

  EXPECT_EQ(static_cast<int>(workloads.size()), incidents);
  EXPECT_TRUE(all_terminal) << stack.Logs();
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(duplicate_applies, 0);
  EXPECT_EQ(more_than_one, 0) << "one incident per workload";
  EXPECT_GT(by_state["REMEDIATION_STATE_VERIFIED"], 0) << "the run healed nothing";
  // The faults really happened (a run without them proves nothing).
  EXPECT_GE(broker_down_ms, 30000);
  for (const char* s : {"detector", "collector", "proposer", "approver", "executor"})
    EXPECT_EQ(sigkills[s], 2) << s;
  EXPECT_GT(injected("500"), 0);
  EXPECT_GT(injected("429"), 0);
  EXPECT_GT(injected("delay"), 0);
  EXPECT_GT(llm_timeouts, 0);
}
