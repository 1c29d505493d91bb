// Policy configuration and matching: auto-approve rules, two-person rule, durations.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "aiops/config.hpp"
#include "fixtures.hpp"
#include "policy.hpp"

using namespace aiops;
using namespace aiops::approver;
using namespace aiops::approver::testing;
using ::testing::HasSubstr;

namespace {

Policies Parse(const std::string& yaml) {
  return Policies::FromYaml(YAML::Load(yaml));
}

std::string ParseError(const std::string& yaml) {
  try {
    Parse(yaml);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "";
}

v1::Remediation Ready(v1::RiskLevel risk, const std::string& ns = "shop",
                      v1::ProposalSource::Kind kind = v1::ProposalSource::KIND_RUNBOOK,
                      v1::FailureClass fc = v1::FAILURE_CLASS_IMAGE_PULL) {
  Store s;
  auto p = MakeProposal("rem-x", risk, ns);
  p.mutable_source()->set_kind(kind);
  p.set_failure_class(fc);
  s.Apply(p, T(1));
  return *s.Get("rem-x");
}

const char* kRules = R"(
auto_approve:
  - name: runbook-low
    sources: [runbook]
    risks: [low]
    failure_classes: [image_pull, oom_killed]
    namespaces: [shop, pay]
  - name: any-medium-in-dev
    risks: [medium, high]
    namespaces: [dev]
two_person:
  risks: [high]
rate_limit:
  max_per_workload_per_hour: 2
expiry:
  ttl: 30m
)";

TEST(PolicyTest, DefaultsWhenTheSectionIsAbsent) {
  auto p = Policies::FromYaml(YAML::Node());
  EXPECT_TRUE(p.auto_approve.empty());
  EXPECT_EQ(p.two_person_risks, std::set<v1::RiskLevel>{v1::RISK_LEVEL_HIGH});
  EXPECT_EQ(p.max_per_workload_per_hour, 3);
  EXPECT_EQ(p.ttl, std::chrono::hours(24));
}

TEST(PolicyTest, ParsesEverySection) {
  auto p = Parse(kRules);
  ASSERT_EQ(p.auto_approve.size(), 2u);
  EXPECT_EQ(p.auto_approve[0].name, "runbook-low");
  EXPECT_EQ(p.auto_approve[0].failure_classes.size(), 2u);
  EXPECT_EQ(p.max_per_workload_per_hour, 2);
  EXPECT_EQ(p.ttl, std::chrono::minutes(30));
}

struct MatchCase {
  std::string name;
  v1::Remediation remediation;
  std::string expected_rule;  // empty: no rule
};

class AutoApproveTest : public ::testing::TestWithParam<MatchCase> {};

TEST_P(AutoApproveTest, MatchesOnSourceRiskFailureClassAndNamespace) {
  auto p = Parse(kRules);
  const auto* rule = p.AutoApproval(GetParam().remediation);
  EXPECT_EQ(rule == nullptr ? "" : rule->name, GetParam().expected_rule);
}

INSTANTIATE_TEST_SUITE_P(
    Rules, AutoApproveTest,
    ::testing::Values(
        MatchCase{"RunbookLowInShop", Ready(v1::RISK_LEVEL_LOW), "runbook-low"},
        MatchCase{"WrongNamespace", Ready(v1::RISK_LEVEL_LOW, "kube-system"), ""},
        MatchCase{"WrongSource", Ready(v1::RISK_LEVEL_LOW, "shop", v1::ProposalSource::KIND_LLM),
                  ""},
        MatchCase{"WrongRisk", Ready(v1::RISK_LEVEL_MEDIUM), ""},
        MatchCase{"WrongFailureClass",
                  Ready(v1::RISK_LEVEL_LOW, "shop", v1::ProposalSource::KIND_RUNBOOK,
                        v1::FAILURE_CLASS_CRASH_LOOP),
                  ""},
        MatchCase{"SecondRuleAnySource",
                  Ready(v1::RISK_LEVEL_MEDIUM, "dev", v1::ProposalSource::KIND_LLM),
                  "any-medium-in-dev"},
        MatchCase{"TwoPersonRuleWinsOverAutoApprove", Ready(v1::RISK_LEVEL_HIGH, "dev"), ""}),
    [](const auto& info) { return info.param.name; });

TEST(PolicyTest, NeverAutoApprovesAManualProposalOrAnotherState) {
  auto p = Parse(kRules);
  Store s;
  s.Apply(MakeProposal("rem-m", v1::RISK_LEVEL_LOW, "shop", "web", true), T(1));
  EXPECT_EQ(p.AutoApproval(*s.Get("rem-m")), nullptr);
  s.Apply(MakeProposal("rem-d"), T(1));
  s.Apply(MakeDecision("rem-d", v1::Decision::VERDICT_REJECTED, "bob", 2), T(2));
  EXPECT_EQ(p.AutoApproval(*s.Get("rem-d")), nullptr);
}

TEST(PolicyTest, TwoPersonRuleByRisk) {
  auto p = Parse(kRules);
  EXPECT_EQ(p.RequiredApprovals(MakeProposal("r", v1::RISK_LEVEL_HIGH)), 2);
  EXPECT_EQ(p.RequiredApprovals(MakeProposal("r", v1::RISK_LEVEL_MEDIUM)), 1);
  auto off = Parse("two_person: {risks: []}");
  EXPECT_EQ(off.RequiredApprovals(MakeProposal("r", v1::RISK_LEVEL_HIGH)), 1);
}

TEST(PolicyTest, BadConfigurationNamesTheKey) {
  EXPECT_THAT(ParseError("auto_aprove: []"), HasSubstr("unknown key 'auto_aprove'"));
  EXPECT_THAT(ParseError("auto_approve: [{name: x}]"), HasSubstr("auto_approve[0].risks"));
  EXPECT_THAT(ParseError("auto_approve: [{risks: [low]}]"), HasSubstr("auto_approve[0].name"));
  EXPECT_THAT(ParseError("auto_approve: [{name: x, risks: [extreme]}]"),
              HasSubstr("unknown risk 'extreme'"));
  EXPECT_THAT(ParseError("auto_approve: [{name: x, risks: [low], sources: [magic]}]"),
              HasSubstr("unknown source"));
  EXPECT_THAT(ParseError("auto_approve: [{name: x, risks: [low], failure_classes: [boom]}]"),
              HasSubstr("unknown failure class 'boom'"));
  EXPECT_THAT(ParseError("auto_approve: [{name: x, risks: [low]}, {name: x, risks: [low]}]"),
              HasSubstr("duplicate rule name"));
  EXPECT_THAT(ParseError("rate_limit: {max_per_workload_per_hour: -1}"), HasSubstr(">= 0"));
  EXPECT_THAT(ParseError("expiry: {ttl: soon}"), HasSubstr("expiry.ttl"));
}

TEST(PolicyTest, DurationsAndNames) {
  EXPECT_EQ(ParseDuration("90"), std::chrono::seconds(90));
  EXPECT_EQ(ParseDuration("15m"), std::chrono::minutes(15));
  EXPECT_EQ(ParseDuration("24h"), std::chrono::hours(24));
  EXPECT_EQ(ParseDuration("7d"), std::chrono::hours(24 * 7));
  EXPECT_EQ(ParseDuration("1w"), std::nullopt);
  EXPECT_EQ(ParseDuration("-5"), std::nullopt);
  EXPECT_EQ(ParseFailureClass("ImagePull"), v1::FAILURE_CLASS_IMAGE_PULL);
  EXPECT_EQ(ParseFailureClass("FAILURE_CLASS_OOM_KILLED"), v1::FAILURE_CLASS_OOM_KILLED);
  EXPECT_EQ(FailureClassName(v1::FAILURE_CLASS_CONFIG_ERROR), "config-error");
  EXPECT_EQ(ParseRisk("HIGH"), v1::RISK_LEVEL_HIGH);
  EXPECT_EQ(RiskName(v1::RISK_LEVEL_MEDIUM), "medium");
}

}  // namespace
