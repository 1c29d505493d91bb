#include "store.hpp"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cctype>
#include <tuple>

#include "aiops/envelope.hpp"
#include "aiops/v1/decision.pb.h"
#include "aiops/v1/evidence.pb.h"
#include "aiops/v1/execution.pb.h"
#include "aiops/v1/proposal.pb.h"

namespace aiops::approver {

namespace {

using google::protobuf::util::TimeUtil;
using S = v1::RemediationState;

constexpr int kAnomaly = 0;
constexpr int kEvidence = 1;
constexpr int kProposal = 2;
constexpr int kDecision = 3;
constexpr int kExecution = 4;

bool PreDecision(S s) {
  return s == v1::REMEDIATION_STATE_UNSPECIFIED || s == v1::REMEDIATION_STATE_DETECTED ||
         s == v1::REMEDIATION_STATE_DIAGNOSING || s == v1::REMEDIATION_STATE_PROPOSED ||
         s == v1::REMEDIATION_STATE_READY_FOR_REVIEW;
}

// Progress of an approved remediation through execution; higher never goes back.
int ExecRank(S s) {
  switch (s) {
    case v1::REMEDIATION_STATE_APPROVED:
      return 0;
    case v1::REMEDIATION_STATE_APPLYING:
      return 1;
    case v1::REMEDIATION_STATE_APPLIED:
      return 2;
    case v1::REMEDIATION_STATE_VERIFIED:
    case v1::REMEDIATION_STATE_FAILED:
      return 3;
    case v1::REMEDIATION_STATE_ROLLED_BACK:
      return 4;
    default:
      return -1;
  }
}

S StateOfExecution(v1::ExecutionResult::Status status) {
  switch (status) {
    case v1::ExecutionResult::STATUS_APPLYING:
      return v1::REMEDIATION_STATE_APPLYING;
    case v1::ExecutionResult::STATUS_APPLIED:
      return v1::REMEDIATION_STATE_APPLIED;
    case v1::ExecutionResult::STATUS_VERIFIED:
      return v1::REMEDIATION_STATE_VERIFIED;
    case v1::ExecutionResult::STATUS_FAILED:
    case v1::ExecutionResult::STATUS_STALE:
    case v1::ExecutionResult::STATUS_REFUSED:
      return v1::REMEDIATION_STATE_FAILED;
    case v1::ExecutionResult::STATUS_ROLLED_BACK:
      return v1::REMEDIATION_STATE_ROLLED_BACK;
    default:
      return v1::REMEDIATION_STATE_UNSPECIFIED;
  }
}

std::string Clip(const std::string& s, size_t n) {
  return s.size() <= n ? s : s.substr(0, n) + "...";
}

void MergeTimes(v1::StageTimes& into, const v1::StageTimes& from) {
  auto merge = [](google::protobuf::Timestamp* dst, bool has_dst,
                  const google::protobuf::Timestamp& src, bool has_src) {
    if (!has_src) return;
    if (!has_dst ||
        TimeUtil::TimestampToMicroseconds(src) < TimeUtil::TimestampToMicroseconds(*dst))
      *dst = src;
  };
  merge(into.mutable_detected(), into.has_detected(), from.detected(), from.has_detected());
  merge(into.mutable_collected(), into.has_collected(), from.collected(), from.has_collected());
  merge(into.mutable_proposed(), into.has_proposed(), from.proposed(), from.has_proposed());
  merge(into.mutable_decided(), into.has_decided(), from.decided(), from.has_decided());
  merge(into.mutable_executed(), into.has_executed(), from.executed(), from.has_executed());
  merge(into.mutable_verified(), into.has_verified(), from.verified(), from.has_verified());
}

v1::EvidenceSummary Summarize(const v1::Evidence& e) {
  v1::EvidenceSummary s;
  s.set_pods(e.pods_size());
  s.set_events(e.events_size());
  for (const auto& ev : e.events()) {
    if (s.key_events_size() >= 5) break;
    if (ev.type() != "Warning") continue;
    std::string line = ev.reason() + ": " + Clip(ev.message(), 200);
    if (ev.count() > 1) line += " (x" + std::to_string(ev.count()) + ")";
    s.add_key_events(line);
  }
  if (!e.logs().empty()) {
    const auto& text = e.logs(0).text();
    // The last lines are what a reviewer reads first; keep about 2 KB.
    s.set_log_excerpt(text.size() <= 2048 ? text : text.substr(text.size() - 2048));
  }
  for (const auto& m : e.missing_references()) {
    std::string ref = m.kind() + "/" + m.name();
    if (!m.key().empty()) ref += " key " + m.key();
    s.add_missing_references(ref);
  }
  for (const auto& c : e.collection_errors())
    s.add_collection_errors(c);
  s.set_workload_generation(e.workload_generation());
  return s;
}

std::string SourceName(const v1::ProposalSource& src) {
  switch (src.kind()) {
    case v1::ProposalSource::KIND_RUNBOOK:
      return "runbook " + src.runbook_id();
    case v1::ProposalSource::KIND_LLM:
      return "llm " + src.backend() + "/" + src.model();
    default:
      return "unknown source";
  }
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

std::string StateName(v1::RemediationState state) {
  switch (state) {
    case v1::REMEDIATION_STATE_DETECTED:
      return "Detected";
    case v1::REMEDIATION_STATE_DIAGNOSING:
      return "Diagnosing";
    case v1::REMEDIATION_STATE_PROPOSED:
      return "Proposed";
    case v1::REMEDIATION_STATE_READY_FOR_REVIEW:
      return "ReadyForReview";
    case v1::REMEDIATION_STATE_APPROVED:
      return "Approved";
    case v1::REMEDIATION_STATE_APPLYING:
      return "Applying";
    case v1::REMEDIATION_STATE_APPLIED:
      return "Applied";
    case v1::REMEDIATION_STATE_VERIFIED:
      return "Verified";
    case v1::REMEDIATION_STATE_REJECTED:
      return "Rejected";
    case v1::REMEDIATION_STATE_EXPIRED:
      return "Expired";
    case v1::REMEDIATION_STATE_FAILED:
      return "Failed";
    case v1::REMEDIATION_STATE_ROLLED_BACK:
      return "RolledBack";
    default:
      return "Unknown";
  }
}

std::optional<v1::RemediationState> ParseState(const std::string& text) {
  auto norm = [](const std::string& s) {
    std::string out;
    for (char c : s) {
      if (c == '-' || c == '_' || c == ' ') continue;
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
  };
  std::string want = norm(text);
  if (want.rfind("remediationstate", 0) == 0) want = want.substr(16);
  for (int i = v1::REMEDIATION_STATE_DETECTED; i <= v1::REMEDIATION_STATE_ROLLED_BACK; ++i) {
    auto s = static_cast<v1::RemediationState>(i);
    if (norm(StateName(s)) == want) return s;
  }
  return std::nullopt;
}

bool IsFinal(v1::RemediationState state) {
  return state == v1::REMEDIATION_STATE_VERIFIED || state == v1::REMEDIATION_STATE_REJECTED ||
         state == v1::REMEDIATION_STATE_EXPIRED || state == v1::REMEDIATION_STATE_FAILED ||
         state == v1::REMEDIATION_STATE_ROLLED_BACK;
}

google::protobuf::Timestamp ToProto(TimePoint t) {
  return TimeUtil::MicrosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
}

TimePoint FromProto(const google::protobuf::Timestamp& t) {
  return TimePoint(std::chrono::microseconds(TimeUtil::TimestampToMicroseconds(t)));
}

std::string WorkloadKey(const std::string& cluster, const v1::WorkloadRef& w) {
  return cluster + "/" + w.namespace_() + "/" + Lower(w.kind()) + "/" + w.name();
}

std::optional<TimePoint> ReadySince(const v1::Remediation& v) {
  if (v.state() != v1::REMEDIATION_STATE_READY_FOR_REVIEW) return std::nullopt;
  for (const auto& t : v.history()) {
    if (t.to() == v1::REMEDIATION_STATE_READY_FOR_REVIEW &&
        t.from() != v1::REMEDIATION_STATE_READY_FOR_REVIEW)
      return FromProto(t.at());
  }
  return std::nullopt;
}

Store::Result Store::Apply(const v1::Anomaly& m, TimePoint at) {
  return Add(m.envelope().remediation_id(), kAnomaly, at, std::make_shared<v1::Anomaly>(m));
}
Store::Result Store::Apply(const v1::Evidence& m, TimePoint at) {
  return Add(m.envelope().remediation_id(), kEvidence, at, std::make_shared<v1::Evidence>(m));
}
Store::Result Store::Apply(const v1::Proposal& m, TimePoint at) {
  return Add(m.envelope().remediation_id(), kProposal, at, std::make_shared<v1::Proposal>(m));
}
Store::Result Store::Apply(const v1::Decision& m, TimePoint at) {
  if (m.has_decided_at()) at = FromProto(m.decided_at());
  return Add(m.envelope().remediation_id(), kDecision, at, std::make_shared<v1::Decision>(m));
}
Store::Result Store::Apply(const v1::ExecutionResult& m, TimePoint at) {
  return Add(m.envelope().remediation_id(), kExecution, at,
             std::make_shared<v1::ExecutionResult>(m));
}

Store::Result Store::Add(const std::string& id, int stage, TimePoint at,
                         std::shared_ptr<const google::protobuf::Message> msg) {
  Event ev{at, stage, msg->SerializeAsString(), std::move(msg)};
  std::vector<std::function<void(const std::string&)>> callbacks;
  {
    std::lock_guard lock(mu_);
    Record& rec = records_[id];
    if (!rec.seen.insert(std::to_string(stage) + ":" + ev.bytes).second) return Result::kDuplicate;
    auto key = [](const Event& e) { return std::tie(e.at, e.stage, e.bytes); };
    auto pos = std::upper_bound(rec.events.begin(), rec.events.end(), ev,
                                [&](const Event& a, const Event& b) { return key(a) < key(b); });
    rec.events.insert(pos, std::move(ev));
    Fold(id, rec);
    rec.version = ++version_;
    callbacks = callbacks_;
  }
  changed_.notify_all();
  for (auto& cb : callbacks)
    cb(id);
  return Result::kApplied;
}

void Store::Fold(const std::string& id, Record& rec) {
  v1::Remediation r;
  r.set_id(id);
  S state = v1::REMEDIATION_STATE_UNSPECIFIED;
  bool final_decision = false;
  bool approved = false;
  std::set<std::string> approvers;
  auto go = [&](S to, TimePoint at, const std::string& actor, const std::string& reason) {
    auto* t = r.add_history();
    t->set_from(state);
    t->set_to(to);
    *t->mutable_at() = ToProto(at);
    t->set_actor(actor);
    t->set_reason(Clip(reason, 500));
    state = to;
  };
  auto set_workload = [&](const v1::WorkloadRef& w) {
    if (!r.has_workload() && !w.name().empty()) *r.mutable_workload() = w;
  };
  auto set_class = [&](v1::FailureClass c) {
    if (r.failure_class() == v1::FAILURE_CLASS_UNSPECIFIED) r.set_failure_class(c);
  };

  for (const auto& ev : rec.events) {
    if (const auto* env = envelope::Of(*ev.msg)) {
      if (r.cluster().empty()) r.set_cluster(env->cluster());
      if (r.trace_id().empty()) r.set_trace_id(env->trace_id());
      MergeTimes(*r.mutable_times(), env->times());
    }
    if (!r.has_created()) *r.mutable_created() = ToProto(ev.at);
    *r.mutable_updated() = ToProto(ev.at);

    switch (ev.stage) {
      case kAnomaly: {
        const auto& a = static_cast<const v1::Anomaly&>(*ev.msg);
        *r.mutable_anomaly() = a;  // events are in time order: the latest update wins
        set_workload(a.workload());
        set_class(a.failure_class());
        if (state == v1::REMEDIATION_STATE_UNSPECIFIED) {
          go(v1::REMEDIATION_STATE_DETECTED, ev.at, a.envelope().producer(),
             a.reason() + (a.message().empty() ? "" : ": " + a.message()));
        }
        break;
      }
      case kEvidence: {
        const auto& e = static_cast<const v1::Evidence&>(*ev.msg);
        if (r.has_evidence()) break;  // the first evidence is the one the proposal used
        *r.mutable_evidence() = Summarize(e);
        set_workload(e.anomaly().workload());
        set_class(e.anomaly().failure_class());
        if (state == v1::REMEDIATION_STATE_UNSPECIFIED || state == v1::REMEDIATION_STATE_DETECTED) {
          go(v1::REMEDIATION_STATE_DIAGNOSING, ev.at, e.envelope().producer(),
             "evidence collected: " + std::to_string(e.pods_size()) + " pods, " +
                 std::to_string(e.events_size()) + " events");
        }
        break;
      }
      case kProposal: {
        const auto& p = static_cast<const v1::Proposal&>(*ev.msg);
        // The first proposal is the one reviewers see and approve; a re-sent or regenerated
        // one never replaces it under their eyes.
        if (r.has_proposal()) break;
        *r.mutable_proposal() = p;
        set_workload(p.workload());
        set_class(p.failure_class());
        if (!PreDecision(state) || state == v1::REMEDIATION_STATE_READY_FOR_REVIEW) break;
        go(v1::REMEDIATION_STATE_PROPOSED, ev.at, p.envelope().producer(),
           SourceName(p.source()) + ": " + p.summary());
        if (p.manual() || p.actions().empty()) {
          go(v1::REMEDIATION_STATE_FAILED, ev.at, p.envelope().producer(),
             "no safe fix; manual diagnosis: " +
                 (p.root_cause().empty() ? p.summary() : p.root_cause()));
        } else {
          go(v1::REMEDIATION_STATE_READY_FOR_REVIEW, ev.at, "aiops-approver", "awaiting approval");
        }
        break;
      }
      case kDecision: {
        const auto& d = static_cast<const v1::Decision&>(*ev.msg);
        *r.add_decisions() = d;
        if (final_decision || !PreDecision(state)) break;
        if (d.verdict() == v1::Decision::VERDICT_UNSPECIFIED) {
          // A partial approval (two-person rule): collect it, the state stays.
          std::string who;
          for (const auto& a : d.approvals()) {
            if (approvers.insert(a.actor()).second) {
              *r.add_approvals() = a;
              who += (who.empty() ? "" : ", ") + a.actor();
            }
          }
          if (!who.empty())
            go(state, ev.at, d.actor(), "approval recorded (" + who + "); " + d.comment());
          break;
        }
        final_decision = true;
        if (d.verdict() == v1::Decision::VERDICT_APPROVED) {
          approved = true;
          r.clear_approvals();
          for (const auto& a : d.approvals())
            *r.add_approvals() = a;
          go(v1::REMEDIATION_STATE_APPROVED, ev.at, d.actor(),
             d.comment().empty() ? "approved" : d.comment());
        } else if (d.verdict() == v1::Decision::VERDICT_REJECTED) {
          go(v1::REMEDIATION_STATE_REJECTED, ev.at, d.actor(), d.comment());
        } else if (d.verdict() == v1::Decision::VERDICT_EXPIRED) {
          go(v1::REMEDIATION_STATE_EXPIRED, ev.at, d.actor(), d.comment());
        }
        break;
      }
      case kExecution: {
        const auto& x = static_cast<const v1::ExecutionResult&>(*ev.msg);
        *r.add_executions() = x;
        S to = StateOfExecution(x.status());
        if (to == v1::REMEDIATION_STATE_UNSPECIFIED) break;
        // An execution implies an approval even if its decision was not read (yet).
        bool before = !final_decision && PreDecision(state);
        if (before || (approved && ExecRank(to) > ExecRank(state))) {
          std::string reason = x.reason();
          if (x.status() == v1::ExecutionResult::STATUS_STALE) reason = "stale: " + reason;
          if (x.status() == v1::ExecutionResult::STATUS_REFUSED) reason = "refused: " + reason;
          go(to, ev.at, x.envelope().producer(), reason);
          final_decision = approved = true;
        }
        break;
      }
    }
  }
  r.set_state(state);
  rec.view = std::move(r);
}

std::optional<v1::Remediation> Store::Get(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = records_.find(id);
  if (it == records_.end()) return std::nullopt;
  return it->second.view;
}

bool Store::Matches(const v1::Remediation& r, const v1::RemediationFilter& f) {
  if (!f.states().empty() &&
      std::find(f.states().begin(), f.states().end(), r.state()) == f.states().end())
    return false;
  if (!f.cluster().empty() && r.cluster() != f.cluster()) return false;
  if (!f.namespace_().empty() && r.workload().namespace_() != f.namespace_()) return false;
  return true;
}

std::vector<v1::Remediation> Store::List(const v1::RemediationFilter& filter) const {
  std::vector<v1::Remediation> out;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, rec] : records_) {
      if (Matches(rec.view, filter)) out.push_back(rec.view);
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    auto ta = TimeUtil::TimestampToMicroseconds(a.created());
    auto tb = TimeUtil::TimestampToMicroseconds(b.created());
    return std::tie(ta, a.id()) < std::tie(tb, b.id());
  });
  return out;
}

size_t Store::size() const {
  std::lock_guard lock(mu_);
  return records_.size();
}

std::map<v1::RemediationState, int> Store::CountByState() const {
  std::lock_guard lock(mu_);
  std::map<v1::RemediationState, int> out;
  for (const auto& [id, rec] : records_)
    ++out[rec.view.state()];
  return out;
}

std::optional<TimePoint> Store::ReadySince(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = records_.find(id);
  if (it == records_.end()) return std::nullopt;
  return approver::ReadySince(it->second.view);
}

int Store::ApprovedSince(const std::string& workload_key, TimePoint since) const {
  std::lock_guard lock(mu_);
  int n = 0;
  for (const auto& [id, rec] : records_) {
    const auto& v = rec.view;
    if (WorkloadKey(v.cluster(), v.workload()) != workload_key) continue;
    for (const auto& d : v.decisions()) {
      if (d.verdict() != v1::Decision::VERDICT_APPROVED) continue;
      if (FromProto(d.decided_at()) >= since) ++n;
      break;  // only the first final approval of a remediation authorises an execution
    }
  }
  return n;
}

uint64_t Store::version() const {
  std::lock_guard lock(mu_);
  return version_;
}

std::vector<v1::Remediation> Store::ChangedSince(uint64_t after_version,
                                                 uint64_t* now_version) const {
  std::vector<std::pair<uint64_t, v1::Remediation>> changed;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, rec] : records_) {
      if (rec.version > after_version) changed.emplace_back(rec.version, rec.view);
    }
    if (now_version != nullptr) *now_version = version_;
  }
  std::sort(changed.begin(), changed.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<v1::Remediation> out;
  for (auto& [v, r] : changed)
    out.push_back(std::move(r));
  return out;
}

bool Store::WaitForChange(uint64_t after_version, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout, [&] { return version_ > after_version; });
}

void Store::OnChange(std::function<void(const std::string&)> callback) {
  std::lock_guard lock(mu_);
  callbacks_.push_back(std::move(callback));
}

}  // namespace aiops::approver
