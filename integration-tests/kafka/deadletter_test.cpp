// Bad input never stops a consumer: it goes to aiops.deadletter with the reason and origin.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "aiops/kafka_producer.hpp"
#include "aiops/kafka_reader.hpp"
#include "aiops/topics.hpp"
#include "consumer_harness.hpp"
#include "devbroker.hpp"

using namespace aiops;
using namespace aiops::testing;
using ::testing::HasSubstr;

namespace {
// Reads aiops.deadletter from the beginning until `count` messages arrived.
std::vector<kafka::Message> ReadDeadLetters(const std::string& bootstrap, size_t count) {
  kafka::KafkaConfig config;
  config.bootstrap = bootstrap;
  kafka::TopicReader reader(config, {topics::kDeadLetter}, true);
  std::vector<kafka::Message> out;
  PollUntil(
      [&] {
        if (auto m = reader.Next(std::chrono::milliseconds(100))) out.push_back(*m);
        return out.size() >= count;
      },
      std::chrono::seconds(60), std::chrono::milliseconds(1));
  return out;
}
}  // namespace

TEST(DeadLetterTest, GarbageIsDeadLetteredWithReasonAndTheConsumerKeepsConsuming) {
  DevBroker broker;
  auto config = TestKafkaConfig(broker.bootstrap(), "it-dlq");
  kafka::Producer producer(config, "it-producer");
  std::atomic<int> handled{0};
  RunningConsumer consumer(
      config, topics::kAnomalies,
      kafka::Decoding<v1::Anomaly>([&](const v1::Anomaly&, const kafka::Message&) {
        ++handled;
        return kafka::Outcome::Ok();
      }),
      producer);

  auto bad = producer.SendAndWait(topics::kAnomalies, "junk", "\xde\xad\xbe\xef not protobuf", {},
                                  std::chrono::seconds(30));
  ASSERT_TRUE(bad.ok) << bad.error;
  ASSERT_TRUE(producer
                  .PublishAndWait(topics::kAnomalies, "rem-good",
                                  TestAnomaly("rem-good", "OOMKilled"), std::chrono::seconds(30))
                  .ok);

  ASSERT_TRUE(PollUntil([&] { return consumer.SawKey("rem-good"); }, std::chrono::seconds(60)));
  EXPECT_EQ(handled.load(), 1) << "only the valid message reaches the typed handler";

  auto dead = ReadDeadLetters(broker.bootstrap(), 1);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].key, "junk");
  EXPECT_EQ(dead[0].payload, "\xde\xad\xbe\xef not protobuf");
  EXPECT_THAT(dead[0].Header("x-aiops-error").value_or(""),
              HasSubstr("not a valid aiops.v1.Anomaly"));
  EXPECT_EQ(dead[0].Header("x-aiops-origin-topic"), topics::kAnomalies);
  EXPECT_EQ(dead[0].Header("x-aiops-origin-partition"), std::to_string(bad.partition));
  EXPECT_EQ(dead[0].Header("x-aiops-origin-offset"), std::to_string(bad.offset));
  EXPECT_EQ(dead[0].Header("x-aiops-consumer-group"), "it-dlq");
}

TEST(DeadLetterTest, AHandlerThatKeepsFailingIsRetriedThenDeadLettered) {
  DevBroker broker;
  auto config = TestKafkaConfig(broker.bootstrap(), "it-retry");
  config.handler_retries = 2;
  kafka::Producer producer(config, "it-producer");
  std::atomic<int> attempts{0};
  RunningConsumer consumer(
      config, topics::kAnomalies,
      [&](const kafka::Message& m) {
        if (m.key == "rem-poison") {
          ++attempts;
          throw std::runtime_error("kube API said 500");
        }
        return kafka::Outcome::Ok();
      },
      producer);
  ASSERT_TRUE(producer
                  .PublishAndWait(topics::kAnomalies, "rem-poison", TestAnomaly("rem-poison", "x"),
                                  std::chrono::seconds(30))
                  .ok);
  ASSERT_TRUE(producer
                  .PublishAndWait(topics::kAnomalies, "rem-poison", TestAnomaly("rem-poison", "y"),
                                  std::chrono::seconds(30))
                  .ok);
  auto dead = ReadDeadLetters(broker.bootstrap(), 2);
  ASSERT_EQ(dead.size(), 2u);
  EXPECT_THAT(dead[0].Header("x-aiops-error").value_or(""),
              HasSubstr("handler failed after 3 attempts: handler threw: kube API said 500"));
  EXPECT_EQ(attempts.load(), 6);  // 1 try + 2 retries, for each of the two messages
}

TEST(DeadLetterTest, AnInvalidEnvelopeIsDeadLetteredAtOnce) {
  DevBroker broker;
  auto config = TestKafkaConfig(broker.bootstrap(), "it-envelope");
  kafka::Producer producer(config, "it-producer");
  std::atomic<int> handled{0};
  RunningConsumer consumer(
      config, topics::kAnomalies,
      kafka::Decoding<v1::Anomaly>([&](const v1::Anomaly&, const kafka::Message&) {
        ++handled;
        return kafka::Outcome::Ok();
      }),
      producer);
  auto anomaly = TestAnomaly("rem-x", "x");
  anomaly.mutable_envelope()->set_cluster("");
  ASSERT_TRUE(
      producer.PublishAndWait(topics::kAnomalies, "rem-x", anomaly, std::chrono::seconds(30)).ok);
  auto dead = ReadDeadLetters(broker.bootstrap(), 1);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].Header("x-aiops-error"), "envelope.cluster is empty");
  EXPECT_EQ(handled.load(), 0);
}
