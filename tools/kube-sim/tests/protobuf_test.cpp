#include <gtest/gtest.h>

#include "api_server.hpp"
#include "protobuf.hpp"
#include "scenario.hpp"

namespace kubesim {
namespace {

// Length-delimited protobuf field (wire type 2).
std::string Field(int number, const std::string& bytes) {
  std::string out(1, static_cast<char>((number << 3) | 2));
  out.push_back(static_cast<char>(bytes.size()));  // all test payloads are < 128 bytes
  return out + bytes;
}
std::string Varint(int number, int value) {
  return std::string(1, static_cast<char>(number << 3)) + std::string(1, static_cast<char>(value));
}

std::string ConfigMapEnvelope() {
  std::string meta = Field(1, "cfg") + Field(3, "") + Field(11, Field(1, "team") + Field(2, "a"));
  std::string raw = Field(1, meta) + Field(2, Field(1, "A") + Field(2, "1"));
  std::string type_meta = Field(1, "v1") + Field(2, "ConfigMap");
  return std::string("k8s\0", 4) + Field(1, type_meta) + Field(2, raw);
}

TEST(ProtobufTest, DecodesKubectlCreateBodies) {
  auto cm = DecodeKubernetesProtobuf(ConfigMapEnvelope());
  ASSERT_TRUE(cm.has_value());
  EXPECT_EQ((*cm)["kind"], "ConfigMap");
  EXPECT_EQ((*cm)["metadata"]["name"], "cfg");
  EXPECT_FALSE((*cm)["metadata"].contains("namespace"));  // empty proto2 strings are dropped
  EXPECT_EQ((*cm)["metadata"]["labels"]["team"], "a");
  EXPECT_EQ((*cm)["data"]["A"], "1");

  std::string spec = Varint(1, 0) + Field(2, Field(1, Field(1, "app") + Field(2, "x")));
  std::string raw = Field(1, Field(1, "d")) + Field(2, spec);
  std::string env = std::string("k8s\0", 4) +
                    Field(1, Field(1, "apps/v1") + Field(2, "Deployment")) + Field(2, raw);
  auto d = DecodeKubernetesProtobuf(env);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ((*d)["spec"]["replicas"], 0);  // a pointer field: an explicit 0 stays
  EXPECT_EQ((*d)["spec"]["selector"]["matchLabels"]["app"], "x");

  EXPECT_FALSE(DecodeKubernetesProtobuf("{\"kind\":\"ConfigMap\"}").has_value());
  std::string truncated = ConfigMapEnvelope();
  truncated.resize(truncated.size() - 3);
  EXPECT_THROW(DecodeKubernetesProtobuf(truncated), std::runtime_error);
}

TEST(ProtobufTest, ApiServerAcceptsProtobufCreates) {
  Store store;
  SimClock clock;
  ObjectService objects(store, clock);
  LogStore logs;
  ApiServer api(objects, logs);
  Bootstrap(objects);
  auto created = api.Handle({"POST",
                             "/api/v1/namespaces/default/configmaps",
                             {},
                             {{"content-type", "application/vnd.kubernetes.protobuf"}},
                             ConfigMapEnvelope()});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(json::parse(created.body)["data"]["A"], "1");
  auto bad = api.Handle({"POST",
                         "/api/v1/namespaces/default/configmaps",
                         {},
                         {{"content-type", "application/vnd.kubernetes.protobuf"}},
                         "garbage"});
  EXPECT_EQ(bad.status, 415);
}

}  // namespace
}  // namespace kubesim
