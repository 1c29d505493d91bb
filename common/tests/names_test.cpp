#include "aiops/names.hpp"

#include <gtest/gtest.h>

using namespace aiops;

TEST(NamesTest, FailureClassesHaveOneSpellingAndParseFromAll) {
  EXPECT_EQ(FailureClassName(v1::FAILURE_CLASS_IMAGE_PULL), "image-pull");
  EXPECT_EQ(FailureClassName(v1::FAILURE_CLASS_OOM_KILLED), "oom-killed");
  EXPECT_EQ(FailureClassName(v1::FAILURE_CLASS_UNSPECIFIED), "unspecified");
  for (const char* s :
       {"image-pull", "image_pull", "IMAGE_PULL", "FAILURE_CLASS_IMAGE_PULL", "Image Pull"}) {
    EXPECT_EQ(ParseFailureClass(s), v1::FAILURE_CLASS_IMAGE_PULL) << s;
  }
  EXPECT_EQ(ParseFailureClass("create_container_config"), std::nullopt);
  EXPECT_EQ(ParseFailureClass("unspecified"), std::nullopt);
  EXPECT_EQ(ParseFailureClass(""), std::nullopt);
  const auto* d = v1::FailureClass_descriptor();
  for (int i = 1; i < d->value_count(); ++i) {
    auto c = static_cast<v1::FailureClass>(d->value(i)->number());
    EXPECT_EQ(ParseFailureClass(FailureClassName(c)), c) << "round trip " << FailureClassName(c);
  }
}

TEST(NamesTest, Risks) {
  EXPECT_EQ(RiskName(v1::RISK_LEVEL_HIGH), "high");
  EXPECT_EQ(ParseRisk("RISK_LEVEL_LOW"), v1::RISK_LEVEL_LOW);
  EXPECT_EQ(ParseRisk("Medium"), v1::RISK_LEVEL_MEDIUM);
  EXPECT_EQ(ParseRisk("severe"), std::nullopt);
}
