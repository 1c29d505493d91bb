#include "aiops/config.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>

extern char** environ;

namespace aiops::config {

namespace {

std::string Trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> SplitList(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep)) {
    item = Trim(item);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string NodeKind(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "null";
    default:
      return "a scalar";
  }
}

int ParseInt(const std::string& path, const std::string& text) {
  try {
    size_t pos = 0;
    long v = std::stol(text, &pos);
    if (pos != text.size() || v < INT32_MIN || v > INT32_MAX) throw std::invalid_argument("");
    return static_cast<int>(v);
  } catch (const std::exception&) {
    throw ConfigError(path + ": expected an integer, got '" + text + "'");
  }
}

double ParseDouble(const std::string& path, const std::string& text) {
  try {
    size_t pos = 0;
    double v = std::stod(text, &pos);
    if (pos != text.size()) throw std::invalid_argument("");
    return v;
  } catch (const std::exception&) {
    throw ConfigError(path + ": expected a number, got '" + text + "'");
  }
}

bool ParseBool(const std::string& path, const std::string& text) {
  std::string t = text;
  std::transform(t.begin(), t.end(), t.begin(), ::tolower);
  if (t == "true" || t == "1" || t == "yes" || t == "on") return true;
  if (t == "false" || t == "0" || t == "no" || t == "off") return false;
  throw ConfigError(path + ": expected true or false, got '" + text + "'");
}

Schema::StringMap ParseMap(const std::string& path, const std::string& text) {
  Schema::StringMap out;
  for (const auto& item : SplitList(text, ',')) {
    auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw ConfigError(path + ": expected key=value pairs, got '" + item + "'");
    }
    out[Trim(item.substr(0, eq))] = Trim(item.substr(eq + 1));
  }
  return out;
}

template <class T>
std::function<std::optional<std::string>()> Bind(T* target, Validator<T> v) {
  if (!v) return {};
  return [target, v] { return v(*target); };
}

}  // namespace

void Schema::Insert(const std::string& path, Target target, std::string help,
                    std::function<std::optional<std::string>()> validate) {
  if (path.empty()) throw std::invalid_argument("config key path must not be empty");
  if (!entries_.emplace(path, Entry{target, std::move(help), std::move(validate)}).second) {
    throw std::invalid_argument("config key registered twice: " + path);
  }
}

void Schema::Add(const std::string& path, std::string* t, std::string help,
                 Validator<std::string> v) {
  Insert(path, t, std::move(help), Bind(t, std::move(v)));
}
void Schema::Add(const std::string& path, int* t, std::string help, Validator<int> v) {
  Insert(path, t, std::move(help), Bind(t, std::move(v)));
}
void Schema::Add(const std::string& path, double* t, std::string help, Validator<double> v) {
  Insert(path, t, std::move(help), Bind(t, std::move(v)));
}
void Schema::Add(const std::string& path, bool* t, std::string help) {
  Insert(path, t, std::move(help), {});
}
void Schema::Add(const std::string& path, StringList* t, std::string help,
                 Validator<StringList> v) {
  Insert(path, t, std::move(help), Bind(t, std::move(v)));
}
void Schema::Add(const std::string& path, StringMap* t, std::string help) {
  Insert(path, t, std::move(help), {});
}
void Schema::AddSection(const std::string& path, YAML::Node* t, std::string help) {
  Insert(path, t, std::move(help), {});
}

void Schema::IgnoreSections(std::vector<std::string> sections) {
  ignored_sections_ = std::move(sections);
}

void Schema::LoadFile(const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file);
  } catch (const YAML::BadFile&) {
    throw ConfigError("cannot read config file " + file);
  } catch (const YAML::Exception& e) {
    throw ConfigError(file + ": invalid YAML: " + e.what());
  }
  if (root.IsNull()) return;  // an empty file means "all defaults"
  if (!root.IsMap()) throw ConfigError(file + ": top level must be a map of keys");
  Walk(root, "", file);
}

void Schema::LoadYaml(const std::string& text, const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(origin + ": invalid YAML: " + e.what());
  }
  if (root.IsNull()) return;
  if (!root.IsMap()) throw ConfigError(origin + ": top level must be a map of keys");
  Walk(root, "", origin);
}

void Schema::Walk(const YAML::Node& node, const std::string& prefix, const std::string& origin) {
  for (const auto& kv : node) {
    std::string key = kv.first.as<std::string>();
    std::string path = prefix.empty() ? key : prefix + "." + key;
    auto it = entries_.find(path);
    if (it != entries_.end()) {
      SetFromNode(path, it->second, kv.second, origin);
      continue;
    }
    // Not a key itself: must be a prefix of registered keys.
    bool is_prefix = std::any_of(entries_.begin(), entries_.end(),
                                 [&](const auto& e) { return e.first.rfind(path + ".", 0) == 0; });
    if (!is_prefix) {
      bool ignored = prefix.empty() && std::find(ignored_sections_.begin(), ignored_sections_.end(),
                                                 key) != ignored_sections_.end();
      if (ignored) continue;
      throw ConfigError(origin + ": unknown key '" + path + "'");
    }
    if (!kv.second.IsMap()) {
      throw ConfigError(origin + ": '" + path + "' must be a map, got " + NodeKind(kv.second));
    }
    Walk(kv.second, path, origin);
  }
}

void Schema::SetFromNode(const std::string& path, Entry& entry, const YAML::Node& node,
                         const std::string& origin) {
  auto where = origin + ": " + path;
  std::visit(
      [&](auto* target) {
        using T = std::remove_pointer_t<decltype(target)>;
        if constexpr (std::is_same_v<T, YAML::Node>) {
          *target = YAML::Clone(node);
        } else if constexpr (std::is_same_v<T, StringList>) {
          if (!node.IsSequence()) {
            throw ConfigError(where + ": expected a list, got " + NodeKind(node));
          }
          target->clear();
          for (const auto& item : node) {
            if (!item.IsScalar()) throw ConfigError(where + ": list items must be scalars");
            target->push_back(item.as<std::string>());
          }
        } else if constexpr (std::is_same_v<T, StringMap>) {
          if (!node.IsMap()) throw ConfigError(where + ": expected a map, got " + NodeKind(node));
          target->clear();
          for (const auto& kv : node) {
            if (!kv.second.IsScalar()) throw ConfigError(where + ": map values must be scalars");
            (*target)[kv.first.as<std::string>()] = kv.second.as<std::string>();
          }
        } else {
          if (!node.IsScalar()) {
            throw ConfigError(where + ": expected a single value, got " + NodeKind(node));
          }
          Set(path, node.as<std::string>(), origin);
        }
      },
      entry.target);
}

void Schema::Set(const std::string& path, const std::string& value, const std::string& origin) {
  auto it = entries_.find(path);
  if (it == entries_.end()) throw ConfigError(origin + ": unknown key '" + path + "'");
  std::visit(
      [&](auto* target) {
        using T = std::remove_pointer_t<decltype(target)>;
        try {
          if constexpr (std::is_same_v<T, std::string>) {
            *target = value;
          } else if constexpr (std::is_same_v<T, int>) {
            *target = ParseInt(path, value);
          } else if constexpr (std::is_same_v<T, double>) {
            *target = ParseDouble(path, value);
          } else if constexpr (std::is_same_v<T, bool>) {
            *target = ParseBool(path, value);
          } else if constexpr (std::is_same_v<T, StringList>) {
            *target = SplitList(value, ',');
          } else if constexpr (std::is_same_v<T, StringMap>) {
            *target = ParseMap(path, value);
          } else {
            throw ConfigError(path + ": this section can only be set in the config file");
          }
        } catch (const ConfigError& e) {
          throw ConfigError(origin + ": " + e.what());
        }
      },
      it->second.target);
}

void Schema::ApplyEnv(const std::map<std::string, std::string>& env) {
  for (auto& [path, entry] : entries_) {
    if (std::holds_alternative<YAML::Node*>(entry.target)) continue;
    auto name = EnvName(path);
    auto it = env.find(name);
    if (it != env.end()) Set(path, it->second, "environment " + name);
  }
}

void Schema::ApplyProcessEnv() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string::npos && entry.rfind("AIOPS_", 0) == 0) {
      env[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
  }
  ApplyEnv(env);
}

void Schema::Validate() const {
  for (const auto& [path, entry] : entries_) {
    if (!entry.validate) continue;
    if (auto err = entry.validate()) throw ConfigError(path + ": " + *err);
  }
}

std::string Schema::EnvName(const std::string& path) {
  std::string out = "AIOPS_";
  for (char c : path) {
    out += (c == '.' || c == '-') ? '_' : static_cast<char>(std::toupper(c));
  }
  return out;
}

std::string Schema::Describe() const {
  std::ostringstream out;
  for (const auto& [path, entry] : entries_) {
    out << "  " << path;
    if (!std::holds_alternative<YAML::Node*>(entry.target)) out << " (" << EnvName(path) << ")";
    out << "\n      " << entry.help << "\n";
  }
  return out.str();
}

Validator<int> Positive() {
  return [](const int& v) -> std::optional<std::string> {
    if (v <= 0) return "must be greater than 0, got " + std::to_string(v);
    return std::nullopt;
  };
}

Validator<int> NonNegative() {
  return [](const int& v) -> std::optional<std::string> {
    if (v < 0) return "must not be negative, got " + std::to_string(v);
    return std::nullopt;
  };
}

Validator<std::string> NonEmpty() {
  return [](const std::string& v) -> std::optional<std::string> {
    if (Trim(v).empty()) return "must not be empty";
    return std::nullopt;
  };
}

Validator<std::string> OneOf(std::vector<std::string> allowed) {
  return [allowed](const std::string& v) -> std::optional<std::string> {
    if (std::find(allowed.begin(), allowed.end(), v) != allowed.end()) return std::nullopt;
    std::string msg = "must be one of";
    for (const auto& a : allowed)
      msg += " " + a;
    return msg + ", got '" + v + "'";
  };
}

std::pair<std::string, int> SplitHostPort(const std::string& value) {
  auto colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw ConfigError("expected host:port, got '" + value + "'");
  }
  std::string host = value.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = 0;
  try {
    size_t pos = 0;
    port = std::stoi(value.substr(colon + 1), &pos);
    if (pos != value.size() - colon - 1) throw std::invalid_argument("");
  } catch (const std::exception&) {
    throw ConfigError("expected host:port, got '" + value + "'");
  }
  if (port < 0 || port > 65535) throw ConfigError("port out of range in '" + value + "'");
  return {host, port};
}

Validator<std::string> HostPort() {
  return [](const std::string& v) -> std::optional<std::string> {
    try {
      SplitHostPort(v);
      return std::nullopt;
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
  };
}

}  // namespace aiops::config
