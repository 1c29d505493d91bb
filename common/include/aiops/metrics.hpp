// Prometheus metrics without an external library (prometheus-cpp is not packaged for
// Debian 12): counters, gauges and histograms with labels, rendered in the text exposition
// format 0.0.4. All operations are thread-safe; a metric handle stays valid for the
// registry's lifetime, so hot paths look a series up once and keep the pointer.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace aiops::metrics {

using Labels = std::map<std::string, std::string>;

class Counter {
 public:
  void Inc(double v = 1.0);
  double Value() const { return value_.load(); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v); }
  void Add(double v);
  double Value() const { return value_.load(); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  // Cumulative counts per bound (same order as bounds), then +Inf.
  std::vector<uint64_t> CumulativeCounts() const;
  double Sum() const;
  uint64_t Count() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; last is +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

// Default latency buckets in seconds: 1 ms .. 30 s.
std::vector<double> LatencyBuckets();

class Registry {
 public:
  // Returns the series of family `name` with `labels`, creating family and series on first
  // use. Throws std::invalid_argument when a name is reused with another type or is not a
  // valid metric name.
  Counter& GetCounter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& GetGauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& GetHistogram(const std::string& name, const std::string& help,
                          const Labels& labels = {}, std::vector<double> bounds = LatencyBuckets());

  // Text exposition format: # HELP / # TYPE per family, families and series sorted.
  std::string Render() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Family {
    Type type;
    std::string help;
    std::map<Labels, std::unique_ptr<Counter>> counters;
    std::map<Labels, std::unique_ptr<Gauge>> gauges;
    std::map<Labels, std::unique_ptr<Histogram>> histograms;
  };
  Family& FamilyFor(const std::string& name, const std::string& help, Type type);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

// Escapes a label value per the exposition format (backslash, double quote, newline).
std::string EscapeLabelValue(const std::string& v);
// Formats a sample value: integers without a fraction, +Inf/-Inf/NaN spelled as Prometheus does.
std::string FormatValue(double v);

}  // namespace aiops::metrics
