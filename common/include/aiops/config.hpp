// Service configuration: one schema of typed keys, filled in order from built-in defaults,
// a YAML file (--config), environment variables and command-line flags (highest wins).
// Every key has a dotted path ("kafka.bootstrap") and an environment name derived from it
// ("AIOPS_KAFKA_BOOTSTRAP"). Errors name the offending key, and unknown keys in the file are
// rejected, so a typo never silently falls back to a default.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace aiops::config {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Returns an error message when the value is not acceptable, std::nullopt when it is.
template <class T>
using Validator = std::function<std::optional<std::string>(const T&)>;

class Schema {
 public:
  using StringMap = std::map<std::string, std::string>;
  using StringList = std::vector<std::string>;

  void Add(const std::string& path, std::string* target, std::string help,
           Validator<std::string> validate = {});
  void Add(const std::string& path, int* target, std::string help, Validator<int> validate = {});
  void Add(const std::string& path, double* target, std::string help,
           Validator<double> validate = {});
  void Add(const std::string& path, bool* target, std::string help);
  void Add(const std::string& path, StringList* target, std::string help,
           Validator<StringList> validate = {});
  void Add(const std::string& path, StringMap* target, std::string help);
  // A free-form section (cluster lists, policies): the service parses and validates it.
  // It is taken from the file only; it has no environment override.
  void AddSection(const std::string& path, YAML::Node* target, std::string help);

  // Top-level sections that belong to other services: skipped when reading a file, so one
  // file can configure the whole pipeline. Unknown keys elsewhere are still errors.
  void IgnoreSections(std::vector<std::string> sections);

  // Reads a YAML file. Throws ConfigError naming the file and key on any problem.
  void LoadFile(const std::string& file);
  // Same, from YAML text (`origin` names it in errors).
  void LoadYaml(const std::string& text, const std::string& origin = "<yaml>");
  // Applies AIOPS_* variables from `env` (lists are comma-separated; maps are k=v,k=v).
  void ApplyEnv(const std::map<std::string, std::string>& env);
  // Applies the process environment.
  void ApplyProcessEnv();
  // Sets one key from its text form, as a flag or `--set key=value` would.
  void Set(const std::string& path, const std::string& value, const std::string& origin);
  // Runs every validator; throws ConfigError("<path>: <message>") for the first failure.
  void Validate() const;

  // Environment variable name of a key: AIOPS_ + upper-cased path, dots and dashes as '_'.
  static std::string EnvName(const std::string& path);
  // One line per key: path, env name, help; for --help-config.
  std::string Describe() const;
  bool Has(const std::string& path) const { return entries_.count(path) > 0; }

 private:
  using Target =
      std::variant<std::string*, int*, double*, bool*, StringList*, StringMap*, YAML::Node*>;
  struct Entry {
    Target target;
    std::string help;
    std::function<std::optional<std::string>()> validate;
  };
  void Insert(const std::string& path, Target target, std::string help,
              std::function<std::optional<std::string>()> validate);
  void SetFromNode(const std::string& path, Entry& entry, const YAML::Node& node,
                   const std::string& origin);
  void Walk(const YAML::Node& node, const std::string& prefix, const std::string& origin);

  std::map<std::string, Entry> entries_;
  std::vector<std::string> ignored_sections_;
};

// Common validators.
Validator<int> Positive();
Validator<int> NonNegative();
Validator<std::string> NonEmpty();
Validator<std::string> OneOf(std::vector<std::string> allowed);
// "host:port" with a port in 0..65535.
Validator<std::string> HostPort();

// Parses "host:port" into its parts; throws ConfigError on bad input.
std::pair<std::string, int> SplitHostPort(const std::string& value);

}  // namespace aiops::config
