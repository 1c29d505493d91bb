#include "audit.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "aiops/envelope.hpp"
#include "aiops/v1/anomaly.pb.h"

using ::testing::HasSubstr;

namespace {
aiops::kafka::Message AnomalyRecord() {
  aiops::v1::Anomaly a;
  *a.mutable_envelope() = aiops::envelope::New("rem-7", "prod", "trace-1", "test");
  a.set_reason("ImagePullBackOff");
  a.mutable_workload()->set_name("web");
  aiops::kafka::Message m;
  m.topic = "aiops.anomalies";
  m.partition = 2;
  m.offset = 41;
  m.key = "rem-7";
  m.timestamp_ms = 1763778000123;
  a.SerializeToString(&m.payload);
  return m;
}
}  // namespace

TEST(AuditFormatTest, JsonRecordDecodesThePipelineMessage) {
  auto doc = nlohmann::json::parse(
      aiopsctl::FormatAuditRecord(AnomalyRecord(), aiopsctl::OutputFormat::kJson));
  EXPECT_EQ(doc["topic"], "aiops.anomalies");
  EXPECT_EQ(doc["partition"], 2);
  EXPECT_EQ(doc["offset"], 41);
  EXPECT_EQ(doc["key"], "rem-7");
  EXPECT_EQ(doc["timestamp"], "2025-11-22T02:20:00.123Z");
  EXPECT_EQ(doc["type"], "aiops.v1.Anomaly");
  EXPECT_EQ(doc["message"]["reason"], "ImagePullBackOff");
  EXPECT_EQ(doc["message"]["envelope"]["remediation_id"], "rem-7");
  EXPECT_FALSE(doc.contains("error"));
}

TEST(AuditFormatTest, DeadLetterRecordShowsErrorOriginAndBytes) {
  aiops::kafka::Message m;
  m.topic = "aiops.deadletter";
  m.key = "\xff\xfe";
  m.payload = "abc";
  m.headers = {{"x-aiops-error", "payload is not a valid aiops.v1.Anomaly"},
               {"x-aiops-origin-topic", "aiops.anomalies"}};
  auto doc = nlohmann::json::parse(aiopsctl::FormatAuditRecord(m, aiopsctl::OutputFormat::kJson));
  EXPECT_EQ(doc["error"], "payload is not a valid aiops.v1.Anomaly");
  EXPECT_EQ(doc["payload_base64"], "YWJj");
  EXPECT_EQ(doc["headers"]["x-aiops-origin-topic"], "aiops.anomalies");
}

TEST(AuditFormatTest, GarbageOnAPipelineTopicIsReportedNotFatal) {
  auto m = AnomalyRecord();
  m.payload = "\x08\x96\x01garbage\xff";
  auto line = aiopsctl::FormatAuditRecord(m, aiopsctl::OutputFormat::kText);
  EXPECT_THAT(line, HasSubstr("aiops.anomalies[2]@41 key=rem-7 error="));
}

TEST(AuditFormatTest, TextLineIsOneLineWithTheMessage) {
  auto line = aiopsctl::FormatAuditRecord(AnomalyRecord(), aiopsctl::OutputFormat::kText);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_THAT(line, HasSubstr("2025-11-22T02:20:00.123Z aiops.anomalies[2]@41 key=rem-7 "
                              "aiops.v1.Anomaly {"));
  EXPECT_THAT(line, HasSubstr("\"reason\":\"ImagePullBackOff\""));
}
