#include <gtest/gtest.h>

#include "managed_fields.hpp"

namespace kubesim {
namespace {

json Applied(const std::string& image, bool with_label = true) {
  json d = {{"apiVersion", "apps/v1"},
            {"kind", "Deployment"},
            {"metadata", {{"name", "web"}, {"namespace", "default"}}},
            {"spec",
             {{"replicas", 2},
              {"template",
               {{"spec", {{"containers", json::array({{{"name", "app"}, {"image", image}}})}}}}}}}};
  if (with_label) d["metadata"]["labels"] = {{"team", "a"}};
  return d;
}

const FieldPath kImage = {"f:spec",       "f:template",           "f:spec",
                          "f:containers", "k:{\"name\":\"app\"}", "f:image"};

TEST(ManagedFieldsTest, FieldSetUsesListKeysAndSkipsIdentity) {
  json set = FieldSetOf(Applied("a:1"));
  EXPECT_TRUE(SetContains(set, kImage));
  EXPECT_TRUE(
      SetContains(set, {"f:spec", "f:template", "f:spec", "f:containers", "k:{\"name\":\"app\"}"}));
  EXPECT_FALSE(SetContains(set, {"f:metadata", "f:name"}));
  EXPECT_EQ(PathString(kImage), ".spec.template.spec.containers[name=\"app\"].image");
}

TEST(ManagedFieldsTest, SetInsertAndRemoveKeepMembership) {
  json set = json::object();
  SetInsert(set, {"f:metadata", "f:labels"});
  SetInsert(set, {"f:metadata", "f:labels", "f:app"});
  EXPECT_TRUE(SetContains(set, {"f:metadata", "f:labels"}));
  EXPECT_TRUE(SetContains(set, {"f:metadata", "f:labels", "f:app"}));
  EXPECT_FALSE(SetContains(set, {"f:metadata"}));
  SetRemove(set, {"f:metadata", "f:labels", "f:app"});
  SetRemove(set, {"f:metadata", "f:labels"});
  EXPECT_TRUE(Members(set).empty());
}

TEST(ManagedFieldsTest, SecondManagerConflictsUnlessForced) {
  auto first = ServerSideApply(nullptr, Applied("a:1"), "alice", false, "apps/v1", "t0");
  ASSERT_TRUE(first.conflicts.empty());
  // Same value: shared ownership, no conflict.
  auto same = ServerSideApply(first.object, Applied("a:1"), "bob", false, "apps/v1", "t1");
  EXPECT_TRUE(same.conflicts.empty());
  auto conflict = ServerSideApply(first.object, Applied("a:2"), "bob", false, "apps/v1", "t1");
  ASSERT_EQ(conflict.conflicts.size(), 1u);
  EXPECT_EQ(conflict.conflicts[0].manager, "\"alice\"");
  EXPECT_EQ(conflict.conflicts[0].field, ".spec.template.spec.containers[name=\"app\"].image");
  EXPECT_NE(ConflictMessage(conflict.conflicts).find("Apply failed with 1 conflict"),
            std::string::npos);
  auto forced = ServerSideApply(first.object, Applied("a:2"), "bob", true, "apps/v1", "t1");
  ASSERT_TRUE(forced.conflicts.empty());
  EXPECT_EQ(forced.object["spec"]["template"]["spec"]["containers"][0]["image"], "a:2");
  for (const auto& e : forced.object["metadata"]["managedFields"]) {
    bool owns = SetContains(e["fieldsV1"], kImage);
    EXPECT_EQ(owns, e["manager"] == "bob") << e.dump();
  }
}

TEST(ManagedFieldsTest, FieldsDroppedFromTheAppliedConfigAreRemoved) {
  auto first = ServerSideApply(nullptr, Applied("a:1", true), "alice", false, "apps/v1", "t0");
  auto second =
      ServerSideApply(first.object, Applied("a:1", false), "alice", false, "apps/v1", "t1");
  ASSERT_TRUE(second.conflicts.empty());
  EXPECT_FALSE(second.object["metadata"].contains("labels") &&
               second.object["metadata"]["labels"].contains("team"));
}

TEST(ManagedFieldsTest, UpdateTakesOwnershipOfChangedFields) {
  auto first = ServerSideApply(nullptr, Applied("a:1"), "alice", false, "apps/v1", "t0");
  json changed = first.object;
  changed["spec"]["template"]["spec"]["containers"][0]["image"] = "a:9";
  json mf = RecordUpdate(first.object, changed, "kubectl-set", "apps/v1", "t2");
  bool set_owns = false, alice_owns = false;
  for (const auto& e : mf) {
    if (e["manager"] == "kubectl-set") set_owns = SetContains(e["fieldsV1"], kImage);
    if (e["manager"] == "alice") alice_owns = SetContains(e["fieldsV1"], kImage);
  }
  EXPECT_TRUE(set_owns);
  EXPECT_FALSE(alice_owns);
}

}  // namespace
}  // namespace kubesim
