// proposer-bench: prompt size per kube-sim scenario (at the default and a tight token budget)
// and the cache hit ratio on a recurring incident, with an in-process stand-in for the LLM
// that counts calls. Prints a table; no network.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "proposer/answer.hpp"
#include "proposer/evidence_io.hpp"
#include "proposer/proposer.hpp"

using namespace aiops;
using namespace aiops::proposer;

namespace {

// Always answers the same valid fix for shop/cart; counts calls.
class CountingLlm : public LlmBackend {
 public:
  std::string name() const override { return "counting"; }
  std::string model() const override { return "none"; }
  LlmResponse Chat(const LlmRequest&) override {
    ++calls;
    LlmResponse r;
    r.ok = true;
    r.content = R"({"summary":"set REDIS_HOST","root_cause":"REDIS_HOST unset","reasoning":[],
      "manual":false,"actions":[{"type":"server_side_apply","description":"set env",
      "target":{"api_version":"apps/v1","kind":"Deployment","namespace":"shop","name":"cart"},
      "patch":{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"cart","namespace":"shop"},
      "spec":{"template":{"spec":{"containers":[{"name":"cart","env":[{"name":"REDIS_HOST","value":"redis:6379"}]}]}}}}}],
      "risk":"medium","risk_reasons":[],"confidence":0.7})";
    return r;
  }
  int calls = 0;
};

}  // namespace

int main() {
  const std::string fixtures = PROPOSER_FIXTURES_DIR;
  auto runbooks = RunbookSet::LoadDir(AIOPS_RUNBOOKS_DIR);
  std::printf("%-28s %12s %12s %12s %s\n", "scenario", "evidence B", "prompt B", "prompt B",
              "omitted at 500");
  std::printf("%-28s %12s %12s %12s\n", "", "(protobuf)", "(3000 tok)", "(500 tok)");
  for (const char* name : {"bad-image-tag", "oom-killed", "crashloop-missing-env",
                           "crashloop-after-rollout", "missing-configmap", "unschedulable"}) {
    auto e = LoadEvidenceJson(fixtures + "/" + name + ".json");
    auto guidance = runbooks.Matching(e);
    auto full = BuildPrompt(e, guidance, {3000});
    auto tight = BuildPrompt(e, guidance, {500});
    std::string omitted;
    for (const auto& o : tight.omitted)
      omitted += (omitted.empty() ? "" : "; ") + o;
    std::printf("%-28s %12zu %12zu %12zu %s\n", name, e.ByteSizeLong(), full.bytes, tight.bytes,
                omitted.empty() ? "-" : omitted.c_str());
  }

  // A recurring incident: cart crash-loops again and again (a new remediation id each time).
  metrics::Registry registry;
  auto llm = std::make_unique<CountingLlm>();
  CountingLlm* counter = llm.get();
  ProposerOptions opts;
  opts.mode = Mode::kLlmOnly;
  Proposer proposer(opts, runbooks, std::move(llm), registry);
  auto e = LoadEvidenceJson(fixtures + "/crashloop-missing-env.json");
  const int n = 1000;
  int hits = 0;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    e.mutable_envelope()->set_remediation_id("rem-bench-" + std::to_string(i));
    e.set_workload_resource_version(std::to_string(i));
    auto p = proposer.Propose(e);
    hits += p.usage().cache_hit() ? 1 : 0;
  }
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "\nrecurring incident: %d proposals, %d LLM calls, %d cache hits, hit ratio %.3f, "
      "%.3f ms per proposal\n",
      n, counter->calls, hits, static_cast<double>(hits) / n, ms / n);
  return 0;
}
