#include "audit.hpp"

#include <google/protobuf/util/json_util.h>

#include <chrono>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>

#include "aiops/base64.hpp"
#include "aiops/kafka_consumer.hpp"
#include "aiops/topics.hpp"

namespace aiopsctl {

namespace {

std::string Rfc3339(int64_t ms) {
  if (ms <= 0) return "";
  std::time_t secs = ms / 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof(out), "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

// Keys and header values may hold arbitrary bytes; JSON needs valid UTF-8.
std::string Printable(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string FormatAuditRecord(const aiops::kafka::Message& m, OutputFormat format) {
  nlohmann::json record;
  record["topic"] = m.topic;
  record["partition"] = m.partition;
  record["offset"] = m.offset;
  record["key"] = nlohmann::json::parse(Printable(m.key));
  record["timestamp"] = Rfc3339(m.timestamp_ms);

  std::string error;
  const auto* prototype = aiops::topics::PrototypeFor(m.topic);
  if (prototype != nullptr) {
    std::unique_ptr<google::protobuf::Message> msg(prototype->New());
    if (auto err = aiops::kafka::Decode(m, *msg)) {
      error = *err;
    } else {
      std::string json;
      google::protobuf::util::JsonPrintOptions options;
      options.preserve_proto_field_names = true;
      if (google::protobuf::util::MessageToJsonString(*msg, &json, options).ok()) {
        record["type"] = msg->GetTypeName();
        record["message"] = nlohmann::json::parse(json);
      } else {
        error = "cannot render as JSON";
      }
    }
  } else {
    error = m.Header(aiops::kafka::kHeaderDlqError).value_or("not a pipeline topic");
  }
  if (!error.empty()) {
    record["error"] = error;
    record["payload_base64"] = aiops::Base64Encode(m.payload);
    nlohmann::json headers = nlohmann::json::object();
    for (const auto& [k, v] : m.headers)
      headers[k] = nlohmann::json::parse(Printable(v));
    record["headers"] = headers;
  }

  if (format == OutputFormat::kJson) {
    return record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string line = record["timestamp"].get<std::string>() + " " + m.topic + "[" +
                     std::to_string(m.partition) + "]@" + std::to_string(m.offset) +
                     " key=" + record["key"].get<std::string>();
  if (record.contains("message")) {
    line += " " + record["type"].get<std::string>() + " " +
            record["message"].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line += " error=" + Printable(error) + " bytes=" + std::to_string(m.payload.size());
  }
  return line;
}

}  // namespace aiopsctl
