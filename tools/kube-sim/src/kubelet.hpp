// The simulated kubelet's memory of each container instance (what a real kubelet gets from the
// container runtime): stage, restart count, back-off deadlines, the fate of the process.
#pragma once

#include <map>
#include <set>
#include <string>

#include "clock.hpp"
#include "json_util.hpp"

namespace kubesim {

struct ContainerSim {
  enum class Stage {
    kInit,
    kConfigError,
    kPullError,
    kPullBackOff,
    kRunning,
    kCrashBackOff,
    kDone
  };
  Stage stage = Stage::kInit;
  std::string image;  // image of the instance we manage; a spec change restarts the container
  int restarts = 0;
  int pull_failures = 0;
  bool ready = false;
  bool ever_started = false;
  SimTime next{};  // when the current stage ends (back-offs)
  SimTime started_at{};
  SimTime ready_at{};
  SimTime fate_at{};
  std::string fate;  // "", "crash", "oom", "exit"
  int fate_code = 0;
  std::vector<std::string> fate_logs;
  json waiting;  // {reason, message} while not running
  json last_state = json::object();
  json terminated;  // final state for restartPolicy Never
  std::string container_id;
  std::string image_id;
  SimTime last_event{};
};

struct PodSim {
  std::string ip;
  SimTime start{};
  bool terminating = false;  // deletionTimestamp seen: containers are being stopped
  SimTime terminating_since{};
  std::map<std::string, ContainerSim> containers;
};

struct KubeletState {
  std::map<std::string, PodSim> pods;                        // by pod UID
  std::map<std::string, std::set<std::string>> node_images;  // node -> pulled references
  uint32_t next_ip = 2;
};

}  // namespace kubesim
