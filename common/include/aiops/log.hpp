// Structured logging on top of spdlog. Two formats: human text (default) and JSON lines
// (--log-format json), one object per line with ts, level, service, msg and any fields.
// Every line about a remediation passes its id as the field "remediation_id", so
// `grep`/`jq` on one id shows the whole story of that remediation.
//
// Use these functions rather than spdlog directly, so JSON output stays valid JSON.
#pragma once

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <string>
#include <utility>
#include <vector>

namespace aiops::log {

enum class Format { kText, kJson };

using Field = std::pair<std::string, std::string>;
using Fields = std::vector<Field>;

// Sets up the default logger to write to stderr. `level` is trace|debug|info|warn|error;
// throws std::invalid_argument on an unknown level or format name.
void Init(const std::string& service, const std::string& level, const std::string& format);
Format CurrentFormat();

// Renders one log line body for the current format (exposed for tests).
std::string Render(const std::string& message, const Fields& fields);
// JSON string escaping (quotes included).
std::string JsonQuote(const std::string& s);

void Write(spdlog::level::level_enum level, const std::string& message, const Fields& fields);

template <class... Args>
void Info(const Fields& fields, fmt::format_string<Args...> f, Args&&... args) {
  Write(spdlog::level::info, fmt::format(f, std::forward<Args>(args)...), fields);
}
template <class... Args>
void Warn(const Fields& fields, fmt::format_string<Args...> f, Args&&... args) {
  Write(spdlog::level::warn, fmt::format(f, std::forward<Args>(args)...), fields);
}
template <class... Args>
void Error(const Fields& fields, fmt::format_string<Args...> f, Args&&... args) {
  Write(spdlog::level::err, fmt::format(f, std::forward<Args>(args)...), fields);
}
template <class... Args>
void Debug(const Fields& fields, fmt::format_string<Args...> f, Args&&... args) {
  if (!spdlog::should_log(spdlog::level::debug)) return;
  Write(spdlog::level::debug, fmt::format(f, std::forward<Args>(args)...), fields);
}

// The field that ties a line to a remediation.
inline Field Rid(const std::string& remediation_id) {
  return {"remediation_id", remediation_id};
}

}  // namespace aiops::log
