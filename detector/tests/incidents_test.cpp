#include "incidents.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "detector_core.hpp"

using namespace aiops::detector;
using namespace std::chrono_literals;
using nlohmann::json;
namespace v1 = aiops::v1;

namespace {

const Workload kWeb{"apps/v1", "Deployment", "shop", "web", "uid-web"};

PodObservation Failing(const std::string& pod, v1::FailureClass c = v1::FAILURE_CLASS_IMAGE_PULL,
                       const Workload& w = kWeb, const std::string& revision = "7d9c6b5f4") {
  PodObservation o;
  o.pod_key = w.ns + "/" + pod;
  o.pod_name = pod;
  o.workload = w;
  o.failure = PodFailure{c, "ImagePullBackOff", "Back-off pulling image", "web", false};
  o.revision = revision;
  return o;
}

PodObservation Healthy(const std::string& pod, const Workload& w = kWeb) {
  auto o = Failing(pod, v1::FAILURE_CLASS_IMAGE_PULL, w);
  o.failure.reset();
  return o;
}

TrackerOptions Options() {
  TrackerOptions o;
  o.cluster = "prod";
  o.grace = 5s;
  o.unschedulable_grace = 30s;
  o.cooldown = 60s;
  o.update_interval = 10s;
  return o;
}

const Clock::time_point t0 = Clock::time_point(std::chrono::seconds(1795313100));

}  // namespace

TEST(IncidentTrackerTest, AFailureShorterThanTheGracePeriodIsIgnored) {
  IncidentTracker t(Options());
  t.Observe(Failing("web-1"), t0);
  EXPECT_TRUE(t.Tick(t0 + 2s).empty());
  t.Observe(Healthy("web-1"), t0 + 3s);
  EXPECT_TRUE(t.Tick(t0 + 10s).empty());
  EXPECT_EQ(t.open_incidents(), 0u);
}

TEST(IncidentTrackerTest, ManyFailingPodsOfOneWorkloadMakeOneIncident) {
  IncidentTracker t(Options());
  for (int i = 0; i < 200; ++i)
    t.Observe(Failing("web-" + std::to_string(i)), t0);
  auto out = t.Tick(t0 + 6s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].status(), v1::Anomaly::STATUS_OPEN);
  EXPECT_EQ(out[0].affected_pods(), 200u);
  EXPECT_EQ(out[0].sample_pods_size(), 5);
  EXPECT_EQ(out[0].workload().name(), "web");
  EXPECT_EQ(out[0].incident_key(), "prod/shop/Deployment/web/image-pull");
  EXPECT_EQ(out[0].envelope().cluster(), "prod");
  EXPECT_EQ(out[0].envelope().remediation_id().rfind("rem-", 0), 0u);
  EXPECT_TRUE(out[0].envelope().times().has_detected());
  EXPECT_TRUE(t.Tick(t0 + 7s).empty()) << "nothing changed, nothing announced";
}

TEST(IncidentTrackerTest, MorePodsUpdateTheCountNoNewIncident) {
  IncidentTracker t(Options());
  t.Observe(Failing("web-1"), t0);
  auto open = t.Tick(t0 + 6s);
  ASSERT_EQ(open.size(), 1u);
  t.Observe(Failing("web-2"), t0 + 7s);
  EXPECT_TRUE(t.Tick(t0 + 8s).empty()) << "web-2 still in its grace period";
  EXPECT_TRUE(t.Tick(t0 + 13s).empty()) << "counted, but updates are rate limited";
  auto update = t.Tick(t0 + 17s);
  ASSERT_EQ(update.size(), 1u);
  EXPECT_EQ(update[0].status(), v1::Anomaly::STATUS_UPDATED);
  EXPECT_EQ(update[0].affected_pods(), 2u);
  EXPECT_EQ(update[0].envelope().remediation_id(), open[0].envelope().remediation_id());
  EXPECT_EQ(update[0].envelope().trace_id(), open[0].envelope().trace_id());
}

TEST(IncidentTrackerTest, DifferentClassesAndWorkloadsAreDifferentIncidents) {
  IncidentTracker t(Options());
  Workload api{"apps/v1", "Deployment", "shop", "api", "uid-api"};
  t.Observe(Failing("web-1"), t0);
  t.Observe(Failing("api-1", v1::FAILURE_CLASS_IMAGE_PULL, api), t0);
  t.Observe(Failing("web-2", v1::FAILURE_CLASS_OOM_KILLED), t0);
  auto out = t.Tick(t0 + 6s);
  ASSERT_EQ(out.size(), 3u);
  std::set<std::string> ids;
  for (const auto& a : out)
    ids.insert(a.envelope().remediation_id());
  EXPECT_EQ(ids.size(), 3u);
}

TEST(IncidentTrackerTest, UnschedulableHasItsOwnLongerGrace) {
  IncidentTracker t(Options());
  t.Observe(Failing("web-1", v1::FAILURE_CLASS_UNSCHEDULABLE), t0);
  EXPECT_TRUE(t.Tick(t0 + 10s).empty());
  ASSERT_EQ(t.Tick(t0 + 31s).size(), 1u);
}

TEST(IncidentTrackerTest, ResolvesAfterCooldownAndARecurrenceAfterARolloutIsNew) {
  IncidentTracker t(Options());
  t.Observe(Failing("web-1"), t0);
  auto open = t.Tick(t0 + 6s);
  ASSERT_EQ(open.size(), 1u);
  t.Remove("shop/web-1", t0 + 20s);  // the bad pod is replaced by a healthy one
  t.Observe(Healthy("web-9"), t0 + 20s);
  EXPECT_TRUE(t.Tick(t0 + 50s).empty()) << "cool-down not over";
  auto resolved = t.Tick(t0 + 81s);
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0].status(), v1::Anomaly::STATUS_RESOLVED);
  EXPECT_EQ(resolved[0].envelope().remediation_id(), open[0].envelope().remediation_id());
  EXPECT_EQ(t.open_incidents(), 0u);

  t.Observe(Failing("web-10", v1::FAILURE_CLASS_IMAGE_PULL, kWeb, "5f6a7b8c9"), t0 + 100s);
  auto again = t.Tick(t0 + 106s);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].status(), v1::Anomaly::STATUS_OPEN);
  EXPECT_NE(again[0].envelope().remediation_id(), open[0].envelope().remediation_id());
}

TEST(IncidentTrackerTest, AFailureReturningWithinTheCooldownContinuesTheIncident) {
  IncidentTracker t(Options());
  t.Observe(Failing("web-1"), t0);
  ASSERT_EQ(t.Tick(t0 + 6s).size(), 1u);
  t.Observe(Healthy("web-1"), t0 + 10s);
  EXPECT_TRUE(t.Tick(t0 + 11s).empty());
  t.Observe(Failing("web-1"), t0 + 20s);
  auto out = t.Tick(t0 + 30s);
  EXPECT_TRUE(out.empty() || out[0].status() != v1::Anomaly::STATUS_OPEN);
  EXPECT_EQ(t.open_incidents(), 1u);
}

TEST(IncidentTrackerTest, ARestartedTrackerAnnouncesTheSameId) {
  IncidentTracker first(Options());
  first.Observe(Failing("web-1"), t0);
  auto a = first.Tick(t0 + 6s);
  IncidentTracker second(Options());  // the detector restarted
  second.Observe(Failing("web-1"), t0 + 300s);
  auto b = second.Tick(t0 + 306s);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a[0].envelope().remediation_id(), b[0].envelope().remediation_id());
  EXPECT_EQ(a[0].envelope().trace_id(), b[0].envelope().trace_id());
}

TEST(IncidentTrackerTest, AResyncForgetsPodsThatAreGone) {
  IncidentTracker t(Options());
  t.Observe(Failing("web-1"), t0);
  t.Observe(Healthy("web-2"), t0);
  ASSERT_EQ(t.Tick(t0 + 6s).size(), 1u);
  t.BeginResync();
  t.Observe(Healthy("web-2"), t0 + 10s);  // web-1 is no longer listed
  t.EndResync(t0 + 10s);
  EXPECT_EQ(t.pods(), 1u);
  auto out = t.Tick(t0 + 71s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].status(), v1::Anomaly::STATUS_RESOLVED);
}

TEST(IncidentTrackerTest, AFailedPublishIsAnnouncedAgain) {
  IncidentTracker t(Options());
  t.Observe(Failing("web-1"), t0);
  auto out = t.Tick(t0 + 6s);
  ASSERT_EQ(out.size(), 1u);
  t.Unannounce(out[0].envelope().remediation_id());
  auto again = t.Tick(t0 + 7s);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].status(), v1::Anomaly::STATUS_OPEN);
}

TEST(DetectorCoreTest, ResolvesOwnersAndHonoursScope) {
  int lookups = 0;
  DetectorCore core(Options(), Scope{{}, {"kube-system"}, ""},
                    [&](const std::string& ns, const std::string& rs) -> std::optional<json> {
                      ++lookups;
                      EXPECT_EQ(ns, "shop");
                      EXPECT_EQ(rs, "web-7d9c6b5f4");
                      return json::parse(R"({"metadata": {"ownerReferences": [
                        {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                         "uid": "d-1", "controller": true}]}})");
                    });
  std::ifstream in(std::string(DETECTOR_FIXTURES) + "/pods/image-pull-backoff.json");
  auto pod = json::parse(in);
  for (int i = 0; i < 10; ++i) {
    auto p = pod;
    p["metadata"]["name"] = "web-7d9c6b5f4-" + std::to_string(i);
    core.OnPod(p, t0);
  }
  auto system = pod;
  system["metadata"]["namespace"] = "kube-system";
  core.OnPod(system, t0);
  EXPECT_EQ(lookups, 1) << "the ReplicaSet owner is cached";
  EXPECT_EQ(core.tracker().pods(), 10u) << "kube-system is out of scope";
  auto out = core.Tick(t0 + 6s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].workload().kind(), "Deployment");
  EXPECT_EQ(out[0].workload().name(), "web");
  EXPECT_EQ(out[0].workload().uid(), "d-1");
  EXPECT_EQ(out[0].affected_pods(), 10u);
  EXPECT_EQ(out[0].container(), "web");
}

TEST(DetectorCoreTest, UnreadableReplicaSetFallsBackToTheNamingConvention) {
  DetectorCore core(Options(), Scope{},
                    [](const std::string&, const std::string&) { return std::nullopt; });
  std::ifstream in(std::string(DETECTOR_FIXTURES) + "/pods/crash-loop.json");
  core.OnPod(json::parse(in), t0);
  auto out = core.Tick(t0 + 6s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].workload().kind(), "Deployment");
  EXPECT_EQ(out[0].workload().name(), "web");
}

TEST(DetectorCoreTest, BarePodsAndStatefulSetsAreTheirOwnWorkloads) {
  DetectorCore core(Options(), Scope{},
                    [](const std::string&, const std::string&) { return std::nullopt; });
  std::ifstream in(std::string(DETECTOR_FIXTURES) + "/pods/crash-loop.json");
  auto pod = json::parse(in);
  auto bare = pod;
  bare["metadata"].erase("ownerReferences");
  bare["metadata"]["name"] = "debug-shell";
  core.OnPod(bare, t0);
  auto sts = pod;
  sts["metadata"]["name"] = "db-0";
  sts["metadata"]["ownerReferences"] = json::parse(
      R"([{"apiVersion":"apps/v1","kind":"StatefulSet","name":"db","controller":true}])");
  core.OnPod(sts, t0);
  core.OnPod(json::parse(R"({"metadata": "garbage"})"), t0);  // ignored, no crash
  auto out = core.Tick(t0 + 6s);
  ASSERT_EQ(out.size(), 2u);
  std::set<std::string> kinds;
  for (const auto& a : out)
    kinds.insert(a.workload().kind() + "/" + a.workload().name());
  EXPECT_TRUE(kinds.count("Pod/debug-shell"));
  EXPECT_TRUE(kinds.count("StatefulSet/db"));
}
