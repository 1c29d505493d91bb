// Pods of unexpected shapes (as the bad-input suite puts into kube-sim) reach DetectorCore
// from the watch. A field of another type threw from OnPod, ended the watch thread and
// aborted the detector (std::terminate), so one odd pod stopped detection for the cluster.
#include <gtest/gtest.h>

#include "detector_core.hpp"

using namespace aiops::detector;
using nlohmann::json;

namespace {

DetectorCore Core() {
  TrackerOptions opts;
  opts.grace = std::chrono::seconds(0);
  return DetectorCore(opts, Scope{},
                      [](const std::string&, const std::string&) { return std::optional<json>(); });
}

json Crashing(const std::string& name, json meta = json::object()) {
  json pod = json::parse(R"({"metadata":{"namespace":"odd"},"status":{"containerStatuses":[
    {"name":"c","state":{"waiting":{"reason":"CrashLoopBackOff"}},
     "lastState":{"terminated":{"reason":"Error","exitCode":1e300}}}]}})");
  pod["metadata"]["name"] = name;
  for (auto& [k, v] : meta.items())
    pod["metadata"][k] = v;
  return pod;
}

}  // namespace

TEST(DetectorCoreShapesTest, OddFieldsReadAsMissingAndTheNextPodIsStillTracked) {
  auto core = Core();
  auto now = Clock::now();
  for (const json& meta :
       {json::parse(R"({"labels":null})"), json::parse(R"({"labels":{"pod-template-hash":5}})"),
        json::parse(R"({"labels":"app=x"})"),
        json::parse(R"({"uid":7,"labels":{"controller-revision-hash":[]}})"),
        json::parse(R"({"ownerReferences":["oops",5,{"controller":"yes"}]})"),
        json::parse(R"({"ownerReferences":null})")}) {
    SCOPED_TRACE(meta.dump());
    EXPECT_NO_THROW(
        core.OnPod(Crashing("odd-" + std::to_string(core.tracker().pods()), meta), now));
  }
  EXPECT_NO_THROW(core.OnPod(json::parse(R"({"metadata":{"name":5,"namespace":"odd"}})"), now));
  EXPECT_NO_THROW(core.OnPodDeleted(json::parse(R"({"metadata":{"name":[],"namespace":1}})"), now));
  // The odd pods are still observed (as their own workload) and a normal one afterwards too.
  core.OnPod(Crashing("normal", json::parse(R"({"labels":{"pod-template-hash":"abc"}})")), now);
  EXPECT_GE(core.tracker().pods(), 7u);
  EXPECT_FALSE(core.Tick(now + std::chrono::seconds(1)).empty());
}

TEST(DetectorCoreShapesTest, AnOomKillWithANonIntegerExitCodeIsStillAnOomKill) {
  auto pod = json::parse(R"({"metadata":{"name":"p","namespace":"odd"},"status":{
    "containerStatuses":[{"name":"c","state":{"waiting":{"reason":"CrashLoopBackOff"}},
    "lastState":{"terminated":{"reason":"OOMKilled","exitCode":1e300}}}]}})");
  auto f = Classify(pod, 0, 600);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->failure_class, aiops::v1::FAILURE_CLASS_OOM_KILLED);
  EXPECT_EQ(f->message, "container c was OOM-killed (exit code 137)");
}
