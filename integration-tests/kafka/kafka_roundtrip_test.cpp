// Produce and consume through the common wrappers, with a consumer group, against the
// development broker running as its own process.
#include <gtest/gtest.h>

#include "aiops/kafka_producer.hpp"
#include "aiops/topics.hpp"
#include "consumer_harness.hpp"
#include "devbroker.hpp"

using namespace aiops;
using namespace aiops::testing;

TEST(KafkaRoundTripTest, PublishedMessageReachesTheGroupDecodedWithHeaders) {
  DevBroker broker;
  auto config = TestKafkaConfig(broker.bootstrap(), "it-roundtrip");
  kafka::Producer producer(config, "it-producer");

  std::mutex mu;
  std::vector<v1::Anomaly> decoded;
  RunningConsumer consumer(
      config, topics::kAnomalies,
      kafka::Decoding<v1::Anomaly>([&](const v1::Anomaly& a, const kafka::Message&) {
        std::lock_guard lock(mu);
        decoded.push_back(a);
        return kafka::Outcome::Ok();
      }),
      producer);

  auto sent = TestAnomaly("rem-roundtrip-1", "ImagePullBackOff");
  auto d = producer.PublishAndWait(topics::kAnomalies, "rem-roundtrip-1", sent,
                                   std::chrono::seconds(30));
  ASSERT_TRUE(d.ok) << d.error;
  EXPECT_EQ(d.topic, topics::kAnomalies);
  EXPECT_GE(d.partition, 0);
  EXPECT_GE(d.offset, 0);

  ASSERT_TRUE(
      PollUntil([&] { return consumer.SawKey("rem-roundtrip-1"); }, std::chrono::seconds(60)));
  auto seen = consumer.Seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].Header("content-type"), "application/x-protobuf");
  EXPECT_EQ(seen[0].Header("message-type"), "aiops.v1.Anomaly");
  EXPECT_EQ(seen[0].Header("schema-version"), std::to_string(envelope::kSchemaVersion));
  EXPECT_EQ(seen[0].partition, d.partition);
  EXPECT_EQ(seen[0].offset, d.offset);
  std::lock_guard lock(mu);
  ASSERT_EQ(decoded.size(), 1u);
  EXPECT_EQ(decoded[0].reason(), "ImagePullBackOff");
  EXPECT_EQ(decoded[0].envelope().trace_id(), sent.envelope().trace_id());
}

TEST(KafkaRoundTripTest, CleanShutdownCommitsSoTheGroupResumesAfterHandledMessages) {
  DevBroker broker;
  auto config = TestKafkaConfig(broker.bootstrap(), "it-resume");
  kafka::Producer producer(config, "it-producer");
  auto ok = [](const kafka::Message&) { return kafka::Outcome::Ok(); };

  {
    RunningConsumer first(config, topics::kAnomalies, ok, producer);
    ASSERT_TRUE(producer
                    .PublishAndWait(topics::kAnomalies, "rem-a", TestAnomaly("rem-a", "x"),
                                    std::chrono::seconds(30))
                    .ok);
    ASSERT_TRUE(PollUntil([&] { return first.SawKey("rem-a"); }, std::chrono::seconds(60)));
    first.Stop();  // commits the stored offset
  }
  ASSERT_TRUE(producer
                  .PublishAndWait(topics::kAnomalies, "rem-b", TestAnomaly("rem-b", "y"),
                                  std::chrono::seconds(30))
                  .ok);
  RunningConsumer second(config, topics::kAnomalies, ok, producer);
  ASSERT_TRUE(PollUntil([&] { return second.SawKey("rem-b"); }, std::chrono::seconds(60)));
  EXPECT_FALSE(second.SawKey("rem-a")) << "a handled and committed message was delivered again";
}

TEST(KafkaRoundTripTest, MessagesOfOneRemediationStayInOrder) {
  DevBroker broker;
  auto config = TestKafkaConfig(broker.bootstrap(), "it-order");
  kafka::Producer producer(config, "it-producer");
  RunningConsumer consumer(
      config, topics::kAnomalies, [](const kafka::Message&) { return kafka::Outcome::Ok(); },
      producer);
  std::vector<std::future<kafka::Delivery>> pending;
  for (int i = 0; i < 50; ++i) {
    pending.push_back(producer.Publish(topics::kAnomalies, "rem-order",
                                       TestAnomaly("rem-order", "step-" + std::to_string(i))));
  }
  for (auto& f : pending)
    ASSERT_TRUE(f.get().ok);
  ASSERT_TRUE(PollUntil([&] { return consumer.Seen().size() == 50; }, std::chrono::seconds(60)));
  auto seen = consumer.Seen();
  for (int i = 0; i < 50; ++i) {
    v1::Anomaly a;
    ASSERT_TRUE(a.ParseFromString(seen[i].payload));
    EXPECT_EQ(a.reason(), "step-" + std::to_string(i));
    EXPECT_EQ(seen[i].partition, seen[0].partition) << "same key, same partition";
  }
}

TEST(KafkaRoundTripTest, ProducerReportsAnUnreachableBroker) {
  kafka::KafkaConfig config;
  config.bootstrap = "127.0.0.1:" + std::to_string(FreePort());
  config.properties["message.timeout.ms"] = "1500";
  config.properties["log_level"] = "0";
  kafka::Producer producer(config, "it-producer");
  EXPECT_FALSE(producer.Reachable(std::chrono::milliseconds(500)));
  auto d = producer.SendAndWait(topics::kAnomalies, "k", "v", {}, std::chrono::seconds(30));
  EXPECT_FALSE(d.ok);
  EXPECT_FALSE(d.error.empty());
}
