// The LLM prompt: the SRE role and hard rules, the evidence rendered compactly within a token
// budget (most telling parts first, log tails kept, the rest cut and said so), and the
// matching runbooks as guidance. Tokens are estimated as bytes / 4.
#pragma once

#include <string>
#include <vector>

#include "aiops/v1/evidence.pb.h"
#include "proposer/llm.hpp"
#include "proposer/runbook.hpp"

namespace aiops::proposer {

struct PromptOptions {
  // Budget for the whole prompt (system + user message), in estimated tokens.
  size_t token_budget = 3000;
};

struct Prompt {
  std::vector<ChatMessage> messages;  // system, user
  size_t bytes = 0;
  size_t estimated_tokens = 0;
  std::vector<std::string> omitted;  // sections cut or left out for the budget
};

size_t EstimateTokens(size_t bytes);

Prompt BuildPrompt(const v1::Evidence& evidence, const std::vector<const Runbook*>& guidance,
                   const PromptOptions& options);

// The user message of the repair round: the validation errors and the schema reminder.
std::string RepairMessage(const std::vector<std::string>& errors);

}  // namespace aiops::proposer
