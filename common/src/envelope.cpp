#include "aiops/envelope.hpp"

#include <google/protobuf/util/time_util.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdio>
#include <stdexcept>

namespace aiops::envelope {

namespace {

std::string Hex(const unsigned char* data, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 0xf];
  }
  return out;
}

google::protobuf::Timestamp* Field(v1::Envelope& env, Stage stage) {
  auto* t = env.mutable_times();
  switch (stage) {
    case Stage::kDetected:
      return t->mutable_detected();
    case Stage::kCollected:
      return t->mutable_collected();
    case Stage::kProposed:
      return t->mutable_proposed();
    case Stage::kDecided:
      return t->mutable_decided();
    case Stage::kExecuted:
      return t->mutable_executed();
    case Stage::kVerified:
      return t->mutable_verified();
  }
  throw std::logic_error("unknown stage");
}

bool HasField(const v1::Envelope& env, Stage stage) {
  if (!env.has_times()) return false;
  const auto& t = env.times();
  switch (stage) {
    case Stage::kDetected:
      return t.has_detected();
    case Stage::kCollected:
      return t.has_collected();
    case Stage::kProposed:
      return t.has_proposed();
    case Stage::kDecided:
      return t.has_decided();
    case Stage::kExecuted:
      return t.has_executed();
    case Stage::kVerified:
      return t.has_verified();
  }
  return false;
}

}  // namespace

std::string RemediationId(const std::vector<std::string>& parts) {
  if (parts.empty()) throw std::invalid_argument("RemediationId needs at least one part");
  std::string joined;
  for (const auto& p : parts) {
    // Length-prefix each part so ("a/b","c") and ("a","b/c") differ.
    joined += std::to_string(p.size()) + ":" + p + "|";
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(joined.data(), joined.size(), digest, &len, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  return "rem-" + Hex(digest, 10);
}

std::string NewTraceId() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) throw std::runtime_error("RAND_bytes failed");
  return Hex(bytes, sizeof(bytes));
}

v1::Envelope New(const std::string& remediation_id, const std::string& cluster,
                 const std::string& trace_id, const std::string& producer) {
  v1::Envelope env;
  env.set_remediation_id(remediation_id);
  env.set_cluster(cluster);
  env.set_trace_id(trace_id.empty() ? NewTraceId() : trace_id);
  env.set_schema_version(kSchemaVersion);
  env.set_producer(producer);
  return env;
}

v1::Envelope Next(const v1::Envelope& upstream, const std::string& producer) {
  v1::Envelope env = upstream;
  env.set_schema_version(kSchemaVersion);
  env.set_producer(producer);
  return env;
}

void Stamp(v1::Envelope& env, Stage stage, std::chrono::system_clock::time_point at) {
  if (HasField(env, stage)) return;
  auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(at.time_since_epoch()).count();
  *Field(env, stage) = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(micros);
}

std::optional<std::chrono::system_clock::time_point> StampOf(const v1::Envelope& env, Stage stage) {
  if (!HasField(env, stage)) return std::nullopt;
  v1::Envelope copy = env;
  auto micros = google::protobuf::util::TimeUtil::TimestampToMicroseconds(*Field(copy, stage));
  return std::chrono::system_clock::time_point(std::chrono::microseconds(micros));
}

std::optional<std::string> Validate(const v1::Envelope& env) {
  if (env.remediation_id().empty()) return "envelope.remediation_id is empty";
  if (env.remediation_id().size() > 253) return "envelope.remediation_id is longer than 253";
  if (env.cluster().empty()) return "envelope.cluster is empty";
  if (env.schema_version() == 0) return "envelope.schema_version is 0";
  if (env.schema_version() > kSchemaVersion) {
    return "envelope.schema_version " + std::to_string(env.schema_version()) +
           " is newer than this build understands (" + std::to_string(kSchemaVersion) + ")";
  }
  return std::nullopt;
}

const v1::Envelope* Of(const google::protobuf::Message& msg) {
  const auto* desc = msg.GetDescriptor();
  const auto* field = desc->FindFieldByName("envelope");
  if (field == nullptr || field->message_type() != v1::Envelope::descriptor()) return nullptr;
  const auto* refl = msg.GetReflection();
  if (!refl->HasField(msg, field)) return nullptr;
  return static_cast<const v1::Envelope*>(&refl->GetMessage(msg, field));
}

}  // namespace aiops::envelope
