// The development broker's fault-injection endpoint, as the fault suites will use it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <regex>

#include "aiops/kafka_producer.hpp"
#include "aiops/topics.hpp"
#include "consumer_harness.hpp"
#include "subprocess.hpp"

using namespace aiops;
using namespace aiops::testing;
using ::testing::HasSubstr;

namespace {
struct ControlledBroker {
  TempDir dir;
  std::unique_ptr<Subprocess> process;
  std::string bootstrap, control;

  ControlledBroker() {
    process = std::make_unique<Subprocess>(
        std::vector<std::string>{Bin("aiops-devbroker"), "--control-listen", "127.0.0.1:0",
                                 "--bootstrap-file", dir.File("bootstrap")});
    if (!process->WaitForOutput("bootstrap=", std::chrono::seconds(60))) {
      throw std::runtime_error("devbroker did not start: " + process->Output());
    }
    std::smatch m;
    auto out = process->Output();
    if (std::regex_search(out, m, std::regex("control=(\\S+)"))) control = m[1];
    if (std::regex_search(out, m, std::regex("bootstrap=(\\S+)"))) bootstrap = m[1];
  }

  int Post(const std::string& path, std::string* body) {
    return RunCommand("curl -s -f -d '' 'http://" + control + path + "'", body);
  }
};

kafka::Delivery Send(kafka::Producer& p, const std::string& id) {
  return p.PublishAndWait(topics::kAnomalies, id, TestAnomaly(id, "x"), std::chrono::seconds(30));
}
}  // namespace

TEST(DevBrokerControlTest, ABrokerTakenDownFailsDeliveriesUntilItIsBackUp) {
  ControlledBroker broker;
  ASSERT_FALSE(broker.control.empty()) << broker.process->Output();
  auto config = TestKafkaConfig(broker.bootstrap, "unused");
  config.properties["message.timeout.ms"] = "3000";
  config.properties["log_level"] = "0";
  kafka::Producer producer(config, "it-control");
  ASSERT_TRUE(Send(producer, "rem-before").ok);

  std::string body;
  ASSERT_EQ(broker.Post("/brokers/1/down", &body), 0) << body;
  EXPECT_THAT(body, HasSubstr("\"state\":\"down\""));
  std::string status;
  RunCommand("curl -s http://" + broker.control + "/status", &status);
  EXPECT_EQ(nlohmann::json::parse(status)["down"], nlohmann::json::array({1}));
  auto failed = Send(producer, "rem-during");
  EXPECT_FALSE(failed.ok) << "delivered while the only broker was down";

  ASSERT_EQ(broker.Post("/brokers/1/up", &body), 0) << body;
  ASSERT_TRUE(PollUntil([&] { return Send(producer, "rem-after").ok; }, std::chrono::seconds(60)));
}

TEST(DevBrokerControlTest, InjectedProduceErrorsReachTheProducer) {
  ControlledBroker broker;
  kafka::Producer producer(TestKafkaConfig(broker.bootstrap, "unused"), "it-control");
  ASSERT_TRUE(Send(producer, "rem-warm").ok);
  std::string body;
  // ApiKey 0 = Produce. A permanent error fails the delivery and says why...
  ASSERT_EQ(broker.Post("/errors?api=0&code=MSG_SIZE_TOO_LARGE&count=1", &body), 0) << body;
  EXPECT_THAT(body, HasSubstr("MSG_SIZE_TOO_LARGE"));
  auto failed = Send(producer, "rem-rejected");
  EXPECT_FALSE(failed.ok);
  EXPECT_THAT(failed.error, HasSubstr("too large"));
  // ...a retriable one is absorbed by the idempotent producer's retries.
  ASSERT_EQ(broker.Post("/errors?api=0&code=NOT_ENOUGH_REPLICAS&count=2", &body), 0) << body;
  EXPECT_TRUE(Send(producer, "rem-retried").ok);
}

TEST(DevBrokerControlTest, BadRequestsAreRefusedAndOnlyLoopbackIsServed) {
  ControlledBroker broker;
  std::string body;
  EXPECT_NE(broker.Post("/brokers/7/down", &body), 0) << "there is no broker 7";
  EXPECT_NE(broker.Post("/errors?api=0&code=NO_SUCH_ERROR", &body), 0);
  std::string out;
  EXPECT_NE(RunCommand(Bin("aiops-devbroker") + " --control-listen 0.0.0.0:0", &out), 0);
  EXPECT_THAT(out, HasSubstr("loopback only"));
}
