#include "quantity.hpp"

#include <cstdlib>

namespace kubesim {

std::optional<double> ParseQuantity(const std::string& q) {
  if (q.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(q.c_str(), &end);
  if (end == q.c_str()) return std::nullopt;
  std::string suffix(end);
  if (suffix.empty()) return v;
  struct S {
    const char* s;
    double m;
  };
  static const S kSuffixes[] = {{"m", 1e-3},
                                {"k", 1e3},
                                {"M", 1e6},
                                {"G", 1e9},
                                {"T", 1e12},
                                {"P", 1e15},
                                {"E", 1e18},
                                {"Ki", 1024.0},
                                {"Mi", 1048576.0},
                                {"Gi", 1073741824.0},
                                {"Ti", 1099511627776.0},
                                {"Pi", 1125899906842624.0},
                                {"Ei", 1152921504606846976.0},
                                {"n", 1e-9},
                                {"u", 1e-6}};
  for (const auto& s : kSuffixes) {
    if (suffix == s.s) return v * s.m;
  }
  return std::nullopt;
}

}  // namespace kubesim
