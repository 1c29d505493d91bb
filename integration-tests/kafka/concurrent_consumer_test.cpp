// ConsumerOptions::max_in_flight against the development broker: other keys overtake a slow
// message, yet the committed offset never passes an unfinished one (a restart redelivers it),
// and one key's messages stay in order, one at a time.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <set>

#include "aiops/kafka_producer.hpp"
#include "aiops/topics.hpp"
#include "consumer_harness.hpp"
#include "devbroker.hpp"

using namespace aiops;
using namespace aiops::testing;

namespace {

// Publishes `key` and returns its partition (-1 on failure).
int32_t Publish(kafka::Producer& producer, const std::string& key) {
  auto d = producer.PublishAndWait(topics::kAnomalies, key, TestAnomaly(key, "x"),
                                   std::chrono::seconds(30));
  return d.ok ? d.partition : -1;
}

}  // namespace

TEST(ConcurrentConsumerTest, OtherKeysOvertakeASlowMessageButTheCommitWaitsForIt) {
  DevBroker broker;
  auto config = TestKafkaConfig(broker.bootstrap(), "it-concurrent");
  // The released slow handler answers Retry until Stop() ends the retries: it must never run
  // out of retries (dead-letter, offset stored) before that.
  config.handler_retries = 1000;
  kafka::Producer producer(config, "it-producer");
  int32_t partition = Publish(producer, "rem-slow");
  ASSERT_GE(partition, 0);
  // Three later messages in the same partition, behind the slow one.
  std::vector<std::string> fast;
  for (int i = 0; fast.size() < 3 && i < 500; ++i) {
    std::string key = "rem-fast-" + std::to_string(i);
    // Keys that hash elsewhere are published too; they only add unrelated traffic.
    if (Publish(producer, key) == partition) fast.push_back(key);
  }
  ASSERT_EQ(fast.size(), 3u);

  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  std::atomic<bool> slow_started{false};
  {
    RunningConsumer first(
        config, topics::kAnomalies,
        [&](const kafka::Message& m) {
          if (m.key != "rem-slow") return kafka::Outcome::Ok();
          slow_started = true;
          std::unique_lock lock(mu);
          cv.wait(lock, [&] { return stopping; });
          return kafka::Outcome::Retry("shutting down before the work was done");
        },
        producer, /*max_in_flight=*/4);
    ASSERT_TRUE(PollUntil(
        [&] {
          for (const auto& k : fast)
            if (!first.SawKey(k)) return false;
          return true;
        },
        std::chrono::seconds(60)))
        << "messages behind a slow one were not handled meanwhile";
    EXPECT_TRUE(slow_started);
    EXPECT_FALSE(first.SawKey("rem-slow")) << "the slow handler has not returned yet";
    {
      std::lock_guard lock(mu);
      stopping = true;
    }
    cv.notify_all();
    first.Stop();  // commits what is stored: nothing at or after the slow message
  }

  RunningConsumer second(
      config, topics::kAnomalies, [](const kafka::Message&) { return kafka::Outcome::Ok(); },
      producer);
  ASSERT_TRUE(PollUntil([&] { return second.SawKey("rem-slow"); }, std::chrono::seconds(60)))
      << "the unfinished message was lost: its offset was committed";
  for (const auto& k : fast) {
    EXPECT_TRUE(PollUntil([&] { return second.SawKey(k); }, std::chrono::seconds(30)))
        << k << " lies after the unfinished message, so it is delivered again";
  }
}

TEST(ConcurrentConsumerTest, OneKeysMessagesStayInOrderOneAtATime) {
  DevBroker broker;
  auto config = TestKafkaConfig(broker.bootstrap(), "it-concurrent-order");
  kafka::Producer producer(config, "it-producer");
  std::atomic<int> active{0}, most_active{0};
  std::mutex mu;
  std::vector<std::string> order;
  RunningConsumer consumer(
      config, topics::kAnomalies,
      kafka::Decoding<v1::Anomaly>([&](const v1::Anomaly& a, const kafka::Message&) {
        int now = ++active;
        int seen = most_active;
        while (now > seen && !most_active.compare_exchange_weak(seen, now)) {
        }
        {
          std::lock_guard lock(mu);
          order.push_back(a.reason());
        }
        --active;
        return kafka::Outcome::Ok();
      }),
      producer, /*max_in_flight=*/8);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(producer
                    .PublishAndWait(topics::kAnomalies, "rem-one",
                                    TestAnomaly("rem-one", std::to_string(i)),
                                    std::chrono::seconds(30))
                    .ok);
  }
  ASSERT_TRUE(PollUntil(
      [&] {
        std::lock_guard lock(mu);
        return order.size() >= 20;
      },
      std::chrono::seconds(60)));
  std::lock_guard lock(mu);
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(order[i], std::to_string(i));
  EXPECT_EQ(most_active, 1) << "two messages of one key ran at the same time";
}
