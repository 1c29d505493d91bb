// aiops-proposer: consumes aiops.evidence, publishes one Proposal per evidence to
// aiops.proposals. The logic is in proposer_core (Proposer); this file wires configuration,
// Kafka, the LLM backend and the health/metrics server.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

#include "aiops/envelope.hpp"
#include "aiops/kafka_consumer.hpp"
#include "aiops/kafka_producer.hpp"
#include "aiops/log.hpp"
#include "aiops/service.hpp"
#include "aiops/shutdown.hpp"
#include "aiops/topics.hpp"
#include "aiops/v1/evidence.pb.h"
#include "proposer/proposer.hpp"

using namespace aiops;
using namespace aiops::proposer;

namespace {

struct Settings {
  std::string mode = "runbook-first";
  std::string runbooks_dir;
  int workers = 2;
  int prompt_token_budget = 3000;
  int cache_ttl_seconds = 3600;
  int cache_size = 1000;
  int publish_timeout_ms = 30000;
  int max_replicas = 50;
  LlmConfig llm;
  std::string api_key_env = "LLM_API_KEY";
  int llm_max_in_flight = 2;
  int llm_deadline_ms = 90000;

  void Register(config::Schema& s) {
    s.Add("proposer.mode", &mode, "runbook-first, llm-first, runbook-only or llm-only",
          config::OneOf({"runbook-first", "llm-first", "runbook-only", "llm-only"}));
    s.Add("proposer.runbooks_dir", &runbooks_dir,
          "directory of runbook YAML files (empty: ./deploy/runbooks, then next to the "
          "executable ../../deploy/runbooks, then /etc/aiops/runbooks, then the source tree's)");
    s.Add("proposer.workers", &workers,
          "consumer threads (group members) handling evidence in parallel", config::Positive());
    s.Add("proposer.prompt_token_budget", &prompt_token_budget,
          "LLM prompt budget in estimated tokens (bytes/4)", config::Positive());
    s.Add("proposer.cache_ttl_seconds", &cache_ttl_seconds,
          "how long an LLM proposal is reused for the same incident fingerprint",
          config::NonNegative());
    s.Add("proposer.cache_size", &cache_size, "entries of the fingerprint cache",
          config::NonNegative());
    s.Add("proposer.publish_timeout_ms", &publish_timeout_ms,
          "wait for the broker's acknowledgement of a proposal", config::Positive());
    s.Add("proposer.max_replicas", &max_replicas, "highest spec.replicas a proposal may set",
          config::Positive());
    s.Add("llm.backend", &llm.backend, "none, ollama or openai (OpenAI-compatible)",
          config::OneOf({"none", "ollama", "openai"}));
    s.Add(
        "llm.url", &llm.url,
        "base URL (default http://127.0.0.1:11434 for ollama, https://api.openai.com for openai)");
    s.Add("llm.model", &llm.model, "model name, e.g. qwen2.5:7b-instruct or gpt-4o-mini");
    s.Add("llm.api_key_env", &api_key_env,
          "name of the environment variable holding the API key (sent as a Bearer token)");
    s.Add("llm.timeout_ms", &llm.timeout_ms, "timeout of one LLM call", config::Positive());
    s.Add("llm.retries", &llm.retries, "retries after HTTP 5xx/429 or a connection error",
          config::NonNegative());
    s.Add("llm.max_tokens", &llm.max_tokens, "completion token limit (openai)", config::Positive());
    s.Add("llm.max_in_flight", &llm_max_in_flight, "LLM calls in flight at most",
          config::Positive());
    s.Add("llm.deadline_ms", &llm_deadline_ms,
          "time limit of the whole LLM path of one proposal (slot wait, call, repair)",
          config::Positive());
  }
};

std::string ExeDir() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : p.parent_path().string();
}

std::string FindRunbooks(const std::string& configured) {
  if (!configured.empty()) return configured;
  for (const auto& dir :
       {std::string("deploy/runbooks"), ExeDir() + "/../../deploy/runbooks",
        std::string("/etc/aiops/runbooks"), std::string(AIOPS_SOURCE_RUNBOOKS_DIR)}) {
    std::error_code ec;
    if (std::filesystem::is_directory(dir, ec)) return dir;
  }
  return "deploy/runbooks";
}

}  // namespace

int main(int argc, char** argv) {
  Service service("aiops-proposer",
                  "aiops-proposer: proposes a fix (runbook or LLM) for every evidence bundle",
                  "127.0.0.1:9103");
  Settings settings;
  settings.Register(service.schema());
  if (auto rc = service.Init(argc, argv)) return *rc;

  const auto mode = ParseMode(settings.mode);
  std::string dir = FindRunbooks(settings.runbooks_dir);
  RunbookSet runbooks;
  std::unique_ptr<LlmBackend> llm;
  try {
    runbooks = RunbookSet::LoadDir(dir);
    if (const char* key = std::getenv(settings.api_key_env.c_str())) settings.llm.api_key = key;
    llm = MakeBackend(settings.llm);
  } catch (const std::exception& e) {
    log::Error({}, "cannot start: {}", e.what());
    std::cerr << "aiops-proposer: " << e.what() << "\n";
    return 2;
  }
  if (llm && settings.llm.model.empty()) {
    std::cerr << "aiops-proposer: configuration error: llm.model: required when llm.backend is "
              << settings.llm.backend << "\n";
    return 2;
  }
  if (!llm && (*mode == Mode::kLlmOnly || *mode == Mode::kLlmFirst)) {
    std::cerr << "aiops-proposer: configuration error: proposer.mode " << settings.mode
              << " needs llm.backend ollama or openai\n";
    return 2;
  }
  log::Info({{"runbooks", std::to_string(runbooks.all().size())},
             {"dir", dir},
             {"mode", settings.mode},
             {"llm", llm ? llm->name() + "/" + llm->model() : "none"}},
            "proposer configured");

  ProposerOptions opts;
  opts.mode = *mode;
  opts.prompt.token_budget = static_cast<size_t>(settings.prompt_token_budget);
  opts.llm_timeout_ms = settings.llm.timeout_ms;
  opts.llm_max_in_flight = settings.llm_max_in_flight;
  opts.llm_deadline_ms = settings.llm_deadline_ms;
  opts.cache_ttl_seconds = settings.cache_ttl_seconds;
  opts.cache_size = static_cast<size_t>(settings.cache_size);
  opts.producer = service.instance();
  opts.limits.max_replicas = settings.max_replicas;
  auto& metrics = service.metrics();
  Proposer proposer(opts, std::move(runbooks), std::move(llm), metrics);

  kafka::Producer producer(service.kafka(), service.name(), &metrics);
  const auto publish_timeout = std::chrono::milliseconds(settings.publish_timeout_ms);
  auto handler = kafka::Decoding<v1::Evidence>([&](const v1::Evidence& e, const kafka::Message&) {
    const auto& rid = e.envelope().remediation_id();
    const auto& w = e.anomaly().workload();
    if (!e.has_anomaly() || w.name().empty() || w.namespace_().empty() || w.kind().empty()) {
      return kafka::Outcome::DeadLetter("evidence has no anomaly workload (kind/namespace/name)");
    }
    if (e.anomaly().status() == v1::Anomaly::STATUS_RESOLVED) {
      log::Info({log::Rid(rid)}, "incident resolved, nothing to propose");
      return kafka::Outcome::Ok();
    }
    v1::Proposal p = proposer.Propose(e);
    auto d = producer.PublishAndWait(topics::kProposals, rid, p, publish_timeout);
    if (!d.ok) return kafka::Outcome::Retry("publishing the proposal failed: " + d.error);
    log::Info({log::Rid(rid),
               {"source", p.source().runbook_id().empty() ? p.source().backend()
                                                          : "runbook:" + p.source().runbook_id()},
               {"actions", std::to_string(p.actions_size())},
               {"manual", p.manual() ? "true" : "false"},
               {"cache_hit", p.usage().cache_hit() ? "true" : "false"},
               {"latency_ms", std::to_string(p.usage().latency_ms())}},
              "proposal published: {}", p.summary());
    return kafka::Outcome::Ok();
  });

  std::vector<std::unique_ptr<kafka::Consumer>> consumers;
  try {
    for (int i = 0; i < settings.workers; ++i) {
      consumers.push_back(std::make_unique<kafka::Consumer>(
          service.kafka(), service.name(), kafka::ConsumerOptions{{topics::kEvidence}}, handler,
          producer, &metrics));
    }
  } catch (const std::exception& e) {
    std::cerr << "aiops-proposer: " << e.what() << "\n";
    return 2;
  }
  service.StartHttp([&]() -> std::optional<std::string> {
    if (!producer.Reachable(std::chrono::seconds(2))) return "kafka unreachable";
    return std::nullopt;
  });
  shutdown::OnStop([&] {
    for (auto& c : consumers)
      c->Stop();
  });
  std::vector<std::thread> threads;
  for (auto& c : consumers)
    threads.emplace_back([&c] { c->Run(); });
  std::cout << "aiops-proposer ready" << std::endl;
  for (auto& t : threads)
    t.join();
  producer.Flush(std::chrono::seconds(10));
  log::Info({}, "aiops-proposer stopped");
  return 0;
}
