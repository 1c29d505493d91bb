#include "classify.hpp"

#include <cstdint>
#include <ctime>
#include <map>

#include "aiops/json_fields.hpp"

namespace aiops::detector {

using nlohmann::json;

namespace {

const std::map<std::string, v1::FailureClass>& WaitingReasons() {
  static const std::map<std::string, v1::FailureClass> reasons = {
      {"ErrImagePull", v1::FAILURE_CLASS_IMAGE_PULL},
      {"ImagePullBackOff", v1::FAILURE_CLASS_IMAGE_PULL},
      {"InvalidImageName", v1::FAILURE_CLASS_INVALID_IMAGE_NAME},
      {"CrashLoopBackOff", v1::FAILURE_CLASS_CRASH_LOOP},
      {"CreateContainerConfigError", v1::FAILURE_CLASS_CONFIG_ERROR},
      {"CreateContainerError", v1::FAILURE_CLASS_CREATE_CONTAINER_ERROR},
      {"RunContainerError", v1::FAILURE_CLASS_RUN_CONTAINER_ERROR},
  };
  return reasons;
}

std::string Str(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

const json& Field(const json& j, const char* key) {
  static const json null;
  if (!j.is_object()) return null;
  auto it = j.find(key);
  return it == j.end() ? null : *it;
}

std::optional<PodFailure> FromStatuses(const json& statuses, bool init, int64_t now,
                                       int64_t oom_window) {
  if (!statuses.is_array()) return std::nullopt;
  for (const auto& cs : statuses) {
    const auto& state = Field(cs, "state");
    const auto& waiting = Field(state, "waiting");
    const auto& last_terminated = Field(Field(cs, "lastState"), "terminated");
    std::string name = Str(cs, "name");
    // An OOM kill shows as CrashLoopBackOff while waiting; the root cause is the kill.
    bool oom = Str(Field(state, "terminated"), "reason") == "OOMKilled";
    if (!oom && Str(last_terminated, "reason") == "OOMKilled") {
      bool running_ready = Field(state, "running").is_object() && Field(cs, "ready") == true;
      auto finished = ParseTime(Str(last_terminated, "finishedAt"));
      oom = !running_ready || (finished && now - *finished <= oom_window);
    }
    if (oom) {
      std::string msg = "container " + name + " was OOM-killed (exit code " +
                        std::to_string(json_fields::Integer(last_terminated, "exitCode", 137,
                                                            INT32_MIN, INT32_MAX)) +
                        ")";
      return PodFailure{v1::FAILURE_CLASS_OOM_KILLED, "OOMKilled", msg, name, init};
    }
    std::string reason = Str(waiting, "reason");
    auto it = WaitingReasons().find(reason);
    if (it != WaitingReasons().end()) {
      return PodFailure{it->second, reason, Str(waiting, "message"), name, init};
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<int64_t> ParseTime(const std::string& t) {
  std::tm tm{};
  if (t.size() < 19 || strptime(t.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) {
    return std::nullopt;
  }
  return static_cast<int64_t>(timegm(&tm));
}

std::optional<PodFailure> Classify(const json& pod, int64_t now, int64_t oom_window) {
  const auto& status = Field(pod, "status");
  if (Str(status, "phase") == "Failed" && Str(status, "reason") == "Evicted") {
    return PodFailure{v1::FAILURE_CLASS_EVICTED, "Evicted", Str(status, "message"), "", false};
  }
  if (auto f = FromStatuses(Field(status, "initContainerStatuses"), true, now, oom_window)) {
    return f;
  }
  if (auto f = FromStatuses(Field(status, "containerStatuses"), false, now, oom_window)) return f;
  if (Str(status, "phase") == "Pending") {
    const auto& conditions = Field(status, "conditions");
    if (conditions.is_array()) {
      for (const auto& c : conditions) {
        if (Str(c, "type") == "PodScheduled" && Str(c, "status") == "False" &&
            Str(c, "reason") == "Unschedulable") {
          return PodFailure{v1::FAILURE_CLASS_UNSCHEDULABLE, "Unschedulable", Str(c, "message"), "",
                            false};
        }
      }
    }
  }
  return std::nullopt;
}

}  // namespace aiops::detector
