// kube-sim's fault switches and write audit, driven over HTTP through the project's kube client
// (with its 429/5xx retry budget) and the real kubectl, against the real kube-sim process.
#include <fstream>

#include "aiops/kube/client.hpp"
#include "aiops/kube/credentials.hpp"
#include "kube_sim_fixture.hpp"

namespace kubesim_it {
namespace {

namespace kube = aiops::kube;
using Clock = std::chrono::steady_clock;

class KubeSimFaults : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(sim_.ready()) << sim_.process().Output(); }

  // Retries: many and quick by default, so only rules that always fail exhaust the budget.
  kube::Client Client(int max_retries = 20,
                      std::chrono::milliseconds initial_backoff = std::chrono::milliseconds(1)) {
    kube::ClientOptions o;
    o.max_retries = max_retries;
    o.initial_backoff = initial_backoff;
    o.retry_budget = std::chrono::seconds(60);
    o.request_timeout = std::chrono::seconds(60);
    return kube::Client(kube::LoadKubeconfig(sim_.kubeconfig()), o);
  }
  // A /_sim control call; they are never faulted.
  json Sim(const std::string& method, const std::string& path, const json& body = nullptr) {
    auto r = Client().Request(method, path, body.is_null() ? "" : body.dump(), "application/json");
    EXPECT_EQ(r.status, 200) << method << " " << path << ": " << r.body;
    json j = json::parse(r.body, nullptr, false);
    return j.is_discarded() ? json() : j;
  }
  void SetRules(const json& rules) { Sim("PUT", "/_sim/faults", {{"rules", rules}}); }

  void CreatePods(int n) {
    auto c = Client();
    for (int i = 0; i < n; ++i) {
      json pod = {{"apiVersion", "v1"},
                  {"kind", "Pod"},
                  {"metadata", {{"name", "p" + std::to_string(i)}, {"namespace", "default"}}},
                  {"spec", {{"containers", {{{"name", "c"}, {"image", "nginx:1.27"}}}}}}};
      auto r = c.Request("POST", "/api/v1/namespaces/default/pods", pod.dump(), "application/json");
      ASSERT_EQ(r.status, 201) << r.body;
    }
  }

  KubeSim sim_{"", 20, {"--no-simulation"}};
};

json ConfigMap(const std::string& value, const json& annotations = json::object()) {
  return {
      {"apiVersion", "v1"},
      {"kind", "ConfigMap"},
      {"metadata", {{"name", "settings"}, {"namespace", "default"}, {"annotations", annotations}}},
      {"data", {{"mode", value}}}};
}
const char* kConfigMapPath = "/api/v1/namespaces/default/configmaps/settings";

TEST_F(KubeSimFaults, AlwaysFailingGetIsA500OnceTheRetryBudgetIsSpent) {
  SetRules(json::array({{{"status", 500}, {"methods", {"GET"}}, {"path_prefix", "/api/v1/pods"}}}));
  auto r = Client(2).Get("/api/v1/pods");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, 500);
  EXPECT_EQ(r.error().reason, "InternalError");
  EXPECT_NE(r.error().message.find("injected by a kube-sim fault rule"), std::string::npos)
      << r.error().message;
  json state = Sim("GET", "/_sim/faults");
  EXPECT_EQ(state["injected"]["500"], 3) << "one try and two retries, each answered 500";
  EXPECT_EQ(state["total"], 3);
  EXPECT_EQ(state["rules"][0]["injected"], 3);
  // Other paths are untouched by the prefix.
  EXPECT_TRUE(Client(0).Get("/api/v1/namespaces").ok());
}

TEST_F(KubeSimFaults, PagedListEachSucceedsWhenHalfTheRequestsFail) {
  CreatePods(12);
  json before = Sim("GET", "/_sim/faults");
  SetRules(json::array({{{"status", 500}, {"probability", 0.5}, {"path_prefix", "/api/v1/pods"}}}));
  kube::ListOptions lo;
  lo.page_size = 4;
  std::vector<std::string> names;
  auto rv = Client().ListEach("/api/v1/pods", lo,
                              [&](json& pod) { names.push_back(pod["metadata"]["name"]); });
  ASSERT_TRUE(rv.ok()) << rv.error().ToString();
  EXPECT_EQ(names.size(), 12u);
  json after = Sim("GET", "/_sim/faults");
  uint64_t requests = after["requests"].get<uint64_t>() - before["requests"].get<uint64_t>();
  uint64_t faults = after["total"].get<uint64_t>() - before["total"].get<uint64_t>();
  // Every list request was either faulted or served one of the three pages.
  EXPECT_EQ(requests - faults, 3u) << after.dump();
  EXPECT_EQ(after["injected"]["500"].get<uint64_t>() - before["injected"]["500"].get<uint64_t>(),
            faults);
}

TEST_F(KubeSimFaults, TooManyRequestsIsRetriedAfterRetryAfter) {
  SetRules(json::array({{{"status", 429}, {"retry_after_seconds", 1}, {"max", 2}}}));
  auto started = Clock::now();
  auto r = Client(3, std::chrono::milliseconds(10)).Get("/api/v1/namespaces/default");
  auto took = Clock::now() - started;
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r.value()["metadata"]["name"], "default");
  EXPECT_GE(took, std::chrono::seconds(2)) << "the client waits Retry-After before each retry";
  EXPECT_EQ(Sim("GET", "/_sim/faults")["injected"]["429"], 2);
  // The raw answer is a TooManyRequests Status with the header and the detail.
  SetRules(json::array({{{"status", 429}, {"retry_after_seconds", 4}}}));
  auto raw = Client().Request("GET", "/api/v1/namespaces", "", "");
  EXPECT_EQ(raw.status, 429);
  EXPECT_EQ(raw.retry_after, "4");
  json status = json::parse(raw.body);
  EXPECT_EQ(status["reason"], "TooManyRequests");
  EXPECT_EQ(status["details"]["retryAfterSeconds"], 4);
}

TEST_F(KubeSimFaults, DelayRuleMakesAGetSlowButCorrect) {
  SetRules(json::array({{{"status", 0}, {"delay_ms", 400}, {"max", 1}}}));
  auto started = Clock::now();
  auto r = Client(0).Get("/api/v1/namespaces/default");
  auto took = Clock::now() - started;
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_GE(took, std::chrono::milliseconds(400));
  json state = Sim("GET", "/_sim/faults");
  EXPECT_EQ(state["injected"]["delay"], 1);
  EXPECT_EQ(state["injected"]["500"], 0);
}

TEST_F(KubeSimFaults, FaultedPatchLeavesTheObjectUnchangedAndUnaudited) {
  auto c = Client(1, std::chrono::milliseconds(10));
  ASSERT_TRUE(c.Patch(kConfigMapPath, ConfigMap("safe"), kube::PatchType::kApply).ok());
  SetRules(json::array({{{"status", 500}, {"methods", {"PATCH"}}}}));
  auto r = c.Patch(kConfigMapPath, ConfigMap("changed"), kube::PatchType::kApply);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, 500);
  auto now = c.Get(kConfigMapPath);
  ASSERT_TRUE(now.ok()) << now.error().ToString();
  EXPECT_EQ(now.value()["data"]["mode"], "safe");
  json audit = Sim("GET", "/_sim/audit?since=0");
  ASSERT_EQ(audit["entries"].size(), 1u)
      << "only the first apply reached the store: " << audit.dump();
  EXPECT_EQ(Sim("GET", "/_sim/faults")["injected"]["500"], 2);
}

TEST_F(KubeSimFaults, AuditShowsServerSideAppliesWithManagerDryRunAndAnnotations) {
  auto c = Client();
  json cm = ConfigMap("v2", {{"aiops.io/remediation-id", "rem-42"}});
  kube::PatchOptions dry;
  dry.dry_run = true;
  ASSERT_TRUE(c.Patch(kConfigMapPath, cm, kube::PatchType::kApply, dry).ok());
  ASSERT_TRUE(c.Patch(kConfigMapPath, cm, kube::PatchType::kApply).ok());
  json first = Sim("GET", "/_sim/audit?since=0");
  ASSERT_EQ(first["entries"].size(), 2u) << first.dump();
  for (size_t i = 0; i < 2; ++i) {
    const json& e = first["entries"][i];
    EXPECT_EQ(e["method"], "PATCH");
    EXPECT_EQ(e["path"], kConfigMapPath);
    EXPECT_EQ(e["kind"], "ConfigMap");
    EXPECT_EQ(e["namespace"], "default");
    EXPECT_EQ(e["name"], "settings");
    EXPECT_EQ(e["fieldManager"], "aiops");
    EXPECT_EQ(e["patchType"], "application/apply-patch+yaml");
    EXPECT_EQ(e["userAgent"], "aiops/0.1");
    EXPECT_EQ(e["annotations"]["aiops.io/remediation-id"], "rem-42");
  }
  EXPECT_EQ(first["entries"][0]["dryRun"], true);
  EXPECT_EQ(first["entries"][0]["code"], 200);
  EXPECT_EQ(first["entries"][1]["dryRun"], false);
  EXPECT_EQ(first["entries"][1]["code"], 201);
  // Reading on from `next` sees only what came later.
  ASSERT_TRUE(c.Patch(kConfigMapPath, ConfigMap("v3"), kube::PatchType::kApply).ok());
  json later = Sim("GET", "/_sim/audit?since=" + first["next"].dump());
  ASSERT_EQ(later["entries"].size(), 1u) << later.dump();
  EXPECT_EQ(later["entries"][0]["seq"], first["next"].get<uint64_t>() + 1);
  EXPECT_EQ(later["entries"][0]["annotations"], json::object());
}

TEST_F(KubeSimFaults, BadRulesAreRejectedWithTheReason) {
  auto r =
      Client().Request("PUT", "/_sim/faults", R"({"rules":[{"status":500,"methods":["FETCH"]}]})",
                       "application/json");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("rules[0].methods[0]"), std::string::npos) << r.body;
  EXPECT_TRUE(Sim("GET", "/_sim/faults")["rules"].empty());
}

TEST_F(KubeSimFaults, KubectlGetPodsFailsWithTheServersMessage) {
  REQUIRE_KUBECTL();
  SetRules(json::array({{{"status", 500},
                         {"methods", {"GET"}},
                         {"path_prefix", "/api/v1/namespaces/default/pods"}}}));
  std::string out;
  int rc = sim_.Kubectl("get pods", &out);
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("Internal error occurred: injected by a kube-sim fault rule"),
            std::string::npos)
      << out;
  EXPECT_GE(Sim("GET", "/_sim/faults")["injected"]["500"].get<int>(), 1);
  Sim("DELETE", "/_sim/faults");
  EXPECT_EQ(sim_.Kubectl("get pods", &out), 0) << out;
}

TEST(KubeSimFaultsFile, RulesFromTheFaultsFileApplyFromTheStart) {
  aiops::testing::TempDir dir;
  std::ofstream(dir.File("faults.yaml"))
      << "rules:\n- status: 503\n  methods: [GET]\n  path_prefix: /api/v1/namespaces\n";
  KubeSim sim("", 20, {"--no-simulation", "--faults", dir.File("faults.yaml")});
  ASSERT_TRUE(sim.ready()) << sim.process().Output();
  kube::ClientOptions o;
  o.max_retries = 0;
  kube::Client c(kube::LoadKubeconfig(sim.kubeconfig()), o);
  auto r = c.Get("/api/v1/namespaces/default");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, 503);
  EXPECT_EQ(r.error().reason, "ServiceUnavailable");
}

TEST(KubeSimFaultsFile, ABadFaultsFileStopsStartUpWithTheReason) {
  aiops::testing::TempDir dir;
  std::ofstream(dir.File("faults.yaml")) << "rules:\n- status: 418\n";
  aiops::testing::Subprocess proc(
      {aiops::testing::Bin("kube-sim"), "--no-simulation", "--faults", dir.File("faults.yaml")});
  ASSERT_TRUE(PollUntil([&] { return !proc.Running(); }, 30s)) << proc.Output();
  EXPECT_EQ(proc.Stop(SIGTERM), 2);
  EXPECT_NE(proc.Output().find("rules[0].status"), std::string::npos) << proc.Output();
}

}  // namespace
}  // namespace kubesim_it
