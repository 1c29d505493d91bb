#include "simulator.hpp"

#include <spdlog/spdlog.h>

#include "controllers.hpp"

namespace kubesim {

Simulator::Simulator(ObjectService& objects, LogStore& logs, ImageRegistry& registry)
    : objects_(objects), logs_(logs), registry_(registry), events_(objects) {}

Simulator::~Simulator() {
  Stop();
}

void Simulator::Step() {
  SimContext ctx{objects_, logs_, registry_, events_, kubelet_, objects_.clock().Now()};
  if (ctx.now - last_resync_ >= std::chrono::seconds(10)) {
    ctx.resync = true;
    last_resync_ = ctx.now;
  }
  // Same order a real cluster converges in: owners first, then pods, placement, and running.
  CollectGarbage(ctx);
  if (ctx.resync) ExpireEvents(ctx);
  ReconcileNodes(ctx);
  ReconcileDeployments(ctx);
  ReconcileReplicaSets(ctx);
  ReconcileStatefulSets(ctx);
  ReconcileDaemonSets(ctx);
  SchedulePods(ctx);
  RunKubelet(ctx);
}

void Simulator::Start() {
  running_ = true;
  thread_ = std::thread([this] {
    uint64_t seen = 0;
    auto last = std::chrono::steady_clock::now() - std::chrono::seconds(1);
    while (running_) {
      uint64_t rv = objects_.store().CurrentRv();
      auto now = std::chrono::steady_clock::now();
      if (rv != seen || now - last >= std::chrono::milliseconds(100)) {
        try {
          Step();
        } catch (const std::exception& e) {
          spdlog::error("simulation step failed: {}", e.what());
        }
        seen = rv;
        last = now;
      }
      // Writes made by this step are picked up by the next loop iteration. A short pause keeps
      // a busy cluster from monopolising a core while still converging within milliseconds.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
}

void Simulator::Stop() {
  running_ = false;
  if (thread_.joinable()) thread_.join();
}

}  // namespace kubesim
