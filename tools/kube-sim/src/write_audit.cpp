#include "write_audit.hpp"

#include <algorithm>

namespace kubesim {
namespace {

json ToJson(const AuditEntry& e) {
  return {{"seq", e.seq},
          {"time", e.time},
          {"method", e.method},
          {"path", e.path},
          {"kind", e.kind},
          {"namespace", e.ns},
          {"name", e.name},
          {"fieldManager", e.field_manager},
          {"dryRun", e.dry_run},
          {"code", e.code},
          {"patchType", e.patch_type},
          {"userAgent", e.user_agent},
          {"annotations", e.annotations},
          {"generation", e.generation}};
}

}  // namespace

void WriteAudit::Record(AuditEntry e) {
  std::lock_guard<std::mutex> lock(mu_);
  e.seq = ++last_seq_;
  entries_.push_back(std::move(e));
  if (entries_.size() > capacity_) entries_.pop_front();
}

json WriteAudit::Since(uint64_t since, size_t limit) const {
  std::lock_guard<std::mutex> lock(mu_);
  json out = json::array();
  uint64_t next = since;
  // Sequence numbers are dense, so the first entry after `since` is found by arithmetic.
  size_t start = 0;
  if (!entries_.empty() && since >= entries_.front().seq)
    start =
        static_cast<size_t>(std::min<uint64_t>(since - entries_.front().seq + 1, entries_.size()));
  for (size_t i = start; i < entries_.size() && (limit == 0 || out.size() < limit); ++i) {
    out.push_back(ToJson(entries_[i]));
    next = entries_[i].seq;
  }
  return {{"entries", std::move(out)}, {"next", next}};
}

}  // namespace kubesim
