// core/v1 Events as kubelet, scheduler and controllers record them: one Event per
// (object, type, reason, message, source), with `count` and `lastTimestamp` bumped on repeats
// (the client-go event correlator's aggregation, simplified).
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "objects.hpp"

namespace kubesim {

class EventRecorder {
 public:
  explicit EventRecorder(ObjectService& objects) : objects_(objects) {}
  void Record(const json& involved, const std::string& type, const std::string& reason,
              const std::string& message, const std::string& component,
              const std::string& host = "", const std::string& field_path = "");

 private:
  ObjectService& objects_;
  std::mutex mu_;
  std::map<std::string, std::string> names_;  // aggregation key -> "namespace/name"
};

}  // namespace kubesim
