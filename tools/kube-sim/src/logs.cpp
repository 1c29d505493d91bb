#include "logs.hpp"

namespace kubesim {

void LogStore::Append(const std::string& pod_uid, const std::string& container, SimTime t,
                      const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& l = logs_[pod_uid + "/" + container];
  l.has_current = true;
  l.current.push_back({t, line});
  // A chatty simulated container must not grow without bound.
  if (l.current.size() > 5000) l.current.erase(l.current.begin(), l.current.begin() + 1000);
}

void LogStore::Terminated(const std::string& pod_uid, const std::string& container) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& l = logs_[pod_uid + "/" + container];
  l.previous = l.current;
  l.has_previous = true;
}

void LogStore::Started(const std::string& pod_uid, const std::string& container) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& l = logs_[pod_uid + "/" + container];
  l.current.clear();
  l.has_current = true;
}

std::vector<LogLine> LogStore::Get(const std::string& pod_uid, const std::string& container,
                                   bool previous, bool* found) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = logs_.find(pod_uid + "/" + container);
  if (it == logs_.end()) {
    *found = false;
    return {};
  }
  *found = previous ? it->second.has_previous : it->second.has_current;
  return previous ? it->second.previous : it->second.current;
}

void LogStore::Forget(const std::string& pod_uid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = logs_.lower_bound(pod_uid + "/");
  while (it != logs_.end() && it->first.compare(0, pod_uid.size() + 1, pod_uid + "/") == 0)
    it = logs_.erase(it);
}

}  // namespace kubesim
