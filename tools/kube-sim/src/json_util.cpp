#include "json_util.hpp"

#include <yaml-cpp/yaml.h>

#include <random>
#include <regex>
#include <stdexcept>

namespace kubesim {
namespace {

json ScalarToJson(const YAML::Node& node) {
  const std::string& s = node.Scalar();
  // yaml-cpp tags non-plain (quoted / block) scalars with "!": those are always strings.
  if (node.Tag() == "!") return s;
  if (s == "~" || s == "null" || s == "Null" || s == "NULL" || s.empty()) return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  static const std::regex kInt("[-+]?[0-9]+");
  static const std::regex kFloat("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  if (std::regex_match(s, kInt)) {
    try {
      return std::stoll(s);
    } catch (...) {
      return s;
    }
  }
  if (std::regex_match(s, kFloat)) {
    try {
      return std::stod(s);
    } catch (...) {
      return s;
    }
  }
  return s;
}

json NodeToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      return ScalarToJson(node);
    case YAML::NodeType::Sequence: {
      json arr = json::array();
      for (const auto& item : node)
        arr.push_back(NodeToJson(item));
      return arr;
    }
    case YAML::NodeType::Map: {
      json obj = json::object();
      for (const auto& kv : node)
        obj[kv.first.as<std::string>()] = NodeToJson(kv.second);
      return obj;
    }
  }
  return nullptr;
}

}  // namespace

json YamlToJson(const std::string& text) {
  try {
    return NodeToJson(YAML::Load(text));
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(std::string("error converting YAML to JSON: ") + e.what());
  }
}

std::vector<json> YamlToJsonAll(const std::string& text) {
  std::vector<json> out;
  try {
    for (const auto& doc : YAML::LoadAll(text)) {
      json j = NodeToJson(doc);
      if (!j.is_null()) out.push_back(std::move(j));
    }
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(std::string("error converting YAML to JSON: ") + e.what());
  }
  return out;
}

json ParseBody(const std::string& body) {
  // Fast path: almost every client sends JSON.
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded()) return j;
  return YamlToJson(body);
}

const json& Path(const json& obj, std::initializer_list<const char*> keys) {
  static const json kNull;
  const json* cur = &obj;
  for (const char* k : keys) {
    if (!cur->is_object()) return kNull;
    auto it = cur->find(k);
    if (it == cur->end()) return kNull;
    cur = &*it;
  }
  return *cur;
}

std::string PathString(const json& obj, std::initializer_list<const char*> keys,
                       const std::string& def) {
  const json& v = Path(obj, keys);
  return v.is_string() ? v.get<std::string>() : def;
}

int64_t PathInt(const json& obj, std::initializer_list<const char*> keys, int64_t def) {
  const json& v = Path(obj, keys);
  return v.is_number() ? v.get<int64_t>() : def;
}

uint32_t Fnv32a(const std::string& data) {
  uint32_t h = 2166136261u;
  for (unsigned char c : data) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

std::string SafeEncode(const std::string& s) {
  static const char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  for (unsigned char c : s)
    out.push_back(kAlphabet[c % 27]);
  return out;
}

std::string RandomSuffix(size_t n) {
  static const char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string out;
  for (size_t i = 0; i < n; ++i)
    out.push_back(kAlphabet[rng() % 27]);
  return out;
}

std::string NewUid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t a = rng(), b = rng();
  char buf[40];
  snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
           static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
           static_cast<unsigned>(((b >> 48) & 0x3fff) | 0x8000),
           static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

}  // namespace kubesim
