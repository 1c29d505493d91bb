#include "approver.hpp"

#include <google/protobuf/util/time_util.h>

#include <algorithm>

#include "aiops/envelope.hpp"
#include "aiops/log.hpp"

namespace aiops::approver {

namespace {

using google::protobuf::util::TimeUtil;
using grpc::Status;
using grpc::StatusCode;

constexpr size_t kMaxText = 2000;
constexpr uint32_t kDefaultPageSize = 100;
constexpr uint32_t kMaxPageSize = 1000;

std::string LastReason(const v1::Remediation& r) {
  for (int i = r.history_size() - 1; i >= 0; --i) {
    const auto& t = r.history(i);
    if (t.to() == r.state() && t.from() != t.to()) {
      std::string out = t.actor().empty() ? "" : "by " + t.actor();
      if (!t.reason().empty()) out += (out.empty() ? "" : ": ") + t.reason();
      return out;
    }
  }
  return "";
}

std::string Describe(const v1::Remediation& r) {
  std::string why = LastReason(r);
  return "remediation " + r.id() + " is " + StateName(r.state()) +
         (why.empty() ? "" : " (" + why + ")");
}

std::string WorkloadText(const v1::Remediation& r) {
  const auto& w = r.workload();
  return (w.kind().empty() ? "workload" : w.kind()) + " " + w.namespace_() + "/" + w.name();
}

// Keyset page token: the (created, id) of the last record of the previous page.
std::string PageToken(const v1::Remediation& r) {
  return std::to_string(TimeUtil::TimestampToMicroseconds(r.created())) + "/" + r.id();
}

std::optional<std::pair<int64_t, std::string>> ParsePageToken(const std::string& token) {
  auto slash = token.find('/');
  if (slash == std::string::npos || slash == 0) return std::nullopt;
  try {
    size_t used = 0;
    int64_t micros = std::stoll(token.substr(0, slash), &used);
    if (used != slash) return std::nullopt;
    return std::make_pair(micros, token.substr(slash + 1));
  } catch (...) {
    return std::nullopt;
  }
}

std::vector<double> HumanLatencyBuckets() {
  return {0.1, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600};
}

}  // namespace

std::string FormatDuration(std::chrono::seconds s) {
  auto n = s.count();
  if (n > 0 && n % 86400 == 0) return std::to_string(n / 86400) + "d";
  if (n > 0 && n % 3600 == 0) return std::to_string(n / 3600) + "h";
  if (n > 0 && n % 60 == 0) return std::to_string(n / 60) + "m";
  return std::to_string(n) + "s";
}

Approver::Approver(Store& store, Policies policies, DecisionSink& sink, std::string producer,
                   metrics::Registry* metrics, Now now)
    : store_(store),
      policies_(std::move(policies)),
      sink_(sink),
      producer_(std::move(producer)),
      metrics_(metrics),
      now_(std::move(now)) {}

std::optional<std::string> Approver::CheckId(const std::string& id) {
  if (id.empty()) return "a remediation id is required";
  if (id.size() > 253) return "remediation id is longer than 253 characters";
  for (unsigned char c : id) {
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.' && c != ':')
      return "remediation id has invalid characters (expected e.g. rem-0123456789abcdef0123)";
  }
  return std::nullopt;
}

Status Approver::List(const v1::ListRemediationsRequest& req,
                      v1::ListRemediationsResponse* resp) const {
  for (int s : req.filter().states()) {
    if (!v1::RemediationState_IsValid(s) || s == v1::REMEDIATION_STATE_UNSPECIFIED)
      return Status(StatusCode::INVALID_ARGUMENT, "unknown state in filter: " + std::to_string(s));
  }
  std::optional<std::pair<int64_t, std::string>> after;
  if (!req.page_token().empty()) {
    after = ParsePageToken(req.page_token());
    if (!after) return Status(StatusCode::INVALID_ARGUMENT, "malformed page_token");
  }
  uint32_t size = req.page_size() == 0 ? kDefaultPageSize : std::min(req.page_size(), kMaxPageSize);
  auto all = store_.List(req.filter());
  resp->set_total(static_cast<uint32_t>(all.size()));
  for (auto& r : all) {
    if (after) {
      auto key = std::make_pair(TimeUtil::TimestampToMicroseconds(r.created()), r.id());
      if (!(key > *after)) continue;
    }
    if (static_cast<uint32_t>(resp->remediations_size()) == size) {
      resp->set_next_page_token(PageToken(resp->remediations(resp->remediations_size() - 1)));
      break;
    }
    *resp->add_remediations() = std::move(r);
  }
  return Status::OK;
}

Status Approver::Get(const v1::GetRemediationRequest& req, v1::Remediation* resp) const {
  if (auto err = CheckId(req.id())) return Status(StatusCode::INVALID_ARGUMENT, *err);
  auto r = store_.Get(req.id());
  if (!r) return Status(StatusCode::NOT_FOUND, "remediation " + req.id() + " not found");
  *resp = std::move(*r);
  return Status::OK;
}

v1::Decision Approver::Build(const v1::Remediation& r, v1::Decision::Verdict verdict,
                             const std::string& actor, const std::string& comment,
                             const std::string& policy) const {
  auto now = now_();
  v1::Decision d;
  if (r.has_proposal() && r.proposal().has_envelope()) {
    *d.mutable_envelope() = envelope::Next(r.proposal().envelope(), producer_);
  } else {
    *d.mutable_envelope() = envelope::New(r.id(), r.cluster(), r.trace_id(), producer_);
    *d.mutable_envelope()->mutable_times() = r.times();
    d.mutable_envelope()->mutable_times()->clear_decided();
  }
  if (verdict != v1::Decision::VERDICT_UNSPECIFIED) {
    envelope::Stamp(*d.mutable_envelope(), envelope::Stage::kDecided, now);
  }
  d.set_verdict(verdict);
  d.set_actor(actor);
  d.set_comment(comment);
  d.set_policy(policy);
  const auto& p = r.proposal();
  *d.mutable_actions() = p.actions();
  *d.mutable_rollback_actions() = p.rollback_actions();
  *d.mutable_approvals() = r.approvals();
  d.set_attempt(1);
  d.set_force_conflicts(policies_.force_conflicts);
  *d.mutable_workload() = p.has_workload() ? p.workload() : r.workload();
  d.set_expected_generation(p.evidence_generation());
  d.set_expected_resource_version(p.evidence_resource_version());
  *d.mutable_decided_at() = ToProto(now);
  return d;
}

Status Approver::PublishAndApply(const v1::Decision& d) {
  if (auto err = sink_.Publish(d)) {
    log::Error({log::Rid(d.envelope().remediation_id()), {"error", *err}},
               "could not publish the decision");
    return Status(StatusCode::UNAVAILABLE, "the decision could not be recorded in Kafka (" + *err +
                                               "); nothing changed, "
                                               "try again");
  }
  store_.Apply(d, FromProto(d.decided_at()));
  return Status::OK;
}

Status Approver::CheckRateLimit(const v1::Remediation& r) const {
  int max = policies_.max_per_workload_per_hour;
  if (max <= 0) return Status::OK;
  int n =
      store_.ApprovedSince(WorkloadKey(r.cluster(), r.workload()), now_() - std::chrono::hours(1));
  if (n < max) return Status::OK;
  return Status(StatusCode::RESOURCE_EXHAUSTED,
                "rate limit: " + WorkloadText(r) + " was already approved for change " +
                    std::to_string(n) + " time(s) in the last hour (policy allows " +
                    std::to_string(max) + " per workload per hour); try again later");
}

void Approver::ObserveDecision(const v1::Remediation& r, const v1::Decision& d) {
  if (metrics_ == nullptr) return;
  if (auto since = ReadySince(r)) {
    double secs = std::chrono::duration<double>(FromProto(d.decided_at()) - *since).count();
    metrics_
        ->GetHistogram("aiops_approver_decision_latency_seconds",
                       "time from ready for review to the final decision",
                       {{"verdict", d.verdict() == v1::Decision::VERDICT_APPROVED   ? "approved"
                                    : d.verdict() == v1::Decision::VERDICT_REJECTED ? "rejected"
                                                                                    : "expired"}},
                       HumanLatencyBuckets())
        .Observe(std::max(0.0, secs));
  }
}

Status Approver::Approve(const Identity& who, const v1::ApproveRequest& req,
                         v1::ApproveResponse* resp) {
  if (who.role != Role::kApprover) {
    return Status(StatusCode::PERMISSION_DENIED, "identity '" + who.name + "' has role " +
                                                     RoleName(who.role) +
                                                     "; approving needs role approver");
  }
  if (auto err = CheckId(req.id())) return Status(StatusCode::INVALID_ARGUMENT, *err);
  if (req.comment().size() > kMaxText)
    return Status(StatusCode::INVALID_ARGUMENT, "comment is longer than 2000 characters");

  std::lock_guard lock(decide_mu_);
  auto r = store_.Get(req.id());
  if (!r) return Status(StatusCode::NOT_FOUND, "remediation " + req.id() + " not found");
  switch (r->state()) {
    case v1::REMEDIATION_STATE_READY_FOR_REVIEW:
      break;
    case v1::REMEDIATION_STATE_APPROVED:
      // Approving twice is harmless.
      resp->set_decided(true);
      *resp->mutable_remediation() = *r;
      return Status::OK;
    case v1::REMEDIATION_STATE_UNSPECIFIED:
    case v1::REMEDIATION_STATE_DETECTED:
    case v1::REMEDIATION_STATE_DIAGNOSING:
    case v1::REMEDIATION_STATE_PROPOSED:
      return Status(StatusCode::FAILED_PRECONDITION,
                    "remediation " + r->id() + " has no proposal yet (state " +
                        StateName(r->state()) + "); nothing to approve");
    case v1::REMEDIATION_STATE_APPLYING:
    case v1::REMEDIATION_STATE_APPLIED:
    case v1::REMEDIATION_STATE_VERIFIED:
      return Status(StatusCode::FAILED_PRECONDITION,
                    Describe(*r) + "; it was approved already and cannot be approved again");
    default:
      return Status(StatusCode::FAILED_PRECONDITION,
                    Describe(*r) + "; only a remediation ready for review can be approved");
  }

  int required = policies_.RequiredApprovals(r->proposal());
  for (const auto& a : r->approvals()) {
    if (a.actor() == who.name) {
      resp->set_decided(false);
      resp->set_pending(std::to_string(required - r->approvals_size()) +
                        " more approval(s) from a distinct identity; '" + who.name +
                        "' already approved");
      *resp->mutable_remediation() = *r;
      return Status::OK;
    }
  }
  if (auto s = CheckRateLimit(*r); !s.ok()) {
    if (metrics_ != nullptr)
      metrics_->GetCounter("aiops_approver_rate_limited_total", "approvals refused by rate limit")
          .Inc();
    return s;
  }

  v1::ApprovalRecord mine;
  mine.set_actor(who.name);
  mine.set_comment(req.comment());
  *mine.mutable_at() = ToProto(now_());
  *r->add_approvals() = mine;
  int have = r->approvals_size();

  v1::Decision d;
  if (have < required) {
    std::string pending =
        std::to_string(required - have) + " more approval(s) from a distinct identity";
    d = Build(*r, v1::Decision::VERDICT_UNSPECIFIED, who.name,
              std::to_string(have) + " of " + std::to_string(required) + " approvals; " + pending,
              kTwoPersonPolicy);
    resp->set_pending(pending);
  } else {
    d = Build(*r, v1::Decision::VERDICT_APPROVED, who.name, req.comment(),
              required > 1 ? kTwoPersonPolicy : "");
  }
  if (auto s = PublishAndApply(d); !s.ok()) return s;
  resp->set_decided(d.verdict() == v1::Decision::VERDICT_APPROVED);
  if (metrics_ != nullptr) {
    metrics_
        ->GetCounter("aiops_approver_approvals_total", "approvals recorded",
                     {{"kind", resp->decided() ? "human" : "partial"}})
        .Inc();
  }
  if (resp->decided()) ObserveDecision(*r, d);
  log::Info(
      {log::Rid(r->id()), {"actor", who.name}, {"decided", resp->decided() ? "true" : "false"}},
      "approval recorded");
  *resp->mutable_remediation() = store_.Get(r->id()).value_or(*r);
  UpdateGauges();
  return Status::OK;
}

Status Approver::Reject(const Identity& who, const v1::RejectRequest& req,
                        v1::RejectResponse* resp) {
  if (who.role != Role::kApprover) {
    return Status(StatusCode::PERMISSION_DENIED, "identity '" + who.name + "' has role " +
                                                     RoleName(who.role) +
                                                     "; rejecting needs role approver");
  }
  if (auto err = CheckId(req.id())) return Status(StatusCode::INVALID_ARGUMENT, *err);
  if (req.reason().find_first_not_of(" \t\r\n") == std::string::npos)
    return Status(StatusCode::INVALID_ARGUMENT, "a reason is required to reject");
  if (req.reason().size() > kMaxText)
    return Status(StatusCode::INVALID_ARGUMENT, "reason is longer than 2000 characters");

  std::lock_guard lock(decide_mu_);
  auto r = store_.Get(req.id());
  if (!r) return Status(StatusCode::NOT_FOUND, "remediation " + req.id() + " not found");
  if (r->state() == v1::REMEDIATION_STATE_REJECTED) {
    *resp->mutable_remediation() = *r;  // rejecting twice is harmless too
    return Status::OK;
  }
  switch (r->state()) {
    case v1::REMEDIATION_STATE_UNSPECIFIED:
    case v1::REMEDIATION_STATE_DETECTED:
    case v1::REMEDIATION_STATE_DIAGNOSING:
    case v1::REMEDIATION_STATE_PROPOSED:
    case v1::REMEDIATION_STATE_READY_FOR_REVIEW:
      break;
    default:
      return Status(StatusCode::FAILED_PRECONDITION,
                    Describe(*r) + "; only an undecided remediation can be rejected");
  }
  auto d = Build(*r, v1::Decision::VERDICT_REJECTED, who.name, req.reason(), "");
  if (auto s = PublishAndApply(d); !s.ok()) return s;
  if (metrics_ != nullptr)
    metrics_->GetCounter("aiops_approver_rejections_total", "remediations rejected").Inc();
  ObserveDecision(*r, d);
  log::Info({log::Rid(r->id()), {"actor", who.name}}, "remediation rejected");
  *resp->mutable_remediation() = store_.Get(r->id()).value_or(*r);
  UpdateGauges();
  return Status::OK;
}

int Approver::Sweep() {
  v1::RemediationFilter ready;
  ready.add_states(v1::REMEDIATION_STATE_READY_FOR_REVIEW);
  int published = 0;
  for (const auto& candidate : store_.List(ready)) {
    std::lock_guard lock(decide_mu_);
    auto r = store_.Get(candidate.id());  // re-check under the decision lock
    if (!r || r->state() != v1::REMEDIATION_STATE_READY_FOR_REVIEW) continue;
    auto now = now_();
    if (const auto* rule = policies_.AutoApproval(*r)) {
      if (!CheckRateLimit(*r).ok()) {
        if (rate_limited_logged_.insert(r->id()).second) {
          log::Warn({log::Rid(r->id()), {"policy", rule->name}},
                    "auto-approval held back by the rate limit; waiting for a person");
        }
      } else {
        std::string actor = "policy:" + rule->name;
        v1::ApprovalRecord rec;
        rec.set_actor(actor);
        rec.set_comment("auto-approved by policy " + rule->name);
        *rec.mutable_at() = ToProto(now);
        r->clear_approvals();
        *r->add_approvals() = rec;
        auto d = Build(*r, v1::Decision::VERDICT_APPROVED, actor, rec.comment(), rule->name);
        if (PublishAndApply(d).ok()) {
          ++published;
          if (metrics_ != nullptr) {
            metrics_
                ->GetCounter("aiops_approver_approvals_total", "approvals recorded",
                             {{"kind", "policy"}})
                .Inc();
          }
          ObserveDecision(*r, d);
          log::Info({log::Rid(r->id()), {"policy", rule->name}}, "auto-approved by policy");
        }
        continue;
      }
    }
    if (policies_.ttl.count() > 0) {
      auto since = store_.ReadySince(r->id());
      if (since && now - *since >= policies_.ttl) {
        auto d = Build(*r, v1::Decision::VERDICT_EXPIRED, std::string("policy:") + kExpiryPolicy,
                       "not decided within " + FormatDuration(policies_.ttl), kExpiryPolicy);
        if (PublishAndApply(d).ok()) {
          ++published;
          if (metrics_ != nullptr) {
            metrics_->GetCounter("aiops_approver_expirations_total", "proposals expired").Inc();
          }
          ObserveDecision(*r, d);
          log::Info({log::Rid(r->id())}, "proposal expired undecided");
        }
      }
    }
  }
  if (published > 0) UpdateGauges();
  return published;
}

void Approver::UpdateGauges() {
  if (metrics_ == nullptr) return;
  auto counts = store_.CountByState();
  for (int i = v1::REMEDIATION_STATE_DETECTED; i <= v1::REMEDIATION_STATE_ROLLED_BACK; ++i) {
    auto s = static_cast<v1::RemediationState>(i);
    metrics_
        ->GetGauge("aiops_approver_remediations", "remediations by life-cycle state",
                   {{"state", StateName(s)}})
        .Set(counts.count(s) ? counts[s] : 0);
  }
}

}  // namespace aiops::approver
