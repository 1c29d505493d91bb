#include "evidence_builder.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "aiops/envelope.hpp"

using namespace aiops;
using namespace aiops::collector;
using kube::Json;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

// Answers from a table of paths; anything else is 404. Counts calls.
class FakeReader : public KubeReader {
 public:
  std::map<std::string, Json> objects;
  std::map<std::string, Json> lists;  // key: path + "|" + selector
  std::map<std::string, std::string> logs;
  std::map<std::string, kube::ApiError> failures;
  int calls = 0;

  kube::Result<Json> Get(const std::string& path) override {
    ++calls;
    if (failures.count(path)) return failures[path];
    if (objects.count(path)) return objects[path];
    return kube::ApiError{404, "NotFound", path + " not found", {}};
  }
  kube::Result<Json> List(const std::string& path, const kube::ListOptions& o) override {
    ++calls;
    auto key = path + "|" + o.label_selector + o.field_selector;
    if (failures.count(key)) return failures[key];
    if (lists.count(key)) return Json{{"items", lists[key]}};
    return Json{{"items", Json::array()}};
  }
  kube::Result<std::string> Logs(const std::string& path, const std::string& query) override {
    ++calls;
    auto key = path + "?" + query;
    if (logs.count(key)) return logs[key];
    return kube::ApiError{400, "BadRequest", "container is waiting to start", {}};
  }
};

Json Pod(const std::string& name, const std::string& image, bool failing) {
  return Json::parse(R"({
    "metadata": {"name": ")" +
                     name + R"(", "namespace": "shop",
      "labels": {"app": "web", "pod-template-hash": "222"},
      "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-222",
                           "uid": "rs-2", "controller": true}]},
    "spec": {"nodeName": "node-a", "containers": [{"name": "web", "image": ")" +
                     image + R"(",
      "resources": {"limits": {"memory": "128Mi"}, "requests": {"cpu": "100m", "memory": "64Mi"}},
      "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
      "env": [{"name": "DB_PASSWORD", "value": "hunter2-literal"},
              {"name": "LOG_LEVEL", "value": "info"},
              {"name": "DB_USER", "valueFrom": {"secretKeyRef": {"name": "db", "key": "user"}}},
              {"name": "FEATURES", "valueFrom": {"configMapKeyRef": {"name": "web-config", "key": "features"}}},
              {"name": "REGION", "valueFrom": {"configMapKeyRef": {"name": "shared", "key": "region"}}}]}]},
    "status": {"phase": "Pending", "containerStatuses": [{"name": "web", "ready": false,
      "restartCount": )" +
                     std::string(failing ? "2" : "0") + R"(,
      "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}},
      "lastState": {}}]}
  })");
}

FakeReader Cluster() {
  FakeReader r;
  r.objects["/apis/apps/v1/namespaces/shop/deployments/web"] = Json::parse(R"({
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "shop", "uid": "dep-1", "generation": 2,
      "resourceVersion": "4242", "managedFields": [{"manager": "kubectl"}],
      "annotations": {"deployment.kubernetes.io/revision": "2"}},
    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
      "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
        {"name": "web", "image": "registry.example.com/shop/web:1.4.3-typo",
         "env": [{"name": "DB_PASSWORD", "value": "hunter2-literal"}]}]}}},
    "status": {"replicas": 3, "readyReplicas": 1}})");
  Json rs1 = Json::parse(R"({"metadata": {"name": "web-111", "namespace": "shop",
      "labels": {"app": "web", "pod-template-hash": "111"},
      "annotations": {"deployment.kubernetes.io/revision": "1"},
      "ownerReferences": [{"kind": "Deployment", "name": "web", "uid": "dep-1", "controller": true}]},
    "spec": {"template": {"metadata": {"labels": {"app": "web", "pod-template-hash": "111"}},
      "spec": {"containers": [{"name": "web", "image": "registry.example.com/shop/web:1.4.2"}]}}},
    "status": {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1}})");
  Json rs2 = Json::parse(R"({"metadata": {"name": "web-222", "namespace": "shop",
      "labels": {"app": "web", "pod-template-hash": "222"},
      "annotations": {"deployment.kubernetes.io/revision": "2"},
      "ownerReferences": [{"kind": "Deployment", "name": "web", "uid": "dep-1", "controller": true}]},
    "spec": {"template": {"spec": {"containers": [
      {"name": "web", "image": "registry.example.com/shop/web:1.4.3-typo"}]}}},
    "status": {"replicas": 2, "readyReplicas": 0}})");
  r.objects["/apis/apps/v1/namespaces/shop/replicasets/web-222"] = rs2;
  r.lists["/apis/apps/v1/namespaces/shop/replicasets|app=web"] = Json::array({rs2, rs1});
  r.lists["/api/v1/namespaces/shop/pods|app=web"] =
      Json::array({Pod("web-222-b", "registry.example.com/shop/web:1.4.3-typo", false),
                   Pod("web-222-a", "registry.example.com/shop/web:1.4.3-typo", true)});
  r.lists["/api/v1/namespaces/shop/events|involvedObject.name=web-222-a,involvedObject.kind=Pod"] =
      Json::parse(R"([
        {"type": "Warning", "reason": "Failed", "message": "Failed to pull image \"registry.example.com/shop/web:1.4.3-typo\": not found",
         "involvedObject": {"kind": "Pod", "name": "web-222-a"}, "count": 4,
         "firstTimestamp": "2026-11-22T02:00:05Z", "lastTimestamp": "2026-11-22T02:03:05Z"},
        {"type": "Normal", "reason": "BackOff", "message": "Back-off pulling image with Bearer abcdefghijklmnop",
         "involvedObject": {"kind": "Pod", "name": "web-222-a"}, "count": 9,
         "firstTimestamp": "2026-11-22T02:00:07Z", "lastTimestamp": "2026-11-22T02:04:00Z"}])");
  r.lists["/api/v1/namespaces/shop/events|involvedObject.name=web,involvedObject.kind=Deployment"] =
      Json::parse(R"([{"type": "Normal", "reason": "ScalingReplicaSet",
        "message": "Scaled up replica set web-222 to 1",
        "involvedObject": {"kind": "Deployment", "name": "web"}, "count": 1,
        "lastTimestamp": "2026-11-22T02:00:00Z"}])");
  r.logs
      ["/api/v1/namespaces/shop/pods/web-222-a/"
       "log?container=web&tailLines=50&limitBytes=16384&previous=true"] =
      "starting web 1.4.3\nusing Authorization: Bearer sk_live_abcdefghijklmnop\njwt "
      "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJlLXZhbHVl\npassword=hunter3\nfatal\n";
  r.objects["/api/v1/nodes/node-a"] = Json::parse(
      R"({"metadata": {"name": "node-a"}, "status": {"allocatable": {"cpu": "4", "memory": "8Gi"},
          "conditions": [{"type": "Ready", "status": "True"}]}})");
  r.objects["/api/v1/namespaces/shop/secrets/db"] = Json::parse(
      R"({"kind": "Secret", "metadata": {"name": "db"}, "data": {"user": "c2VjcmV0LXVzZXI="}})");
  r.objects["/api/v1/namespaces/shop/configmaps/shared"] = Json::parse(
      R"({"kind": "ConfigMap", "metadata": {"name": "shared"}, "data": {"zone": "a"}})");
  return r;
}

v1::Anomaly BadImage() {
  v1::Anomaly a;
  *a.mutable_envelope() = envelope::New("rem-1", "prod", "trace-1", "detector");
  envelope::Stamp(*a.mutable_envelope(), envelope::Stage::kDetected);
  a.set_status(v1::Anomaly::STATUS_OPEN);
  a.set_failure_class(v1::FAILURE_CLASS_IMAGE_PULL);
  a.set_reason("ImagePullBackOff");
  a.set_container("web");
  auto* w = a.mutable_workload();
  w->set_api_version("apps/v1");
  w->set_kind("Deployment");
  w->set_namespace_("shop");
  w->set_name("web");
  a.add_sample_pods("web-222-a");
  return a;
}

}  // namespace

TEST(EvidenceBuilderTest, GathersWhatAnSreReads) {
  auto cluster = Cluster();
  EvidenceBuilder b(cluster, {});
  auto ev = b.Build(BadImage());

  EXPECT_EQ(ev.envelope().remediation_id(), "rem-1");
  EXPECT_EQ(ev.envelope().trace_id(), "trace-1");
  EXPECT_TRUE(ev.envelope().times().has_detected());
  EXPECT_TRUE(ev.envelope().times().has_collected());
  EXPECT_EQ(ev.workload_generation(), 2);
  EXPECT_EQ(ev.workload_resource_version(), "4242");

  ASSERT_EQ(ev.pods_size(), 2);
  EXPECT_EQ(ev.pods(0).name(), "web-222-a") << "the failing sample pod comes first";
  ASSERT_EQ(ev.pods(0).containers_size(), 1);
  const auto& c = ev.pods(0).containers(0);
  EXPECT_EQ(c.image(), "registry.example.com/shop/web:1.4.3-typo");
  EXPECT_EQ(c.state(), "waiting");
  EXPECT_EQ(c.reason(), "ImagePullBackOff");
  EXPECT_EQ(c.limits().at("memory"), "128Mi");
  EXPECT_TRUE(c.probes().count("readiness"));
  EXPECT_EQ(c.restart_count(), 2u);

  ASSERT_EQ(ev.owner_chain_size(), 2);
  EXPECT_EQ(ev.owner_chain(0).kind(), "ReplicaSet");
  EXPECT_EQ(ev.owner_chain(1).kind(), "Deployment");

  ASSERT_EQ(ev.revisions_size(), 2);
  EXPECT_EQ(ev.revisions(0).revision(), 2);
  EXPECT_FALSE(ev.revisions(0).ran_healthy());
  EXPECT_EQ(ev.revisions(1).revision(), 1);
  EXPECT_TRUE(ev.revisions(1).ran_healthy());
  EXPECT_EQ(ev.revisions(1).images(0), "registry.example.com/shop/web:1.4.2");
  EXPECT_THAT(ev.revisions(1).pod_template_json(), Not(HasSubstr("pod-template-hash")));

  ASSERT_EQ(ev.events_size(), 3);
  EXPECT_EQ(ev.events(0).reason(), "BackOff") << "newest first";
  EXPECT_EQ(ev.events(1).count(), 4u);

  ASSERT_EQ(ev.logs_size(), 1) << "current log unavailable while waiting; previous read";
  EXPECT_TRUE(ev.logs(0).previous());
  EXPECT_THAT(ev.logs(0).text(), HasSubstr("starting web 1.4.3"));
  EXPECT_THAT(ev.collection_errors(0), HasSubstr("logs of web-222-a/web: 400"));

  ASSERT_EQ(ev.nodes_size(), 1);
  EXPECT_EQ(ev.nodes(0).allocatable().at("memory"), "8Gi");

  ASSERT_EQ(ev.missing_references_size(), 2);
  std::set<std::string> missing;
  for (const auto& m : ev.missing_references()) {
    missing.insert(m.kind() + "/" + m.name() + "/" + m.key());
  }
  EXPECT_TRUE(missing.count("ConfigMap/web-config/")) << "absent ConfigMap";
  EXPECT_TRUE(missing.count("ConfigMap/shared/region")) << "present ConfigMap, absent key";
  EXPECT_LE(ev.api_calls(), 40u);
  EXPECT_EQ(static_cast<int>(ev.api_calls()), cluster.calls);
}

TEST(EvidenceBuilderTest, NoSecretValueEverReachesTheBundle) {
  auto cluster = Cluster();
  EvidenceBuilder b(cluster, {});
  auto anomaly = BadImage();
  anomaly.set_message("pull failed with token=abcd1234secret");
  auto ev = b.Build(anomaly);
  std::string wire;
  ASSERT_TRUE(ev.SerializeToString(&wire));
  for (const char* secret :
       {"hunter2-literal", "c2VjcmV0LXVzZXI=", "secret-user", "sk_live_abcdefghijklmnop",
        "eyJzdWIiOiIxMjM0NSJ9", "hunter3", "abcdefghijklmnop", "abcd1234secret"}) {
    EXPECT_EQ(wire.find(secret), std::string::npos) << secret << " leaked";
  }
  EXPECT_GT(ev.redactions_size(), 0);
  bool env_marked = false;
  for (const auto& e : ev.pods(0).containers(0).env()) {
    if (e.name() == "DB_USER") {
      EXPECT_TRUE(e.redacted());
      EXPECT_EQ(e.source(), "secretKeyRef:db/user");
    }
    if (e.name() == "DB_PASSWORD") env_marked = e.redacted() && e.value().empty();
    if (e.name() == "LOG_LEVEL") {
      EXPECT_EQ(e.value(), "info");
    }
  }
  EXPECT_TRUE(env_marked);
  EXPECT_THAT(ev.workload_json(), Not(HasSubstr("managedFields")));
}

TEST(EvidenceBuilderTest, AnApiErrorIsRecordedAndTheRestIsStillCollected) {
  auto cluster = Cluster();
  cluster.failures
      ["/api/v1/namespaces/shop/events|involvedObject.name=web,involvedObject.kind=Deployment"] =
      kube::ApiError{500, "InternalError", "etcd timeout", {}};
  EvidenceBuilder b(cluster, {});
  auto ev = b.Build(BadImage());
  EXPECT_EQ(ev.pods_size(), 2);
  EXPECT_EQ(ev.events_size(), 2);
  bool recorded = false;
  for (const auto& e : ev.collection_errors()) {
    if (e.find("events of Deployment/web: 500 InternalError: etcd timeout") != std::string::npos) {
      recorded = true;
    }
  }
  EXPECT_TRUE(recorded);
}

TEST(EvidenceBuilderTest, AMissingWorkloadStillGivesABundle) {
  FakeReader empty;
  EvidenceBuilder b(empty, {});
  auto ev = b.Build(BadImage());
  EXPECT_EQ(ev.envelope().remediation_id(), "rem-1");
  ASSERT_GE(ev.collection_errors_size(), 1);
  EXPECT_THAT(ev.collection_errors(0), HasSubstr("404 NotFound"));
}

TEST(EvidenceBuilderTest, TheCallBudgetIsRespected) {
  auto cluster = Cluster();
  BuilderOptions o;
  o.max_api_calls = 3;
  EvidenceBuilder b(cluster, o);
  auto ev = b.Build(BadImage());
  EXPECT_EQ(cluster.calls, 3);
  EXPECT_EQ(ev.api_calls(), 3u);
  bool noted = false;
  for (const auto& e : ev.collection_errors())
    noted |= e.find("budget") != std::string::npos;
  EXPECT_TRUE(noted);
}

TEST(EvidenceBuilderTest, TheSizeCapCutsAndSaysWhat) {
  auto cluster = Cluster();
  std::string big;
  for (int i = 0; i < 400; ++i)
    big += "request " + std::to_string(i) + " served " + std::string(80, '.') + "\n";
  cluster.logs
      ["/api/v1/namespaces/shop/pods/web-222-a/"
       "log?container=web&tailLines=50&limitBytes=16384&previous=true"] =
      big + "\nthe crash line\n";
  BuilderOptions o;
  o.max_bundle_bytes = 12000;
  EvidenceBuilder b(cluster, o);
  auto ev = b.Build(BadImage());
  EXPECT_LE(static_cast<int>(ev.ByteSizeLong()), 12000 + 400);
  ASSERT_EQ(ev.logs_size(), 1);
  EXPECT_TRUE(ev.logs(0).truncated());
  EXPECT_THAT(ev.logs(0).text(), HasSubstr("the crash line")) << "the tail is kept";
  ASSERT_GE(ev.truncated_size(), 1);
}

TEST(EvidenceBuilderTest, UnschedulableIncludesNodesWithRequestedResources) {
  auto cluster = Cluster();
  cluster.lists["/api/v1/nodes|"] = Json::parse(
      R"([{"metadata": {"name": "node-a"}, "status": {"allocatable": {"cpu": "2", "memory": "4Gi"}}}])");
  cluster.lists["/api/v1/pods|spec.nodeName=node-a"] = Json::parse(R"([
    {"spec": {"containers": [{"resources": {"requests": {"cpu": "1500m", "memory": "3Gi"}}}]},
     "status": {"phase": "Running"}},
    {"spec": {"containers": [{"resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}]},
     "status": {"phase": "Succeeded"}}])");
  auto anomaly = BadImage();
  anomaly.set_failure_class(v1::FAILURE_CLASS_UNSCHEDULABLE);
  anomaly.set_container("");
  EvidenceBuilder b(cluster, {});
  auto ev = b.Build(anomaly);
  ASSERT_EQ(ev.nodes_size(), 1);
  EXPECT_EQ(ev.nodes(0).requested().at("cpu"), "1500m");
  EXPECT_EQ(ev.nodes(0).requested().at("memory"), "3Gi");
  EXPECT_EQ(ev.logs_size(), 0);
}
