#include "aiops/kafka_message.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "aiops/envelope.hpp"
#include "aiops/v1/anomaly.pb.h"
#include "aiops/v1/proposal.pb.h"

using aiops::kafka::Decode;
using aiops::kafka::Message;
using ::testing::HasSubstr;

namespace {
Message ValidAnomalyMessage() {
  aiops::v1::Anomaly a;
  *a.mutable_envelope() = aiops::envelope::New("rem-1", "prod", "t", "test");
  a.set_reason("ImagePullBackOff");
  Message m;
  m.topic = "aiops.anomalies";
  m.key = "rem-1";
  a.SerializeToString(&m.payload);
  m.headers = {{"message-type", "aiops.v1.Anomaly"}};
  return m;
}
}  // namespace

TEST(KafkaDecodeTest, AcceptsAValidMessage) {
  aiops::v1::Anomaly out;
  EXPECT_EQ(Decode(ValidAnomalyMessage(), out), std::nullopt);
  EXPECT_EQ(out.reason(), "ImagePullBackOff");
}

TEST(KafkaDecodeTest, RejectsGarbageBytes) {
  auto m = ValidAnomalyMessage();
  m.payload = "\xff\xff\xff\xff not protobuf";
  aiops::v1::Anomaly out;
  auto err = Decode(m, out);
  ASSERT_TRUE(err);
  EXPECT_THAT(*err, HasSubstr("not a valid aiops.v1.Anomaly"));
}

TEST(KafkaDecodeTest, RejectsATruncatedMessage) {
  auto m = ValidAnomalyMessage();
  m.payload.resize(m.payload.size() / 2);
  aiops::v1::Anomaly out;
  EXPECT_TRUE(Decode(m, out));
}

TEST(KafkaDecodeTest, RejectsParseableBytesWithoutEnvelope) {
  auto m = ValidAnomalyMessage();
  m.headers.clear();
  m.payload =
      "\x22\x03"
      "abc";  // field 4 (reason) only: parses, but no envelope
  aiops::v1::Anomaly out;
  EXPECT_EQ(Decode(m, out), "aiops.v1.Anomaly has no envelope");
}

TEST(KafkaDecodeTest, RejectsTheWrongMessageType) {
  auto m = ValidAnomalyMessage();
  aiops::v1::Proposal out;
  auto err = Decode(m, out);
  ASSERT_TRUE(err);
  EXPECT_THAT(*err, HasSubstr("message-type header is 'aiops.v1.Anomaly'"));
}

TEST(KafkaDecodeTest, RejectsAKeyThatIsNotTheRemediationId) {
  auto m = ValidAnomalyMessage();
  m.key = "rem-2";
  aiops::v1::Anomaly out;
  auto err = Decode(m, out);
  ASSERT_TRUE(err);
  EXPECT_THAT(*err, HasSubstr("differs from envelope.remediation_id"));
}

TEST(KafkaDecodeTest, RejectsEmptyPayload) {
  auto m = ValidAnomalyMessage();
  m.payload.clear();
  aiops::v1::Anomaly out;
  EXPECT_EQ(Decode(m, out), "empty payload, expected aiops.v1.Anomaly");
}

TEST(KafkaDecodeTest, HeaderLookupReturnsTheFirstMatch) {
  Message m;
  m.headers = {{"a", "1"}, {"a", "2"}};
  EXPECT_EQ(m.Header("a"), "1");
  EXPECT_EQ(m.Header("b"), std::nullopt);
}
