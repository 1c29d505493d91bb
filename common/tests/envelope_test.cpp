#include "aiops/envelope.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "aiops/v1/anomaly.pb.h"

namespace env = aiops::envelope;

TEST(EnvelopeTest, RemediationIdIsDeterministicAndDistinguishesParts) {
  auto a = env::RemediationId({"prod", "shop", "Deployment/web", "IMAGE_PULL", "1"});
  auto b = env::RemediationId({"prod", "shop", "Deployment/web", "IMAGE_PULL", "1"});
  EXPECT_EQ(a, b);
  EXPECT_TRUE(std::regex_match(a, std::regex("rem-[0-9a-f]{20}"))) << a;
  EXPECT_NE(a, env::RemediationId({"prod", "shop", "Deployment/web", "OOM_KILLED", "1"}));
  // Part boundaries matter: no ambiguity from concatenation.
  EXPECT_NE(env::RemediationId({"a/b", "c"}), env::RemediationId({"a", "b/c"}));
  EXPECT_THROW(env::RemediationId({}), std::invalid_argument);
}

TEST(EnvelopeTest, TraceIdsAreRandomHex) {
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i)
    ids.insert(env::NewTraceId());
  EXPECT_EQ(ids.size(), 100u);
  EXPECT_TRUE(std::regex_match(*ids.begin(), std::regex("[0-9a-f]{32}")));
}

TEST(EnvelopeTest, NewCarriesIdsAndSchemaVersion) {
  auto e = env::New("rem-1", "prod", "", "aiops-detector/h-1");
  EXPECT_EQ(e.remediation_id(), "rem-1");
  EXPECT_EQ(e.cluster(), "prod");
  EXPECT_EQ(e.trace_id().size(), 32u);
  EXPECT_EQ(e.schema_version(), env::kSchemaVersion);
  EXPECT_EQ(e.producer(), "aiops-detector/h-1");
  EXPECT_EQ(env::Validate(e), std::nullopt);
}

TEST(EnvelopeTest, StampsKeepTheFirstTimeAndTravelForward) {
  auto e = env::New("rem-1", "prod", "t", "detector");
  auto t1 = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  env::Stamp(e, env::Stage::kDetected, t1);
  env::Stamp(e, env::Stage::kDetected, t1 + std::chrono::seconds(5));  // a repeat keeps t1
  ASSERT_TRUE(env::StampOf(e, env::Stage::kDetected));
  EXPECT_EQ(*env::StampOf(e, env::Stage::kDetected), t1);
  EXPECT_FALSE(env::StampOf(e, env::Stage::kCollected));

  auto next = env::Next(e, "collector");
  env::Stamp(next, env::Stage::kCollected, t1 + std::chrono::milliseconds(40));
  EXPECT_EQ(next.remediation_id(), "rem-1");
  EXPECT_EQ(next.trace_id(), "t");
  EXPECT_EQ(next.producer(), "collector");
  EXPECT_EQ(*env::StampOf(next, env::Stage::kDetected), t1);
  EXPECT_EQ(*env::StampOf(next, env::Stage::kCollected), t1 + std::chrono::milliseconds(40));
}

TEST(EnvelopeTest, ValidateNamesTheProblem) {
  aiops::v1::Envelope e;
  EXPECT_EQ(env::Validate(e), "envelope.remediation_id is empty");
  e.set_remediation_id("rem-1");
  EXPECT_EQ(env::Validate(e), "envelope.cluster is empty");
  e.set_cluster("prod");
  EXPECT_EQ(env::Validate(e), "envelope.schema_version is 0");
  e.set_schema_version(env::kSchemaVersion + 1);
  EXPECT_NE(env::Validate(e)->find("newer than this build"), std::string::npos);
}

TEST(EnvelopeTest, OfFindsTheEnvelopeOfAnyTopicMessage) {
  aiops::v1::Anomaly a;
  EXPECT_EQ(env::Of(a), nullptr);
  *a.mutable_envelope() = env::New("rem-9", "c", "t", "p");
  ASSERT_NE(env::Of(a), nullptr);
  EXPECT_EQ(env::Of(a)->remediation_id(), "rem-9");
  aiops::v1::Envelope bare;
  EXPECT_EQ(env::Of(bare), nullptr);
}
