#include "aiops/log.hpp"

#include <google/protobuf/stubs/logging.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <atomic>
#include <stdexcept>

namespace aiops::log {

namespace {
std::atomic<Format> g_format{Format::kText};

// libprotobuf writes its own complaints to stderr at ERROR, one per string field with invalid
// UTF-8: a hostile value on a topic would flood the logs although the decoder already turns it
// into a dead-letter with the reason. Its messages go through our logger at debug instead.
void ProtobufLog(google::protobuf::LogLevel level, const char* file, int line,
                 const std::string& message) {
  if (level == google::protobuf::LOGLEVEL_FATAL) {
    Write(spdlog::level::critical, message,
          {{"source", "protobuf"}, {"at", std::string(file) + ":" + std::to_string(line)}});
    return;
  }
  if (!spdlog::should_log(spdlog::level::debug)) return;
  Write(spdlog::level::debug, message,
        {{"source", "protobuf"}, {"at", std::string(file) + ":" + std::to_string(line)}});
}
}  // namespace

std::string JsonQuote(const std::string& s) {
  std::string out = "\"";
  out.reserve(s.size() + 2);
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

void Init(const std::string& service, const std::string& level, const std::string& format) {
  auto lvl = spdlog::level::from_str(level);
  // from_str answers "off" for anything it does not know; only accept "off" when asked for.
  if (lvl == spdlog::level::off && level != "off") {
    throw std::invalid_argument("unknown log level '" + level +
                                "' (trace, debug, info, warn, error, off)");
  }
  Format f;
  if (format == "text") {
    f = Format::kText;
  } else if (format == "json") {
    f = Format::kJson;
  } else {
    throw std::invalid_argument("unknown log format '" + format + "' (text, json)");
  }
  auto logger =
      std::make_shared<spdlog::logger>(service, std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (f == Format::kJson) {
    // The body (%v) starts with `"msg":...`; Render builds it.
    logger->set_pattern("{\"ts\":\"%Y-%m-%dT%H:%M:%S.%fZ\",\"level\":\"%l\",\"service\":" +
                            JsonQuote(service) + ",%v}",
                        spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ " + service + " %v",
                        spdlog::pattern_time_type::utc);
  }
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::info);
  g_format = f;
  spdlog::set_default_logger(logger);
  google::protobuf::SetLogHandler(&ProtobufLog);
}

Format CurrentFormat() {
  return g_format.load();
}

std::string Render(const std::string& message, const Fields& fields) {
  std::string out;
  if (CurrentFormat() == Format::kJson) {
    out = "\"msg\":" + JsonQuote(message);
    for (const auto& [k, v] : fields)
      out += "," + JsonQuote(k) + ":" + JsonQuote(v);
    return out;
  }
  out = message;
  for (const auto& [k, v] : fields) {
    bool quote = v.empty() || v.find_first_of(" \t\"=") != std::string::npos;
    out += " " + k + "=" + (quote ? JsonQuote(v) : v);
  }
  return out;
}

void Write(spdlog::level::level_enum level, const std::string& message, const Fields& fields) {
  spdlog::default_logger_raw()->log(level, "{}", Render(message, fields));
}

}  // namespace aiops::log
