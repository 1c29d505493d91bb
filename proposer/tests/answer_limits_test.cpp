// Hostile LLM answers are refused before they are parsed: too large (a 10 MB summary made a
// proposal Kafka refused, so the remediation got no proposal at all) or nested deeper than any
// real answer (recursive code such as json::dump would overflow the stack on 100k levels).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "proposer/answer.hpp"

using namespace aiops::proposer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace {

// A schema-valid answer whose patch holds `annotation` as the value of one annotation.
std::string AnswerWithAnnotation(const std::string& annotation, const std::string& summary = "s") {
  return R"({"summary":")" + summary + R"(","root_cause":"r","reasoning":[],"manual":false,
 "actions":[{"type":"server_side_apply","target":{"api_version":"apps/v1","kind":"Deployment","namespace":"shop","name":"cart"},
 "description":"d","patch":{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"cart","namespace":"shop"},
 "spec":{"template":{"metadata":{"annotations":{"a":)" +
         annotation + R"(}}}}}}],"risk":"low","risk_reasons":[],"confidence":0.5})";
}

}  // namespace

TEST(AnswerLimitsTest, AnOrdinaryAnswerPasses) {
  std::vector<std::string> errors;
  EXPECT_TRUE(ParseAnswer(AnswerWithAnnotation(R"("x")"), &errors)) << errors.front();
}

TEST(AnswerLimitsTest, AnAnswerOverTheSizeLimitIsRefusedWithItsSize) {
  std::vector<std::string> errors;
  std::string huge = AnswerWithAnnotation(R"("x")", std::string(10 << 20, 's'));
  EXPECT_FALSE(ParseAnswer(huge, &errors));
  EXPECT_THAT(errors, ElementsAre("the answer is " + std::to_string(huge.size()) +
                                  " bytes, more than the 262144 allowed"));
}

TEST(AnswerLimitsTest, DeepNestingIsRefusedBeforeParsingAtAnyDepthBeyondTheLimit) {
  for (size_t depth : {size_t{kMaxAnswerDepth}, size_t{100000}}) {
    std::vector<std::string> errors;
    // Inside the patch the schema allows any object, so only the depth scan stops it.
    std::string deep = std::string(depth, '[') + std::string(depth, ']');
    auto c = ParseAnswer(AnswerWithAnnotation(deep), &errors);
    EXPECT_FALSE(c);
    EXPECT_THAT(errors, ElementsAre("the answer nests deeper than 64 levels")) << depth;
  }
  // Unbalanced and as objects, too (20k levels: deep, yet under the size limit).
  std::vector<std::string> errors;
  EXPECT_FALSE(ParseAnswer(std::string(100000, '['), &errors));
  std::string objects;
  for (int i = 0; i < 20000; ++i)
    objects += R"({"a":)";
  EXPECT_FALSE(ParseAnswer(objects, &errors));
  for (const auto& e : errors)
    EXPECT_THAT(e, HasSubstr("nests deeper than"));
}

TEST(AnswerLimitsTest, BracketsInsideStringsDoNotCountAsNesting) {
  std::vector<std::string> errors;
  std::string text = "\\\"" + std::string(1000, '[') + std::string(1000, '{');
  EXPECT_TRUE(ParseAnswer(AnswerWithAnnotation("\"" + text + "\""), &errors))
      << ::testing::PrintToString(errors);
}
