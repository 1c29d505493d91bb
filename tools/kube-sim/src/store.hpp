// The object store: every object of every resource, one global resourceVersion counter, and an
// event log that watchers read from. Objects are immutable once stored (shared_ptr<const>), so
// lists and watch streams can serialise them without holding the lock, and each object is
// serialised to JSON once, at write time.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "json_util.hpp"

namespace kubesim {

struct StoredObject {
  json obj;
  std::string raw;  // obj.dump(), made once
  uint64_t rv = 0;
};
using ObjPtr = std::shared_ptr<const StoredObject>;

enum class EventType { kAdded, kModified, kDeleted };
const char* EventTypeName(EventType t);

struct StoreEvent {
  EventType type;
  std::string resource;  // ResourceInfo::Key()
  ObjPtr obj;
  uint64_t rv;
  ObjPtr prev;  // the object before a MODIFIED change (selector watches need both sides)
};

// Object key inside a resource: "namespace/name", or "name" for cluster-scoped objects. Names
// cannot contain '/', so a namespace's objects are one contiguous range of the ordered map.
inline std::string ObjectKey(const std::string& ns, const std::string& name) {
  return ns.empty() ? name : ns + "/" + name;
}

class Store {
 public:
  using Bucket = std::map<std::string, ObjPtr>;

  explicit Store(size_t event_log_capacity = 300000);

  // All reads and writes go through a transaction running under the store lock, so a
  // read-check-write (optimistic concurrency, apply) is atomic and events are logged in
  // resourceVersion order.
  class Txn {
   public:
    ObjPtr Get(const std::string& resource, const std::string& key) const;
    // Stores `obj`, giving it the next resourceVersion; returns the stored object.
    ObjPtr Put(const std::string& resource, const std::string& key, json obj);
    // Removes the object; the DELETED event carries it with a fresh resourceVersion.
    ObjPtr Delete(const std::string& resource, const std::string& key);
    const Bucket& Items(const std::string& resource) const;
    uint64_t CurrentRv() const;

   private:
    friend class Store;
    explicit Txn(Store* s) : s_(s) {}
    Store* s_;
  };

  template <typename F>
  auto Transact(F&& f) {
    std::unique_lock<std::mutex> lock(mu_);
    struct Notify {
      Store* s;
      uint64_t before;
      ~Notify() {
        if (s->rv_ != before) s->cv_.notify_all();
      }
    } notify{this, rv_};
    Txn txn(this);
    return f(txn);
  }

  ObjPtr Get(const std::string& resource, const std::string& key);
  uint64_t CurrentRv();

  // A page of a list. `start_after` is the last key of the previous page ("" for the first).
  // `match` filters objects; `limit` 0 = all. `next_key` is set when more items remain.
  struct Page {
    std::vector<ObjPtr> items;
    std::string next_key;
    uint64_t rv = 0;
  };
  Page List(const std::string& resource, const std::string& ns, const std::string& start_after,
            size_t limit, const std::function<bool(const json&)>& match);

  // Watch support: waits up to `wait` for events newer than `after_rv` and returns them in
  // order. `too_old` when events after `after_rv` were already dropped from the log.
  struct Batch {
    std::vector<StoreEvent> events;
    bool too_old = false;
    bool closed = false;
    uint64_t rv = 0;  // store RV when the batch was taken
  };
  Batch WaitEvents(uint64_t after_rv, std::chrono::milliseconds wait, size_t max_events = 1000);
  // Events with rv > CompactedRv() are all in the log.
  uint64_t CompactedRv();
  // Wakes every watcher and makes them end their streams (server shutdown).
  void Shutdown();
  bool IsShutdown();
  // Wakes watchers without a write (used to flush bookmarks promptly in tests).
  void Poke() { cv_.notify_all(); }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t rv_ = 1;
  uint64_t compacted_rv_ = 1;
  size_t log_capacity_;
  bool shutdown_ = false;
  std::unordered_map<std::string, Bucket> data_;
  std::deque<StoreEvent> log_;
  void Append(EventType t, const std::string& resource, const ObjPtr& obj, ObjPtr prev);
};

}  // namespace kubesim
