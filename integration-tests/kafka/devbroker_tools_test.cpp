// The development broker as other tools see it: kcat lists the topics, aiopsctl audit prints
// what was produced, and SIGTERM stops it cleanly.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>

#include "aiops/kafka_producer.hpp"
#include "aiops/topics.hpp"
#include "consumer_harness.hpp"
#include "devbroker.hpp"

using namespace aiops;
using namespace aiops::testing;
using ::testing::HasSubstr;

TEST(DevBrokerToolsTest, KcatListsTheSixTopicsWithTheirPartitions) {
  DevBroker broker(3);
  std::string out;
  ASSERT_EQ(RunCommand("kcat -L -b $(cat " + broker.bootstrap_file() + ")", &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("6 topics:"));
  for (const auto& topic : topics::All()) {
    EXPECT_THAT(out, HasSubstr("topic \"" + topic + "\" with 3 partitions")) << out;
  }
}

TEST(DevBrokerToolsTest, KcatProducesAndConsumesWithAGroup) {
  DevBroker broker;
  std::string out;
  ASSERT_EQ(RunCommand("echo hello-from-kcat | kcat -P -b " + broker.bootstrap() +
                           " -t aiops.executions -k k1",
                       &out),
            0)
      << out;
  ASSERT_EQ(RunCommand("timeout 60 kcat -C -b " + broker.bootstrap() +
                           " -G it-kcat-group aiops.executions -o beginning -c 1 -e -q",
                       &out),
            0)
      << out;
  EXPECT_THAT(out, HasSubstr("hello-from-kcat"));
}

TEST(DevBrokerToolsTest, AuditPrintsAProducedMessageDecoded) {
  DevBroker broker;
  kafka::Producer producer(TestKafkaConfig(broker.bootstrap(), "unused"), "it-producer");
  auto anomaly = TestAnomaly("rem-audit-1", "CrashLoopBackOff");
  ASSERT_TRUE(
      producer.PublishAndWait(topics::kAnomalies, "rem-audit-1", anomaly, std::chrono::seconds(30))
          .ok);
  std::string out;
  ASSERT_EQ(RunCommand(Bin("aiopsctl") + " audit --bootstrap " + broker.bootstrap() +
                           " --from-beginning --max 1 -o json",
                       &out),
            0)
      << out;
  auto doc = nlohmann::json::parse(out);
  EXPECT_EQ(doc["topic"], "aiops.anomalies");
  EXPECT_EQ(doc["key"], "rem-audit-1");
  EXPECT_EQ(doc["type"], "aiops.v1.Anomaly");
  EXPECT_EQ(doc["message"]["reason"], "CrashLoopBackOff");
  EXPECT_EQ(doc["message"]["envelope"]["remediation_id"], "rem-audit-1");
  EXPECT_EQ(doc["message"]["workload"]["name"], "web");
}

TEST(DevBrokerToolsTest, AuditFiltersByIdAndStopsAtTheEndWithoutFollow) {
  DevBroker broker;
  kafka::Producer producer(TestKafkaConfig(broker.bootstrap(), "unused"), "it-producer");
  for (const char* id : {"rem-1", "rem-2", "rem-1"}) {
    ASSERT_TRUE(
        producer
            .PublishAndWait(topics::kAnomalies, id, TestAnomaly(id, "x"), std::chrono::seconds(30))
            .ok);
  }
  ASSERT_TRUE(
      producer.SendAndWait(topics::kEvidence, "rem-1", "garbage", {}, std::chrono::seconds(30)).ok);
  std::string out;
  ASSERT_EQ(RunCommand(Bin("aiopsctl") + " audit --bootstrap-file " + broker.bootstrap_file() +
                           " --from-beginning --id rem-1",
                       &out),
            0)
      << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3) << out;
  EXPECT_THAT(out, Not(HasSubstr("rem-2")));
  EXPECT_THAT(out, HasSubstr("aiops.evidence"));
  EXPECT_THAT(out, HasSubstr("error=\"payload is not a valid aiops.v1.Evidence"));
}

TEST(DevBrokerToolsTest, AuditFailsClearlyWhenNoBrokerAnswers) {
  std::string out;
  int rc =
      RunCommand(Bin("aiopsctl") + " audit --bootstrap 127.0.0.1:" + std::to_string(FreePort()) +
                     " --timeout 3",
                 &out);
  EXPECT_EQ(rc, 1);
  EXPECT_THAT(out, HasSubstr("reachable?"));
}

TEST(DevBrokerToolsTest, SigtermStopsTheBrokerAndRemovesTheBootstrapFile) {
  DevBroker broker;
  EXPECT_THAT(broker.process().Output(), HasSubstr("bootstrap=" + broker.bootstrap()));
  EXPECT_EQ(broker.process().Stop(SIGTERM), 0) << broker.process().Output();
  EXPECT_TRUE(ReadFile(broker.bootstrap_file()).empty());
}
