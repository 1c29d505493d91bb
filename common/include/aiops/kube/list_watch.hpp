// The list-then-watch loop of a Kubernetes controller (an informer without the cache):
// list, watch from the list's resourceVersion, resume a closed watch from the last version
// seen, relist on 410 Gone, reconnect with jittered exponential back-off on errors.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "aiops/kube/client.hpp"

namespace aiops::kube {

struct ListWatchHandlers {
  // A (re)list starts: the receiver should mark what it knows as unconfirmed.
  std::function<void()> on_relist_begin;
  // One object of the list, as an ADDED event would carry it.
  std::function<void(const Json& object)> on_listed;
  // The list is complete: what was not confirmed is gone.
  std::function<void()> on_relist_end;
  // ADDED / MODIFIED / DELETED (bookmarks are handled here, not passed on).
  std::function<void(const WatchEvent& event)> on_event;
  // The watch restarted (reason: "closed", "gone", "error: ...") — for metrics and logs.
  std::function<void(const std::string& reason)> on_restart;
};

struct ListWatchOptions {
  ListOptions list;
  int watch_timeout_seconds = 300;
  std::chrono::milliseconds min_backoff{500};
  std::chrono::milliseconds max_backoff{30000};
};

// Runs until `stop` becomes true.
void RunListWatch(Client& client, const std::string& path, const ListWatchOptions& options,
                  const ListWatchHandlers& handlers, const std::atomic<bool>& stop);

}  // namespace aiops::kube
