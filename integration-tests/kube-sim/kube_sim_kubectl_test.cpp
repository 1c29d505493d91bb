// The "Must show" list of issue 3: kube-sim driven by the real kubectl with default flags.
#include <fstream>
#include <functional>

#include "kube_sim_fixture.hpp"

namespace kubesim_it {
namespace {

std::string FirstPod(const KubeSim& k, const std::string& ns, const std::string& app) {
  json pods = k.KubectlJson("get pods -n " + ns + " -l app=" + app);
  if (!pods.is_object() || pods["items"].empty()) return "";
  return pods["items"][0]["metadata"]["name"];
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

std::string DeploymentYaml(const std::string& image) {
  return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: default\n"
         "spec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web}\n  template:\n"
         "    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n"
         "      - name: app\n        image: " +
         image + "\n";
}

std::string Image(const KubeSim& k) {
  return k.KubectlOut("get deployment web -o jsonpath={.spec.template.spec.containers[0].image}");
}

TEST(KubeSimKubectl, GetPodsAllNamespacesShowsEveryFailure) {
  REQUIRE_KUBECTL();
  KubeSim k("demo");
  ASSERT_TRUE(k.ready()) << k.process().Output();
  std::string out;
  EXPECT_TRUE(k.WaitForKubectl(
      "get pods -A",
      {"NAMESPACE", "shop", "payments", "analytics", "ml", "data", "ImagePullBackOff",
       "CrashLoopBackOff", "CreateContainerConfigError", "Pending", "Running"},
      60s, &out))
      << out;
}

TEST(KubeSimKubectl, GetPodsWatchSeesStatusChange) {
  REQUIRE_KUBECTL();
  KubeSim k("missing-configmap");
  ASSERT_TRUE(k.ready());
  aiops::testing::Subprocess watch({KubectlPath(), "get", "pods", "-n", "payments", "-w"},
                                   k.KubectlEnv());
  ASSERT_TRUE(watch.WaitForOutput("CreateContainerConfigError", 60s)) << watch.Output();
  EXPECT_EQ(watch.Output().find("Running"), std::string::npos);
  std::string out;
  ASSERT_EQ(k.Kubectl("-n payments create configmap payments-config "
                      "--from-literal=DATABASE_URL=postgres://db/payments -o name",
                      &out),
            0)
      << out;
  // The open watch (not a new list) must report the pods turning Running.
  EXPECT_TRUE(watch.WaitForOutput("Running", 60s)) << watch.Output();
  watch.Stop(SIGTERM);
}

TEST(KubeSimKubectl, DescribePodShowsCrashLoopAndEvents) {
  REQUIRE_KUBECTL();
  KubeSim k("crashloop-missing-env");
  ASSERT_TRUE(k.ready());
  std::string pod;
  ASSERT_TRUE(PollUntil([&] { return !(pod = FirstPod(k, "shop", "cart")).empty(); }, 30s));
  std::string out;
  EXPECT_TRUE(k.WaitForKubectl(
      "describe pod -n shop " + pod,
      {"Name:         " + pod, "Namespace:    shop", "Node:", "Status:", "CrashLoopBackOff",
       "Last State:     Terminated", "Exit Code:    1", "Back-off restarting failed container cart",
       "Started container cart", "Successfully assigned shop/" + pod},
      60s, &out))
      << out;
}

TEST(KubeSimKubectl, GetEventsByInvolvedObjectName) {
  REQUIRE_KUBECTL();
  KubeSim k("bad-image-tag");
  ASSERT_TRUE(k.ready());
  json pods;
  ASSERT_TRUE(PollUntil(
      [&] {
        pods = k.KubectlJson("get pods -n shop -l app=web");
        return pods.is_object() && pods["items"].size() == 2;
      },
      30s));
  std::string a = pods["items"][0]["metadata"]["name"], b = pods["items"][1]["metadata"]["name"];
  std::string out;
  ASSERT_TRUE(k.WaitForKubectl("get events -n shop --field-selector involvedObject.name=" + a,
                               {"Failed to pull image", "Back-off pulling image", "pod/" + a}, 60s,
                               &out))
      << out;
  EXPECT_EQ(out.find(b), std::string::npos) << "events of another pod leaked into the selection:\n"
                                            << out;
}

TEST(KubeSimKubectl, LogsPreviousShowsTheCrashedInstance) {
  REQUIRE_KUBECTL();
  KubeSim k("crashloop-missing-env");
  ASSERT_TRUE(k.ready());
  std::string pod;
  ASSERT_TRUE(PollUntil([&] { return !(pod = FirstPod(k, "shop", "cart")).empty(); }, 30s));
  std::string out;
  ASSERT_TRUE(k.WaitForKubectl("logs -n shop " + pod + " --previous",
                               {"REDIS_HOST is not set", "Connection refused to redis:6379"}, 60s,
                               &out))
      << out;
  std::string tail = k.KubectlOut("logs -n shop " + pod + " --previous --tail=1");
  EXPECT_EQ(tail, "fatal: session store unavailable, exiting\n");
  std::string limited = k.KubectlOut("logs -n shop " + pod + " --previous --limit-bytes=4");
  EXPECT_EQ(limited, "cart");
}

TEST(KubeSimKubectl, ServerSideApplyDryRunFieldManagersAndConflicts) {
  REQUIRE_KUBECTL();
  KubeSim k("");
  ASSERT_TRUE(k.ready());
  std::string v1 = k.dir().File("v1.yaml"), v2 = k.dir().File("v2.yaml"),
              v3 = k.dir().File("v3.yaml");
  WriteFile(v1, DeploymentYaml("nginx:1.25"));
  WriteFile(v2, DeploymentYaml("nginx:1.26"));
  WriteFile(v3, DeploymentYaml("nginx:1.27"));
  std::string out;
  ASSERT_EQ(k.Kubectl("apply --server-side -f " + v1, &out), 0) << out;
  EXPECT_NE(out.find("deployment.apps/web serverside-applied"), std::string::npos) << out;

  // Server dry run: the answer shows the change, the stored object does not.
  ASSERT_EQ(k.Kubectl("apply --server-side --dry-run=server -f " + v2 +
                          " -o jsonpath={.spec.template.spec.containers[0].image}",
                      &out),
            0)
      << out;
  EXPECT_EQ(out, "nginx:1.26");
  EXPECT_EQ(Image(k), "nginx:1.25");
  // Only the controllers' status writes may have moved it; the spec must be untouched.
  EXPECT_EQ(k.KubectlOut("get deployment web -o jsonpath={.metadata.generation}"), "1");

  ASSERT_EQ(k.Kubectl("apply --server-side -f " + v2, &out), 0) << out;
  EXPECT_EQ(Image(k), "nginx:1.26");
  json d = k.KubectlJson("get deployment web --show-managed-fields");
  bool kubectl_apply = false;
  for (const auto& m : d["metadata"]["managedFields"]) {
    if (m["manager"] == "kubectl" && m["operation"] == "Apply") kubectl_apply = true;
  }
  EXPECT_TRUE(kubectl_apply) << d["metadata"]["managedFields"].dump();

  // A second manager changing the same field conflicts...
  int rc = k.Kubectl("apply --server-side --field-manager=release-bot -f " + v3, &out);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("conflict"), std::string::npos) << out;
  EXPECT_NE(out.find("\"kubectl\""), std::string::npos) << out;
  EXPECT_NE(out.find(".spec.template.spec.containers[name=\"app\"].image"), std::string::npos)
      << out;
  EXPECT_EQ(Image(k), "nginx:1.26");
  // ...and --force-conflicts takes the field over.
  ASSERT_EQ(
      k.Kubectl("apply --server-side --field-manager=release-bot --force-conflicts -f " + v3, &out),
      0)
      << out;
  EXPECT_EQ(Image(k), "nginx:1.27");
  d = k.KubectlJson("get deployment web --show-managed-fields");
  for (const auto& m : d["metadata"]["managedFields"]) {
    std::string fields = m["fieldsV1"].dump();
    bool owns_image = fields.find("k:{\\\"name\\\":\\\"app\\\"}") != std::string::npos &&
                      fields.find("f:image") != std::string::npos;
    if (m["manager"] == "release-bot") {
      EXPECT_TRUE(owns_image) << fields;
    }
    if (m["manager"] == "kubectl") {
      EXPECT_FALSE(owns_image) << fields;
    }
  }
}

TEST(KubeSimKubectl, SetImageRolloutStatusAndUndo) {
  REQUIRE_KUBECTL();
  KubeSim k("");
  ASSERT_TRUE(k.ready());
  std::string file = k.dir().File("web.yaml");
  WriteFile(file, DeploymentYaml("nginx:1.25"));
  std::string out;
  ASSERT_EQ(k.Kubectl("apply -f " + file, &out), 0) << out;
  ASSERT_EQ(k.Kubectl("rollout status deployment/web --timeout=60s", &out), 0) << out;
  EXPECT_NE(out.find("deployment \"web\" successfully rolled out"), std::string::npos) << out;

  ASSERT_EQ(k.Kubectl("set image deployment/web app=nginx:1.26", &out), 0) << out;
  ASSERT_EQ(k.Kubectl("rollout status deployment/web --timeout=60s", &out), 0) << out;
  EXPECT_NE(out.find("successfully rolled out"), std::string::npos) << out;
  EXPECT_EQ(Image(k), "nginx:1.26");
  json pods = k.KubectlJson("get pods -l app=web");
  ASSERT_EQ(pods["items"].size(), 2u) << pods.dump();
  for (const auto& p : pods["items"])
    EXPECT_EQ(p["spec"]["containers"][0]["image"], "nginx:1.26");

  ASSERT_EQ(k.Kubectl("rollout undo deployment/web", &out), 0) << out;
  ASSERT_EQ(k.Kubectl("rollout status deployment/web --timeout=60s", &out), 0) << out;
  EXPECT_EQ(Image(k), "nginx:1.25");
  EXPECT_EQ(
      k.KubectlOut(
          "get deployment web -o " +
          ShellQuote("jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}")),
      "3");
  EXPECT_TRUE(PollUntil(
      [&] {
        json ps = k.KubectlJson("get pods -l app=web");
        if (!ps.is_object() || ps["items"].size() != 2) return false;
        for (const auto& p : ps["items"]) {
          if (p["spec"]["containers"][0]["image"] != "nginx:1.25") return false;
        }
        return true;
      },
      60s));
  std::string history = k.KubectlOut("rollout history deployment/web");
  EXPECT_NE(history.find("2 "), std::string::npos) << history;
  EXPECT_NE(history.find("3 "), std::string::npos) << history;
}

// client-go sends bearer tokens only over https: with --tls the kubeconfig kube-sim writes
// (token plus its self-signed CA) works unchanged, and a wrong token is refused.
TEST(KubeSimKubectl, BearerTokenOverTls) {
  REQUIRE_KUBECTL();
  KubeSim k("", 1, {"--tls", "--token", "t0ken-123"});
  ASSERT_TRUE(k.ready()) << k.process().Output();
  EXPECT_EQ(k.url().rfind("https://127.0.0.1:", 0), 0u) << k.url();
  std::string out;
  ASSERT_EQ(k.Kubectl("get namespaces", &out), 0) << out;
  EXPECT_NE(out.find("kube-system"), std::string::npos) << out;
  std::string kc = aiops::testing::ReadFile(k.kubeconfig());
  std::string wrong = k.dir().File("wrong-token");
  std::string replaced = kc.replace(kc.find("t0ken-123"), 9, "nope-nope");
  std::ofstream(wrong) << replaced;
  EXPECT_NE(
      aiops::testing::RunCommand("HOME=" + ShellQuote(k.dir().path()) + " kubectl --kubeconfig " +
                                     ShellQuote(wrong) + " get namespaces",
                                 &out),
      0);
  EXPECT_NE(out.find("Unauthorized"), std::string::npos) << out;
}

// Over plain http client-go withholds the token, so a token-protected http server refuses
// kubectl (HTTP clients that send the header work, see kube_sim_http_test.cpp).
TEST(KubeSimKubectl, TokenProtectedHttpServerRefusesKubectl) {
  REQUIRE_KUBECTL();
  KubeSim k("", 1, {"--token", "t0ken-123"});
  ASSERT_TRUE(k.ready());
  std::string out;
  EXPECT_NE(k.Kubectl("get namespaces", &out), 0);
  EXPECT_NE(out.find("provide credentials"), std::string::npos) << out;
}

}  // namespace
}  // namespace kubesim_it
