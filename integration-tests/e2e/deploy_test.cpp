// deploy/: the Kubernetes base renders with kubectl kustomize and grants least privilege;
// the compose file is valid and wires what the services rely on; the Kyverno policies enforce.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <map>
#include <set>

#include "subprocess.hpp"

using namespace aiops::testing;

namespace {

const std::string kDeploy = AIOPS_SOURCE_DIR "/deploy";

bool HaveCommand(const std::string& name) {
  std::string out;
  return RunCommand("command -v " + name, &out) == 0;
}

std::vector<YAML::Node> Render(const std::string& dir) {
  std::string out;
  int rc = RunCommand("kubectl kustomize " + dir + " 2>&1", &out);
  EXPECT_EQ(rc, 0) << out;
  return YAML::LoadAll(out);
}

std::set<std::string> Strings(const YAML::Node& n) {
  std::set<std::string> s;
  for (const auto& x : n)
    s.insert(x.as<std::string>());
  return s;
}

// A service key, following a YAML merge key (`<<: *service`), which yaml-cpp does not resolve.
YAML::Node Key(const YAML::Node& svc, const std::string& key) {
  if (svc[key]) return svc[key];
  if (svc["<<"] && svc["<<"][key]) return svc["<<"][key];
  return YAML::Node();
}

}  // namespace

TEST(DeployK8sTest, RendersEveryKindWithProbesAndNonRootPods) {
  if (!HaveCommand("kubectl")) GTEST_SKIP() << "kubectl not installed";
  std::map<std::string, std::set<std::string>> by_kind;
  for (const auto& d : Render(kDeploy + "/k8s")) {
    by_kind[d["kind"].as<std::string>()].insert(d["metadata"]["name"].as<std::string>());
    if (d["kind"].as<std::string>() != "Deployment") continue;
    SCOPED_TRACE(d["metadata"]["name"].as<std::string>());
    EXPECT_EQ(d["metadata"]["namespace"].as<std::string>(), "aiops");
    auto pod = d["spec"]["template"]["spec"];
    EXPECT_TRUE(pod["securityContext"]["runAsNonRoot"].as<bool>());
    auto c = pod["containers"][0];
    EXPECT_EQ(c["livenessProbe"]["httpGet"]["path"].as<std::string>(), "/healthz");
    EXPECT_EQ(c["readinessProbe"]["httpGet"]["path"].as<std::string>(), "/readyz");
    EXPECT_FALSE(c["securityContext"]["allowPrivilegeEscalation"].as<bool>());
    std::string image = c["image"].as<std::string>();
    EXPECT_THAT(image, ::testing::Not(::testing::EndsWith(":latest")));
    EXPECT_NE(image.find(':'), std::string::npos) << image;
    // The config comes from its own ConfigMap (name suffixed with a content hash).
    EXPECT_EQ(pod["volumes"][0]["configMap"]["name"].as<std::string>().rfind("aiops-", 0), 0u);
  }
  std::set<std::string> services = {"aiops-detector", "aiops-collector", "aiops-proposer",
                                    "aiops-approver", "aiops-executor"};
  EXPECT_EQ(by_kind["Namespace"], std::set<std::string>{"aiops"});
  EXPECT_EQ(by_kind["ServiceAccount"], services);
  EXPECT_EQ(by_kind["Deployment"], services);
  EXPECT_EQ(by_kind["Service"], services);
  EXPECT_EQ(by_kind["ConfigMap"].size(), 5u);
  EXPECT_EQ(by_kind["ClusterRole"], (std::set<std::string>{"aiops-reader", "aiops-executor"}));
  EXPECT_EQ(by_kind["ClusterRoleBinding"],
            (std::set<std::string>{"aiops-detector", "aiops-collector", "aiops-executor"}));
  EXPECT_FALSE(by_kind.count("Secret")) << "tokens are created by the operator, not shipped";
}

TEST(DeployK8sTest, RbacIsLeastPrivilegeAndNeverReadsSecrets) {
  if (!HaveCommand("kubectl")) GTEST_SKIP() << "kubectl not installed";
  const std::set<std::string> read = {"get", "list", "watch"};
  std::map<std::string, std::set<std::string>> subjects;  // ClusterRole -> service accounts
  std::map<std::string, YAML::Node> roles;
  for (const auto& d : Render(kDeploy + "/k8s")) {
    std::string kind = d["kind"].as<std::string>();
    if (kind == "ClusterRole" || kind == "Role") roles[d["metadata"]["name"].as<std::string>()] = d;
    if (kind == "ClusterRoleBinding" || kind == "RoleBinding") {
      for (const auto& s : d["subjects"])
        subjects[d["roleRef"]["name"].as<std::string>()].insert(s["name"].as<std::string>());
    }
  }
  ASSERT_EQ(roles.size(), 2u);
  EXPECT_EQ(subjects["aiops-reader"], (std::set<std::string>{"aiops-detector", "aiops-collector"}));
  EXPECT_EQ(subjects["aiops-executor"], std::set<std::string>{"aiops-executor"});
  for (const auto& [name, role] : roles) {
    SCOPED_TRACE(name);
    for (const auto& rule : role["rules"]) {
      auto resources = Strings(rule["resources"]);
      auto verbs = Strings(rule["verbs"]);
      EXPECT_FALSE(resources.count("secrets")) << "no Secret access";
      EXPECT_FALSE(resources.count("*"));
      EXPECT_FALSE(verbs.count("*"));
      EXPECT_FALSE(Strings(rule["apiGroups"]).count("*"));
      for (const char* v :
           {"create", "update", "delete", "deletecollection", "escalate", "bind", "impersonate"}) {
        EXPECT_FALSE(verbs.count(v)) << v;
      }
      if (name == "aiops-reader") {
        for (const auto& v : verbs)
          EXPECT_TRUE(read.count(v)) << v << " is not read-only";
      }
      if (verbs.count("patch")) {
        EXPECT_EQ(name, "aiops-executor");
        EXPECT_EQ(resources, (std::set<std::string>{"deployments", "statefulsets", "daemonsets"}));
      }
    }
  }
  std::set<std::string> reader_resources;
  for (const auto& rule : roles["aiops-reader"]["rules"])
    for (const auto& r : rule["resources"])
      reader_resources.insert(r.as<std::string>());
  for (const char* r : {"pods", "pods/log", "events", "nodes", "replicasets", "deployments",
                        "statefulsets", "daemonsets", "configmaps"}) {
    EXPECT_TRUE(reader_resources.count(r)) << r;
  }
}

TEST(DeployPoliciesTest, KyvernoPoliciesEnforceBaselineAndTaggedImages) {
  if (!HaveCommand("kubectl")) GTEST_SKIP() << "kubectl not installed";
  std::map<std::string, YAML::Node> policies;
  for (const auto& d : Render(kDeploy + "/policies")) {
    EXPECT_EQ(d["kind"].as<std::string>(), "ClusterPolicy");
    policies[d["metadata"]["name"].as<std::string>()] = d;
  }
  ASSERT_EQ(policies.size(), 2u);
  for (const auto& [name, p] : policies) {
    EXPECT_EQ(p["spec"]["validationFailureAction"].as<std::string>(), "Enforce") << name;
  }
  EXPECT_EQ(
      policies["pod-security-baseline"]["spec"]["rules"][0]["validate"]["podSecurity"]["level"]
          .as<std::string>(),
      "baseline");
  EXPECT_TRUE(policies.count("disallow-latest-tag"));
}

TEST(DeployComposeTest, ComposeFileIsValidAndWiresKafkaOllamaAndTheFiveServices) {
  const std::string file = kDeploy + "/docker-compose.yml";
  if (HaveCommand("docker-compose")) {
    std::string out;
    EXPECT_EQ(RunCommand("docker-compose -f " + file + " config -q 2>&1", &out), 0) << out;
  }
  // Whether or not docker-compose is installed: the structure the services rely on.
  YAML::Node c = YAML::LoadFile(file);
  auto s = c["services"];
  ASSERT_TRUE(s.IsMap());
  EXPECT_THAT(s["kafka"]["image"].as<std::string>(), ::testing::StartsWith("apache/kafka:"));
  EXPECT_EQ(s["kafka"]["environment"]["KAFKA_PROCESS_ROLES"].as<std::string>(),
            "broker,controller");
  EXPECT_TRUE(s["kafka"]["healthcheck"]);
  std::string topics = s["kafka-topics"]["command"][0].as<std::string>();
  for (const char* t : {"aiops.anomalies", "aiops.evidence", "aiops.proposals", "aiops.decisions",
                        "aiops.executions", "aiops.deadletter"}) {
    EXPECT_NE(topics.find(t), std::string::npos) << t;
  }
  EXPECT_THAT(s["ollama"]["image"].as<std::string>(), ::testing::StartsWith("ollama/ollama:"));
  for (const char* name : {"detector", "collector", "proposer", "approver", "executor"}) {
    SCOPED_TRACE(name);
    auto svc = s[name];
    ASSERT_TRUE(svc.IsMap());
    EXPECT_EQ(svc["command"][0].as<std::string>(), std::string("aiops-") + name);
    EXPECT_EQ(Key(svc, "depends_on")["kafka-topics"]["condition"].as<std::string>(),
              "service_completed_successfully");
    EXPECT_EQ(Key(svc, "user").as<std::string>(), "10001:10001");
    std::string config = "./config/" + std::string(name) + ".yaml";
    bool mounted = false;
    for (const auto& v : svc["volumes"]) {
      mounted |= v.as<std::string>().rfind(config + ":", 0) == 0;
    }
    EXPECT_TRUE(mounted) << config;
    // The config file exists and points at the compose Kafka.
    YAML::Node cfg = YAML::LoadFile(kDeploy + "/config/" + name + ".yaml");
    EXPECT_EQ(cfg["kafka"]["bootstrap"].as<std::string>(), "kafka:9092");
  }
  bool grpc_on_loopback = false;
  for (const auto& p : s["approver"]["ports"]) {
    grpc_on_loopback |= p.as<std::string>() == "127.0.0.1:50051:50051";
  }
  EXPECT_TRUE(grpc_on_loopback) << "approver gRPC published on localhost only";
}
