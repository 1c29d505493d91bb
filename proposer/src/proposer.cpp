#include "proposer/proposer.hpp"

#include "aiops/log.hpp"
#include "proposer/answer.hpp"
#include "proposer/facts.hpp"
#include "proposer/proposal_builder.hpp"

namespace aiops::proposer {

using Clock = std::chrono::steady_clock;

std::optional<Mode> ParseMode(const std::string& name) {
  if (name == "runbook-first") return Mode::kRunbookFirst;
  if (name == "llm-first") return Mode::kLlmFirst;
  if (name == "runbook-only") return Mode::kRunbookOnly;
  if (name == "llm-only") return Mode::kLlmOnly;
  return std::nullopt;
}

std::string ModeName(Mode mode) {
  switch (mode) {
    case Mode::kRunbookFirst:
      return "runbook-first";
    case Mode::kLlmFirst:
      return "llm-first";
    case Mode::kRunbookOnly:
      return "runbook-only";
    case Mode::kLlmOnly:
      return "llm-only";
  }
  return "?";
}

Proposer::Proposer(ProposerOptions options, RunbookSet runbooks, std::unique_ptr<LlmBackend> llm,
                   metrics::Registry& metrics)
    : options_(std::move(options)),
      runbooks_(std::move(runbooks)),
      llm_(std::move(llm)),
      metrics_(metrics),
      cache_(options_.cache_size, std::chrono::seconds(options_.cache_ttl_seconds)),
      published_(options_.cache_size, std::chrono::seconds(options_.cache_ttl_seconds)) {
  metrics_.GetGauge("aiops_proposer_llm_in_flight", "LLM calls in flight").Set(0);
}

std::string Proposer::Fingerprint(const v1::Evidence& e) {
  const auto& w = e.anomaly().workload();
  auto facts = ComputeFacts(e);
  return e.envelope().cluster() + "|" + w.namespace_() + "/" + w.kind() + "/" + w.name() + "|" +
         FailureClassName(e.anomaly().failure_class()) + "|" + facts.value("container", "") + "=" +
         facts.value("image", "") + "|" + ErrorSignature(e);
}

int Proposer::llm_in_flight() const {
  std::lock_guard lock(slots_mu_);
  return in_flight_;
}

v1::Proposal Proposer::Propose(const v1::Evidence& evidence) {
  const std::string key = evidence.envelope().remediation_id() + "|" +
                          evidence.workload_resource_version() + "|" +
                          std::to_string(evidence.workload_generation()) + "|" +
                          std::to_string(static_cast<int>(evidence.anomaly().status()));
  if (auto again = published_.Get(key)) {
    metrics_
        .GetCounter("aiops_proposer_cache_hits_total", "Proposals served from a cache",
                    {{"cache", "redelivery"}})
        .Inc();
    return *again;
  }
  auto started = Clock::now();
  v1::Proposal p = Decide(evidence);
  p.mutable_usage()->set_latency_ms(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count());
  published_.Put(key, p);
  return p;
}

void Proposer::Count(const v1::Proposal& p, const std::string& source) {
  std::string outcome = p.actions_size() > 0 ? "actions" : "manual";
  for (const auto& r : p.risk_reasons()) {
    if (r.rfind("proposal failed:", 0) == 0) outcome = "failed";
  }
  metrics_
      .GetCounter("aiops_proposer_proposals_total", "Proposals made, by source and outcome",
                  {{"source", source}, {"outcome", outcome}})
      .Inc();
}

v1::Proposal Proposer::Failed(const v1::Evidence& e, const std::string& reason,
                              const std::vector<std::string>& details) {
  return FailedProposal(e, options_.producer, reason, details);
}

std::optional<v1::Proposal> Proposer::FromRunbooks(const v1::Evidence& e,
                                                   const std::vector<const Runbook*>& matching,
                                                   bool allow_defer, bool* deferred) {
  if (deferred != nullptr) *deferred = false;
  for (const Runbook* r : matching) {
    Candidate c;
    try {
      c = RunbookSet::Apply(*r, e);
    } catch (const RunbookError& err) {
      log::Warn({log::Rid(e.envelope().remediation_id()), {"runbook", r->id}},
                "runbook skipped: {}", err.what());
      continue;
    }
    auto errors = ValidateCandidate(c, e, options_.limits);
    if (!errors.empty()) {
      // An operator's runbook produced something the rules refuse: never publish it.
      metrics_
          .GetCounter("aiops_proposer_runbook_invalid_total",
                      "Runbook outputs refused by the validator", {{"runbook", r->id}})
          .Inc();
      log::Warn({log::Rid(e.envelope().remediation_id()), {"runbook", r->id}},
                "runbook output refused: {}", errors.front());
      continue;
    }
    if (c.actions.empty() && r->defer_to_llm && allow_defer) {
      if (deferred != nullptr) *deferred = true;
    }
    v1::Proposal p = BuildProposal(c, e, options_.producer);
    p.mutable_source()->set_kind(v1::ProposalSource::KIND_RUNBOOK);
    p.mutable_source()->set_runbook_id(r->id);
    return p;
  }
  return std::nullopt;
}

bool Proposer::AcquireSlot(Clock::time_point deadline) {
  std::unique_lock lock(slots_mu_);
  if (!slots_cv_.wait_until(lock, deadline,
                            [&] { return in_flight_ < std::max(1, options_.llm_max_in_flight); })) {
    return false;
  }
  ++in_flight_;
  metrics_.GetGauge("aiops_proposer_llm_in_flight", "LLM calls in flight").Set(in_flight_);
  return true;
}

void Proposer::ReleaseSlot() {
  {
    std::lock_guard lock(slots_mu_);
    --in_flight_;
    metrics_.GetGauge("aiops_proposer_llm_in_flight", "LLM calls in flight").Set(in_flight_);
  }
  slots_cv_.notify_one();
}

Proposer::LlmResult Proposer::AskLlm(const v1::Evidence& e,
                                     const std::vector<const Runbook*>& guidance) {
  LlmResult result;
  const std::string backend = llm_->name();
  const auto rid = log::Rid(e.envelope().remediation_id());
  const std::string fp = Fingerprint(e);
  if (auto hit = cache_.Get(fp)) {
    auto errors = ValidateCandidate(hit->candidate, e, options_.limits);
    if (errors.empty()) {
      metrics_
          .GetCounter("aiops_proposer_cache_hits_total", "Proposals served from a cache",
                      {{"cache", "fingerprint"}})
          .Inc();
      result.ok = true;
      result.candidate = hit->candidate;
      result.usage.set_cache_hit(true);
      result.usage.set_prompt_bytes(hit->prompt_bytes);
      return result;
    }
  }
  metrics_.GetCounter("aiops_proposer_cache_misses_total", "LLM paths not served from the cache")
      .Inc();

  const auto deadline = Clock::now() + std::chrono::milliseconds(options_.llm_deadline_ms);
  if (!AcquireSlot(deadline)) {
    metrics_
        .GetCounter("aiops_proposer_llm_failures_total", "LLM calls that gave no answer",
                    {{"backend", backend}, {"reason", "busy"}})
        .Inc();
    result.failure = "LLM busy: no free slot of " + std::to_string(options_.llm_max_in_flight) +
                     " within " + std::to_string(options_.llm_deadline_ms) + " ms";
    return result;
  }
  struct Release {
    Proposer* self;
    ~Release() { self->ReleaseSlot(); }
  } release{this};

  Prompt prompt = BuildPrompt(e, guidance, options_.prompt);
  result.usage.set_prompt_bytes(static_cast<uint32_t>(prompt.bytes));
  metrics_
      .GetHistogram("aiops_proposer_prompt_bytes", "Size of LLM prompts in bytes", {},
                    {1024, 2048, 4096, 8192, 16384, 32768, 65536})
      .Observe(static_cast<double>(prompt.bytes));
  LlmRequest req;
  req.messages = prompt.messages;
  req.schema = AnswerSchema();
  for (int round = 0; round < 2; ++round) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    req.timeout = std::min(std::chrono::milliseconds(options_.llm_timeout_ms), left);
    if (req.timeout.count() <= 0) {
      result.failure = "LLM deadline of " + std::to_string(options_.llm_deadline_ms) +
                       " ms passed before round " + std::to_string(round + 1);
      return result;
    }
    LlmResponse r = llm_->Chat(req);
    result.usage.set_attempts(result.usage.attempts() + 1);
    result.usage.set_prompt_tokens(result.usage.prompt_tokens() + r.prompt_tokens);
    result.usage.set_completion_tokens(result.usage.completion_tokens() + r.completion_tokens);
    metrics_
        .GetHistogram("aiops_proposer_llm_request_seconds", "LLM call latency",
                      {{"backend", backend}})
        .Observe(r.seconds);
    metrics_
        .GetCounter("aiops_proposer_llm_tokens_total", "Tokens used by LLM calls",
                    {{"backend", backend}, {"kind", "prompt"}})
        .Inc(r.prompt_tokens);
    metrics_
        .GetCounter("aiops_proposer_llm_tokens_total", "Tokens used by LLM calls",
                    {{"backend", backend}, {"kind", "completion"}})
        .Inc(r.completion_tokens);
    if (!r.ok) {
      metrics_
          .GetCounter("aiops_proposer_llm_failures_total", "LLM calls that gave no answer",
                      {{"backend", backend}, {"reason", r.timed_out ? "timeout" : "error"}})
          .Inc();
      result.failure = "LLM " + backend + " call failed: " + r.error;
      log::Warn({rid}, "{}", result.failure);
      return result;
    }
    std::vector<std::string> errors;
    auto candidate = ParseAnswer(r.content, &errors);
    if (candidate) errors = ValidateCandidate(*candidate, e, options_.limits);
    if (errors.empty()) {
      result.ok = true;
      result.candidate = *candidate;
      cache_.Put(fp, CachedAnswer{*candidate, static_cast<uint32_t>(prompt.bytes)});
      return result;
    }
    metrics_
        .GetCounter("aiops_proposer_llm_invalid_answers_total",
                    "LLM answers refused by the schema or the rules",
                    {{"backend", backend}, {"round", round == 0 ? "first" : "repair"}})
        .Inc();
    log::Warn({rid, {"round", std::to_string(round + 1)}}, "LLM answer refused: {}",
              errors.front());
    result.details = errors;
    req.messages.push_back({"assistant", r.content});
    req.messages.push_back({"user", RepairMessage(errors)});
  }
  result.invalid = true;
  result.failure = "LLM answer invalid after a repair round: " + result.details.front();
  return result;
}

v1::Proposal Proposer::LlmFailed(const v1::Evidence& e, const LlmResult& r) {
  v1::Proposal p = Failed(e, r.failure, r.details);
  p.mutable_source()->set_kind(v1::ProposalSource::KIND_LLM);
  p.mutable_source()->set_backend(llm_->name());
  p.mutable_source()->set_model(llm_->model());
  *p.mutable_usage() = r.usage;
  Count(p, "llm");
  return p;
}

v1::Proposal Proposer::LlmProposal(const v1::Evidence& e, const LlmResult& r) {
  v1::Proposal p = BuildProposal(r.candidate, e, options_.producer);
  p.mutable_source()->set_kind(v1::ProposalSource::KIND_LLM);
  p.mutable_source()->set_backend(llm_->name());
  p.mutable_source()->set_model(llm_->model());
  *p.mutable_usage() = r.usage;
  if (r.usage.attempts() > 1) p.add_risk_reasons("LLM answer was repaired after validation errors");
  return p;
}

v1::Proposal Proposer::Decide(const v1::Evidence& e) {
  const auto matching = runbooks_.Matching(e);
  const bool have_llm = llm_ != nullptr;
  const Mode mode = options_.mode;

  auto no_runbook = [&](const std::string& why) {
    v1::Proposal p = Failed(e, why, {});
    Count(p, "none");
    return p;
  };

  if (mode == Mode::kRunbookOnly || !have_llm) {
    if (!have_llm && (mode == Mode::kLlmOnly)) {
      return no_runbook("mode llm-only but no LLM backend is configured");
    }
    if (auto p = FromRunbooks(e, matching, false, nullptr)) {
      Count(*p, "runbook");
      return *p;
    }
    return no_runbook("no runbook matches " + FailureClassName(e.anomaly().failure_class()) + " (" +
                      e.anomaly().reason() + ")");
  }

  if (mode == Mode::kRunbookFirst) {
    bool deferred = false;
    auto rb = FromRunbooks(e, matching, true, &deferred);
    if (rb && !deferred) {
      Count(*rb, "runbook");
      return *rb;
    }
    LlmResult r = AskLlm(e, matching);
    if (r.ok) {
      auto p = LlmProposal(e, r);
      Count(p, "llm");
      return p;
    }
    if (rb) {
      rb->add_risk_reasons("LLM gave no usable fix: " + r.failure);
      *rb->mutable_usage() = r.usage;
      Count(*rb, "runbook");
      return *rb;
    }
    return LlmFailed(e, r);
  }

  // llm-first and llm-only.
  LlmResult r = AskLlm(e, matching);
  if (r.ok) {
    auto p = LlmProposal(e, r);
    Count(p, "llm");
    return p;
  }
  if (mode == Mode::kLlmFirst) {
    if (auto p = FromRunbooks(e, matching, false, nullptr)) {
      metrics_.GetCounter("aiops_proposer_fallbacks_total", "LLM failures answered by a runbook")
          .Inc();
      p->add_risk_reasons("LLM fallback: " + r.failure);
      p->mutable_usage()->set_attempts(r.usage.attempts());
      p->mutable_usage()->set_prompt_bytes(r.usage.prompt_bytes());
      p->mutable_usage()->set_prompt_tokens(r.usage.prompt_tokens());
      p->mutable_usage()->set_completion_tokens(r.usage.completion_tokens());
      Count(*p, "runbook");
      return *p;
    }
  }
  return LlmFailed(e, r);
}

}  // namespace aiops::proposer
