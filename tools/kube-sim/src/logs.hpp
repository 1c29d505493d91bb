// Container logs kept by the simulated kubelet, per pod UID and container, with the previous
// (crashed) instance kept separately for `kubectl logs --previous`.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "clock.hpp"

namespace kubesim {

struct LogLine {
  SimTime time;
  std::string text;
};

class LogStore {
 public:
  void Append(const std::string& pod_uid, const std::string& container, SimTime t,
              const std::string& line);
  // The running instance terminated: its logs become the "previous" ones. The current logs stay
  // readable until the next instance starts (as kubelet shows the dead container's logs).
  void Terminated(const std::string& pod_uid, const std::string& container);
  // A new instance starts with an empty current log.
  void Started(const std::string& pod_uid, const std::string& container);
  std::vector<LogLine> Get(const std::string& pod_uid, const std::string& container, bool previous,
                           bool* found);
  void Forget(const std::string& pod_uid);

 private:
  struct Logs {
    std::vector<LogLine> current;
    std::vector<LogLine> previous;
    bool has_previous = false;
    bool has_current = false;
  };
  std::mutex mu_;
  std::map<std::string, Logs> logs_;  // key: uid + "/" + container
};

}  // namespace kubesim
