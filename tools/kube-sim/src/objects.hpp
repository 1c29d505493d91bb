// Object semantics shared by the REST handlers and the simulated controllers: defaulting,
// validation, optimistic concurrency, generation, status subresource, managedFields, patches.
// Everything that writes an object goes through here so watchers see what a client would.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "clock.hpp"
#include "resources.hpp"
#include "selectors.hpp"
#include "store.hpp"

namespace kubesim {

struct WriteOptions {
  bool dry_run = false;
  std::string field_manager;  // empty: internal write, managedFields untouched
  std::string subresource;    // "" or "status"
};

struct DeleteOptions {
  bool dry_run = false;
  std::optional<int64_t> grace_period_seconds;  // unset: the pod's terminationGracePeriodSeconds
  std::string propagation_policy;               // "", Background, Foreground, Orphan
  std::string precondition_uid;
  std::string precondition_rv;
};

class ObjectService {
 public:
  ObjectService(Store& store, SimClock& clock) : store_(store), clock_(clock) {}
  Store& store() { return store_; }
  SimClock& clock() { return clock_; }
  std::string Now() const { return Rfc3339(clock_.Now()); }

  json Create(const ResourceInfo& r, const std::string& ns, json obj, const WriteOptions& o = {});
  json Update(const ResourceInfo& r, const std::string& ns, const std::string& name, json obj,
              const WriteOptions& o = {});
  // content_type picks the patch format; `force` only matters for apply patches.
  json Patch(const ResourceInfo& r, const std::string& ns, const std::string& name,
             const std::string& content_type, const std::string& body, const WriteOptions& o,
             bool force);
  // Deletes (namespaces take their contents with them). Throws NotFound.
  // Pods bound to a node are deleted gracefully when graceful pod deletion is on (a kubelet
  // is simulated): they get deletionTimestamp and the kubelet removes them once stopped.
  json Delete(const ResourceInfo& r, const std::string& ns, const std::string& name,
              const DeleteOptions& o = {});
  void set_graceful_pod_deletion(bool on) { graceful_pods_ = on; }
  ObjPtr Get(const ResourceInfo& r, const std::string& ns, const std::string& name);
  std::vector<ObjPtr> List(const ResourceInfo& r, const std::string& ns,
                           const LabelSelector* selector = nullptr);

  // Read-modify-write for controllers, atomic under the store lock. `fn` edits a copy and
  // returns false to leave the object alone; unchanged objects are not rewritten.
  ObjPtr Mutate(const ResourceInfo& r, const std::string& ns, const std::string& name,
                const std::function<bool(json&)>& fn);

  // Fills in the defaults the real API server would (pod spec, strategies, service IPs...).
  void SetDefaults(const ResourceInfo& r, json& obj);
  // Throws ApiError(422) listing every problem.
  void Validate(const ResourceInfo& r, const json& obj);

 private:
  json Finish(Store::Txn& txn, const ResourceInfo& r, const std::string& key, const json* current,
              json obj, const WriteOptions& o);
  json PrepareCreate(Store::Txn& txn, const ResourceInfo& r, const std::string& ns, json obj);
  json PrepareUpdate(const ResourceInfo& r, const json& current, json obj, const WriteOptions& o,
                     bool track_fields);

  Store& store_;
  SimClock& clock_;
  bool graceful_pods_ = false;
};

}  // namespace kubesim
