// The simulated container registry: which images exist and how their containers behave once
// started (run, crash without an env var, exceed memory, exit).
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "json_util.hpp"

namespace kubesim {

struct ImageBehavior {
  std::string image;               // reference as written in the scenario
  double pull_seconds = 1;         // simulated pull duration (only shown in events)
  double ready_after_seconds = 1;  // running -> Ready
  std::vector<std::string> logs;   // printed when the container starts
  // Memory the process grows to; above the container's memory limit it is OOMKilled.
  double memory_mib = 0;
  double oom_after_seconds = 3;
  // Environment variables the process needs; without them it logs crash_logs and exits.
  std::vector<std::string> required_env;
  std::vector<std::string> crash_logs;
  int crash_exit_code = 1;
  double crash_after_seconds = 2;
  // When set, the process exits on its own after this long (a job-like image).
  std::optional<double> exit_after_seconds;
  int exit_code = 0;
  int64_t size_bytes = 52428800;
};

// "nginx:1.25" -> "docker.io/library/nginx:1.25"; untagged references get ":latest".
std::string NormalizeImage(const std::string& ref);

class ImageRegistry {
 public:
  ImageRegistry();  // starts with a few common images (see docs/kube-sim.md)
  void Add(const ImageBehavior& b);
  // nullopt when the reference does not exist (the kubelet then fails the pull).
  std::optional<ImageBehavior> Find(const std::string& ref) const;
  // A stable fake digest for imageID.
  static std::string DigestOf(const std::string& ref);
  // Parses one `registry.images[]` entry of a scenario file. Throws std::runtime_error.
  static ImageBehavior FromJson(const json& j);

 private:
  mutable std::mutex mu_;
  std::map<std::string, ImageBehavior> images_;  // normalized reference -> behaviour
};

}  // namespace kubesim
