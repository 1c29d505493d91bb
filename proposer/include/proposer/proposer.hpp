// The proposer's core: evidence in, one v1::Proposal out. Picks runbooks and/or the LLM by
// mode, validates every action, runs one repair round for an invalid LLM answer, caches LLM
// results by incident fingerprint, bounds LLM calls in flight, and records metrics. No Kafka
// here: main.cpp wires it to the topics, unit tests call Propose() directly.
#pragma once

#include <chrono>
#include <condition_variable>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "aiops/metrics.hpp"
#include "aiops/v1/evidence.pb.h"
#include "aiops/v1/proposal.pb.h"
#include "proposer/candidate.hpp"
#include "proposer/llm.hpp"
#include "proposer/prompt.hpp"
#include "proposer/runbook.hpp"
#include "proposer/validator.hpp"

namespace aiops::proposer {

enum class Mode { kRunbookFirst, kLlmFirst, kRunbookOnly, kLlmOnly };
std::optional<Mode> ParseMode(const std::string& name);
std::string ModeName(Mode mode);

struct ProposerOptions {
  Mode mode = Mode::kRunbookFirst;
  PromptOptions prompt;
  // One LLM call (the backend retries within it).
  int llm_timeout_ms = 30000;
  // At most this many LLM calls at once; a caller waits for a slot (bounded by the deadline).
  int llm_max_in_flight = 2;
  // The whole LLM path of one proposal: waiting for a slot, the call and the repair round.
  int llm_deadline_ms = 90000;
  int cache_ttl_seconds = 3600;
  size_t cache_size = 1000;
  std::string producer = "aiops-proposer";
  ValidationLimits limits;
};

// A small LRU map with a time to live, thread-safe.
template <class V>
class TtlCache {
 public:
  TtlCache(size_t capacity, std::chrono::seconds ttl) : capacity_(capacity), ttl_(ttl) {}
  std::optional<V> Get(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = index_.find(key);
    if (it == index_.end()) return std::nullopt;
    if (std::chrono::steady_clock::now() - it->second->at > ttl_) {
      items_.erase(it->second);
      index_.erase(it);
      return std::nullopt;
    }
    items_.splice(items_.begin(), items_, it->second);
    return it->second->value;
  }
  void Put(const std::string& key, V value) {
    std::lock_guard lock(mu_);
    if (capacity_ == 0) return;
    auto it = index_.find(key);
    if (it != index_.end()) {
      items_.erase(it->second);
      index_.erase(it);
    }
    items_.push_front({key, std::move(value), std::chrono::steady_clock::now()});
    index_[key] = items_.begin();
    while (items_.size() > capacity_) {
      index_.erase(items_.back().key);
      items_.pop_back();
    }
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return items_.size();
  }

 private:
  struct Item {
    std::string key;
    V value;
    std::chrono::steady_clock::time_point at;
  };
  size_t capacity_;
  std::chrono::seconds ttl_;
  mutable std::mutex mu_;
  std::list<Item> items_;
  std::unordered_map<std::string, typename std::list<Item>::iterator> index_;
};

class Proposer {
 public:
  // `llm` may be null (no backend configured). `metrics` must outlive the proposer.
  Proposer(ProposerOptions options, RunbookSet runbooks, std::unique_ptr<LlmBackend> llm,
           metrics::Registry& metrics);

  // Never throws for bad evidence or a failing LLM: the result is then a manual/failed
  // proposal saying why. Redelivered evidence (same remediation id, resourceVersion and
  // generation) gets the very same proposal back.
  v1::Proposal Propose(const v1::Evidence& evidence);

  // The cache key of an incident: workload, failure class, image and error signature.
  static std::string Fingerprint(const v1::Evidence& evidence);

  const ProposerOptions& options() const { return options_; }
  int llm_in_flight() const;

 private:
  struct LlmResult {
    bool ok = false;
    Candidate candidate;
    std::string failure;  // why not ok (exact)
    std::vector<std::string> details;
    bool invalid = false;  // the LLM answered, but invalid even after repair
    v1::ProposalUsage usage;
  };
  struct CachedAnswer {
    Candidate candidate;
    uint32_t prompt_bytes = 0;
  };

  v1::Proposal Decide(const v1::Evidence& evidence);
  std::optional<v1::Proposal> FromRunbooks(const v1::Evidence& evidence,
                                           const std::vector<const Runbook*>& matching,
                                           bool allow_defer, bool* deferred);
  LlmResult AskLlm(const v1::Evidence& evidence, const std::vector<const Runbook*>& guidance);
  v1::Proposal LlmProposal(const v1::Evidence& evidence, const LlmResult& r);
  // The Failed proposal for an LLM that gave no usable fix, attributed to its backend/model.
  v1::Proposal LlmFailed(const v1::Evidence& evidence, const LlmResult& r);
  v1::Proposal Failed(const v1::Evidence& evidence, const std::string& reason,
                      const std::vector<std::string>& details);
  bool AcquireSlot(std::chrono::steady_clock::time_point deadline);
  void ReleaseSlot();
  void Count(const v1::Proposal& p, const std::string& source);

  ProposerOptions options_;
  RunbookSet runbooks_;
  std::unique_ptr<LlmBackend> llm_;
  metrics::Registry& metrics_;
  TtlCache<CachedAnswer> cache_;
  TtlCache<v1::Proposal> published_;
  mutable std::mutex slots_mu_;
  std::condition_variable slots_cv_;
  int in_flight_ = 0;
};

}  // namespace aiops::proposer
