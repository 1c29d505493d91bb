// LLM backends: Ollama /api/chat (format = JSON schema, stream false, temperature 0) and
// OpenAI-compatible /v1/chat/completions (response_format json_schema: vLLM, llama.cpp
// server, DeepSeek, OpenAI). HTTP over libcurl; every call has a hard timeout.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace aiops::proposer {

struct ChatMessage {
  std::string role;  // system, user, assistant
  std::string content;
};

struct LlmRequest {
  std::vector<ChatMessage> messages;
  nlohmann::json schema;  // the answer's JSON schema
  std::chrono::milliseconds timeout{30000};
};

struct LlmResponse {
  bool ok = false;
  bool timed_out = false;
  long http_status = 0;
  std::string content;  // the model's answer text
  std::string error;    // why not ok
  uint32_t prompt_tokens = 0;
  uint32_t completion_tokens = 0;
  double seconds = 0;
  int attempts = 0;
};

struct LlmConfig {
  std::string backend = "none";  // none, ollama, openai
  std::string url;               // base URL; empty: the backend's default
  std::string model;
  std::string api_key;  // sent as "Authorization: Bearer" when not empty
  int timeout_ms = 30000;
  // Retries after HTTP 5xx/429 or a connection failure (not after a timeout: a slow server
  // stays slow, and the caller falls back instead).
  int retries = 1;
  int retry_backoff_ms = 200;
  int max_tokens = 1024;
};

class LlmBackend {
 public:
  virtual ~LlmBackend() = default;
  virtual LlmResponse Chat(const LlmRequest& request) = 0;
  virtual std::string name() const = 0;
  virtual std::string model() const = 0;
};

// nullptr for backend "none"; throws std::invalid_argument for an unknown backend.
std::unique_ptr<LlmBackend> MakeBackend(const LlmConfig& config);

// The request bodies, exposed for tests.
nlohmann::json OllamaBody(const std::string& model, const LlmRequest& request);
nlohmann::json OpenAiBody(const std::string& model, const LlmRequest& request, int max_tokens);

// The model's text out of a 200 answer body (and the token counts when present); ok stays
// false with `error` set when the body has none. Exposed for tests and fuzz/.
void ParseOllamaResponse(const std::string& body, LlmResponse& out);
void ParseOpenAiResponse(const std::string& body, LlmResponse& out);

struct HttpResult {
  long status = 0;
  std::string body;
  std::string error;
  bool timed_out = false;
};
// POST with a hard timeout (connect included). Thread-safe.
HttpResult HttpPostJson(const std::string& url, const std::string& body,
                        const std::vector<std::string>& headers, std::chrono::milliseconds timeout);

}  // namespace aiops::proposer
