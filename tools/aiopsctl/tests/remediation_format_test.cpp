// The list table, the get summary (patch as YAML) and the machine renderings.
#include <gmock/gmock.h>
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "remediation_format.hpp"

using namespace aiopsctl;
using ::testing::HasSubstr;

namespace {

namespace v1 = aiops::v1;
using google::protobuf::util::TimeUtil;

v1::Remediation Sample() {
  v1::Remediation r;
  r.set_id("rem-0123456789abcdef0123");
  r.set_cluster("prod");
  r.set_state(v1::REMEDIATION_STATE_READY_FOR_REVIEW);
  auto* w = r.mutable_workload();
  w->set_kind("Deployment");
  w->set_namespace_("shop");
  w->set_name("web");
  r.mutable_anomaly()->set_reason("ImagePullBackOff");
  *r.mutable_created() = TimeUtil::SecondsToTimestamp(1735689600);
  auto* p = r.mutable_proposal();
  p->set_risk(v1::RISK_LEVEL_LOW);
  p->mutable_source()->set_kind(v1::ProposalSource::KIND_RUNBOOK);
  p->mutable_source()->set_runbook_id("image-pull");
  p->set_summary("tag does not exist");
  auto* a = p->add_actions();
  a->set_id("a1");
  *a->mutable_target() = *w;
  a->set_description("set image of web to nginx:1.25.3");
  a->set_patch(
      R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},)"
      R"("spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.25.3"}]}}}})");
  auto* t = r.add_history();
  t->set_from(v1::REMEDIATION_STATE_PROPOSED);
  t->set_to(v1::REMEDIATION_STATE_READY_FOR_REVIEW);
  t->set_actor("aiops-approver");
  t->set_reason("awaiting approval");
  return r;
}

std::chrono::system_clock::time_point At(int64_t secs) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(secs));
}

TEST(FormatTest, TableHasTheColumnsAndOneRowPerRemediation) {
  auto out = FormatTable({Sample()}, At(1735689600 + 300));
  std::istringstream lines(out);
  std::string header, row, extra;
  std::getline(lines, header);
  std::getline(lines, row);
  EXPECT_FALSE(std::getline(lines, extra));
  EXPECT_THAT(header, ::testing::MatchesRegex(
                          "ID +AGE +CLUSTER +NAMESPACE +WORKLOAD +PROBLEM +STATE +RISK +SOURCE"));
  EXPECT_THAT(row, ::testing::MatchesRegex("rem-0123456789abcdef0123 +5m +prod +shop +"
                                           "deployment/web +ImagePullBackOff +ReadyForReview +"
                                           "low +runbook:image-pull"));
}

TEST(FormatTest, SummaryShowsThePatchAsYaml) {
  auto out = FormatSummary(Sample(), At(1735689600 + 60));
  EXPECT_THAT(out, HasSubstr("State:      ReadyForReview"));
  EXPECT_THAT(out, HasSubstr("Workload:   Deployment shop/web"));
  EXPECT_THAT(out, HasSubstr("a1  server-side apply to deployment/web: set image"));
  EXPECT_THAT(out, HasSubstr("        apiVersion: apps/v1\n"));
  EXPECT_THAT(out, HasSubstr("image: nginx:1.25.3"));
  EXPECT_THAT(out, HasSubstr("Proposed -> ReadyForReview  by aiops-approver: awaiting approval"));
}

TEST(FormatTest, JsonAndYamlRenderingsParseBack) {
  auto json = nlohmann::json::parse(ToJson(Sample()));
  EXPECT_EQ(json["id"], "rem-0123456789abcdef0123");
  EXPECT_EQ(json["state"], "REMEDIATION_STATE_READY_FOR_REVIEW");
  EXPECT_EQ(json["workload"]["namespace"], "shop");
  auto arr = nlohmann::json::parse(ToJsonArray({Sample(), Sample()}));
  EXPECT_EQ(arr.size(), 2u);
  auto yaml = YAML::Load(ToYaml(Sample()));
  EXPECT_EQ(yaml["proposal"]["actions"][0]["id"].as<std::string>(), "a1");
  EXPECT_EQ(JsonToYaml("not json"), "not json\n");
}

TEST(FormatTest, StatesAndAges) {
  EXPECT_EQ(StateText(v1::REMEDIATION_STATE_ROLLED_BACK), "RolledBack");
  EXPECT_EQ(ParseStateText("ready-for-review"), v1::REMEDIATION_STATE_READY_FOR_REVIEW);
  EXPECT_EQ(ParseStateText("approved"), v1::REMEDIATION_STATE_APPROVED);
  EXPECT_EQ(ParseStateText("nope"), std::nullopt);
  EXPECT_EQ(Age(std::chrono::seconds(59)), "59s");
  EXPECT_EQ(Age(std::chrono::minutes(5)), "5m");
  EXPECT_EQ(Age(std::chrono::hours(5)), "5h");
  EXPECT_EQ(Age(std::chrono::hours(50)), "2d");
}

}  // namespace
