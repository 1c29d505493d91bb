// Reading a running service's /healthz and Prometheus /metrics from a test, through curl (the
// same way an operator or a scraper sees them). Header-only so any suite can use it.
#pragma once

#include <sstream>
#include <string>

#include "subprocess.hpp"

namespace aiops::testing {

// GET http://ADDR/PATH; true on a 2xx answer, the body in `body`.
inline bool HttpGet(const std::string& addr, const std::string& path, std::string* body) {
  std::string out;
  bool ok = RunCommand("curl -sf --max-time 10 http://" + addr + path, &out) == 0;
  if (body != nullptr) *body = out;
  return ok;
}

inline bool Healthy(const std::string& addr) {
  return HttpGet(addr, "/healthz", nullptr);
}

// Sum of the samples of metric `name` whose label set contains every `label_fragment`
// (e.g. `topic="aiops.anomalies"`); 0 when there is none.
inline double MetricValue(const std::string& metrics_text, const std::string& name,
                          std::initializer_list<std::string> label_fragments = {}) {
  double sum = 0;
  std::istringstream in(metrics_text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name, 0) != 0) continue;
    // The name must end here: `foo_total` must not match `foo_total_bucket`.
    char next = line.size() > name.size() ? line[name.size()] : '\0';
    if (next != '{' && next != ' ') continue;
    bool all = true;
    for (const auto& f : label_fragments)
      all = all && line.find(f) != std::string::npos;
    if (!all) continue;
    try {
      sum += std::stod(line.substr(line.rfind(' ') + 1));
    } catch (const std::exception&) {
    }
  }
  return sum;
}

// The metric read from a live service (0 when unreachable).
inline double ScrapeMetric(const std::string& addr, const std::string& name,
                           std::initializer_list<std::string> label_fragments = {}) {
  std::string body;
  if (!HttpGet(addr, "/metrics", &body)) return 0;
  return MetricValue(body, name, label_fragments);
}

}  // namespace aiops::testing
