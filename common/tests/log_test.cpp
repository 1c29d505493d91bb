#include "aiops/log.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace aiops;

TEST(LogTest, JsonBodyIsValidJsonWithFields) {
  log::Init("aiops-test", "info", "json");
  auto body = log::Render("pulled \"image\"\nfailed", {log::Rid("rem-1"), {"topic", "a.b"}});
  auto doc = nlohmann::json::parse("{" + body + "}");
  EXPECT_EQ(doc["msg"], "pulled \"image\"\nfailed");
  EXPECT_EQ(doc["remediation_id"], "rem-1");
  EXPECT_EQ(doc["topic"], "a.b");
  EXPECT_EQ(log::CurrentFormat(), log::Format::kJson);
}

TEST(LogTest, TextBodyAppendsKeyValues) {
  log::Init("aiops-test", "info", "text");
  EXPECT_EQ(log::Render("applied", {log::Rid("rem-1"), {"reason", "two words"}}),
            "applied remediation_id=rem-1 reason=\"two words\"");
}

TEST(LogTest, ControlCharactersAreEscaped) {
  EXPECT_EQ(log::JsonQuote(std::string("a\x01"
                                       "b")),
            "\"a\\u0001b\"");
}

TEST(LogTest, UnknownLevelOrFormatIsRejected) {
  EXPECT_THROW(log::Init("x", "loud", "text"), std::invalid_argument);
  EXPECT_THROW(log::Init("x", "info", "xml"), std::invalid_argument);
}
