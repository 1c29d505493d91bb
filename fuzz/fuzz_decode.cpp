// Kafka values are bytes anyone with produce rights can write. The input is a sequence of
// records, each `flags(1) length(2, little endian) value(length)`:
//   flags & 7   topic: anomalies, evidence, proposals, decisions, executions (mod 5)
//   flags & 8   key = the value's own envelope.remediation_id (else a fixed key), so the
//               strict checks after parsing are reached as often as the parse failures
//   flags & 16  message-type header naming the right type; flags & 32 a wrong one
// Every record goes through kafka::Decode (all consumers) and the approver's Ingest into one
// Store, so sequences of messages drive the remediation state machine. Decode must say why
// it refuses, Ingest must agree with it, and nothing may crash or throw.
#include <google/protobuf/stubs/logging.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "aiops/envelope.hpp"
#include "aiops/kafka_message.hpp"
#include "aiops/topics.hpp"
#include "ingest.hpp"

namespace {

using namespace aiops;

std::string OwnRemediationId(const google::protobuf::Message& prototype, const std::string& value) {
  std::unique_ptr<google::protobuf::Message> msg(prototype.New());
  if (!msg->ParseFromString(value)) return "";
  const auto* env = envelope::Of(*msg);
  return env == nullptr ? "" : env->remediation_id();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // libprotobuf logs every string field with invalid UTF-8 at ERROR; the parse result is what
  // is under test, and the log would only slow the run down.
  google::protobuf::SetLogHandler(
      [](google::protobuf::LogLevel, const char*, int, const std::string&) {});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  approver::Store store;
  size_t pos = 0;
  while (pos + 3 <= size) {
    const uint8_t flags = data[pos];
    const size_t len = std::min<size_t>(data[pos + 1] | (data[pos + 2] << 8), size - pos - 3);
    kafka::Message m;
    m.topic = topics::Pipeline()[flags % 5];
    m.payload.assign(reinterpret_cast<const char*>(data + pos + 3), len);
    pos += 3 + len;
    m.offset = static_cast<int64_t>(pos);
    m.timestamp_ms = 1795000000000 + static_cast<int64_t>(pos);  // fixed: findings reproduce
    const auto* prototype = topics::PrototypeFor(m.topic);
    m.key = (flags & 8) ? OwnRemediationId(*prototype, m.payload) : "rem-fuzz";
    if (flags & 16) m.headers.emplace_back(kafka::kHeaderMessageType, prototype->GetTypeName());
    if (flags & 32) m.headers.emplace_back(kafka::kHeaderMessageType, "aiops.v1.Bogus");

    std::unique_ptr<google::protobuf::Message> out(prototype->New());
    auto err = kafka::Decode(m, *out);
    if (err && err->empty()) std::abort();  // a refusal must say why (dead-letter header)
    auto outcome = approver::Ingest(store, m);
    if ((outcome.kind == approver::IngestOutcome::Kind::kInvalid) != err.has_value()) std::abort();
  }
  // The views the gRPC API serves are built from whatever was folded in.
  uint64_t version = 0;
  (void)store.ChangedSince(0, &version);
  (void)store.List(v1::RemediationFilter{});
  (void)store.CountByState();
  return 0;
}
