// The write audit: one entry per POST/PUT/PATCH/DELETE that reached the API handlers (dry-run
// and failed ones included), so tests can count applies per object and prove a change was not
// applied twice. Served as GET /_sim/audit?since=SEQ. A bounded ring: the oldest entries go.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

#include "json_util.hpp"

namespace kubesim {

struct AuditEntry {
  uint64_t seq = 0;  // assigned by WriteAudit::Record, from 1
  std::string time;  // wall clock, RFC 3339 with milliseconds
  std::string method, path, kind, ns, name, field_manager, patch_type, user_agent;
  bool dry_run = false;
  int code = 0;
  json annotations = json::object();  // metadata.annotations of the request body
  int64_t generation = 0;             // of the stored object after the write; 0 if none
};

class WriteAudit {
 public:
  explicit WriteAudit(size_t capacity = 200000) : capacity_(capacity) {}
  void Record(AuditEntry e);
  // {"entries":[...entries with seq > since, oldest first, at most `limit` (0 = all)],
  //  "next": seq of the last entry returned, or `since` when none}: pass `next` as `since`
  // to read on.
  json Since(uint64_t since, size_t limit = 0) const;

 private:
  size_t capacity_;
  mutable std::mutex mu_;
  std::deque<AuditEntry> entries_;
  uint64_t last_seq_ = 0;
};

}  // namespace kubesim
