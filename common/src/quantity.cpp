#include "aiops/quantity.hpp"

#include <cmath>
#include <cstdlib>

namespace aiops {

std::optional<double> ParseQuantity(const std::string& text) {
  if (text.empty()) return std::nullopt;
  const char* begin = text.c_str();
  char* end = nullptr;
  double number = std::strtod(begin, &end);
  if (end == begin || number < 0 || !std::isfinite(number)) return std::nullopt;
  std::string suffix(end);
  static const std::pair<const char*, double> kSuffixes[] = {
      {"", 1},
      {"m", 1e-3},
      {"k", 1e3},
      {"M", 1e6},
      {"G", 1e9},
      {"T", 1e12},
      {"Ki", 1024.0},
      {"Mi", 1024.0 * 1024},
      {"Gi", 1024.0 * 1024 * 1024},
      {"Ti", 1024.0 * 1024 * 1024 * 1024},
  };
  for (const auto& [name, factor] : kSuffixes) {
    if (suffix == name) return number * factor;
  }
  return std::nullopt;
}

std::string FormatMemory(double bytes) {
  const double mi = 1024.0 * 1024;
  auto mib = static_cast<int64_t>(std::ceil(bytes / mi - 1e-9));
  if (mib > 0 && mib % 1024 == 0) return std::to_string(mib / 1024) + "Gi";
  return std::to_string(mib) + "Mi";
}

std::string FormatCpu(double cores) {
  auto milli = static_cast<int64_t>(std::llround(cores * 1000));
  if (milli % 1000 == 0) return std::to_string(milli / 1000);
  return std::to_string(milli) + "m";
}

}  // namespace aiops
