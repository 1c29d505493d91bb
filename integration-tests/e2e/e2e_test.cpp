// The whole product end to end, through its public interfaces only (LocalStack: aiops-local,
// aiopsctl, the topics, the kube API); garbage is produced with kcat.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "local_stack.hpp"

using namespace aiops::testing;
using Json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string kScenarios = AIOPS_SOURCE_DIR "/tools/kube-sim/scenarios";

bool ExecutorBuilt() {
  return ::access(Bin("aiops-executor").c_str(), X_OK) == 0;
}

#define REQUIRE_EXECUTOR()                                                 \
  if (!ExecutorBuilt())                                                    \
  GTEST_SKIP() << "aiops-executor is not built (" << Bin("aiops-executor") \
               << "); this test needs the fifth service"

std::string ContainerMemoryLimit(const Json& d) {
  return Field(d["spec"]["template"]["spec"]["containers"][0], {"resources", "limits", "memory"});
}
std::string ContainerImage(const Json& d) {
  return Field(d["spec"]["template"]["spec"]["containers"][0], {"image"});
}

// A scenario for the fix paths: shop/web runs 1.4.2 (the test then rolls out the missing
// 1.4.3, so a healthy revision exists to go back to); three OOM-killed workloads: one a raised
// limit heals, one to reject, one whose raised limit is still too small (rolled back).
const char* kFixScenario = R"(name: e2e-fixes
registry:
  images:
    - image: registry.example.com/shop/web:1.4.2
      readyAfterSeconds: 1
      logs: ["web 1.4.2 starting"]
    - image: registry.example.com/analytics/report-worker:2.3.0
      memoryMiB: 300
      oomAfterSeconds: 2
    - image: registry.example.com/analytics/hungry:1.0.0
      memoryMiB: 3000
      oomAfterSeconds: 2
nodes:
  - {name: node-a, cpu: "8", memory: 16Gi}
  - {name: node-b, cpu: "8", memory: 16Gi}
objects:
  - {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
  - {apiVersion: v1, kind: Namespace, metadata: {name: analytics}}
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web, namespace: shop, labels: {app: web}}
    spec:
      replicas: 2
      progressDeadlineSeconds: 60
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers:
            - name: web
              image: registry.example.com/shop/web:1.4.2
              resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 256Mi}}
)";

std::string OomDeployment(const std::string& name, const std::string& image) {
  return R"(  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: )" +
         name + R"(, namespace: analytics, labels: {app: )" + name + R"(}}
    spec:
      replicas: 1
      progressDeadlineSeconds: 30
      selector: {matchLabels: {app: )" +
         name + R"(}}
      template:
        metadata: {labels: {app: )" +
         name + R"(}}
        spec:
          containers:
            - name: worker
              image: )" +
         image + R"(
              resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 256Mi}}
)";
}

std::string WriteScenario(const TempDir& dir, const std::string& text) {
  std::string path = dir.File("scenario.yaml");
  std::ofstream(path) << text;
  return path;
}

}  // namespace

// The demo scenario as a user runs it: files appear, every broken workload becomes a
// remediation that is ReadyForReview or Failed with a diagnosis, approving the OOM fix heals it
// (when the executor is built), and SIGINT leaves no process behind.
TEST(E2eLocalUpTest, DemoBecomesReviewableAndCtrlCStopsEverything) {
  LocalStack stack;
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(stack.WaitUp()) << stack.Logs();
  for (const char* f : {"bootstrap", "kubeconfig", "approver.addr", "token", "aiops.yaml"}) {
    EXPECT_FALSE(ReadFile(stack.File(f)).empty()) << f;
  }
  EXPECT_TRUE(std::filesystem::is_directory(stack.File("logs")));
  EXPECT_THAT(stack.launcher().Output(), ::testing::HasSubstr("--local-dir"));
  auto procs = stack.Processes();
  for (const char* p : {"devbroker", "kube-sim", "detector", "collector", "proposer", "approver"}) {
    EXPECT_TRUE(procs.count(p)) << p;
  }
  if (ExecutorBuilt()) {
    EXPECT_TRUE(procs.count("executor"));
  }

  // name -> expected state once settled
  const std::map<std::string, std::string> expected = {
      {"shop/web", "REMEDIATION_STATE_FAILED"},   // one revision: nothing healthy to go back to
      {"shop/cart", "REMEDIATION_STATE_FAILED"},  // crash loop without a rollout: diagnosis
      {"payments/payments-api", "REMEDIATION_STATE_FAILED"},  // missing ConfigMap: diagnosis
      {"analytics/report-worker", "REMEDIATION_STATE_READY_FOR_REVIEW"},  // raise the limit
      {"ml/trainer", "REMEDIATION_STATE_FAILED"},  // no revision that fit: diagnosis
  };
  std::map<std::string, std::string> seen;
  bool settled = PollUntil(
      [&] {
        seen.clear();
        for (const auto& r : stack.List()) {
          std::string state = Field(r, {"state"});
          if (state == "REMEDIATION_STATE_READY_FOR_REVIEW" ||
              state == "REMEDIATION_STATE_FAILED") {
            seen[Namespace(r) + "/" + Field(r, {"workload", "name"})] = state;
          }
        }
        return seen.size() >= expected.size();
      },
      180s, 500ms);
  auto settle_s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - t0);
  RecordProperty("seconds_to_reviewable", static_cast<int>(settle_s.count()));
  std::cout << "[ e2e ] demo reviewable after " << settle_s.count() << " s\n";
  ASSERT_TRUE(settled) << ::testing::PrintToString(seen) << stack.Logs();
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(stack.List().size(), expected.size()) << "healthy workloads raise nothing";
  for (const auto& r : stack.List()) {
    if (Field(r, {"state"}) != "REMEDIATION_STATE_FAILED") continue;
    // Failed means "no safe fix", with the diagnosis readable.
    EXPECT_FALSE(Field(r, {"proposal", "root_cause"}).empty()) << r.dump();
  }

  if (ExecutorBuilt()) {
    std::string id = Field(stack.Find("analytics", "report-worker"), {"id"});
    std::string out;
    ASSERT_EQ(stack.Ctl("approve " + id + " -m e2e", &out), 0) << out;
    EXPECT_TRUE(stack.WaitState("analytics", "report-worker", "REMEDIATION_STATE_VERIFIED"))
        << stack.StateOf("analytics", "report-worker") << stack.Logs();
    EXPECT_TRUE(PollUntil([&] { return stack.Healthy("analytics", "report-worker"); }, 60s));
  }

  // Ctrl-C: every process the launcher started is gone, and the launcher exits 0.
  procs = stack.Processes();
  ASSERT_EQ(stack.launcher().Stop(SIGINT, 60s), 0) << stack.Logs();
  for (const auto& [name, p] : procs) {
    EXPECT_NE(::kill(p.pid, 0), 0) << name << " (pid " << p.pid << ") still runs";
  }
  EXPECT_TRUE(ReadFile(stack.File("approver.addr")).empty());
}

// The fix paths on one stack (runbook auto-approval for low risk): a bad image tag is
// auto-approved and restored; an OOM fix is approved by a person and heals; another is
// rejected and never applied; a fix that does not heal is rolled back.
TEST(E2eFixPathsTest, AutoApproveApproveRejectAndRollBack) {
  REQUIRE_EXECUTOR();
  TempDir scenario_dir;
  std::string scenario = WriteScenario(
      scenario_dir,
      std::string(kFixScenario) +
          OomDeployment("report-worker", "registry.example.com/analytics/report-worker:2.3.0") +
          OomDeployment("report-worker-b", "registry.example.com/analytics/report-worker:2.3.0") +
          OomDeployment("hungry", "registry.example.com/analytics/hungry:1.0.0"));
  LocalStack stack({"--auto-approve", "low"}, scenario);
  ASSERT_TRUE(stack.WaitUp()) << stack.Logs();
  ASSERT_TRUE(PollUntil([&] { return stack.Healthy("shop", "web"); }, 120s)) << stack.Logs();
  // An operator rolls out a tag that was never pushed.
  auto rolled =
      stack.Kube().Patch("/apis/apps/v1/namespaces/shop/deployments/web",
                         Json::parse(R"({"spec":{"template":{"spec":{"containers":[{"name":"web",
                    "image":"registry.example.com/shop/web:1.4.3"}]}}}})"),
                         aiops::kube::PatchType::kStrategicMerge, {"kubectl-set", false, false});
  ASSERT_TRUE(rolled.ok()) << rolled.error().ToString();

  // Auto-approved (risk low, runbook), applied and verified without anyone calling approve.
  EXPECT_TRUE(stack.WaitState("shop", "web", "REMEDIATION_STATE_VERIFIED", 240s))
      << stack.Find("shop", "web").dump(1) << stack.Logs();
  Json web = stack.Find("shop", "web");
  EXPECT_THAT(web.dump(), ::testing::HasSubstr("policy:local-auto-approve-low"));
  EXPECT_TRUE(PollUntil([&] { return stack.Healthy("shop", "web"); }, 60s));
  EXPECT_EQ(ContainerImage(stack.Deployment("shop", "web")), "registry.example.com/shop/web:1.4.2");

  // Medium risk is not covered by the policy: a person decides.
  for (const char* name : {"report-worker", "report-worker-b", "hungry"}) {
    ASSERT_TRUE(stack.WaitState("analytics", name, "REMEDIATION_STATE_READY_FOR_REVIEW"))
        << name << " " << stack.StateOf("analytics", name) << stack.Logs();
  }
  std::string out;
  std::string rejected = Field(stack.Find("analytics", "report-worker-b"), {"id"});
  ASSERT_EQ(stack.Ctl("reject " + rejected + " -m 'not during the freeze'", &out), 0) << out;
  ASSERT_EQ(stack.Ctl("approve " + Field(stack.Find("analytics", "report-worker"), {"id"}) +
                          " -m 'raise it'",
                      &out),
            0)
      << out;
  ASSERT_EQ(
      stack.Ctl("approve " + Field(stack.Find("analytics", "hungry"), {"id"}) + " -m try", &out), 0)
      << out;
  EXPECT_TRUE(stack.WaitState("analytics", "report-worker", "REMEDIATION_STATE_VERIFIED"))
      << stack.Find("analytics", "report-worker").dump(1) << stack.Logs();
  EXPECT_TRUE(PollUntil([&] { return stack.Healthy("analytics", "report-worker"); }, 60s));
  EXPECT_EQ(ContainerMemoryLimit(stack.Deployment("analytics", "report-worker")), "512Mi");

  // 3000 MiB does not fit in 512Mi either: the rollout does not heal, the executor restores
  // the captured object.
  EXPECT_TRUE(stack.WaitState("analytics", "hungry", "REMEDIATION_STATE_ROLLED_BACK", 300s))
      << stack.Find("analytics", "hungry").dump(1) << stack.Logs();
  EXPECT_EQ(ContainerMemoryLimit(stack.Deployment("analytics", "hungry")), "256Mi");

  // The rejected one stayed Rejected and was never touched (the others finished meanwhile).
  EXPECT_EQ(stack.StateOf("analytics", "report-worker-b"), "REMEDIATION_STATE_REJECTED");
  EXPECT_EQ(ContainerMemoryLimit(stack.Deployment("analytics", "report-worker-b")), "256Mi");
  EXPECT_EQ(stack.Deployment("analytics", "report-worker-b")["metadata"].value("generation", 0), 1);
  for (const auto& rec : stack.Audit(rejected, "aiops.executions")) {
    ADD_FAILURE() << "a rejected remediation was executed: " << rec.dump();
  }
}

// Garbage on every topic is dead-lettered while every service stays healthy; then each service
// is SIGKILLed at its stage of a remediation (aiops-local restarts it) and the remediation
// still completes with exactly one apply.
TEST(E2eResilienceTest, GarbageAndSigkillMidFlightStillCompleteWithOneApply) {
  REQUIRE_EXECUTOR();
  std::string kcat_path;
  if (RunCommand("command -v kcat", &kcat_path) != 0) GTEST_SKIP() << "kcat not installed";
  LocalStack stack({}, "oom-killed");
  ASSERT_TRUE(stack.WaitUp()) << stack.Logs();
  std::string bootstrap = stack.Bootstrap();

  const std::vector<std::string> topics = {"aiops.anomalies", "aiops.evidence", "aiops.proposals",
                                           "aiops.decisions", "aiops.executions"};
  for (const auto& t : topics) {
    std::string out;
    ASSERT_EQ(RunCommand("printf 'rem-garbage:\\001\\377not-protobuf\\023\\n' | kcat -P -b " +
                             bootstrap + " -t " + t + " -K: 2>&1",
                         &out),
              0)
        << out;
  }
  // Kill the early stages while the incident develops; aiops-local restarts them.
  auto before = stack.Processes();
  for (const char* s : {"detector", "collector", "proposer"})
    ::kill(before[s].pid, SIGKILL);
  ASSERT_TRUE(PollUntil(
      [&] {
        auto now = stack.Processes();
        for (const char* s : {"detector", "collector", "proposer"}) {
          if (!now.count(s) || now[s].pid == before[s].pid) return false;
        }
        return true;
      },
      60s))
      << stack.Logs();

  ASSERT_TRUE(
      stack.WaitState("analytics", "report-worker", "REMEDIATION_STATE_READY_FOR_REVIEW", 240s))
      << stack.Logs();
  std::string id = Field(stack.Find("analytics", "report-worker"), {"id"});
  int generation =
      stack.Deployment("analytics", "report-worker")["metadata"].value("generation", 0);

  // The approver rebuilds its state from Kafka after a SIGKILL.
  ::kill(stack.Processes()["approver"].pid, SIGKILL);
  std::string out;
  ASSERT_TRUE(
      PollUntil([&] { return stack.Ctl("approve " + id + " -m e2e", &out) == 0; }, 120s, 500ms))
      << out << stack.Logs();
  // The executor dies as soon as it started applying.
  ASSERT_TRUE(PollUntil(
      [&] {
        std::string s = stack.StateOf("analytics", "report-worker");
        return s == "REMEDIATION_STATE_APPLYING" || s == "REMEDIATION_STATE_APPLIED" ||
               s == "REMEDIATION_STATE_VERIFIED";
      },
      120s, 50ms));
  ::kill(stack.Processes()["executor"].pid, SIGKILL);

  EXPECT_TRUE(stack.WaitState("analytics", "report-worker", "REMEDIATION_STATE_VERIFIED", 240s))
      << stack.Find("analytics", "report-worker").dump(1) << stack.Logs();
  EXPECT_TRUE(PollUntil([&] { return stack.Healthy("analytics", "report-worker"); }, 60s));
  // Exactly one apply: one APPLIED result on the topic and one spec change.
  int applied = 0;
  for (const auto& rec : stack.Audit(id, "aiops.executions")) {
    if (Field(rec, {"message", "status"}) == "STATUS_APPLIED") ++applied;
  }
  EXPECT_EQ(applied, 1);
  EXPECT_EQ(stack.Deployment("analytics", "report-worker")["metadata"].value("generation", 0),
            generation + 1);

  // The garbage went to the dead-letter topic (from each stage's consumer group), and every
  // service answers /healthz.
  std::vector<Json> dead = stack.Audit("", "aiops.deadletter");
  EXPECT_GE(dead.size(), 3u) << "anomalies, evidence and decisions consumers dead-letter";
  for (const auto& [name, p] : stack.Processes()) {
    if (p.http.empty()) continue;
    std::string body;
    EXPECT_EQ(RunCommand("curl -sf http://" + p.http + "/healthz", &body), 0) << name << body;
  }
}
