// Reading fields of JSON that came from outside the process (API servers, LLM servers).
// nlohmann's `value(key, default)` throws when the object is not an object or the field has
// another type; data we do not control must not be able to throw, so these answer the
// default instead.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace aiops::json_fields {

// The field, or a null value when `j` is not an object or has no such field.
inline const nlohmann::json& Field(const nlohmann::json& j, const char* key) {
  static const nlohmann::json null;
  if (!j.is_object()) return null;
  auto it = j.find(key);
  return it == j.end() ? null : *it;
}

// The string field, or "" when missing or not a string.
inline std::string String(const nlohmann::json& j, const char* key) {
  const auto& v = Field(j, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

// The integer field, or `fallback` when missing, not an integer or outside [lo, hi].
inline int64_t Integer(const nlohmann::json& j, const char* key, int64_t fallback,
                       int64_t lo = INT64_MIN, int64_t hi = INT64_MAX) {
  const auto& v = Field(j, key);
  if (!v.is_number_integer()) return fallback;  // unsigned numbers are integers too
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    return fallback;
  }
  const auto i = v.get<int64_t>();
  return i >= lo && i <= hi ? i : fallback;
}

}  // namespace aiops::json_fields
