#include "aiops/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "aiops/kafka_config.hpp"

using aiops::config::ConfigError;
using aiops::config::Schema;
using ::testing::HasSubstr;

namespace {

struct Fixture {
  aiops::kafka::KafkaConfig kafka;
  std::string listen = "127.0.0.1:9100";
  bool dry_run = false;
  double factor = 1.5;
  std::vector<std::string> namespaces;
  YAML::Node clusters;
  Schema schema;

  Fixture() {
    kafka.Register(schema);
    schema.Add("http.listen", &listen, "listen", aiops::config::HostPort());
    schema.Add("executor.dry_run", &dry_run, "dry run");
    schema.Add("proposer.memory_factor", &factor, "factor");
    schema.Add("detector.namespaces", &namespaces, "namespaces");
    schema.AddSection("clusters", &clusters, "clusters");
  }
};

std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ConfigTest, DefaultsStandWithoutAnyInput) {
  Fixture f;
  f.schema.Validate();
  EXPECT_EQ(f.kafka.bootstrap, "127.0.0.1:9092");
  EXPECT_EQ(f.kafka.handler_retries, 3);
}

TEST(ConfigTest, YamlFillsNestedKeysListsMapsAndSections) {
  Fixture f;
  f.schema.LoadYaml(R"(
kafka:
  bootstrap: broker-1:9092,broker-2:9092
  handler_retries: 5
  properties:
    security.protocol: SASL_SSL
executor:
  dry_run: true
proposer:
  memory_factor: 2.25
detector:
  namespaces: [shop, payments]
clusters:
  - name: prod
    context: prod-admin
)");
  f.schema.Validate();
  EXPECT_EQ(f.kafka.bootstrap, "broker-1:9092,broker-2:9092");
  EXPECT_EQ(f.kafka.handler_retries, 5);
  EXPECT_EQ(f.kafka.properties.at("security.protocol"), "SASL_SSL");
  EXPECT_TRUE(f.dry_run);
  EXPECT_DOUBLE_EQ(f.factor, 2.25);
  EXPECT_THAT(f.namespaces, ::testing::ElementsAre("shop", "payments"));
  ASSERT_TRUE(f.clusters.IsSequence());
  EXPECT_EQ(f.clusters[0]["name"].as<std::string>(), "prod");
}

TEST(ConfigTest, UnknownKeyIsRejectedByName) {
  Fixture f;
  auto err = ErrorOf([&] { f.schema.LoadYaml("kafka:\n  bootstrapp: x:1\n", "cfg.yaml"); });
  EXPECT_THAT(err, HasSubstr("cfg.yaml"));
  EXPECT_THAT(err, HasSubstr("unknown key 'kafka.bootstrapp'"));
}

TEST(ConfigTest, WrongTypeNamesTheKey) {
  Fixture f;
  auto err = ErrorOf([&] { f.schema.LoadYaml("kafka:\n  handler_retries: lots\n"); });
  EXPECT_THAT(err, HasSubstr("kafka.handler_retries"));
  EXPECT_THAT(err, HasSubstr("expected an integer"));

  err = ErrorOf([&] { f.schema.LoadYaml("detector:\n  namespaces: shop\n"); });
  EXPECT_THAT(err, HasSubstr("detector.namespaces: expected a list"));

  err = ErrorOf([&] { f.schema.LoadYaml("executor: true\n"); });
  EXPECT_THAT(err, HasSubstr("'executor' must be a map"));
}

TEST(ConfigTest, InvalidYamlIsAClearError) {
  Fixture f;
  auto err = ErrorOf([&] { f.schema.LoadYaml("kafka: [unclosed\n", "bad.yaml"); });
  EXPECT_THAT(err, HasSubstr("bad.yaml: invalid YAML"));
}

TEST(ConfigTest, MissingFileIsAClearError) {
  Fixture f;
  auto err = ErrorOf([&] { f.schema.LoadFile("/nonexistent/aiops.yaml"); });
  EXPECT_THAT(err, HasSubstr("cannot read config file /nonexistent/aiops.yaml"));
}

TEST(ConfigTest, FileThenEnvironmentThenFlagPrecedence) {
  Fixture f;
  std::string path = ::testing::TempDir() + "/aiops-config-test.yaml";
  std::ofstream(path) << "kafka:\n  bootstrap: from-file:1\n  handler_retries: 7\n";
  f.schema.LoadFile(path);
  EXPECT_EQ(f.kafka.bootstrap, "from-file:1");
  f.schema.ApplyEnv({{"AIOPS_KAFKA_BOOTSTRAP", "from-env:2"},
                     {"AIOPS_DETECTOR_NAMESPACES", "a, b"},
                     {"AIOPS_KAFKA_PROPERTIES", "ssl.ca.location=/ca.pem,sasl.mechanism=PLAIN"}});
  EXPECT_EQ(f.kafka.bootstrap, "from-env:2");
  EXPECT_EQ(f.kafka.handler_retries, 7);  // not overridden
  EXPECT_THAT(f.namespaces, ::testing::ElementsAre("a", "b"));
  EXPECT_EQ(f.kafka.properties.at("sasl.mechanism"), "PLAIN");
  f.schema.Set("kafka.bootstrap", "from-flag:3", "--kafka-bootstrap");
  EXPECT_EQ(f.kafka.bootstrap, "from-flag:3");
}

TEST(ConfigTest, BadEnvironmentValueNamesTheVariable) {
  Fixture f;
  auto err = ErrorOf([&] { f.schema.ApplyEnv({{"AIOPS_EXECUTOR_DRY_RUN", "maybe"}}); });
  EXPECT_THAT(err, HasSubstr("AIOPS_EXECUTOR_DRY_RUN"));
  EXPECT_THAT(err, HasSubstr("expected true or false"));
}

TEST(ConfigTest, ValidatorsNameTheKey) {
  Fixture f;
  f.schema.Set("kafka.handler_retries", "-1", "--set");
  auto err = ErrorOf([&] { f.schema.Validate(); });
  EXPECT_THAT(err, HasSubstr("kafka.handler_retries: must not be negative"));

  Fixture g;
  g.schema.Set("http.listen", "no-port", "--set");
  EXPECT_THAT(ErrorOf([&] { g.schema.Validate(); }), HasSubstr("http.listen: expected host:port"));

  Fixture h;
  h.schema.Set("kafka.bootstrap", "  ", "--set");
  EXPECT_THAT(ErrorOf([&] { h.schema.Validate(); }),
              HasSubstr("kafka.bootstrap: must not be empty"));
}

TEST(ConfigTest, EnvNamesDeriveFromPaths) {
  EXPECT_EQ(Schema::EnvName("kafka.bootstrap"), "AIOPS_KAFKA_BOOTSTRAP");
  EXPECT_EQ(Schema::EnvName("http.listen"), "AIOPS_HTTP_LISTEN");
  EXPECT_EQ(Schema::EnvName("log.format"), "AIOPS_LOG_FORMAT");
}

TEST(ConfigTest, SplitHostPortHandlesIpv6AndRejectsGarbage) {
  EXPECT_EQ(aiops::config::SplitHostPort("127.0.0.1:8080"),
            std::make_pair(std::string("127.0.0.1"), 8080));
  EXPECT_EQ(aiops::config::SplitHostPort("[::1]:0"), std::make_pair(std::string("::1"), 0));
  EXPECT_THROW(aiops::config::SplitHostPort("host:99999"), ConfigError);
  EXPECT_THROW(aiops::config::SplitHostPort("host:12ab"), ConfigError);
  EXPECT_THROW(aiops::config::SplitHostPort(":80"), ConfigError);
}

TEST(ConfigTest, RegisteringAKeyTwiceIsAProgrammingError) {
  Fixture f;
  std::string other;
  EXPECT_THROW(f.schema.Add("kafka.bootstrap", &other, "dup"), std::invalid_argument);
}

TEST(ConfigTest, OtherServicesSectionsCanBeIgnoredButTyposInOwnSectionsStillFail) {
  Fixture f;
  f.schema.IgnoreSections({"approver", "collector"});
  f.schema.LoadYaml("approver:\n  grpc_listen: x\ncollector:\n  anything: 1\nkafka:\n  bootstrap: b:1\n");
  EXPECT_EQ(f.kafka.bootstrap, "b:1");
  EXPECT_THAT(ErrorOf([&] { f.schema.LoadYaml("detector:\n  namespacez: [a]\n"); }),
              HasSubstr("unknown key 'detector.namespacez'"));
  EXPECT_THAT(ErrorOf([&] { f.schema.LoadYaml("auditor:\n  mode: x\n"); }),
              HasSubstr("unknown key 'auditor'"));
}
