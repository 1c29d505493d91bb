// Reading the model's text out of Ollama / OpenAI-compatible answer bodies. Token counts are
// metrics only: a malformed one must not turn a usable answer into an exception.
#include <gtest/gtest.h>

#include "proposer/llm.hpp"

using namespace aiops::proposer;

TEST(LlmParse, OllamaAnswer) {
  LlmResponse r;
  ParseOllamaResponse(R"({"message":{"role":"assistant","content":"{}"},"prompt_eval_count":12,
    "eval_count":3})",
                      r);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.content, "{}");
  EXPECT_EQ(r.prompt_tokens, 12u);
  EXPECT_EQ(r.completion_tokens, 3u);
}

TEST(LlmParse, OpenAiAnswer) {
  LlmResponse r;
  ParseOpenAiResponse(R"({"choices":[{"message":{"content":"{}"}}],
    "usage":{"prompt_tokens":12,"completion_tokens":3}})",
                      r);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.prompt_tokens, 12u);
  EXPECT_EQ(r.completion_tokens, 3u);
}

TEST(LlmParse, BodiesWithoutContentAreErrors) {
  for (const char* body : {"", "[]", R"({"message":"x"})", R"({"message":{"content":5}})"}) {
    LlmResponse r;
    ParseOllamaResponse(body, r);
    EXPECT_FALSE(r.ok);
    EXPECT_FALSE(r.error.empty());
  }
  for (const char* body :
       {"", R"({"choices":[]})", R"({"choices":[5]})", R"({"choices":[{"message":[1]}]})"}) {
    LlmResponse r;
    ParseOpenAiResponse(body, r);
    EXPECT_FALSE(r.ok);
    EXPECT_FALSE(r.error.empty());
  }
}

// Token counts of another type threw nlohmann::type_error out of Chat().
TEST(LlmParse, MalformedTokenCountsCountAsZero) {
  LlmResponse r;
  ASSERT_NO_THROW(ParseOllamaResponse(
      R"({"message":{"content":"{}"},"prompt_eval_count":"many","eval_count":-4})", r));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.prompt_tokens, 0u);
  EXPECT_EQ(r.completion_tokens, 0u);
  LlmResponse o;
  ASSERT_NO_THROW(ParseOpenAiResponse(
      R"({"choices":[{"message":{"content":"{}"}}],"usage":{"prompt_tokens":1e30,
      "completion_tokens":null}})",
      o));
  EXPECT_TRUE(o.ok);
  EXPECT_EQ(o.prompt_tokens, 0u);
  EXPECT_EQ(o.completion_tokens, 0u);
}
