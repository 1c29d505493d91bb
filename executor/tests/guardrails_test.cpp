#include "guardrails.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

using namespace aiops;
using namespace aiops::executor;
using ::testing::HasSubstr;

namespace {

v1::WorkloadRef Web() {
  v1::WorkloadRef w;
  w.set_api_version("apps/v1");
  w.set_kind("Deployment");
  w.set_namespace_("shop");
  w.set_name("web");
  return w;
}

Json GoodPatch() {
  return Json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":"web","namespace":"shop"},
    "spec":{"template":{"spec":{"containers":[{"name":"web",
      "image":"registry.example.com/shop/web:1.4.2"}]}}}})");
}

v1::Action Apply(const Json& patch, const v1::WorkloadRef& target = Web()) {
  v1::Action a;
  a.set_id("a1");
  a.set_type(v1::Action::TYPE_SERVER_SIDE_APPLY);
  *a.mutable_target() = target;
  a.set_patch(patch.dump());
  return a;
}

struct RefusalCase {
  std::string name;
  std::function<v1::Action()> action;
  std::string message;  // expected substring, unique per case
};

std::vector<RefusalCase> Cases() {
  std::vector<RefusalCase> c;
  c.push_back({"OtherKind",
               [] {
                 auto t = Web();
                 t.set_kind("ConfigMap");
                 return Apply(GoodPatch(), t);
               },
               "kind ConfigMap is not in the allow list"});
  c.push_back({"Secret",
               [] {
                 auto t = Web();
                 t.set_kind("Secret");
                 return Apply(GoodPatch(), t);
               },
               "Secrets are never changed"});
  c.push_back({"Rbac",
               [] {
                 auto t = Web();
                 t.set_kind("ClusterRoleBinding");
                 return Apply(GoodPatch(), t);
               },
               "RBAC objects (ClusterRoleBinding)"});
  c.push_back({"OtherNamespaceTarget",
               [] {
                 auto t = Web();
                 t.set_namespace_("kube-system");
                 return Apply(GoodPatch(), t);
               },
               "target namespace kube-system is not the remediation's namespace shop"});
  c.push_back({"OtherNamespaceInPatch",
               [] {
                 auto p = GoodPatch();
                 p["metadata"]["namespace"] = "payments";
                 return Apply(p);
               },
               "patch namespace payments is not the remediation's namespace"});
  c.push_back({"OtherWorkload",
               [] {
                 auto t = Web();
                 t.set_name("cart");
                 return Apply(GoodPatch(), t);
               },
               "target Deployment cart is not the remediation's workload"});
  c.push_back({"OtherNameInPatch",
               [] {
                 auto p = GoodPatch();
                 p["metadata"]["name"] = "cart";
                 return Apply(p);
               },
               "patch name cart is not the remediation's workload"});
  c.push_back({"DeleteByNull",
               [] {
                 auto p = GoodPatch();
                 p["spec"]["template"]["spec"]["containers"][0]["resources"] = nullptr;
                 return Apply(p);
               },
               "deletes are not allowed"});
  c.push_back({"DeleteDirective",
               [] {
                 auto p = GoodPatch();
                 p["spec"]["template"]["spec"]["containers"][0]["$patch"] = "delete";
                 return Apply(p);
               },
               "patch directives are not allowed"});
  c.push_back({"WorkloadLabels",
               [] {
                 auto p = GoodPatch();
                 p["metadata"]["labels"] = {{"app", "other"}};
                 return Apply(p);
               },
               "workload labels are not allowed"});
  c.push_back({"WorkloadAnnotations",
               [] {
                 auto p = GoodPatch();
                 p["metadata"]["annotations"] = {{"a", "b"}};
                 return Apply(p);
               },
               "workload metadata.annotations are not allowed"});
  c.push_back({"Selector",
               [] {
                 auto p = GoodPatch();
                 p["spec"]["selector"] = {{"matchLabels", {{"app", "x"}}}};
                 return Apply(p);
               },
               ".spec.selector may not be changed"});
  c.push_back({"TemplateLabels",
               [] {
                 auto p = GoodPatch();
                 p["spec"]["template"]["metadata"] = {{"labels", {{"app", "x"}}}};
                 return Apply(p);
               },
               "pod template labels are not allowed"});
  c.push_back(
      {"ContainerSecurityContext",
       [] {
         auto p = GoodPatch();
         p["spec"]["template"]["spec"]["containers"][0]["securityContext"] = {{"privileged", true}};
         return Apply(p);
       },
       "field .spec.template.spec.containers[name=web].securityContext is not in the "
       "allow list"});
  c.push_back({"HostPathVolume",
               [] {
                 auto p = GoodPatch();
                 p["spec"]["template"]["spec"]["volumes"] =
                     Json::parse(R"([{"name":"h","hostPath":{"path":"/"}}])");
                 return Apply(p);
               },
               "field .spec.template.spec.volumes is not in the allow list"});
  c.push_back({"HostNetwork",
               [] {
                 auto p = GoodPatch();
                 p["spec"]["template"]["spec"]["hostNetwork"] = true;
                 return Apply(p);
               },
               "field .spec.template.spec.hostNetwork is not in the allow list"});
  c.push_back({"OtherSpecField",
               [] {
                 auto p = GoodPatch();
                 p["spec"]["strategy"] = {{"type", "Recreate"}};
                 return Apply(p);
               },
               "field .spec.strategy is not in the allow list"});
  c.push_back({"StatusField",
               [] {
                 auto p = GoodPatch();
                 p["status"] = {{"replicas", 1}};
                 return Apply(p);
               },
               "top-level field .status is not in the allow list"});
  c.push_back({"LatestImage",
               [] {
                 auto p = GoodPatch();
                 p["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:latest";
                 return Apply(p);
               },
               "uses :latest"});
  c.push_back({"UntaggedImage",
               [] {
                 auto p = GoodPatch();
                 p["spec"]["template"]["spec"]["containers"][0]["image"] = "host:5000/img";
                 return Apply(p);
               },
               "image host:5000/img has no tag"});
  c.push_back(
      {"ResourceClaims",
       [] {
         auto p = GoodPatch();
         p["spec"]["template"]["spec"]["containers"][0]["resources"] = {{"claims", Json::array()}};
         return Apply(p);
       },
       "resources.claims is not in the allow list"});
  c.push_back({"ContainerWithoutName",
               [] {
                 auto p = GoodPatch();
                 p["spec"]["template"]["spec"]["containers"][0].erase("name");
                 return Apply(p);
               },
               "needs a name (containers are matched by name)"});
  c.push_back({"PatchKindMismatch",
               [] {
                 auto p = GoodPatch();
                 p["kind"] = "StatefulSet";
                 return Apply(p);
               },
               "patch kind StatefulSet differs from the target kind Deployment"});
  c.push_back({"SecretInPatch",
               [] {
                 auto p = GoodPatch();
                 p["kind"] = "Secret";
                 return Apply(p);
               },
               "(patch kind)"});
  c.push_back({"WrongApiVersion",
               [] {
                 auto p = GoodPatch();
                 p["apiVersion"] = "v1";
                 return Apply(p);
               },
               "patch apiVersion v1 is not apps/v1"});
  c.push_back({"NotJson",
               [] {
                 auto a = Apply(GoodPatch());
                 a.set_patch("{not json");
                 return a;
               },
               "patch is not valid JSON"});
  c.push_back({"UnknownType",
               [] {
                 auto a = Apply(GoodPatch());
                 a.set_type(v1::Action::TYPE_UNSPECIFIED);
                 return a;
               },
               "unknown action type"});
  c.push_back({"NegativeReplicas",
               [] {
                 auto p = GoodPatch();
                 p["spec"]["replicas"] = -1;
                 return Apply(p);
               },
               ".spec.replicas must be a non-negative integer"});
  c.push_back({"RollbackRevisionZero",
               [] {
                 auto a = Apply(GoodPatch());
                 a.set_type(v1::Action::TYPE_ROLLBACK_TO_REVISION);
                 a.set_rollback_to_revision(0);
                 return a;
               },
               "rollback_to_revision must be positive"});
  c.push_back({"EmptyPatch",
               [] {
                 auto p = GoodPatch();
                 p.erase("spec");
                 return Apply(p);
               },
               "patch sets nothing"});
  return c;
}

}  // namespace

TEST(GuardrailsTest, AcceptsTheBadImageTagFix) {
  EXPECT_EQ(CheckAction(Apply(GoodPatch()), Web()), std::nullopt);
}

TEST(GuardrailsTest, AcceptsEveryAllowedField) {
  auto p = Json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":"web","namespace":"shop"},
    "spec":{"replicas":3,"template":{"metadata":{"annotations":{"a":"b"}},"spec":{
      "containers":[{"name":"web","image":"nginx@sha256:abcd",
        "resources":{"limits":{"memory":"512Mi"},"requests":{"cpu":"100m"}},
        "env":[{"name":"REDIS_HOST","value":"redis:6379"}],
        "envFrom":[{"configMapRef":{"name":"cfg"}}],
        "livenessProbe":{"httpGet":{"path":"/","port":8080}},
        "readinessProbe":{"tcpSocket":{"port":8080}},
        "startupProbe":{"exec":{"command":["true"]}}}],
      "initContainers":[{"name":"init","image":"busybox:1.36"}]}}}})");
  EXPECT_EQ(CheckAction(Apply(p), Web()), std::nullopt);
}

TEST(GuardrailsTest, RefusesEachCaseWithItsOwnMessage) {
  std::set<std::string> messages;
  for (const auto& c : Cases()) {
    auto refusal = CheckAction(c.action(), Web());
    ASSERT_TRUE(refusal.has_value()) << c.name << " was not refused";
    EXPECT_THAT(*refusal, HasSubstr(c.message)) << c.name;
    EXPECT_TRUE(messages.insert(*refusal).second) << c.name << " repeats a message: " << *refusal;
  }
}

TEST(GuardrailsTest, RefusesReplicasOnADaemonSet) {
  auto w = Web();
  w.set_kind("DaemonSet");
  auto p = GoodPatch();
  p["kind"] = "DaemonSet";
  p["spec"]["replicas"] = 2;
  auto r = CheckAction(Apply(p, w), w);
  ASSERT_TRUE(r);
  EXPECT_THAT(*r, HasSubstr("a DaemonSet has no replicas"));
}

TEST(GuardrailsTest, RefusesAWorkloadKindOutsideTheAllowList) {
  auto w = Web();
  w.set_kind("Pod");
  auto r = CheckAction(Apply(GoodPatch(), w), w);
  ASSERT_TRUE(r);
  EXPECT_THAT(*r, HasSubstr("the remediation's workload kind Pod is not in the allow list"));
}

TEST(GuardrailsTest, RefusesADecisionWithoutActions) {
  v1::Decision d;
  *d.mutable_workload() = Web();
  EXPECT_EQ(CheckDecision(d), "the decision approves no actions");
}

TEST(GuardrailsTest, RefusesRollbackToRevisionForStatefulSets) {
  auto w = Web();
  w.set_kind("StatefulSet");
  v1::Action a;
  a.set_id("a1");
  a.set_type(v1::Action::TYPE_ROLLBACK_TO_REVISION);
  *a.mutable_target() = w;
  a.set_rollback_to_revision(2);
  auto r = CheckAction(a, w);
  ASSERT_TRUE(r);
  EXPECT_THAT(*r, HasSubstr("supported for Deployments only"));
}

// ---- image references

TEST(ImageRefTest, ParsesReferencesAsRuntimesDo) {
  EXPECT_EQ(ParseImage("nginx:1.25").tag, "1.25");
  EXPECT_EQ(ParseImage("host:5000/img").tag, "");
  EXPECT_EQ(ParseImage("host:5000/img").name, "host:5000/img");
  EXPECT_EQ(ParseImage("host:5000/img:2").tag, "2");
  EXPECT_EQ(ParseImage("repo/img@sha256:ab").digest, "sha256:ab");
  EXPECT_EQ(ParseImage("repo/img:1@sha256:ab").tag, "1");
  EXPECT_EQ(CheckImagePinned("host:5000/img@sha256:ab"), std::nullopt);
  EXPECT_EQ(CheckImagePinned("registry.example.com/shop/web:1.4.2"), std::nullopt);
  EXPECT_TRUE(CheckImagePinned("nginx"));
  EXPECT_TRUE(CheckImagePinned("nginx:latest"));
  EXPECT_TRUE(CheckImagePinned(""));
}

// ---- pod security on the object the dry run returns

namespace {

Json Workload() {
  return Json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":"web","namespace":"shop"},
    "spec":{"template":{"metadata":{"labels":{"app":"web"}},"spec":{
      "containers":[{"name":"web","image":"nginx:1.25","ports":[{"containerPort":80}],
        "securityContext":{"capabilities":{"add":["NET_BIND_SERVICE"]}}}]}}}})");
}

struct PssCase {
  std::string name;
  std::function<void(Json&)> mutate;
  std::string message;
};

}  // namespace

TEST(PodSecurityTest, BaselineWorkloadPasses) {
  EXPECT_TRUE(CheckPodSecurity(Workload()).empty());
}

TEST(PodSecurityTest, RefusesEachViolationWithItsOwnMessage) {
  auto pod = [](Json& w) -> Json& { return w["spec"]["template"]["spec"]; };
  auto c0 = [&](Json& w) -> Json& { return pod(w)["containers"][0]; };
  std::vector<PssCase> cases = {
      {"Privileged", [&](Json& w) { c0(w)["securityContext"]["privileged"] = true; },
       "containers[web] is privileged"},
      {"HostNetwork", [&](Json& w) { pod(w)["hostNetwork"] = true; }, "pod uses hostNetwork"},
      {"HostPID", [&](Json& w) { pod(w)["hostPID"] = true; }, "pod uses hostPID"},
      {"HostIPC", [&](Json& w) { pod(w)["hostIPC"] = true; }, "pod uses hostIPC"},
      {"HostPath",
       [&](Json& w) {
         pod(w)["volumes"] = Json::parse(R"([{"name":"root","hostPath":{"path":"/"}}])");
       },
       "volume root is a hostPath volume"},
      {"HostPort", [&](Json& w) { c0(w)["ports"][0]["hostPort"] = 80; },
       "containers[web] uses hostPort 80"},
      {"Capability",
       [&](Json& w) { c0(w)["securityContext"]["capabilities"]["add"].push_back("SYS_ADMIN"); },
       "adds capability SYS_ADMIN beyond the baseline set"},
      {"ProcMount", [&](Json& w) { c0(w)["securityContext"]["procMount"] = "Unmasked"; },
       "uses procMount Unmasked"},
      {"SeccompPod",
       [&](Json& w) { pod(w)["securityContext"]["seccompProfile"]["type"] = "Unconfined"; },
       "pod securityContext uses seccomp profile Unconfined"},
      {"SeccompContainer",
       [&](Json& w) { c0(w)["securityContext"]["seccompProfile"]["type"] = "Unconfined"; },
       "containers[web] uses seccomp profile Unconfined"},
      {"SelinuxUser", [&](Json& w) { c0(w)["securityContext"]["seLinuxOptions"]["user"] = "root"; },
       "sets SELinux user/role"},
      {"SelinuxType",
       [&](Json& w) { c0(w)["securityContext"]["seLinuxOptions"]["type"] = "spc_t"; },
       "uses SELinux type spc_t"},
      {"AppArmorAnnotation",
       [&](Json& w) {
         w["spec"]["template"]["metadata"]["annotations"]
          ["container.apparmor.security.beta.kubernetes.io/web"] = "unconfined";
       },
       "sets AppArmor profile unconfined"},
      {"AppArmorField",
       [&](Json& w) { c0(w)["securityContext"]["appArmorProfile"]["type"] = "Unconfined"; },
       "uses AppArmor profile Unconfined"},
      {"Sysctl",
       [&](Json& w) {
         pod(w)["securityContext"]["sysctls"] =
             Json::parse(R"([{"name":"kernel.msgmax","value":"1"}])");
       },
       "pod sets unsafe sysctl kernel.msgmax"},
      {"HostProcess",
       [&](Json& w) { c0(w)["securityContext"]["windowsOptions"]["hostProcess"] = true; },
       "is a Windows HostProcess container"},
      {"LatestTag", [&](Json& w) { c0(w)["image"] = "nginx:latest"; }, "uses :latest"},
      {"NoTagRegistryPort", [&](Json& w) { c0(w)["image"] = "host:5000/img"; },
       "image host:5000/img has no tag"},
      {"InitContainer",
       [&](Json& w) {
         pod(w)["initContainers"] = Json::parse(
             R"([{"name":"init","image":"busybox:1.36","securityContext":{"privileged":true}}])");
       },
       "initContainers[init] is privileged"},
      {"EphemeralContainer",
       [&](Json& w) {
         pod(w)["ephemeralContainers"] = Json::parse(R"([{"name":"debug","image":"busybox"}])");
       },
       "ephemeralContainers[debug]: image busybox has no tag"},
  };
  std::set<std::string> seen;
  for (const auto& c : cases) {
    Json w = Workload();
    c.mutate(w);
    auto v = CheckPodSecurity(w);
    ASSERT_EQ(v.size(), 1u) << c.name << ": " << (v.empty() ? "" : v[0]);
    EXPECT_THAT(v[0], HasSubstr(c.message)) << c.name;
    EXPECT_TRUE(seen.insert(v[0]).second) << c.name << " repeats " << v[0];
  }
}

TEST(PodSecurityTest, DigestPinnedImagesAndBaselineCapabilitiesPass) {
  Json w = Workload();
  w["spec"]["template"]["spec"]["containers"][0]["image"] = "host:5000/img@sha256:0123";
  w["spec"]["template"]["spec"]["containers"][0]["securityContext"]["capabilities"]["add"] =
      Json::array({"CHOWN", "CAP_KILL"});
  w["spec"]["template"]["spec"]["securityContext"]["seccompProfile"]["type"] = "RuntimeDefault";
  EXPECT_TRUE(CheckPodSecurity(w).empty());
}
