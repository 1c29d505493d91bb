// Owner resolution on pods as the API server may send them, including malformed ones that
// fuzz/fuzz_pod produced (a pod without metadata threw from Resolve).
#include "owner.hpp"

#include <gtest/gtest.h>

using aiops::detector::ControllerRef;
using aiops::detector::OwnerResolver;
using nlohmann::json;

namespace {
OwnerResolver Resolver(std::optional<json> rs) {
  return OwnerResolver([rs](const std::string&, const std::string&) { return rs; });
}
}  // namespace

TEST(OwnerResolver, PodToReplicaSetToDeployment) {
  auto pod = json::parse(R"({"metadata":{"name":"web-1","namespace":"shop",
    "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-abc","controller":true}]}})");
  auto rs = json::parse(R"({"metadata":{"ownerReferences":[{"apiVersion":"apps/v1",
    "kind":"Deployment","name":"web","uid":"d-1","controller":true}]}})");
  auto r = Resolver(rs);
  auto w = r.Resolve(pod);
  EXPECT_EQ(w.Key(), "shop/Deployment/web");
  EXPECT_EQ(w.uid, "d-1");
  EXPECT_EQ(r.cached(), 1u);
}

TEST(OwnerResolver, UnreadableReplicaSetFallsBackToTheHashConvention) {
  auto pod = json::parse(R"({"metadata":{"name":"web-1","namespace":"shop",
    "labels":{"pod-template-hash":"abc"},
    "ownerReferences":[{"kind":"ReplicaSet","name":"web-abc","controller":true}]}})");
  auto r = Resolver(std::nullopt);
  EXPECT_EQ(r.Resolve(pod).Key(), "shop/Deployment/web");
  EXPECT_EQ(r.cached(), 0u);
}

TEST(OwnerResolver, MalformedPodsResolveToThemselvesWithoutThrowing) {
  auto r = Resolver(json("not an object"));
  for (const char* text : {R"({})", R"([])", R"("pod")", R"({"metadata":5})",
                           R"({"metadata":{"name":7,"namespace":["x"]}})",
                           R"({"metadata":{"ownerReferences":[{"controller":"yes"}]}})",
                           R"({"metadata":{"ownerReferences":[5,{"controller":true,"kind":1}]}})",
                           R"({"metadata":{"labels":7,"ownerReferences":[{"controller":true,
                               "kind":"ReplicaSet","name":"x"}]}})"}) {
    SCOPED_TRACE(text);
    auto pod = json::parse(text);
    ASSERT_NO_THROW(r.Resolve(pod));
    ASSERT_NO_THROW(ControllerRef(pod));
  }
  EXPECT_EQ(r.Resolve(json::parse(R"({"metadata":5})")).kind, "Pod");
  EXPECT_FALSE(
      ControllerRef(json::parse(R"({"metadata":{"ownerReferences":[{"controller":"true"}]}})")));
}
