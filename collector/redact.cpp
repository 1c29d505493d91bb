#include "redact.hpp"

#include <algorithm>
#include <regex>

#include "aiops/json_fields.hpp"

namespace aiops::collector {

using nlohmann::json;
// Objects come from the cluster as they are: a field of another type reads as absent.
using json_fields::String;

bool SecretLikeName(const std::string& name) {
  std::string upper = name;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  static const char* words[] = {"PASSWORD",   "PASSWD",  "PWD",  "TOKEN", "SECRET",  "KEY",
                                "CREDENTIAL", "PRIVATE", "AUTH", "CERT",  "SESSION", "COOKIE"};
  for (const char* w : words) {
    if (upper.find(w) != std::string::npos) return true;
  }
  return false;
}

namespace {
int RedactLine(std::string& text);

// PEM private key blocks span lines, so they are cut out before the line-by-line scan.
int RedactPrivateKeys(std::string& text) {
  int count = 0;
  size_t pos = 0;
  while ((pos = text.find("-----BEGIN ", pos)) != std::string::npos) {
    size_t header_end = text.find("-----", pos + 11);
    if (header_end == std::string::npos) break;
    if (text.compare(header_end - 11, 11, "PRIVATE KEY") != 0) {
      pos = header_end + 5;
      continue;
    }
    size_t end = text.find("-----END ", header_end);
    size_t end_close = end == std::string::npos ? std::string::npos : text.find("-----", end + 9);
    size_t stop = end_close == std::string::npos ? text.size() : end_close + 5;
    text.replace(pos, stop - pos, "[REDACTED PRIVATE KEY]");
    ++count;
    pos += 22;
  }
  return count;
}
}  // namespace

int RedactText(std::string& text) {
  // std::regex recurses per character, so one huge line could overflow the stack. Scan line
  // by line, and elide lines too long to scan safely rather than let them through unscanned.
  constexpr size_t kMaxScannedLine = 4096;
  int keys = RedactPrivateKeys(text);
  if (text.size() <= kMaxScannedLine && text.find('\n') == std::string::npos) {
    return keys + RedactLine(text);
  }
  int count = keys;
  std::string out;
  out.reserve(text.size());
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    size_t end = nl == std::string::npos ? text.size() : nl;
    std::string line = text.substr(start, end - start);
    if (line.size() > kMaxScannedLine) {
      line = "[REDACTED: line of " + std::to_string(line.size()) + " bytes not scanned]";
      ++count;
    } else {
      count += RedactLine(line);
    }
    out += line;
    if (nl == std::string::npos) break;
    out += '\n';
    start = nl + 1;
  }
  text = std::move(out);
  return count;
}

namespace {
int RedactLine(std::string& text) {
  // Order matters: whole structures (key blocks, JWTs) before the generic assignments.
  static const std::vector<std::pair<std::regex, std::string>> rules = [] {
    auto icase = std::regex::ECMAScript | std::regex::icase;
    return std::vector<std::pair<std::regex, std::string>>{
        {std::regex("eyJ[A-Za-z0-9_-]{5,}\\.[A-Za-z0-9_-]{5,}\\.[A-Za-z0-9_-]{5,}"),
         "[REDACTED JWT]"},
        {std::regex("(bearer\\s+)[A-Za-z0-9._~+/=-]{8,}", icase), "$1[REDACTED]"},
        {std::regex("(basic\\s+)[A-Za-z0-9+/=]{8,}", icase), "$1[REDACTED]"},
        {std::regex("\\b(AKIA|ASIA)[0-9A-Z]{16}\\b"), "[REDACTED AWS KEY]"},
        {std::regex("\\bAIza[0-9A-Za-z_-]{35}\\b"), "[REDACTED GCP KEY]"},
        {std::regex("\\b(ghp|gho|ghs|ghu|github_pat)_[A-Za-z0-9_]{20,}\\b"),
         "[REDACTED GITHUB TOKEN]"},
        {std::regex("\\bxox[abprs]-[A-Za-z0-9-]{10,}\\b"), "[REDACTED SLACK TOKEN]"},
        {std::regex("\\bsk-[A-Za-z0-9_-]{20,}\\b"), "[REDACTED API KEY]"},
        // key=value / key: value / "key":"value" for credential-like keys.
        {std::regex("((?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|"
                    "client[_-]?secret|auth)[\"']?\\s*[:=]\\s*[\"']?)[^\\s\"'&,;]+",
                    icase),
         "$1[REDACTED]"},
        // credentials inside URLs: scheme://user:pass@host
        {std::regex("([a-z][a-z0-9+.-]*://[^/\\s:@]+:)[^@\\s/]+@", icase), "$1[REDACTED]@"},
    };
  }();
  int count = 0;
  for (const auto& [re, replacement] : rules) {
    auto begin = std::sregex_iterator(text.begin(), text.end(), re);
    auto end = std::sregex_iterator();
    int n = static_cast<int>(std::distance(begin, end));
    if (n == 0) continue;
    count += n;
    text = std::regex_replace(text, re, replacement);
  }
  return count;
}
}  // namespace

namespace {

void RedactContainers(json& containers, const std::string& path, std::vector<std::string>& notes) {
  if (!containers.is_array()) return;
  for (auto& c : containers) {
    if (!c.is_object() || !c.contains("env") || !c["env"].is_array()) continue;
    for (auto& e : c["env"]) {
      if (!e.is_object() || !e.contains("value")) continue;
      std::string name = String(e, "name");
      if (SecretLikeName(name)) {
        e["value"] = kRedacted;
        notes.push_back(path + "[" + String(c, "name") + "].env." + name);
      } else if (e["value"].is_string()) {
        std::string v = e["value"].get<std::string>();
        if (RedactText(v) > 0) {
          e["value"] = v;
          notes.push_back(path + "[" + String(c, "name") + "].env." + name + " (token-like)");
        }
      }
    }
  }
}

void RedactPodSpec(json& spec, const std::string& path, std::vector<std::string>& notes) {
  if (!spec.is_object()) return;
  for (const char* list : {"containers", "initContainers", "ephemeralContainers"}) {
    if (spec.contains(list)) RedactContainers(spec[list], path + "." + list, notes);
  }
}

}  // namespace

void RedactObject(json& object, std::vector<std::string>& notes) {
  if (!object.is_object()) return;
  if (object.contains("metadata") && object["metadata"].is_object()) {
    auto& meta = object["metadata"];
    meta.erase("managedFields");
    if (meta.contains("annotations") && meta["annotations"].is_object()) {
      if (meta["annotations"].erase("kubectl.kubernetes.io/last-applied-configuration") > 0) {
        notes.push_back("metadata.annotations.last-applied-configuration");
      }
    }
  }
  if (String(object, "kind") == "Secret") {
    for (const char* field : {"data", "stringData"}) {
      if (object.contains(field) && object[field].is_object()) {
        for (auto& [k, v] : object[field].items())
          v = kRedacted;
        notes.push_back(std::string("secret.") + field);
      }
    }
  }
  if (!object.contains("spec") || !object["spec"].is_object()) return;
  auto& spec = object["spec"];
  RedactPodSpec(spec, "spec", notes);  // a Pod
  if (spec.contains("template") && spec["template"].is_object() &&
      spec["template"].contains("spec")) {
    RedactPodSpec(spec["template"]["spec"], "spec.template.spec", notes);  // workloads
  }
}

}  // namespace aiops::collector
