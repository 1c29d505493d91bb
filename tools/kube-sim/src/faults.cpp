#include "faults.hpp"

#include "status.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace kubesim {
namespace {

// Upper bound for delay_ms: a typo like 600000000 must not park a server thread for days.
constexpr int64_t kMaxDelayMs = 10 * 60 * 1000;

[[noreturn]] void Bad(const std::string& where, const std::string& why) {
  throw std::invalid_argument(where + ": " + why);
}

int64_t Integer(const json& v, const std::string& where, int64_t min, int64_t max) {
  if (!v.is_number_integer()) Bad(where, "must be an integer, got " + v.dump());
  int64_t n = v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)
                  ? max + 1
                  : v.get<int64_t>();
  if (n < min || n > max)
    Bad(where, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                   v.dump());
  return n;
}

FaultRule ParseRule(const json& r, const std::string& where) {
  if (!r.is_object()) Bad(where, "a rule must be an object, got " + r.dump());
  FaultRule rule;
  for (const auto& [key, v] : r.items()) {
    std::string at = where + "." + key;
    if (key == "status") {
      rule.status = static_cast<int>(Integer(v, at, 0, 599));
      if (rule.status != 0 && rule.status != 429 && rule.status != 500 && rule.status != 503)
        Bad(at, "must be 0 (delay only), 429, 500 or 503, got " + v.dump());
    } else if (key == "delay_ms") {
      rule.delay_ms = Integer(v, at, 0, kMaxDelayMs);
    } else if (key == "probability") {
      if (!v.is_number()) Bad(at, "must be a number between 0 and 1, got " + v.dump());
      rule.probability = v.get<double>();
      if (!(rule.probability >= 0.0 && rule.probability <= 1.0))
        Bad(at, "must be a number between 0 and 1, got " + v.dump());
    } else if (key == "methods") {
      if (!v.is_array()) Bad(at, "must be a list of HTTP methods, got " + v.dump());
      for (size_t i = 0; i < v.size(); ++i) {
        std::string mat = at + "[" + std::to_string(i) + "]";
        if (!v[i].is_string()) Bad(mat, "must be a string, got " + v[i].dump());
        std::string m = v[i].get<std::string>();
        for (auto& c : m)
          c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (m != "GET" && m != "POST" && m != "PUT" && m != "PATCH" && m != "DELETE")
          Bad(mat, "must be one of GET, POST, PUT, PATCH, DELETE, got " + v[i].dump());
        rule.methods.push_back(m);
      }
    } else if (key == "path_prefix") {
      if (!v.is_string() || v.get<std::string>().rfind('/', 0) != 0)
        Bad(at, "must be a path starting with /, got " + v.dump());
      rule.path_prefix = v.get<std::string>();
    } else if (key == "retry_after_seconds") {
      rule.retry_after_seconds = Integer(v, at, 0, 86400);
    } else if (key == "max") {
      rule.max = Integer(v, at, 1, INT64_MAX);
    } else if (key == "watch") {
      if (!v.is_boolean()) Bad(at, "must be true or false, got " + v.dump());
      rule.watch = v.get<bool>();
    } else {
      Bad(at,
          "unknown field (known: status, delay_ms, probability, methods, path_prefix, "
          "retry_after_seconds, max, watch)");
    }
  }
  if (rule.status == 0 && rule.delay_ms == 0)
    Bad(where, "does nothing: set status (429, 500, 503) or delay_ms > 0");
  if (rule.retry_after_seconds && rule.status != 429 && rule.status != 503)
    Bad(where + ".retry_after_seconds", "only applies to status 429 or 503");
  return rule;
}

bool RuleMatches(const FaultRule& r, const std::string& method, const std::string& path,
                 bool watch) {
  if (watch && !r.watch) return false;
  if (!r.methods.empty() &&
      std::find(r.methods.begin(), r.methods.end(), method) == r.methods.end())
    return false;
  return r.path_prefix.empty() || path.rfind(r.path_prefix, 0) == 0;
}

}  // namespace

json FaultRule::ToJson() const {
  json j = {{"status", status},   {"delay_ms", delay_ms},       {"probability", probability},
            {"methods", methods}, {"path_prefix", path_prefix}, {"watch", watch}};
  if (retry_after_seconds) j["retry_after_seconds"] = *retry_after_seconds;
  if (max) j["max"] = *max;
  return j;
}

std::vector<FaultRule> ParseFaultRules(const json& doc) {
  if (!doc.is_object()) Bad("faults", "must be an object {\"rules\": [...]}, got " + doc.dump());
  for (const auto& [key, v] : doc.items()) {
    (void)v;
    if (key != "rules") Bad(key, "unknown field (known: rules)");
  }
  if (!doc.contains("rules")) Bad("rules", "missing (an empty list clears every rule)");
  const json& rules = doc["rules"];
  if (!rules.is_array()) Bad("rules", "must be a list, got " + rules.dump());
  std::vector<FaultRule> out;
  for (size_t i = 0; i < rules.size(); ++i)
    out.push_back(ParseRule(rules[i], "rules[" + std::to_string(i) + "]"));
  return out;
}

std::vector<FaultRule> LoadFaultRules(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read fault file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return ParseFaultRules(YamlToJson(ss.str()));
  } catch (const std::exception& e) {
    throw std::runtime_error("fault file " + path + ": " + e.what());
  }
}

bool FaultExempt(const std::string& path) {
  auto under = [&path](const char* root) {
    size_t n = std::char_traits<char>::length(root);
    return path.compare(0, n, root) == 0 && (path.size() == n || path[n] == '/');
  };
  return path == "/" || path == "/api" || path == "/api/" || path == "/apis" || path == "/apis/" ||
         path.rfind("/_sim", 0) == 0 || under("/version") || under("/healthz") ||
         under("/readyz") || under("/livez") || under("/openapi");
}

FaultInjector::FaultInjector() : rng_(std::random_device{}()) {
  injected_ = {{"500", 0}, {"429", 0}, {"503", 0}, {"delay", 0}};
}

void FaultInjector::SetRules(std::vector<FaultRule> rules) {
  std::lock_guard<std::mutex> lock(mu_);
  rules_.clear();
  for (auto& r : rules)
    rules_.push_back(Active{std::move(r), 0});
  has_rules_ = !rules_.empty();
}

std::optional<FaultDecision> FaultInjector::Decide(const std::string& method,
                                                   const std::string& path, bool watch) {
  if (FaultExempt(path)) return std::nullopt;
  requests_.fetch_add(1, std::memory_order_relaxed);
  if (!has_rules_.load(std::memory_order_acquire)) return std::nullopt;
  std::lock_guard<std::mutex> lock(mu_);
  std::uniform_real_distribution<double> dice(0.0, 1.0);
  for (auto& a : rules_) {
    const FaultRule& r = a.rule;
    if (r.max && a.used >= *r.max) continue;
    if (!RuleMatches(r, method, path, watch)) continue;
    // dice() is in [0, 1): probability 1 always hits, probability 0 never does.
    if (r.probability < 1.0 && !(dice(rng_) < r.probability)) continue;
    ++a.used;
    ++total_;
    if (r.status != 0) ++injected_[std::to_string(r.status)];
    if (r.delay_ms > 0) ++injected_["delay"];
    FaultDecision d{r.status, r.delay_ms, r.retry_after_seconds};
    // The real API server's priority-and-fairness 429s always say when to retry.
    if (r.status == 429 && !d.retry_after_seconds) d.retry_after_seconds = 1;
    return d;
  }
  return std::nullopt;
}

ApiError FaultError(const FaultDecision& d) {
  json details = json::object();
  if (d.retry_after_seconds) details["retryAfterSeconds"] = *d.retry_after_seconds;
  switch (d.status) {
    case 429:
      // client-go's wording for a 429 without a message of its own.
      return ApiError(429, "TooManyRequests",
                      "the server has received too many requests and has asked us to try again "
                      "later (injected by a kube-sim fault rule)",
                      details);
    case 503:
      return ApiError(503, "ServiceUnavailable",
                      "the server is currently unable to handle the request (injected by a "
                      "kube-sim fault rule)",
                      details);
    default:
      details["causes"] = json::array({{{"message", "injected by a kube-sim fault rule"}}});
      return ApiError(d.status, "InternalError",
                      "Internal error occurred: injected by a kube-sim fault rule", details);
  }
}

json FaultInjector::State() const {
  std::lock_guard<std::mutex> lock(mu_);
  json rules = json::array();
  for (const auto& a : rules_) {
    json j = a.rule.ToJson();
    j["injected"] = a.used;
    rules.push_back(std::move(j));
  }
  return {{"rules", std::move(rules)},
          {"injected", injected_},
          {"total", total_},
          {"requests", requests_.load()}};
}

}  // namespace kubesim
