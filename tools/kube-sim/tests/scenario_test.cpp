#include <gtest/gtest.h>

#include "scenario.hpp"

namespace kubesim {
namespace {

TEST(ScenarioTest, EveryShippedScenarioLoads) {
  for (const char* name : {"bad-image-tag", "oom-killed", "crashloop-missing-env",
                           "missing-configmap", "unschedulable", "demo"}) {
    Store store;
    SimClock clock;
    ObjectService objects(store, clock);
    ImageRegistry registry;
    Bootstrap(objects);
    Scenario s = LoadScenario(name);
    EXPECT_EQ(s.name, name);
    EXPECT_FALSE(s.description.empty());
    ASSERT_NO_THROW(ApplyScenario(s, objects, registry)) << name;
    EXPECT_FALSE(objects.List(Deployments(), "").empty()) << name;
    EXPECT_FALSE(objects.List(Nodes(), "").empty()) << name;
    // Initial objects look created by kubectl apply (a realistic other field manager).
    json d = objects.List(Deployments(), "")[0]->obj;
    EXPECT_EQ(d["metadata"]["managedFields"][0]["manager"], "kubectl-client-side-apply");
  }
}

TEST(ScenarioTest, RegistryNormalisesReferences) {
  EXPECT_EQ(NormalizeImage("nginx"), "docker.io/library/nginx:latest");
  EXPECT_EQ(NormalizeImage("nginx:1.25"), "docker.io/library/nginx:1.25");
  EXPECT_EQ(NormalizeImage("host:5000/img"), "host:5000/img:latest");
  EXPECT_EQ(NormalizeImage("shop/web:1"), "docker.io/shop/web:1");
  ImageRegistry r;
  EXPECT_TRUE(r.Find("docker.io/library/nginx:1.25"));
  EXPECT_FALSE(r.Find("nginx:0.0.1"));
  std::string digest = ImageRegistry::DigestOf("nginx:1.25");
  EXPECT_TRUE(r.Find("nginx@" + digest));
}

TEST(ScenarioTest, BadScenariosAreRejectedWithAReason) {
  EXPECT_THROW(ParseScenario("nodes: 3"), std::runtime_error);
  EXPECT_THROW(ParseScenario("surprise: true"), std::runtime_error);
  EXPECT_THROW(ParseScenario("objects:\n  - kind: Widget\n    apiVersion: v9\n"),
               std::runtime_error);
  EXPECT_THROW(ParseScenario("registry:\n  images:\n    - image: a:1\n      colour: red\n"),
               std::runtime_error);
  EXPECT_THROW(LoadScenario("/nonexistent/scenario.yaml"), std::runtime_error);
}

}  // namespace
}  // namespace kubesim
