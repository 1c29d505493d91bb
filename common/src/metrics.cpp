#include "aiops/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace aiops::metrics {

namespace {

void AtomicAdd(std::atomic<double>& a, double v) {
  double cur = a.load();
  while (!a.compare_exchange_weak(cur, cur + v)) {
  }
}

bool ValidName(const std::string& name) {
  static const std::regex re("^[a-zA-Z_:][a-zA-Z0-9_:]*$");
  return std::regex_match(name, re);
}

bool ValidLabelName(const std::string& name) {
  static const std::regex re("^[a-zA-Z_][a-zA-Z0-9_]*$");
  return std::regex_match(name, re) && name.rfind("__", 0) != 0;
}

std::string EscapeHelp(const std::string& help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string RenderLabels(const Labels& labels, const std::string& extra_key = "",
                         const std::string& extra_value = "") {
  if (labels.empty() && extra_key.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ",";
    first = false;
    out += k + "=\"" + EscapeLabelValue(v) + "\"";
  }
  if (!extra_key.empty()) {
    if (!first) out += ",";
    out += extra_key + "=\"" + EscapeLabelValue(extra_value) + "\"";
  }
  return out + "}";
}

}  // namespace

void Counter::Inc(double v) {
  if (v < 0) throw std::invalid_argument("counter increment must not be negative");
  AtomicAdd(value_, v);
}

void Gauge::Add(double v) {
  AtomicAdd(value_, v);
}

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  if (!std::is_sorted(bounds_.begin(), bounds_.end()) ||
      std::adjacent_find(bounds_.begin(), bounds_.end()) != bounds_.end()) {
    throw std::invalid_argument("histogram bounds must be strictly increasing");
  }
  counts_.assign(bounds_.size() + 1, 0);
}

void Histogram::Observe(double v) {
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  std::lock_guard lock(mu_);
  counts_[i]++;
  sum_ += v;
  count_++;
}

std::vector<uint64_t> Histogram::CumulativeCounts() const {
  std::lock_guard lock(mu_);
  std::vector<uint64_t> out(counts_.size());
  uint64_t acc = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    acc += counts_[i];
    out[i] = acc;
  }
  return out;
}

double Histogram::Sum() const {
  std::lock_guard lock(mu_);
  return sum_;
}

uint64_t Histogram::Count() const {
  std::lock_guard lock(mu_);
  return count_;
}

std::vector<double> LatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

Registry::Family& Registry::FamilyFor(const std::string& name, const std::string& help, Type type) {
  if (!ValidName(name)) throw std::invalid_argument("invalid metric name: " + name);
  auto [it, inserted] = families_.try_emplace(name);
  if (inserted) {
    it->second.type = type;
    it->second.help = help;
  } else if (it->second.type != type) {
    throw std::invalid_argument("metric " + name + " already registered with another type");
  }
  return it->second;
}

namespace {
void CheckLabels(const Labels& labels) {
  for (const auto& [k, v] : labels) {
    if (!ValidLabelName(k)) throw std::invalid_argument("invalid label name: " + k);
  }
}
}  // namespace

Counter& Registry::GetCounter(const std::string& name, const std::string& help,
                              const Labels& labels) {
  CheckLabels(labels);
  std::lock_guard lock(mu_);
  auto& series = FamilyFor(name, help, Type::kCounter).counters[labels];
  if (!series) series = std::make_unique<Counter>();
  return *series;
}

Gauge& Registry::GetGauge(const std::string& name, const std::string& help, const Labels& labels) {
  CheckLabels(labels);
  std::lock_guard lock(mu_);
  auto& series = FamilyFor(name, help, Type::kGauge).gauges[labels];
  if (!series) series = std::make_unique<Gauge>();
  return *series;
}

Histogram& Registry::GetHistogram(const std::string& name, const std::string& help,
                                  const Labels& labels, std::vector<double> bounds) {
  CheckLabels(labels);
  if (labels.count("le")) throw std::invalid_argument("histogram label 'le' is reserved");
  std::lock_guard lock(mu_);
  auto& series = FamilyFor(name, help, Type::kHistogram).histograms[labels];
  if (!series) series = std::make_unique<Histogram>(std::move(bounds));
  return *series;
}

std::string Registry::Render() const {
  std::lock_guard lock(mu_);
  std::ostringstream out;
  for (const auto& [name, family] : families_) {
    out << "# HELP " << name << " " << EscapeHelp(family.help) << "\n";
    switch (family.type) {
      case Type::kCounter:
        out << "# TYPE " << name << " counter\n";
        for (const auto& [labels, c] : family.counters) {
          out << name << RenderLabels(labels) << " " << FormatValue(c->Value()) << "\n";
        }
        break;
      case Type::kGauge:
        out << "# TYPE " << name << " gauge\n";
        for (const auto& [labels, g] : family.gauges) {
          out << name << RenderLabels(labels) << " " << FormatValue(g->Value()) << "\n";
        }
        break;
      case Type::kHistogram:
        out << "# TYPE " << name << " histogram\n";
        for (const auto& [labels, h] : family.histograms) {
          auto cumulative = h->CumulativeCounts();
          const auto& bounds = h->bounds();
          for (size_t i = 0; i < bounds.size(); ++i) {
            out << name << "_bucket" << RenderLabels(labels, "le", FormatValue(bounds[i])) << " "
                << cumulative[i] << "\n";
          }
          out << name << "_bucket" << RenderLabels(labels, "le", "+Inf") << " " << cumulative.back()
              << "\n";
          out << name << "_sum" << RenderLabels(labels) << " " << FormatValue(h->Sum()) << "\n";
          out << name << "_count" << RenderLabels(labels) << " " << cumulative.back() << "\n";
        }
        break;
    }
  }
  return out.str();
}

std::string EscapeLabelValue(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    return std::to_string(static_cast<long long>(v));
  }
  // Shortest text that reads back as the same double: 0.1 stays "0.1".
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, res.ptr);
}

}  // namespace aiops::metrics
