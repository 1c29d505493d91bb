#include "store.hpp"

#include <algorithm>

namespace kubesim {

const char* EventTypeName(EventType t) {
  switch (t) {
    case EventType::kAdded:
      return "ADDED";
    case EventType::kModified:
      return "MODIFIED";
    case EventType::kDeleted:
      return "DELETED";
  }
  return "ERROR";
}

Store::Store(size_t event_log_capacity) : log_capacity_(std::max<size_t>(event_log_capacity, 16)) {}

ObjPtr Store::Txn::Get(const std::string& resource, const std::string& key) const {
  auto it = s_->data_.find(resource);
  if (it == s_->data_.end()) return nullptr;
  auto jt = it->second.find(key);
  return jt == it->second.end() ? nullptr : jt->second;
}

ObjPtr Store::Txn::Put(const std::string& resource, const std::string& key, json obj) {
  uint64_t rv = ++s_->rv_;
  obj["metadata"]["resourceVersion"] = std::to_string(rv);
  auto stored = std::make_shared<StoredObject>();
  stored->raw = obj.dump();
  stored->obj = std::move(obj);
  stored->rv = rv;
  ObjPtr ptr = stored;
  auto& bucket = s_->data_[resource];
  ObjPtr prev;
  if (auto it = bucket.find(key); it != bucket.end()) prev = it->second;
  bucket.insert_or_assign(key, ptr);
  // The type is decided before `prev` is moved: argument evaluation order is unspecified.
  EventType type = prev ? EventType::kModified : EventType::kAdded;
  s_->Append(type, resource, ptr, std::move(prev));
  return ptr;
}

ObjPtr Store::Txn::Delete(const std::string& resource, const std::string& key) {
  auto it = s_->data_.find(resource);
  if (it == s_->data_.end()) return nullptr;
  auto jt = it->second.find(key);
  if (jt == it->second.end()) return nullptr;
  uint64_t rv = ++s_->rv_;
  auto stored = std::make_shared<StoredObject>();
  stored->obj = jt->second->obj;
  stored->obj["metadata"]["resourceVersion"] = std::to_string(rv);
  stored->raw = stored->obj.dump();
  stored->rv = rv;
  it->second.erase(jt);
  ObjPtr ptr = stored;
  s_->Append(EventType::kDeleted, resource, ptr, nullptr);
  return ptr;
}

const Store::Bucket& Store::Txn::Items(const std::string& resource) const {
  static const Bucket kEmpty;
  auto it = s_->data_.find(resource);
  return it == s_->data_.end() ? kEmpty : it->second;
}

uint64_t Store::Txn::CurrentRv() const {
  return s_->rv_;
}

void Store::Append(EventType t, const std::string& resource, const ObjPtr& obj, ObjPtr prev) {
  log_.push_back(StoreEvent{t, resource, obj, obj->rv, std::move(prev)});
  while (log_.size() > log_capacity_) {
    compacted_rv_ = log_.front().rv;
    log_.pop_front();
  }
}

ObjPtr Store::Get(const std::string& resource, const std::string& key) {
  return Transact([&](Txn& t) { return t.Get(resource, key); });
}

uint64_t Store::CurrentRv() {
  std::lock_guard<std::mutex> lock(mu_);
  return rv_;
}

Store::Page Store::List(const std::string& resource, const std::string& ns,
                        const std::string& start_after, size_t limit,
                        const std::function<bool(const json&)>& match) {
  Page page;
  std::lock_guard<std::mutex> lock(mu_);
  page.rv = rv_;
  auto bit = data_.find(resource);
  if (bit == data_.end()) return page;
  const Bucket& bucket = bit->second;
  const std::string prefix = ns.empty() ? "" : ns + "/";
  auto it = start_after.empty() ? bucket.lower_bound(prefix) : bucket.upper_bound(start_after);
  for (; it != bucket.end(); ++it) {
    if (!prefix.empty() && it->first.compare(0, prefix.size(), prefix) != 0) break;
    if (match && !match(it->second->obj)) continue;
    if (limit > 0 && page.items.size() == limit) {
      // Only announce a next page when one more matching item really exists, as etcd does.
      page.next_key = ObjectKey(PathString(page.items.back()->obj, {"metadata", "namespace"}),
                                PathString(page.items.back()->obj, {"metadata", "name"}));
      break;
    }
    page.items.push_back(it->second);
  }
  return page;
}

Store::Batch Store::WaitEvents(uint64_t after_rv, std::chrono::milliseconds wait,
                               size_t max_events) {
  Batch b;
  std::unique_lock<std::mutex> lock(mu_);
  auto has_new = [&] { return shutdown_ || rv_ > after_rv; };
  if (!has_new()) cv_.wait_for(lock, wait, has_new);
  b.rv = rv_;
  if (shutdown_) {
    b.closed = true;
    return b;
  }
  if (after_rv < compacted_rv_) {
    b.too_old = true;
    return b;
  }
  auto it = std::upper_bound(log_.begin(), log_.end(), after_rv,
                             [](uint64_t rv, const StoreEvent& e) { return rv < e.rv; });
  for (; it != log_.end() && b.events.size() < max_events; ++it)
    b.events.push_back(*it);
  return b;
}

uint64_t Store::CompactedRv() {
  std::lock_guard<std::mutex> lock(mu_);
  return compacted_rv_;
}

void Store::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutdown_ = true;
  }
  cv_.notify_all();
}

bool Store::IsShutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  return shutdown_;
}

}  // namespace kubesim
