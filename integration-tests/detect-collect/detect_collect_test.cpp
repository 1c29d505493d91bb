// Detector and collector end to end: kube-sim serves a broken scenario, the development
// broker carries the messages, and the test reads aiops.anomalies / aiops.evidence.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <map>
#include <set>

#include "aiops/kafka_reader.hpp"
#include "aiops/kube/client.hpp"
#include "aiops/kube/credentials.hpp"
#include "aiops/topics.hpp"
#include "aiops/v1/anomaly.pb.h"
#include "aiops/v1/evidence.pb.h"
#include "devbroker.hpp"

using namespace aiops;
using namespace aiops::testing;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

// kube-sim on a scenario, plus detector and collector pointed at it.
class Stack {
 public:
  explicit Stack(const std::string& scenario) {
    kubeconfig_ = dir_.File("kubeconfig");
    kube_sim_ = std::make_unique<Subprocess>(std::vector<std::string>{
        Bin("kube-sim"), "--scenario", std::string(KUBE_SIM_SCENARIOS) + "/" + scenario + ".yaml",
        "--listen", "127.0.0.1:0", "--speed", "10", "--kubeconfig-out", kubeconfig_});
    if (!PollUntil([&] { return !ReadFile(kubeconfig_).empty() || !kube_sim_->Running(); },
                   std::chrono::seconds(60)) ||
        !kube_sim_->Running()) {
      throw std::runtime_error("kube-sim did not start: " + kube_sim_->Output());
    }
    config_ = dir_.File("aiops.yaml");
    std::ofstream(config_) << "clusters:\n  - name: sim\n    kubeconfig: " << kubeconfig_
                           << "\nkafka:\n  bootstrap: " << broker_.bootstrap()
                           << "\n  properties:\n    session.timeout.ms: \"6000\"\n"
                           << "detector:\n  grace_seconds: 1\n  unschedulable_grace_seconds: 2\n"
                           << "  update_interval_seconds: 1\n  tick_ms: 200\n";
    StartDetector();
    collector_ = Start("aiops-collector");
  }

  std::unique_ptr<Subprocess> Start(const std::string& service) {
    return std::make_unique<Subprocess>(std::vector<std::string>{
        Bin(service), "--config", config_, "--http-listen", "127.0.0.1:0"});
  }
  void StartDetector() { detector_ = Start("aiops-detector"); }
  Subprocess& detector() { return *detector_; }
  const std::string& bootstrap() const { return broker_.bootstrap(); }
  kube::Client Kube() { return kube::Client(kube::LoadKubeconfig(kubeconfig_)); }
  std::string Logs() {
    return "--- detector\n" + detector_->Output() + "\n--- collector\n" + collector_->Output();
  }

 private:
  DevBroker broker_;
  TempDir dir_;
  std::string kubeconfig_, config_;
  std::unique_ptr<Subprocess> kube_sim_, detector_, collector_;
};

// Collects every anomaly and evidence message as it arrives.
class Topics {
 public:
  explicit Topics(const std::string& bootstrap) {
    kafka::KafkaConfig c;
    c.bootstrap = bootstrap;
    reader_ = std::make_unique<kafka::TopicReader>(
        c, std::vector<std::string>{topics::kAnomalies, topics::kEvidence}, true);
  }
  void Drain() {
    while (auto m = reader_->Next(std::chrono::milliseconds(50))) {
      if (m->topic == topics::kAnomalies) {
        v1::Anomaly a;
        if (a.ParseFromString(m->payload)) anomalies.push_back(a);
      } else {
        v1::Evidence e;
        if (e.ParseFromString(m->payload)) evidence.push_back(e);
        raw_evidence.push_back(m->payload);
      }
    }
  }
  // Incident key -> distinct remediation ids.
  std::map<std::string, std::set<std::string>> IdsByIncident() const {
    std::map<std::string, std::set<std::string>> out;
    for (const auto& a : anomalies) {
      auto key = a.workload().namespace_() + "/" + a.workload().kind() + "/" +
                 a.workload().name() + "/" + v1::FailureClass_Name(a.failure_class());
      out[key].insert(a.envelope().remediation_id());
    }
    return out;
  }
  const v1::Evidence* EvidenceFor(const std::string& workload) const {
    for (const auto& e : evidence) {
      if (e.anomaly().workload().name() == workload) return &e;
    }
    return nullptr;
  }
  std::vector<v1::Anomaly> anomalies;
  std::vector<v1::Evidence> evidence;
  std::vector<std::string> raw_evidence;

 private:
  std::unique_ptr<kafka::TopicReader> reader_;
};

struct ScenarioCase {
  std::string scenario;
  std::set<std::string> broken;  // ns/Kind/name/CLASS
};

// gtest prints a parameter with this instead of dumping its bytes.
[[maybe_unused]] void PrintTo(const ScenarioCase& c, std::ostream* os) { *os << c.scenario; }

bool HasEvent(const v1::Evidence& e, const std::string& reason) {
  for (const auto& ev : e.events()) {
    if (ev.reason() == reason) return true;
  }
  return false;
}

}  // namespace

class ScenarioTest : public ::testing::TestWithParam<ScenarioCase> {};

TEST_P(ScenarioTest, OneAnomalyPerBrokenWorkloadAndOneEvidenceBundleEach) {
  const auto& c = GetParam();
  Stack stack(c.scenario);
  Topics topics(stack.bootstrap());
  // Both topics: the two are fetched independently, so evidence may be read before the
  // anomaly it answers.
  ASSERT_TRUE(PollUntil(
      [&] {
        topics.Drain();
        return topics.evidence.size() >= c.broken.size() &&
               topics.IdsByIncident().size() >= c.broken.size();
      },
      std::chrono::seconds(120)))
      << "anomalies: " << topics.anomalies.size() << "\n"
      << stack.Logs();

  auto ids = topics.IdsByIncident();
  std::set<std::string> keys;
  for (const auto& [key, set] : ids) {
    keys.insert(key);
    EXPECT_EQ(set.size(), 1u) << key << " got several remediation ids";
  }
  EXPECT_EQ(keys, c.broken) << "healthy workloads must not raise anomalies";
  std::map<std::string, int> bundles;
  for (const auto& e : topics.evidence) bundles[e.envelope().remediation_id()]++;
  for (const auto& [id, n] : bundles) EXPECT_EQ(n, 1) << id;
  EXPECT_EQ(bundles.size(), c.broken.size());

  for (const auto& e : topics.evidence) {
    const auto& name = e.anomaly().workload().name();
    SCOPED_TRACE(name);
    EXPECT_GT(e.workload_generation(), 0);
    EXPECT_FALSE(e.workload_resource_version().empty());
    EXPECT_GE(e.pods_size(), 1);
    EXPECT_GE(e.revisions_size(), 1) << "rollout history";
    EXPECT_EQ(e.owner_chain_size(), 2);
    EXPECT_TRUE(e.envelope().times().has_detected());
    EXPECT_TRUE(e.envelope().times().has_collected());
    switch (e.anomaly().failure_class()) {
      case v1::FAILURE_CLASS_IMAGE_PULL:
        EXPECT_TRUE(HasEvent(e, "Failed")) << "kubelet's pull failure event";
        break;
      case v1::FAILURE_CLASS_CRASH_LOOP: {
        bool previous = false;
        for (const auto& l : e.logs()) {
          if (l.previous() && l.text().find("Connection refused to redis:6379") != std::string::npos) {
            previous = true;
          }
        }
        EXPECT_TRUE(previous) << "the crashed instance's log";
        EXPECT_TRUE(HasEvent(e, "BackOff"));
        break;
      }
      case v1::FAILURE_CLASS_OOM_KILLED:
        EXPECT_EQ(e.pods(0).containers(0).last_termination_reason(), "OOMKilled");
        EXPECT_EQ(e.pods(0).containers(0).last_exit_code(), 137);
        break;
      case v1::FAILURE_CLASS_CONFIG_ERROR: {
        ASSERT_GE(e.missing_references_size(), 1);
        EXPECT_EQ(e.missing_references(0).kind(), "ConfigMap");
        EXPECT_EQ(e.missing_references(0).name(), "payments-config");
        break;
      }
      case v1::FAILURE_CLASS_UNSCHEDULABLE:
        EXPECT_TRUE(HasEvent(e, "FailedScheduling"));
        EXPECT_GE(e.nodes_size(), 1);
        EXPECT_TRUE(e.nodes(0).allocatable().count("memory"));
        EXPECT_TRUE(e.nodes(0).requested().count("memory"));
        break;
      default:
        ADD_FAILURE() << "unexpected class " << v1::FailureClass_Name(e.anomaly().failure_class());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Scenarios, ScenarioTest,
    ::testing::Values(
        ScenarioCase{"bad-image-tag", {"shop/Deployment/web/FAILURE_CLASS_IMAGE_PULL"}},
        ScenarioCase{"crashloop-missing-env", {"shop/Deployment/cart/FAILURE_CLASS_CRASH_LOOP"}},
        ScenarioCase{"missing-configmap",
                     {"payments/Deployment/payments-api/FAILURE_CLASS_CONFIG_ERROR"}},
        ScenarioCase{"oom-killed", {"analytics/Deployment/report-worker/FAILURE_CLASS_OOM_KILLED"}},
        ScenarioCase{"unschedulable", {"ml/Deployment/trainer/FAILURE_CLASS_UNSCHEDULABLE"}},
        ScenarioCase{"demo",
                     {"shop/Deployment/web/FAILURE_CLASS_IMAGE_PULL",
                      "shop/Deployment/cart/FAILURE_CLASS_CRASH_LOOP",
                      "payments/Deployment/payments-api/FAILURE_CLASS_CONFIG_ERROR",
                      "analytics/Deployment/report-worker/FAILURE_CLASS_OOM_KILLED",
                      "ml/Deployment/trainer/FAILURE_CLASS_UNSCHEDULABLE"}}),
    [](const auto& info) {
      std::string n = info.param.scenario;
      for (auto& ch : n) {
        if (ch == '-') ch = '_';
      }
      return n;
    });

TEST(DetectCollectTest, SecretValuesNeverReachTheEvidenceTopic) {
  Stack stack("crashloop-missing-env");
  auto kube = stack.Kube();
  // Plant credentials the way real workloads carry them: a Secret referenced by key, and a
  // literal env var with a secret-like name. "czNjcjN0LXBsYW50ZWQ=" is "s3cr3t-planted".
  auto created = kube.Request("POST", "/api/v1/namespaces/shop/secrets",
                              R"({"apiVersion": "v1", "kind": "Secret",
                                  "metadata": {"name": "cart-db", "namespace": "shop"},
                                  "data": {"password": "czNjcjN0LXBsYW50ZWQ="}})",
                              "application/json");
  ASSERT_EQ(created.status, 201) << created.body;
  auto patched = kube.Patch(
      "/apis/apps/v1/namespaces/shop/deployments/cart",
      nlohmann::json::parse(R"({"spec": {"template": {"spec": {"containers": [{"name": "cart",
        "env": [{"name": "DB_PASSWORD", "value": "hunter2-planted"},
                {"name": "DB_PASS_REF", "valueFrom": {"secretKeyRef": {"name": "cart-db", "key": "password"}}},
                {"name": "LOG_LEVEL", "value": "info"}]}]}}}})"),
      kube::PatchType::kStrategicMerge, {"test", false, false});
  ASSERT_TRUE(patched.ok()) << patched.error().ToString();

  Topics topics(stack.bootstrap());
  ASSERT_TRUE(PollUntil(
      [&] {
        topics.Drain();
        return !topics.evidence.empty();
      },
      std::chrono::seconds(120)))
      << stack.Logs();
  for (const auto& wire : topics.raw_evidence) {
    for (const char* secret : {"hunter2-planted", "czNjcjN0LXBsYW50ZWQ=", "s3cr3t-planted"}) {
      EXPECT_EQ(wire.find(secret), std::string::npos) << secret << " reached aiops.evidence";
    }
  }
  const auto& e = topics.evidence.front();
  EXPECT_GT(e.redactions_size(), 0);
}

TEST(DetectCollectTest, ARestartedDetectorAnnouncesNoNewRemediationIds) {
  Stack stack("demo");
  Topics topics(stack.bootstrap());
  ASSERT_TRUE(PollUntil(
      [&] {
        topics.Drain();
        return topics.IdsByIncident().size() >= 5;
      },
      std::chrono::seconds(120)))
      << stack.Logs();
  auto before = topics.IdsByIncident();
  size_t opens_before = topics.anomalies.size();

  stack.detector().Stop(SIGKILL);
  stack.StartDetector();
  // The new detector re-announces every live incident: wait for five more OPENs.
  ASSERT_TRUE(PollUntil(
      [&] {
        topics.Drain();
        int opens = 0;
        for (size_t i = opens_before; i < topics.anomalies.size(); ++i) {
          opens += topics.anomalies[i].status() == v1::Anomaly::STATUS_OPEN ? 1 : 0;
        }
        return opens >= 5;
      },
      std::chrono::seconds(120)))
      << stack.Logs();
  EXPECT_EQ(topics.IdsByIncident(), before);
}

TEST(DetectCollectTest, ScalingABrokenDeploymentTo200ReplicasIsStillOneIncident) {
  Stack stack("bad-image-tag");
  auto kube = stack.Kube();
  // Room for 200 pods, so they all fail the same way (image pull, not scheduling).
  auto node = kube.Request("POST", "/api/v1/nodes",
                           R"({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "big"},
                               "status": {"allocatable": {"cpu": "100", "memory": "400Gi", "pods": "500"},
                                          "capacity": {"cpu": "100", "memory": "400Gi", "pods": "500"},
                                          "conditions": [{"type": "Ready", "status": "True"}]}})",
                           "application/json");
  ASSERT_EQ(node.status, 201) << node.body;
  Topics topics(stack.bootstrap());
  ASSERT_TRUE(PollUntil(
      [&] {
        topics.Drain();
        return !topics.anomalies.empty();
      },
      std::chrono::seconds(120)))
      << stack.Logs();
  auto scaled = kube.Patch("/apis/apps/v1/namespaces/shop/deployments/web",
                           nlohmann::json::parse(R"({"spec": {"replicas": 200}})"),
                           kube::PatchType::kMerge, {"test", false, false});
  ASSERT_TRUE(scaled.ok()) << scaled.error().ToString();
  ASSERT_TRUE(PollUntil(
      [&] {
        topics.Drain();
        return !topics.anomalies.empty() && topics.anomalies.back().affected_pods() == 200;
      },
      std::chrono::seconds(180)))
      << "last count: " << topics.anomalies.back().affected_pods() << "\n"
      << stack.Logs();
  auto ids = topics.IdsByIncident();
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids.begin()->second.size(), 1u);
  ASSERT_TRUE(PollUntil(
      [&] {
        topics.Drain();
        return !topics.evidence.empty();
      },
      std::chrono::seconds(60)));
  EXPECT_EQ(topics.evidence.size(), 1u) << "updates are not re-collected";
}
