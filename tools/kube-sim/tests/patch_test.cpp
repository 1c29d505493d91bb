#include <gtest/gtest.h>

#include "patch.hpp"
#include "status.hpp"

namespace kubesim {
namespace {

json Deployment() {
  return json::parse(R"({
    "spec": {"replicas": 2, "template": {"spec": {"containers": [
      {"name": "app", "image": "a:1", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
      {"name": "sidecar", "image": "s:1"}]}}}})");
}

TEST(PatchTest, MergePatchReplacesListsAndDeletesNulls) {
  json out = ApplyMergePatch(Deployment(), json::parse(R"({"spec": {"replicas": null,
      "template": {"spec": {"containers": [{"name": "only", "image": "x"}]}}}})"));
  EXPECT_FALSE(out["spec"].contains("replicas"));
  ASSERT_EQ(out["spec"]["template"]["spec"]["containers"].size(), 1u);
}

TEST(PatchTest, StrategicMergePatchMergesContainersAndEnvByName) {
  json out = ApplyStrategicMergePatch(Deployment(), json::parse(R"({"spec": {"template": {"spec": {
      "$setElementOrder/containers": [{"name": "app"}, {"name": "sidecar"}],
      "containers": [{"name": "app", "image": "a:2", "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}]}]}}}})"));
  const json& cs = out["spec"]["template"]["spec"]["containers"];
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_EQ(cs[0]["image"], "a:2");
  EXPECT_EQ(cs[1]["image"], "s:1");
  ASSERT_EQ(cs[0]["env"].size(), 3u);
  EXPECT_EQ(cs[0]["env"][1]["value"], "3");
  EXPECT_EQ(cs[0]["env"][2]["name"], "C");
  EXPECT_FALSE(out["spec"]["template"]["spec"].contains("$setElementOrder/containers"));
}

TEST(PatchTest, StrategicMergePatchDirectives) {
  json out = ApplyStrategicMergePatch(Deployment(), json::parse(R"({"spec": {"template": {"spec": {
      "containers": [{"name": "sidecar", "$patch": "delete"},
                     {"name": "app", "env": [{"name": "A", "$patch": "delete"}]}]}}}})"));
  const json& cs = out["spec"]["template"]["spec"]["containers"];
  ASSERT_EQ(cs.size(), 1u);
  ASSERT_EQ(cs[0]["env"].size(), 1u);
  EXPECT_EQ(cs[0]["env"][0]["name"], "B");
  json replaced = ApplyStrategicMergePatch(
      Deployment(), json::parse(R"({"spec": {"$patch": "replace", "replicas": 5}})"));
  EXPECT_EQ(replaced["spec"], json({{"replicas", 5}}));
}

TEST(PatchTest, JsonPatchAppliesAndFailsAsInvalid) {
  json out = ApplyJsonPatch(
      Deployment(), json::parse(R"([{"op": "replace", "path": "/spec/replicas", "value": 7}])"));
  EXPECT_EQ(out["spec"]["replicas"], 7);
  try {
    ApplyJsonPatch(Deployment(),
                   json::parse(R"([{"op": "test", "path": "/spec/replicas", "value": 9}])"));
    FAIL() << "a failing test op must be rejected";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), 422);
  }
}

}  // namespace
}  // namespace kubesim
