// At-least-once across a crash: a consumer process SIGKILLed while handling a message (its
// offset not yet stored) gets the same message again when it restarts in the same group.
#include <gtest/gtest.h>

#include <csignal>

#include "aiops/kafka_producer.hpp"
#include "aiops/topics.hpp"
#include "consumer_harness.hpp"
#include "devbroker.hpp"

using namespace aiops;
using namespace aiops::testing;

TEST(RedeliveryTest, ConsumerKilledBeforeStoringItsOffsetGetsTheMessageAgain) {
  DevBroker broker;
  auto config = TestKafkaConfig(broker.bootstrap(), "unused");
  kafka::Producer producer(config, "it-producer");
  const std::vector<std::string> args = {Bin("aiops-test-consumer"), "--bootstrap",
                                         broker.bootstrap(), "--group", "it-redelivery"};

  auto hang_args = args;
  hang_args.insert(hang_args.end(), {"--hang-on", "rem-crash"});
  auto first = std::make_unique<Subprocess>(hang_args);
  ASSERT_TRUE(producer
                  .PublishAndWait(topics::kAnomalies, "rem-crash", TestAnomaly("rem-crash", "y"),
                                  std::chrono::seconds(30))
                  .ok);
  ASSERT_TRUE(first->WaitForOutput("handling key=rem-crash", std::chrono::seconds(60)))
      << first->Output();
  EXPECT_EQ(first->Stop(SIGKILL), -SIGKILL);

  Subprocess second(args);
  ASSERT_TRUE(second.WaitForOutput("handled key=rem-crash", std::chrono::seconds(90)))
      << second.Output();
  EXPECT_EQ(second.Stop(SIGTERM), 0) << second.Output();
  EXPECT_NE(second.Output().find("stopped"), std::string::npos);
}
