#include "quantity.hpp"

#include <cmath>
#include <map>

namespace aiops::collector {

namespace {
std::optional<std::pair<double, std::string>> Split(const std::string& q) {
  if (q.empty()) return std::nullopt;
  size_t pos = 0;
  double v = 0;
  try {
    v = std::stod(q, &pos);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (v < 0) return std::nullopt;
  return std::make_pair(v, q.substr(pos));
}
}  // namespace

std::optional<long long> CpuMillis(const std::string& q) {
  auto s = Split(q);
  if (!s) return std::nullopt;
  if (s->second == "m") return std::llround(s->first);
  if (s->second.empty()) return std::llround(s->first * 1000);
  return std::nullopt;
}

std::optional<long long> Bytes(const std::string& q) {
  static const std::map<std::string, double> factors = {
      {"", 1},     {"k", 1e3},     {"K", 1e3},        {"M", 1e6},           {"G", 1e9},
      {"T", 1e12}, {"Ki", 1024.0}, {"Mi", 1048576.0}, {"Gi", 1073741824.0}, {"Ti", 1099511627776.0},
      {"m", 0.001}};
  auto s = Split(q);
  if (!s) return std::nullopt;
  auto it = factors.find(s->second);
  if (it == factors.end()) return std::nullopt;
  return std::llround(s->first * it->second);
}

std::string FormatMillis(long long millis) {
  return std::to_string(millis) + "m";
}

std::string FormatBytes(long long bytes) {
  const long long gi = 1073741824LL, mi = 1048576LL;
  if (bytes % gi == 0 && bytes >= gi) return std::to_string(bytes / gi) + "Gi";
  if (bytes % mi == 0 && bytes >= mi) return std::to_string(bytes / mi) + "Mi";
  return std::to_string(bytes);
}

}  // namespace aiops::collector
