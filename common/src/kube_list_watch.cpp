#include "aiops/kube/list_watch.hpp"

#include <random>
#include <thread>

#include "aiops/log.hpp"

namespace aiops::kube {

namespace {
// Sleeps in small steps so a stop request is honoured quickly; false when stopping.
bool SleepUnlessStopped(std::chrono::milliseconds d, const std::atomic<bool>& stop) {
  auto until = std::chrono::steady_clock::now() + d;
  while (!stop && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return !stop;
}
}  // namespace

void RunListWatch(Client& client, const std::string& path, const ListWatchOptions& options,
                  const ListWatchHandlers& handlers, const std::atomic<bool>& stop) {
  std::mt19937 rng(std::random_device{}());
  auto backoff = options.min_backoff;
  auto next_backoff = [&] {
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    auto wait = std::chrono::milliseconds(static_cast<long>(backoff.count() * jitter(rng)));
    backoff = std::min(backoff * 2, options.max_backoff);
    return wait;
  };
  std::string rv;
  bool need_list = true;
  while (!stop) {
    if (need_list) {
      if (handlers.on_relist_begin) handlers.on_relist_begin();
      auto listed = client.ListEach(path, options.list, [&](Json& item) {
        if (handlers.on_listed) handlers.on_listed(item);
      });
      if (!listed.ok()) {
        log::Warn({{"path", path}, {"error", listed.error().ToString()}}, "list failed, retrying");
        if (handlers.on_restart) handlers.on_restart("list error: " + listed.error().reason);
        if (!SleepUnlessStopped(next_backoff(), stop)) return;
        continue;
      }
      if (handlers.on_relist_end) handlers.on_relist_end();
      rv = listed.value();
      need_list = false;
    }
    auto end = client.Watch(
        path, rv, options.list.label_selector,
        [&](const WatchEvent& ev) {
          backoff = options.min_backoff;  // a working stream resets the back-off
          if (ev.type != "BOOKMARK" && handlers.on_event) handlers.on_event(ev);
          return true;
        },
        stop, options.watch_timeout_seconds);
    if (!end.resource_version.empty()) rv = end.resource_version;
    switch (end.reason) {
      case WatchEnd::Reason::kStopped:
        return;
      case WatchEnd::Reason::kClosed:
        // Normal end after timeoutSeconds: resume from the last version, no back-off.
        if (handlers.on_restart) handlers.on_restart("closed");
        break;
      case WatchEnd::Reason::kGone:
        log::Info({{"path", path}, {"resource_version", rv}},
                  "watch resource version too old (410 Gone), relisting");
        if (handlers.on_restart) handlers.on_restart("gone");
        need_list = true;
        break;
      case WatchEnd::Reason::kError:
        log::Warn({{"path", path}, {"error", end.error ? end.error->ToString() : "unknown"}},
                  "watch failed, reconnecting");
        if (handlers.on_restart) {
          handlers.on_restart("error: " + (end.error ? end.error->reason : std::string("?")));
        }
        if (!SleepUnlessStopped(next_backoff(), stop)) return;
        break;
    }
  }
}

}  // namespace aiops::kube
