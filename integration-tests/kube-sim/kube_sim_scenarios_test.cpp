// Every shipped scenario reaches its documented failure state, and fixing the cause through the
// API (with kubectl, as an operator or the executor would) heals it.
#include <fstream>
#include <functional>

#include "kube_sim_fixture.hpp"

namespace kubesim_it {
namespace {

std::string Cond(const json& obj, const std::string& type, const char* field = "status") {
  if (!obj.is_object()) return "";
  for (const auto& c : obj["status"].value("conditions", json::array())) {
    if (c.value("type", "") == type) return c.value(field, "");
  }
  return "";
}

// All pods of the app satisfy `pred` (and there is at least one).
bool AllPods(const KubeSim& k, const std::string& ns, const std::string& app,
             const std::function<bool(const json&)>& pred) {
  json pods = k.KubectlJson("get pods -n " + ns + " -l app=" + app);
  if (!pods.is_object() || pods["items"].empty()) return false;
  for (const auto& p : pods["items"]) {
    if (!pred(p)) return false;
  }
  return true;
}

json Container(const json& pod) {
  const json& st = pod["status"];
  if (!st.contains("containerStatuses") || st["containerStatuses"].empty()) return json::object();
  return st["containerStatuses"][0];
}

std::string Waiting(const json& pod) {
  json c = Container(pod);
  return c.contains("state") && c["state"].contains("waiting")
             ? c["state"]["waiting"].value("reason", "")
             : "";
}

// Healed: the Deployment is Available with every replica updated, and its pods run and are ready.
void ExpectHealed(const KubeSim& k, const std::string& ns, const std::string& name) {
  std::string out;
  EXPECT_EQ(k.Kubectl("-n " + ns + " rollout status deployment/" + name + " --timeout=90s", &out),
            0)
      << out;
  EXPECT_TRUE(PollUntil(
      [&] {
        json d = k.KubectlJson("get deployment -n " + ns + " " + name);
        return Cond(d, "Available") == "True" && AllPods(k, ns, name, [](const json& p) {
                 return p["status"].value("phase", "") == "Running" &&
                        Container(p).value("ready", false);
               });
      },
      90s))
      << k.KubectlOut("get pods,deploy -n " + ns);
}

TEST(KubeSimScenarios, BadImageTag) {
  REQUIRE_KUBECTL();
  KubeSim k("bad-image-tag", 30);
  ASSERT_TRUE(k.ready()) << k.process().Output();
  EXPECT_TRUE(PollUntil(
      [&] {
        return AllPods(k, "shop", "web",
                       [](const json& p) { return Waiting(p) == "ImagePullBackOff"; });
      },
      60s));
  EXPECT_TRUE(PollUntil(
      [&] {
        json d = k.KubectlJson("get deployment -n shop web");
        return Cond(d, "Available") == "False" &&
               Cond(d, "Progressing", "reason") == "ProgressDeadlineExceeded";
      },
      60s))
      << k.KubectlOut("get deployment -n shop web -o yaml");
  std::string out;
  EXPECT_NE(k.Kubectl("-n shop rollout status deployment/web --timeout=30s", &out), 0);
  EXPECT_NE(out.find("exceeded its progress deadline"), std::string::npos) << out;
  ASSERT_EQ(
      k.Kubectl("-n shop set image deployment/web web=registry.example.com/shop/web:1.4.2", &out),
      0)
      << out;
  ExpectHealed(k, "shop", "web");
  EXPECT_EQ(Cond(k.KubectlJson("get deployment -n shop web"), "Progressing", "reason"),
            "NewReplicaSetAvailable");
}

TEST(KubeSimScenarios, OomKilled) {
  REQUIRE_KUBECTL();
  KubeSim k("oom-killed", 30);
  ASSERT_TRUE(k.ready());
  EXPECT_TRUE(PollUntil(
      [&] {
        return AllPods(k, "analytics", "report-worker", [](const json& p) {
          json c = Container(p);
          return c.value("restartCount", 0) >= 2 && c["lastState"].contains("terminated") &&
                 c["lastState"]["terminated"].value("reason", "") == "OOMKilled" &&
                 c["lastState"]["terminated"].value("exitCode", 0) == 137;
        });
      },
      60s))
      << k.KubectlOut("get pods -n analytics -o yaml");
  EXPECT_TRUE(k.WaitForKubectl("get pods -n analytics", {"CrashLoopBackOff"}, 60s));
  std::string out;
  ASSERT_EQ(
      k.Kubectl(
          "-n analytics set resources deployment/report-worker -c worker --limits=memory=512Mi",
          &out),
      0)
      << out;
  ExpectHealed(k, "analytics", "report-worker");
}

TEST(KubeSimScenarios, CrashloopMissingEnv) {
  REQUIRE_KUBECTL();
  KubeSim k("crashloop-missing-env", 30);
  ASSERT_TRUE(k.ready());
  EXPECT_TRUE(PollUntil(
      [&] {
        return AllPods(k, "shop", "cart", [](const json& p) {
          return Waiting(p) == "CrashLoopBackOff" && Container(p).value("restartCount", 0) >= 1;
        });
      },
      60s));
  std::string out;
  ASSERT_EQ(
      k.Kubectl(
          "-n shop set env deployment/cart REDIS_HOST=redis-master.shop.svc.cluster.local:6379",
          &out),
      0)
      << out;
  ExpectHealed(k, "shop", "cart");
}

TEST(KubeSimScenarios, MissingConfigMap) {
  REQUIRE_KUBECTL();
  KubeSim k("missing-configmap", 30);
  ASSERT_TRUE(k.ready());
  EXPECT_TRUE(PollUntil(
      [&] {
        return AllPods(k, "payments", "payments-api", [](const json& p) {
          return Waiting(p) == "CreateContainerConfigError" &&
                 Container(p)["state"]["waiting"].value("message", "") ==
                     "configmap \"payments-config\" not found";
        });
      },
      60s));
  std::string out;
  std::string cm = k.dir().File("cm.yaml");
  std::ofstream(cm) << "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: payments-config\n  "
                       "namespace: payments\n"
                       "data:\n  DATABASE_URL: postgres://db:5432/payments\n";
  ASSERT_EQ(k.Kubectl("apply -f " + cm, &out), 0) << out;
  ExpectHealed(k, "payments", "payments-api");
}

TEST(KubeSimScenarios, Unschedulable) {
  REQUIRE_KUBECTL();
  KubeSim k("unschedulable", 30);
  ASSERT_TRUE(k.ready());
  EXPECT_TRUE(PollUntil(
      [&] {
        return AllPods(k, "ml", "trainer", [](const json& p) {
          return Cond(p, "PodScheduled", "reason") == "Unschedulable" &&
                 !p["spec"].contains("nodeName") && p["status"].value("phase", "") == "Pending";
        });
      },
      60s));
  EXPECT_TRUE(k.WaitForKubectl("get events -n ml --field-selector reason=FailedScheduling",
                               {"0/2 nodes are available: 2 Insufficient memory"}, 60s));
  std::string out;
  ASSERT_EQ(k.Kubectl("-n ml set resources deployment/trainer -c trainer --requests=memory=2Gi "
                      "--limits=memory=3Gi",
                      &out),
            0)
      << out;
  ExpectHealed(k, "ml", "trainer");
}

TEST(KubeSimScenarios, DemoMixesFailuresWithHealthyWorkloads) {
  REQUIRE_KUBECTL();
  KubeSim k("demo", 30);
  ASSERT_TRUE(k.ready());
  EXPECT_TRUE(PollUntil(
      [&] {
        return AllPods(k, "shop", "frontend",
                       [](const json& p) { return Container(p).value("ready", false); }) &&
               AllPods(k, "data", "redis",
                       [](const json& p) { return Container(p).value("ready", false); }) &&
               AllPods(k, "monitoring", "node-exporter",
                       [](const json& p) { return Container(p).value("ready", false); }) &&
               AllPods(k, "shop", "web",
                       [](const json& p) { return Waiting(p) == "ImagePullBackOff"; }) &&
               AllPods(k, "payments", "payments-api",
                       [](const json& p) { return Waiting(p) == "CreateContainerConfigError"; }) &&
               AllPods(k, "ml", "trainer", [](const json& p) {
                 return Cond(p, "PodScheduled", "reason") == "Unschedulable";
               });
      },
      90s))
      << k.KubectlOut("get pods -A");
  EXPECT_EQ(
      k.KubectlOut("get daemonset -n monitoring node-exporter -o jsonpath={.status.numberReady}"),
      "3");
  std::string out;
  ASSERT_EQ(
      k.Kubectl("-n shop set image deployment/web web=registry.example.com/shop/web:1.4.2", &out),
      0)
      << out;
  ExpectHealed(k, "shop", "web");
}

}  // namespace
}  // namespace kubesim_it
