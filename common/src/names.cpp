#include "aiops/names.hpp"

#include <cctype>

namespace aiops {

namespace {

// "FAILURE_CLASS_IMAGE_PULL" -> "image-pull" after dropping `prefix`.
std::string Kebab(const std::string& enum_name, const std::string& prefix) {
  std::string s = enum_name.rfind(prefix, 0) == 0 ? enum_name.substr(prefix.size()) : enum_name;
  for (auto& c : s)
    c = c == '_' ? '-' : static_cast<char>(std::tolower(c));
  return s;
}

// Lower case without separators, so every spelling compares equal.
std::string Fold(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '-' || c == '_' || c == ' ') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

template <class Enum>
std::optional<Enum> ParseEnum(const google::protobuf::EnumDescriptor* desc,
                              const std::string& prefix, const std::string& text) {
  auto wanted = Fold(text);
  auto folded_prefix = Fold(prefix);
  if (wanted.rfind(folded_prefix, 0) == 0) wanted = wanted.substr(folded_prefix.size());
  if (wanted.empty()) return std::nullopt;
  for (int i = 0; i < desc->value_count(); ++i) {
    const auto* v = desc->value(i);
    if (v->number() != 0 && Fold(Kebab(v->name(), prefix)) == wanted) {
      return static_cast<Enum>(v->number());
    }
  }
  return std::nullopt;
}

}  // namespace

std::string FailureClassName(v1::FailureClass c) {
  return Kebab(v1::FailureClass_Name(c), "FAILURE_CLASS_");
}

std::optional<v1::FailureClass> ParseFailureClass(const std::string& text) {
  return ParseEnum<v1::FailureClass>(v1::FailureClass_descriptor(), "FAILURE_CLASS_", text);
}

std::string RiskName(v1::RiskLevel r) {
  return Kebab(v1::RiskLevel_Name(r), "RISK_LEVEL_");
}

std::optional<v1::RiskLevel> ParseRisk(const std::string& text) {
  return ParseEnum<v1::RiskLevel>(v1::RiskLevel_descriptor(), "RISK_LEVEL_", text);
}

}  // namespace aiops
