// The model's answer is untrusted text. Each input is read three ways: as the model's text
// itself, and as an Ollama and an OpenAI-compatible response body whose content is then the
// text. Whatever it is, the proposer must end with a candidate or reasons, never crash or
// throw; a candidate goes on through validation against real evidence and, when valid, into
// the proposal that would be published.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "proposer/answer.hpp"
#include "proposer/evidence_io.hpp"
#include "proposer/llm.hpp"
#include "proposer/proposal_builder.hpp"
#include "proposer/validator.hpp"

namespace {

using namespace aiops;
using namespace aiops::proposer;

const v1::Evidence& Evidence() {
  static const v1::Evidence evidence = LoadEvidenceJson(AIOPS_FUZZ_EVIDENCE);
  return evidence;
}

void Propose(const std::string& content) {
  std::vector<std::string> errors;
  auto candidate = ParseAnswer(content, &errors);
  if (!candidate) {
    // The proposer logs these reasons and falls back; no reason would hide why.
    if (errors.empty()) std::abort();
    return;
  }
  if (!ValidateCandidate(*candidate, Evidence()).empty()) return;
  v1::Proposal p = BuildProposal(*candidate, Evidence(), "aiops-proposer");
  if (p.actions_size() != static_cast<int>(candidate->actions.size())) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  Propose(text);
  for (auto parse : {ParseOllamaResponse, ParseOpenAiResponse}) {
    LlmResponse r;
    parse(text, r);
    if (r.ok) Propose(r.content);
    if (!r.ok && r.error.empty()) std::abort();
  }
  return 0;
}
