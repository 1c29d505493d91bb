#include "aiops/log.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "aiops/v1/envelope.pb.h"

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

// A topic value with invalid UTF-8 in a string field: the decoder reports it (dead-letter);
// libprotobuf's own complaint must not reach stderr at the default level.
TEST(LogTest, ProtobufComplaintsAreDebugOnly) {
  aiops::log::Init("log-test", "info", "text");
  const std::string bad = std::string("\x0a\x02\xff\xfe", 4);  // remediation_id = FF FE
  aiops::v1::Envelope e;
  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(e.ParseFromString(bad));
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(err.find("UTF-8"), std::string::npos) << err;

  aiops::log::Init("log-test", "debug", "text");
  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(e.ParseFromString(bad));
  err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("UTF-8"), std::string::npos) << "still there at debug: " << err;
  aiops::log::Init("log-test", "info", "text");
}
