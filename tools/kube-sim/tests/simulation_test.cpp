#include <gtest/gtest.h>

#include "api_server.hpp"
#include "scenario.hpp"
#include "simulator.hpp"
#include "tables.hpp"

namespace kubesim {
namespace {

// Drives the simulator deterministically: explicit steps, sim time moved by hand.
class SimulationTest : public ::testing::Test {
 protected:
  SimulationTest() : clock_(1.0), objects_(store_, clock_), sim_(objects_, logs_, registry_) {
    Bootstrap(objects_);
  }

  void Load(const std::string& name) { ApplyScenario(LoadScenario(name), objects_, registry_); }

  // Steps (advancing sim time by `dt` each step) until `cond` holds; false after `max_steps`.
  bool RunUntil(const std::function<bool()>& cond,
                std::chrono::seconds dt = std::chrono::seconds(1), int max_steps = 2000) {
    for (int i = 0; i < max_steps; ++i) {
      sim_.Step();
      if (cond()) return true;
      clock_.Advance(dt);
    }
    return false;
  }

  std::vector<json> PodsOf(const std::string& ns, const std::string& app) {
    std::vector<json> out;
    for (const auto& p : objects_.List(Pods(), ns)) {
      if (PathString(p->obj, {"metadata", "labels", "app"}) == app) out.push_back(p->obj);
    }
    return out;
  }
  bool AllPods(const std::string& ns, const std::string& app,
               const std::function<bool(const json&)>& f) {
    auto pods = PodsOf(ns, app);
    if (pods.empty()) return false;
    for (const auto& p : pods) {
      if (!f(p)) return false;
    }
    return true;
  }
  std::string Condition(const json& obj, const std::string& type, const char* field = "status") {
    for (const auto& c : Path(obj, {"status", "conditions"})) {
      if (c.value("type", "") == type) return c.value(field, "");
    }
    return "";
  }
  json Deploy(const std::string& ns, const std::string& name) {
    return objects_.Get(Deployments(), ns, name)->obj;
  }
  bool DeploymentAvailable(const std::string& ns, const std::string& name) {
    json d = Deploy(ns, name);
    return Condition(d, "Available") == "True" &&
           PathInt(d, {"status", "updatedReplicas"}) == PathInt(d, {"spec", "replicas"}) &&
           PathInt(d, {"status", "availableReplicas"}) == PathInt(d, {"spec", "replicas"}) &&
           PathInt(d, {"status", "replicas"}) == PathInt(d, {"spec", "replicas"});
  }
  static std::string Waiting(const json& pod) {
    return PathString(Path(pod, {"status", "containerStatuses"})[0],
                      {"state", "waiting", "reason"});
  }
  bool HasEvent(const std::string& ns, const std::string& reason, const std::string& text) {
    for (const auto& e : objects_.List(Events(), ns)) {
      if (PathString(e->obj, {"reason"}) == reason &&
          PathString(e->obj, {"message"}).find(text) != std::string::npos)
        return true;
    }
    return false;
  }
  void SetImage(const std::string& ns, const std::string& name, const std::string& image) {
    std::string container =
        Path(Deploy(ns, name), {"spec", "template", "spec", "containers"})[0]["name"];
    json patch = {
        {"spec",
         {{"template",
           {{"spec", {{"containers", json::array({{{"name", container}, {"image", image}}})}}}}}}}};
    objects_.Patch(Deployments(), ns, name, "application/strategic-merge-patch+json", patch.dump(),
                   WriteOptions{false, "test", ""}, false);
  }

  Store store_;
  SimClock clock_;
  ObjectService objects_;
  LogStore logs_;
  ImageRegistry registry_;
  Simulator sim_;
};

TEST_F(SimulationTest, DeploymentRollsOutAndKeepsRevisionHistory) {
  Load("bad-image-tag");
  sim_.Step();  // revision 1: the broken tag
  SetImage("shop", "web", "registry.example.com/shop/web:1.4.2");
  ASSERT_TRUE(RunUntil([&] { return DeploymentAvailable("shop", "web"); }));
  json d = Deploy("shop", "web");
  EXPECT_EQ(PathInt(d, {"status", "observedGeneration"}), PathInt(d, {"metadata", "generation"}));
  EXPECT_EQ(Condition(d, "Progressing", "reason"), "NewReplicaSetAvailable");
  for (const auto& p : PodsOf("shop", "web")) {
    EXPECT_EQ(PodStatusReason(p), "Running");
    EXPECT_FALSE(PathString(p, {"metadata", "labels", "pod-template-hash"}).empty());
  }
  ImageBehavior next;
  next.image = "registry.example.com/shop/web:1.5.0";
  registry_.Add(next);
  SetImage("shop", "web", "registry.example.com/shop/web:1.5.0");
  ASSERT_TRUE(RunUntil([&] {
    return DeploymentAvailable("shop", "web") && AllPods("shop", "web", [](const json& p) {
             return Path(p, {"spec", "containers"})[0]["image"] ==
                    "registry.example.com/shop/web:1.5.0";
           });
  }));
  EXPECT_EQ(PathString(Deploy("shop", "web"),
                       {"metadata", "annotations", "deployment.kubernetes.io/revision"}),
            "3");
  EXPECT_EQ(objects_.List(ReplicaSets(), "shop").size(), 3u);  // history kept
}

TEST_F(SimulationTest, BadImageTagPullsBackOffAndExceedsProgressDeadline) {
  Load("bad-image-tag");
  ASSERT_TRUE(RunUntil([&] {
    return AllPods("shop", "web", [](const json& p) { return Waiting(p) == "ImagePullBackOff"; });
  }));
  EXPECT_TRUE(
      HasEvent("shop", "Failed", "Failed to pull image \"registry.example.com/shop/web:1.4.3\""));
  EXPECT_TRUE(HasEvent("shop", "BackOff", "Back-off pulling image"));
  EXPECT_EQ(Condition(Deploy("shop", "web"), "Available"), "False");
  ASSERT_TRUE(RunUntil(
      [&] {
        return Condition(Deploy("shop", "web"), "Progressing", "reason") ==
               "ProgressDeadlineExceeded";
      },
      std::chrono::seconds(5)));
  SetImage("shop", "web", "registry.example.com/shop/web:1.4.2");
  ASSERT_TRUE(RunUntil([&] { return DeploymentAvailable("shop", "web"); }));
  EXPECT_EQ(Condition(Deploy("shop", "web"), "Progressing", "reason"), "NewReplicaSetAvailable");
}

TEST_F(SimulationTest, OomKilledCrashLoopsWithGrowingRestarts) {
  Load("oom-killed");
  ASSERT_TRUE(RunUntil([&] {
    return AllPods("analytics", "report-worker", [](const json& p) {
      return PathInt(Path(p, {"status", "containerStatuses"})[0], {"restartCount"}) >= 2;
    });
  }));
  json cs = Path(PodsOf("analytics", "report-worker")[0], {"status", "containerStatuses"})[0];
  EXPECT_EQ(PathString(cs, {"lastState", "terminated", "reason"}), "OOMKilled");
  EXPECT_EQ(PathInt(cs, {"lastState", "terminated", "exitCode"}), 137);
  ASSERT_TRUE(RunUntil([&] {
    return AllPods("analytics", "report-worker",
                   [](const json& p) { return Waiting(p) == "CrashLoopBackOff"; });
  }));
  objects_.Patch(
      Deployments(), "analytics", "report-worker", "application/strategic-merge-patch+json",
      R"({"spec":{"template":{"spec":{"containers":[{"name":"worker","resources":{"limits":{"memory":"512Mi"}}}]}}}})",
      WriteOptions{false, "test", ""}, false);
  ASSERT_TRUE(RunUntil([&] { return DeploymentAvailable("analytics", "report-worker"); }));
}

TEST_F(SimulationTest, MissingEnvCrashesWithLogsAndPreviousLogs) {
  Load("crashloop-missing-env");
  ASSERT_TRUE(RunUntil([&] {
    return AllPods("shop", "cart", [](const json& p) { return Waiting(p) == "CrashLoopBackOff"; });
  }));
  json pod = PodsOf("shop", "cart")[0];
  bool found = false;
  auto prev = logs_.Get(PathString(pod, {"metadata", "uid"}), "cart", true, &found);
  ASSERT_TRUE(found);
  std::string text;
  for (const auto& l : prev)
    text += l.text + "\n";
  EXPECT_NE(text.find("Connection refused to redis:6379"), std::string::npos);
  objects_.Patch(
      Deployments(), "shop", "cart", "application/strategic-merge-patch+json",
      R"({"spec":{"template":{"spec":{"containers":[{"name":"cart","env":[{"name":"REDIS_HOST","value":"redis:6379"}]}]}}}})",
      WriteOptions{false, "test", ""}, false);
  ASSERT_TRUE(RunUntil([&] { return DeploymentAvailable("shop", "cart"); }));
}

TEST_F(SimulationTest, MissingConfigMapHealsWhenCreated) {
  Load("missing-configmap");
  ASSERT_TRUE(RunUntil([&] {
    return AllPods("payments", "payments-api",
                   [](const json& p) { return Waiting(p) == "CreateContainerConfigError"; });
  }));
  EXPECT_EQ(
      PathString(Path(PodsOf("payments", "payments-api")[0], {"status", "containerStatuses"})[0],
                 {"state", "waiting", "message"}),
      "configmap \"payments-config\" not found");
  EXPECT_TRUE(HasEvent("payments", "Failed", "Error: configmap \"payments-config\" not found"));
  objects_.Create(
      ConfigMaps(), "payments",
      {{"metadata", {{"name", "payments-config"}}}, {"data", {{"DATABASE_URL", "postgres://db"}}}});
  ASSERT_TRUE(RunUntil([&] { return DeploymentAvailable("payments", "payments-api"); }));
}

TEST_F(SimulationTest, UnschedulablePodReportsWhyAndHealsWithSmallerRequest) {
  Load("unschedulable");
  ASSERT_TRUE(RunUntil([&] {
    return AllPods("ml", "trainer", [&](const json& p) {
      return Condition(p, "PodScheduled", "reason") == "Unschedulable";
    });
  }));
  json pod = PodsOf("ml", "trainer")[0];
  EXPECT_EQ(PathString(pod, {"spec", "nodeName"}), "");
  EXPECT_NE(Condition(pod, "PodScheduled", "message")
                .find("0/2 nodes are available: 2 Insufficient memory"),
            std::string::npos);
  EXPECT_TRUE(HasEvent("ml", "FailedScheduling", "Insufficient memory"));
  objects_.Patch(
      Deployments(), "ml", "trainer", "application/strategic-merge-patch+json",
      R"({"spec":{"template":{"spec":{"containers":[{"name":"trainer","resources":{"requests":{"memory":"2Gi"},"limits":{"memory":"3Gi"}}}]}}}})",
      WriteOptions{false, "test", ""}, false);
  ASSERT_TRUE(RunUntil([&] { return DeploymentAvailable("ml", "trainer"); }));
}

TEST_F(SimulationTest, StatefulSetAndDaemonSetReportPods) {
  Load("demo");
  ASSERT_TRUE(RunUntil([&] {
    json sts = objects_.Get(StatefulSets(), "data", "redis")->obj;
    json ds = objects_.Get(DaemonSets(), "monitoring", "node-exporter")->obj;
    return PathInt(sts, {"status", "readyReplicas"}) == 2 &&
           PathInt(ds, {"status", "numberReady"}) == 3;
  }));
  EXPECT_TRUE(objects_.Get(Pods(), "data", "redis-0"));
  EXPECT_TRUE(objects_.Get(Pods(), "data", "redis-1"));
  // Deleting the owner garbage-collects its pods.
  objects_.Delete(DaemonSets(), "monitoring", "node-exporter");
  ASSERT_TRUE(RunUntil([&] { return objects_.List(Pods(), "monitoring").empty(); }));
}

TEST_F(SimulationTest, PodsTerminateGracefullyThenDisappear) {
  objects_.set_graceful_pod_deletion(true);
  Load("crashloop-missing-env");
  ASSERT_TRUE(RunUntil([&] {
    return !PodsOf("shop", "cart").empty() &&
           !PathString(PodsOf("shop", "cart")[0], {"spec", "nodeName"}).empty();
  }));
  std::string name = PodsOf("shop", "cart")[0]["metadata"]["name"];
  json deleted = objects_.Delete(Pods(), "shop", name);
  EXPECT_FALSE(PathString(deleted, {"metadata", "deletionTimestamp"}).empty());
  EXPECT_EQ(PodStatusReason(deleted), "Terminating");
  ASSERT_TRUE(objects_.Get(Pods(), "shop", name));  // still there while terminating
  ASSERT_TRUE(RunUntil([&] { return !objects_.Get(Pods(), "shop", name); }));
  // The ReplicaSet replaced it.
  ASSERT_TRUE(RunUntil([&] { return PodsOf("shop", "cart").size() == 1; }));
  EXPECT_NE(PodsOf("shop", "cart")[0]["metadata"]["name"], name);
  // Force deletion (grace period 0) is immediate.
  std::string other = PodsOf("shop", "cart")[0]["metadata"]["name"];
  DeleteOptions force;
  force.grace_period_seconds = 0;
  objects_.Delete(Pods(), "shop", other, force);
  EXPECT_FALSE(objects_.Get(Pods(), "shop", other));
}

TEST_F(SimulationTest, OrphanDeletionKeepsDependents) {
  Load("crashloop-missing-env");
  ASSERT_TRUE(RunUntil([&] { return objects_.List(ReplicaSets(), "shop").size() == 1; }));
  DeleteOptions orphan;
  orphan.propagation_policy = "Orphan";
  objects_.Delete(Deployments(), "shop", "cart", orphan);
  for (int i = 0; i < 5; ++i)
    sim_.Step();
  auto rs = objects_.List(ReplicaSets(), "shop");
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_FALSE(rs[0]->obj["metadata"].contains("ownerReferences"));
}

TEST_F(SimulationTest, EventsExpireAfterAnHour) {
  Load("crashloop-missing-env");
  ASSERT_TRUE(RunUntil([&] { return HasEvent("shop", "Scheduled", "Successfully assigned"); }));
  clock_.Advance(std::chrono::minutes(61));
  // The crash loop keeps recording fresh events; the old Scheduled one must be gone.
  ASSERT_TRUE(RunUntil([&] { return !HasEvent("shop", "Scheduled", "Successfully assigned"); },
                       std::chrono::seconds(1), 50));
  EXPECT_TRUE(HasEvent("shop", "BackOff", "Back-off restarting failed container"));
}

}  // namespace
}  // namespace kubesim
