#include <gtest/gtest.h>

#include "selectors.hpp"
#include "status.hpp"

namespace kubesim {
namespace {

TEST(LabelSelectorTest, SupportsEveryOperator) {
  json labels = {{"app", "web"}, {"tier", "front"}, {"canary", "true"}};
  EXPECT_TRUE(LabelSelector::Parse("app=web").Matches(labels));
  EXPECT_TRUE(LabelSelector::Parse("app==web,tier!=back").Matches(labels));
  EXPECT_FALSE(LabelSelector::Parse("app=web,tier=back").Matches(labels));
  EXPECT_TRUE(LabelSelector::Parse("tier in (front, middle)").Matches(labels));
  EXPECT_FALSE(LabelSelector::Parse("tier notin (front)").Matches(labels));
  EXPECT_TRUE(LabelSelector::Parse("canary").Matches(labels));
  EXPECT_FALSE(LabelSelector::Parse("!canary").Matches(labels));
  EXPECT_TRUE(LabelSelector::Parse("").Matches(labels));
  EXPECT_THROW(LabelSelector::Parse("app in web"), ApiError);
}

TEST(LabelSelectorTest, FromObjectMatchesLikeTheQuerySyntax) {
  json sel = {{"matchLabels", {{"app", "web"}}},
              {"matchExpressions",
               json::array({{{"key", "tier"}, {"operator", "In"}, {"values", {"front"}}}})}};
  LabelSelector s = LabelSelector::FromObject(sel);
  EXPECT_TRUE(s.Matches({{"app", "web"}, {"tier", "front"}}));
  EXPECT_FALSE(s.Matches({{"app", "web"}}));
  EXPECT_EQ(s.String(), "app=web,tier in (front)");
}

TEST(FieldSelectorTest, MatchesNestedFields) {
  json ev = {{"metadata", {{"name", "e1"}, {"namespace", "shop"}}},
             {"involvedObject", {{"kind", "Pod"}, {"name", "web-1"}, {"uid", "u1"}}}};
  EXPECT_TRUE(
      FieldSelector::Parse("involvedObject.name=web-1,involvedObject.kind=Pod").Matches(ev));
  EXPECT_FALSE(FieldSelector::Parse("involvedObject.name=web-2").Matches(ev));
  EXPECT_TRUE(FieldSelector::Parse("metadata.namespace!=default").Matches(ev));
  json pod = {{"spec", {{"nodeName", "node-a"}}}, {"status", {{"phase", "Running"}}}};
  EXPECT_TRUE(FieldSelector::Parse("spec.nodeName=node-a,status.phase=Running").Matches(pod));
  EXPECT_TRUE(FieldSelector::Parse("spec.nodeName=").Matches(json::object()));
  EXPECT_THROW(FieldSelector::Parse("nonsense"), ApiError);
}

}  // namespace
}  // namespace kubesim
