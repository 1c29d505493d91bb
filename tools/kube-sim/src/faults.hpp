// Fault switches: rules that make the simulated API server answer 500/429/503 or answer slowly,
// so clients' retry, back-off and "never apply twice" logic can be tested against a real
// process. Rules come from `--faults FILE` or from PUT /_sim/faults at run time.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "json_util.hpp"

namespace kubesim {

struct FaultRule {
  int status = 0;  // 0 (delay only), 429, 500 or 503
  int64_t delay_ms = 0;
  double probability = 1.0;
  std::vector<std::string> methods;            // upper case; empty = every method
  std::string path_prefix;                     // empty = every API path
  std::optional<int64_t> retry_after_seconds;  // 429/503: the Retry-After header
  std::optional<int64_t> max;                  // stop after this many injections
  bool watch = false;                          // also hit requests that open a watch

  json ToJson() const;
};

// Parses {"rules":[RULE,...]} (a JSON or YAML document already decoded). Throws
// std::invalid_argument naming the offending field ("rules[1].probability: ...").
std::vector<FaultRule> ParseFaultRules(const json& doc);
// Reads and parses a YAML or JSON file; errors name the file.
std::vector<FaultRule> LoadFaultRules(const std::string& path);

// Paths no rule may hit: the simulator's own control endpoints, health, version, OpenAPI and
// the root discovery documents, so clients can always find the server and tests can always
// reach the switches.
bool FaultExempt(const std::string& path);

// What to do to one request.
struct FaultDecision {
  int status = 0;  // 0: serve normally after the delay
  int64_t delay_ms = 0;
  std::optional<int64_t> retry_after_seconds;  // 429: 1 unless the rule says otherwise
};

class ApiError;
// The Kubernetes Status error for a decision with a status: 500 InternalError, 429
// TooManyRequests or 503 ServiceUnavailable, with details.retryAfterSeconds when set.
ApiError FaultError(const FaultDecision& d);

// Thread-safe rule set with counters. Decide() is on every request's path: without rules it
// costs one atomic increment and one atomic load.
class FaultInjector {
 public:
  FaultInjector();
  // Replaces every rule (their `max` budgets start afresh); counters are kept.
  void SetRules(std::vector<FaultRule> rules);
  void Clear() { SetRules({}); }
  // Counts the request and rolls each matching rule's dice in order; the first hit wins.
  // `watch`: the request opens a watch. Exempt paths are neither counted nor faulted.
  std::optional<FaultDecision> Decide(const std::string& method, const std::string& path,
                                      bool watch);
  // {"rules":[...], "injected":{"500":n,"429":n,"503":n,"delay":n}, "total":n, "requests":n}
  json State() const;

 private:
  struct Active {
    FaultRule rule;
    int64_t used = 0;
  };
  mutable std::mutex mu_;
  std::vector<Active> rules_;
  std::atomic<bool> has_rules_{false};
  std::atomic<uint64_t> requests_{0};
  std::map<std::string, uint64_t> injected_;
  uint64_t total_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace kubesim
