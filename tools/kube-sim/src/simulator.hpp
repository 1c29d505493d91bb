// Runs the simulated control plane (controllers, scheduler, kubelet) in a loop on its own
// thread: a pass whenever the store changed, and at least every 100 ms for timers.
#pragma once

#include <atomic>
#include <memory>
#include <thread>

#include "events.hpp"
#include "image_registry.hpp"
#include "kubelet.hpp"
#include "logs.hpp"
#include "objects.hpp"

namespace kubesim {

class Simulator {
 public:
  Simulator(ObjectService& objects, LogStore& logs, ImageRegistry& registry);
  ~Simulator();
  // One full reconcile pass (tests call it directly for determinism).
  void Step();
  void Start();
  void Stop();
  EventRecorder& events() { return events_; }

 private:
  ObjectService& objects_;
  LogStore& logs_;
  ImageRegistry& registry_;
  EventRecorder events_;
  KubeletState kubelet_;
  SimTime last_resync_{};
  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace kubesim
