#include "classify.hpp"

#include <gtest/gtest.h>

#include <fstream>

using aiops::detector::Classify;
using nlohmann::json;
namespace v1 = aiops::v1;

namespace {
json Fixture(const std::string& name) {
  std::ifstream in(std::string(DETECTOR_FIXTURES) + "/pods/" + name + ".json");
  if (!in) throw std::runtime_error("missing fixture " + name);
  return json::parse(in);
}
// 2026-11-22T02:05:00Z: a few minutes after the fixtures' events.
constexpr int64_t kNow = 1795313100;

struct Case {
  std::string fixture;
  v1::FailureClass expected;
  std::string reason;
  std::string container;
  bool init;
};
}  // namespace

class ClassifyTable : public ::testing::TestWithParam<Case> {};

TEST_P(ClassifyTable, ClassifiesRealPodStatus) {
  const auto& c = GetParam();
  auto failure = Classify(Fixture(c.fixture), kNow);
  if (c.expected == v1::FAILURE_CLASS_UNSPECIFIED) {
    EXPECT_FALSE(failure) << c.fixture << " classified as " << failure->reason;
    return;
  }
  ASSERT_TRUE(failure) << c.fixture;
  EXPECT_EQ(failure->failure_class, c.expected) << c.fixture;
  EXPECT_EQ(failure->reason, c.reason);
  EXPECT_EQ(failure->container, c.container);
  EXPECT_EQ(failure->init_container, c.init);
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, ClassifyTable,
    ::testing::Values(
        Case{"healthy-running", v1::FAILURE_CLASS_UNSPECIFIED, "", "", false},
        Case{"statefulset-healthy", v1::FAILURE_CLASS_UNSPECIFIED, "", "", false},
        Case{"starting-container-creating", v1::FAILURE_CLASS_UNSPECIFIED, "", "", false},
        Case{"pending-scheduled", v1::FAILURE_CLASS_UNSPECIFIED, "", "", false},
        Case{"healthy-old-oom", v1::FAILURE_CLASS_UNSPECIFIED, "", "", false},
        Case{"err-image-pull", v1::FAILURE_CLASS_IMAGE_PULL, "ErrImagePull", "web", false},
        Case{"image-pull-backoff", v1::FAILURE_CLASS_IMAGE_PULL, "ImagePullBackOff", "web", false},
        Case{"invalid-image-name", v1::FAILURE_CLASS_INVALID_IMAGE_NAME, "InvalidImageName", "web",
             false},
        Case{"crash-loop", v1::FAILURE_CLASS_CRASH_LOOP, "CrashLoopBackOff", "web", false},
        Case{"oom-killed-crashloop", v1::FAILURE_CLASS_OOM_KILLED, "OOMKilled", "web", false},
        Case{"create-container-config-error", v1::FAILURE_CLASS_CONFIG_ERROR,
             "CreateContainerConfigError", "web", false},
        Case{"create-container-error", v1::FAILURE_CLASS_CREATE_CONTAINER_ERROR,
             "CreateContainerError", "web", false},
        Case{"run-container-error", v1::FAILURE_CLASS_RUN_CONTAINER_ERROR, "RunContainerError",
             "web", false},
        Case{"unschedulable", v1::FAILURE_CLASS_UNSCHEDULABLE, "Unschedulable", "", false},
        Case{"evicted", v1::FAILURE_CLASS_EVICTED, "Evicted", "", false},
        Case{"init-crash-loop", v1::FAILURE_CLASS_CRASH_LOOP, "CrashLoopBackOff", "migrate", true}),
    [](const auto& info) {
      std::string n = info.param.fixture;
      for (auto& ch : n) {
        if (ch == '-') ch = '_';
      }
      return n;
    });

TEST(ClassifyTest, ARecentOomKillCountsEvenWhenTheContainerRunsAgain) {
  auto pod = Fixture("healthy-old-oom");
  pod["status"]["containerStatuses"][0]["lastState"]["terminated"]["finishedAt"] =
      "2026-11-22T02:04:00Z";
  auto failure = Classify(pod, kNow, 600);
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->failure_class, v1::FAILURE_CLASS_OOM_KILLED);
  EXPECT_FALSE(Classify(pod, kNow + 3600, 600)) << "an hour later it is history";
}

TEST(ClassifyTest, MessagesAreCarried) {
  auto failure = Classify(Fixture("create-container-config-error"), kNow);
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->message, "configmap \"web-config\" not found");
  auto oom = Classify(Fixture("oom-killed-crashloop"), kNow);
  ASSERT_TRUE(oom);
  EXPECT_EQ(oom->message, "container web was OOM-killed (exit code 137)");
}

TEST(ClassifyTest, UnexpectedShapesAreNotFailures) {
  EXPECT_FALSE(Classify(json::object(), kNow));
  EXPECT_FALSE(Classify(json::parse(R"({"status": "weird"})"), kNow));
  EXPECT_FALSE(Classify(json::parse(R"({"status": {"containerStatuses": {"a": 1}}})"), kNow));
  EXPECT_FALSE(Classify(json::parse(R"({"status": {"containerStatuses": [1, "x", null]}})"), kNow));
  EXPECT_FALSE(Classify(json::parse(R"({"status": {"phase": 7, "conditions": [null]}})"), kNow));
}

TEST(ClassifyTest, ParseTime) {
  EXPECT_EQ(aiops::detector::ParseTime("2026-11-22T02:05:00Z"), kNow);
  EXPECT_FALSE(aiops::detector::ParseTime("yesterday"));
}
