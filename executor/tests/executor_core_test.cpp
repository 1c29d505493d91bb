#include "executor_core.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "aiops/envelope.hpp"

using namespace aiops;
using namespace aiops::executor;
using ::testing::HasSubstr;
using Status = v1::ExecutionResult;
using Step = v1::ExecutionStep;

namespace {

const char* kGood = "registry.example.com/shop/web:1.4.2";
const char* kBroken = "registry.example.com/shop/web:1.4.3";

// Merge as server-side apply does for the fields used here (maps merged, lists keyed by name).
Json Merge(Json into, const Json& patch) {
  if (!into.is_object() || !patch.is_object()) return patch;
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    const Json& v = it.value();
    if (v.is_array() && !v.empty() && v[0].is_object() && v[0].contains("name") &&
        into.contains(it.key()) && into[it.key()].is_array()) {
      Json& list = into[it.key()];
      for (const auto& e : v) {
        bool found = false;
        for (auto& l : list)
          if (l.value("name", "") == e.value("name", "")) {
            l = Merge(l, e);
            found = true;
          }
        if (!found) list.push_back(e);
      }
    } else if (v.is_null()) {
      into.erase(it.key());
    } else {
      into[it.key()] = into.contains(it.key()) ? Merge(into[it.key()], v) : v;
    }
  }
  return into;
}

// A Deployment shop/web in a tiny fake cluster: the controller makes it healthy when its image
// is one the registry has, otherwise its new pods sit in ImagePullBackOff.
class FakeKube : public KubeApi {
 public:
  FakeKube() {
    obj = Json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment",
      "metadata":{"name":"web","namespace":"shop","uid":"u1","generation":1,
        "annotations":{"deployment.kubernetes.io/revision":"1"},
        "managedFields":[{"manager":"kubectl-client-side-apply","operation":"Update"}]},
      "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
        "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[
          {"name":"web","image":"registry.example.com/shop/web:1.4.3",
           "resources":{"limits":{"memory":"256Mi"}}}]}}}})");
  }
  std::string Image() const { return obj["spec"]["template"]["spec"]["containers"][0]["image"]; }
  bool Healthy() const { return Image() == kGood || Image() == "nginx:1.25"; }
  void Reconcile() {
    int64_t gen = obj["metadata"]["generation"];
    obj["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = std::to_string(gen);
    int64_t r = obj["spec"]["replicas"];
    obj["status"] = {{"observedGeneration", gen},
                     {"replicas", r},
                     {"updatedReplicas", r},
                     {"availableReplicas", Healthy() ? r : 0}};
  }
  kube::Result<Json> Get(const std::string& path) override {
    ++gets;
    if (path != "/apis/apps/v1/namespaces/shop/deployments/web")
      return kube::ApiError{404, "NotFound", "not found", {}};
    Reconcile();
    return obj;
  }
  kube::Result<Json> List(const std::string& path, const kube::ListOptions& o) override {
    int64_t gen = obj["metadata"]["generation"];
    Json items = Json::array();
    if (path.find("replicasets") != std::string::npos) {
      for (const auto& [rev, tmpl] : history) {
        items.push_back(
            {{"metadata",
              {{"name", "web-" + std::to_string(rev)},
               {"labels", {{"app", "web"}, {"pod-template-hash", "h" + std::to_string(rev)}}},
               {"annotations", {{"deployment.kubernetes.io/revision", std::to_string(rev)}}},
               {"ownerReferences", Json::array({{{"uid", "u1"}}})}}},
             {"spec", {{"template", tmpl}}}});
      }
      items.push_back(
          {{"metadata",
            {{"name", "web-cur"},
             {"labels", {{"app", "web"}, {"pod-template-hash", "h" + std::to_string(gen)}}},
             {"annotations", {{"deployment.kubernetes.io/revision", std::to_string(gen)}}},
             {"ownerReferences", Json::array({{{"uid", "u1"}}})}}},
           {"spec", {{"template", obj["spec"]["template"]}}}});
    } else {
      last_pod_selector = o.label_selector;
      Json cs =
          Healthy()
              ? Json{{"name", "web"}, {"ready", true}, {"state", {{"running", Json::object()}}}}
              : Json{{"name", "web"},
                     {"ready", false},
                     {"state",
                      {{"waiting", {{"reason", "ImagePullBackOff"}, {"message", "not found"}}}}}};
      items.push_back({{"metadata", {{"name", "web-x"}}},
                       {"status",
                        {{"phase", Healthy() ? "Running" : "Pending"},
                         {"containerStatuses", Json::array({cs})}}}});
    }
    return Json{{"items", items}};
  }
  kube::Result<Json> Patch(const std::string&, const Json& body, kube::PatchType type,
                           const kube::PatchOptions& o) override {
    calls.push_back({body, type, o});
    if (type == kube::PatchType::kApply && conflict && !o.force)
      return kube::ApiError{409, "Conflict", "Apply failed", *conflict};
    Json merged = Merge(obj, body);
    if (merged["spec"] != obj["spec"])
      merged["metadata"]["generation"] = obj["metadata"]["generation"].get<int64_t>() + 1;
    if (!o.dry_run) {
      ++applies;
      obj = merged;
    }
    return merged;
  }
  struct Call {
    Json body;
    kube::PatchType type;
    kube::PatchOptions options;
  };
  Json obj;
  std::optional<Json> conflict;
  std::vector<Call> calls;
  std::vector<std::pair<int, Json>> history;
  int applies = 0, gets = 0;
  std::string last_pod_selector;
};

v1::Decision Decide(const std::string& image, const std::string& old_image = kBroken) {
  v1::Decision d;
  *d.mutable_envelope() = envelope::New("rem-1", "sim", "trace", "test");
  d.set_verdict(v1::Decision::VERDICT_APPROVED);
  d.set_attempt(1);
  d.set_expected_generation(1);
  auto* w = d.mutable_workload();
  w->set_api_version("apps/v1");
  w->set_kind("Deployment");
  w->set_namespace_("shop");
  w->set_name("web");
  auto patch = [&](const std::string& img) {
    return Json{
        {"apiVersion", "apps/v1"},
        {"kind", "Deployment"},
        {"metadata", {{"name", "web"}, {"namespace", "shop"}}},
        {"spec",
         {{"template",
           {{"spec", {{"containers", Json::array({{{"name", "web"}, {"image", img}}})}}}}}}}}
        .dump();
  };
  auto* a = d.add_actions();
  a->set_id("a1");
  a->set_type(v1::Action::TYPE_SERVER_SIDE_APPLY);
  *a->mutable_target() = *w;
  a->set_patch(patch(image));
  auto* rb = d.add_rollback_actions();
  *rb = *a;
  rb->set_patch(patch(old_image));
  return d;
}

struct Harness {
  FakeKube kube;
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
  std::vector<v1::ExecutionResult> published;
  metrics::Registry registry;
  Options options() {
    Options o;
    o.verify_timeout = std::chrono::seconds(30);
    o.rollback_verify_timeout = std::chrono::seconds(30);
    o.poll_interval = std::chrono::seconds(1);
    return o;
  }
  Clock clock() {
    Clock c;
    c.now = [this] { return now; };
    c.sleep = [this](std::chrono::milliseconds d) { now += d; };
    return c;
  }
  v1::ExecutionResult Run(const v1::Decision& d, bool publish_ok = true, bool* aborted = nullptr) {
    Executor ex(kube, options(), clock(), &registry);
    return ex.Execute(
        d,
        [&](const v1::ExecutionResult& r) {
          published.push_back(r);
          return publish_ok;
        },
        aborted);
  }
};

const Step* FindStep(const v1::ExecutionResult& r, Step::Kind k) {
  for (const auto& s : r.steps())
    if (s.kind() == k) return &s;
  return nullptr;
}

}  // namespace

TEST(ExecutorTest, AppliesVerifiesAndRecordsEveryStep) {
  Harness h;
  auto r = h.Run(Decide(kGood));
  EXPECT_EQ(r.status(), Status::STATUS_VERIFIED) << r.reason();
  EXPECT_EQ(h.kube.Image(), kGood);
  EXPECT_EQ(h.kube.applies, 1);
  // dry run first (dryRun=All, manager aiops), then the real apply
  ASSERT_GE(h.kube.calls.size(), 2u);
  EXPECT_TRUE(h.kube.calls[0].options.dry_run);
  EXPECT_EQ(h.kube.calls[0].options.field_manager, "aiops");
  EXPECT_FALSE(h.kube.calls.back().options.dry_run);
  std::vector<Step::Kind> kinds;
  for (const auto& s : r.steps()) {
    kinds.push_back(s.kind());
    EXPECT_EQ(s.outcome(), Step::OUTCOME_SUCCEEDED) << s.message();
    EXPECT_TRUE(s.has_started() && s.has_finished());
    EXPECT_TRUE(s.has_duration());
  }
  EXPECT_EQ(kinds, (std::vector<Step::Kind>{Step::KIND_GUARDRAIL, Step::KIND_STALENESS_CHECK,
                                            Step::KIND_CAPTURE_ROLLBACK, Step::KIND_DRY_RUN,
                                            Step::KIND_APPLY, Step::KIND_VERIFY}));
  ASSERT_EQ(r.captured_rollback_size(), 1);
  EXPECT_THAT(r.captured_rollback(0), HasSubstr(kBroken));
  EXPECT_TRUE(envelope::StampOf(r.envelope(), envelope::Stage::kExecuted));
  EXPECT_TRUE(envelope::StampOf(r.envelope(), envelope::Stage::kVerified));
  // APPLYING before the apply, APPLIED after it
  ASSERT_EQ(h.published.size(), 2u);
  EXPECT_EQ(h.published[0].status(), Status::STATUS_APPLYING);
  EXPECT_EQ(h.published[1].status(), Status::STATUS_APPLIED);
  // the marker sits on the workload's own metadata, not the pod template
  EXPECT_EQ(h.kube.obj["metadata"]["annotations"][kMarkerAnnotation], "rem-1/1");
  EXPECT_FALSE(h.kube.obj["spec"]["template"].contains("annotations"));
  EXPECT_THAT(h.kube.last_pod_selector, HasSubstr("pod-template-hash=h2"));
  EXPECT_THAT(h.registry.Render(),
              HasSubstr("aiops_executor_executions_total{status=\"verified\"} 1"));
  EXPECT_THAT(h.registry.Render(), HasSubstr("aiops_executor_step_seconds_count{kind=\"apply\""));
}

TEST(ExecutorTest, FailedVerificationRollsBackToTheCapturedSpec) {
  Harness h;
  Json before = h.kube.obj["spec"];
  auto r = h.Run(Decide("registry.example.com/shop/web:9.9.9"));
  EXPECT_EQ(r.status(), Status::STATUS_ROLLED_BACK) << r.reason();
  EXPECT_THAT(r.reason(), HasSubstr("ImagePullBackOff"));
  EXPECT_EQ(h.kube.obj["spec"], before);
  EXPECT_EQ(h.kube.obj["metadata"]["annotations"][kPhaseAnnotation], "rolled-back");
  ASSERT_TRUE(FindStep(r, Step::KIND_VERIFY));
  EXPECT_EQ(FindStep(r, Step::KIND_VERIFY)->outcome(), Step::OUTCOME_FAILED);
  ASSERT_TRUE(FindStep(r, Step::KIND_ROLLBACK));
  EXPECT_EQ(FindStep(r, Step::KIND_ROLLBACK)->outcome(), Step::OUTCOME_SUCCEEDED);
  ASSERT_TRUE(FindStep(r, Step::KIND_ROLLBACK_VERIFY));
  EXPECT_EQ(FindStep(r, Step::KIND_ROLLBACK_VERIFY)->outcome(), Step::OUTCOME_SUCCEEDED);
}

TEST(ExecutorTest, RollbackOfAHealthyWorkloadWaitsForItToBeHealthyAgain) {
  Harness h;
  h.kube.obj["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.25";
  Json before = h.kube.obj["spec"];
  auto r = h.Run(Decide("nginx:9.9", "nginx:1.25"));
  EXPECT_EQ(r.status(), Status::STATUS_ROLLED_BACK) << r.reason();
  EXPECT_EQ(h.kube.obj["spec"], before);
  EXPECT_THAT(FindStep(r, Step::KIND_ROLLBACK_VERIFY)->message(), HasSubstr("rollout complete"));
}

TEST(ExecutorTest, ConflictWithAnApplyManagerFailsWithoutForceNamingManagerAndField) {
  Harness h;
  h.kube.obj["metadata"]["managedFields"].push_back(
      {{"manager", "gitops-controller"}, {"operation", "Apply"}});
  h.kube.conflict = Json::parse(R"({"kind":"Status","code":409,"reason":"Conflict",
    "details":{"causes":[{"reason":"FieldManagerConflict",
      "message":"conflict with \"gitops-controller\" using apps/v1",
      "field":".spec.template.spec.containers[name=\"web\"].image"}]}})");
  auto r = h.Run(Decide(kGood));
  EXPECT_EQ(r.status(), Status::STATUS_FAILED);
  EXPECT_THAT(r.reason(), HasSubstr("gitops-controller"));
  EXPECT_THAT(r.reason(), HasSubstr(".spec.template.spec.containers[name=\"web\"].image"));
  const auto* dry = FindStep(r, Step::KIND_DRY_RUN);
  ASSERT_TRUE(dry);
  EXPECT_EQ(dry->http_status(), 409);
  ASSERT_EQ(dry->conflicts_size(), 1);
  EXPECT_THAT(dry->conflicts(0), HasSubstr("gitops-controller (Apply)"));
  EXPECT_EQ(h.kube.applies, 0);
  EXPECT_EQ(h.kube.Image(), kBroken);
}

TEST(ExecutorTest, PolicyForceTakesOwnership) {
  Harness h;
  h.kube.obj["metadata"]["managedFields"].push_back(
      {{"manager", "gitops-controller"}, {"operation", "Apply"}});
  h.kube.conflict = Json::parse(R"({"details":{"causes":[{"reason":"FieldManagerConflict",
      "message":"conflict with gitops-controller","field":".spec.x"}]}})");
  auto d = Decide(kGood);
  d.set_force_conflicts(true);
  auto r = h.Run(d);
  EXPECT_EQ(r.status(), Status::STATUS_VERIFIED) << r.reason();
  EXPECT_TRUE(h.kube.calls.back().options.force);
}

TEST(ExecutorTest, ConflictOnlyWithUpdateManagersIsTakenOver) {
  Harness h;
  h.kube.conflict = Json::parse(R"({"details":{"causes":[{"reason":"FieldManagerConflict",
      "message":"conflict with kubectl-client-side-apply","field":".spec.template.spec.containers[name=\"web\"].image"}]}})");
  auto r = h.Run(Decide(kGood));
  EXPECT_EQ(r.status(), Status::STATUS_VERIFIED) << r.reason();
  EXPECT_THAT(FindStep(r, Step::KIND_APPLY)->message(),
              HasSubstr("took over fields from Update manager(s): kubectl-client-side-apply"));
}

TEST(ExecutorTest, ConflictWithUpdateManagersNeedsForceWhenTakeOverIsOff) {
  Harness h;
  h.kube.conflict = Json::parse(R"({"details":{"causes":[{"reason":"FieldManagerConflict",
      "message":"conflict with kubectl-client-side-apply","field":".spec.x"}]}})");
  auto o = h.options();
  o.take_over_update_managers = false;
  Executor ex(h.kube, o, h.clock());
  auto r = ex.Execute(Decide(kGood), {});
  EXPECT_EQ(r.status(), Status::STATUS_FAILED);
  EXPECT_THAT(r.reason(), HasSubstr("kubectl-client-side-apply (Update): .spec.x"));
}

TEST(ExecutorTest, StaleDecisionIsRefusedAndNothingSent) {
  Harness h;
  h.kube.obj["metadata"]["generation"] = 3;
  h.kube.obj["spec"]["template"]["spec"]["containers"][0]["image"] =
      "registry.example.com/shop/web:1.5.0";
  auto r = h.Run(Decide(kGood));
  EXPECT_EQ(r.status(), Status::STATUS_STALE);
  EXPECT_THAT(r.reason(), HasSubstr("generation 1 -> 3"));
  EXPECT_THAT(r.reason(), HasSubstr("no longer hold the evidence's values"));
  EXPECT_TRUE(h.kube.calls.empty());
  EXPECT_TRUE(h.published.empty());
}

TEST(ExecutorTest, GenerationChangeElsewhereIsNotStale) {
  Harness h;
  h.kube.obj["metadata"]["generation"] = 2;
  h.kube.obj["spec"]["replicas"] = 3;  // someone scaled; the image is as in the evidence
  auto r = h.Run(Decide(kGood));
  EXPECT_EQ(r.status(), Status::STATUS_VERIFIED) << r.reason();
  EXPECT_THAT(FindStep(r, Step::KIND_STALENESS_CHECK)->message(),
              HasSubstr("still hold the evidence's values"));
}

TEST(ExecutorTest, RedeliveredDecisionAppliesOnce) {
  Harness h;
  auto d = Decide(kGood);
  EXPECT_EQ(h.Run(d).status(), Status::STATUS_VERIFIED);
  size_t calls = h.kube.calls.size();
  auto again = h.Run(d);
  EXPECT_EQ(again.status(), Status::STATUS_VERIFIED) << again.reason();
  EXPECT_EQ(h.kube.applies, 1);
  EXPECT_EQ(h.kube.calls.size(), calls);
  EXPECT_EQ(FindStep(again, Step::KIND_APPLY)->outcome(), Step::OUTCOME_SKIPPED);
  EXPECT_THAT(FindStep(again, Step::KIND_STALENESS_CHECK)->message(),
              HasSubstr("already executed by an earlier delivery"));
}

TEST(ExecutorTest, RedeliveryAfterARollbackDoesNotApplyAgain) {
  Harness h;
  auto d = Decide("registry.example.com/shop/web:9.9.9");
  EXPECT_EQ(h.Run(d).status(), Status::STATUS_ROLLED_BACK);
  int applies = h.kube.applies;
  auto again = h.Run(d);
  EXPECT_EQ(again.status(), Status::STATUS_ROLLED_BACK);
  EXPECT_EQ(h.kube.applies, applies);
}

TEST(ExecutorTest, ANewAttemptIsExecuted) {
  Harness h;
  auto d = Decide("registry.example.com/shop/web:9.9.9");
  EXPECT_EQ(h.Run(d).status(), Status::STATUS_ROLLED_BACK);
  auto d2 = Decide(kGood);
  d2.set_attempt(2);
  d2.set_expected_generation(1);  // generation moved (apply + rollback) but the image is back
  auto r = h.Run(d2);
  EXPECT_EQ(r.status(), Status::STATUS_VERIFIED) << r.reason();
}

TEST(ExecutorTest, PodSecurityViolationOnTheDryRunResultIsRefused) {
  Harness h;
  h.kube.obj["spec"]["template"]["spec"]["hostNetwork"] = true;
  auto r = h.Run(Decide(kGood));
  EXPECT_EQ(r.status(), Status::STATUS_REFUSED);
  EXPECT_THAT(r.reason(), HasSubstr("pod uses hostNetwork"));
  EXPECT_EQ(h.kube.applies, 0);
}

TEST(ExecutorTest, GuardrailRefusalSendsNothing) {
  Harness h;
  auto d = Decide(kGood);
  d.mutable_actions(0)->mutable_target()->set_namespace_("kube-system");
  auto r = h.Run(d);
  EXPECT_EQ(r.status(), Status::STATUS_REFUSED);
  EXPECT_THAT(r.reason(), HasSubstr("not the remediation's namespace"));
  EXPECT_EQ(h.kube.gets, 0);
  EXPECT_TRUE(h.kube.calls.empty());
}

TEST(ExecutorTest, FailedPublishBeforeApplyAbortsWithoutChanging) {
  Harness h;
  bool aborted = false;
  h.Run(Decide(kGood), false, &aborted);
  EXPECT_TRUE(aborted);
  EXPECT_EQ(h.kube.applies, 0);
}

TEST(ExecutorTest, VerificationDeadlineWithoutHardFailure) {
  Harness h;
  auto o = h.options();
  o.fail_fast = false;
  Executor ex(h.kube, o, h.clock());
  auto r = ex.Execute(Decide("registry.example.com/shop/web:9.9.9"), {});
  EXPECT_EQ(r.status(), Status::STATUS_ROLLED_BACK);
  EXPECT_THAT(FindStep(r, Step::KIND_VERIFY)->message(), HasSubstr("not healthy within 30s"));
}

TEST(ExecutorTest, RollbackToRevisionRestoresThatTemplate) {
  Harness h;
  Json old_tmpl = h.kube.obj["spec"]["template"];
  old_tmpl["spec"]["containers"][0]["image"] = kGood;
  old_tmpl["metadata"]["labels"]["pod-template-hash"] = "h1";
  h.kube.history.push_back({1, old_tmpl});
  h.kube.obj["metadata"]["generation"] = 2;
  auto d = Decide(kGood);
  d.set_expected_generation(2);
  auto* a = d.mutable_actions(0);
  a->set_type(v1::Action::TYPE_ROLLBACK_TO_REVISION);
  a->set_rollback_to_revision(1);
  a->clear_patch();
  d.clear_rollback_actions();
  auto r = h.Run(d);
  EXPECT_EQ(r.status(), Status::STATUS_VERIFIED) << r.reason();
  EXPECT_EQ(h.kube.Image(), kGood);
  EXPECT_FALSE(h.kube.obj["spec"]["template"]["metadata"]["labels"].contains("pod-template-hash"));
  EXPECT_EQ(h.kube.calls.back().type, kube::PatchType::kMerge);
}

TEST(ExecutorTest, ParsesConflictCausesOfKubeSimAndTheApiServer) {
  auto c = ParseConflicts(Json::parse(R"({"details":{"causes":[
    {"reason":"FieldManagerConflict","message":"conflict with \"helm\" using apps/v1","field":".spec.replicas"},
    {"reason":"FieldManagerConflict","message":"conflict with gitops","field":".spec.x"},
    {"reason":"FieldValueInvalid","message":"x","field":"y"}]}})"));
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].manager, "helm");
  EXPECT_EQ(c[0].field, ".spec.replicas");
  EXPECT_EQ(c[1].manager, "gitops");
}

TEST(ExecutorTest, CaptureTakesExactlyThePatchedFields) {
  Json live = Json::parse(R"({"spec":{"replicas":2,"template":{"spec":{"containers":[
    {"name":"web","image":"a:1","env":[{"name":"A","value":"1"}],"resources":{"limits":{"memory":"1Gi"}}},
    {"name":"side","image":"b:1"}]}}}})");
  Json patch = Json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":"web","namespace":"shop"},
    "spec":{"template":{"spec":{"containers":[{"name":"web","image":"a:2",
      "env":[{"name":"A","value":"2"},{"name":"NEW","value":"x"}],
      "resources":{"limits":{"memory":"2Gi","cpu":"1"}}}]}}}})");
  Json rb = CaptureRollback(patch, live);
  EXPECT_EQ(rb["spec"],
            Json::parse(R"({"template":{"spec":{"containers":[{"name":"web","image":"a:1",
      "env":[{"name":"A","value":"1"}],"resources":{"limits":{"memory":"1Gi"}}}]}}})"));
  EXPECT_EQ(rb["metadata"]["name"], "web");
}
