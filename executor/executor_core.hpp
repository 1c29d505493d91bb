// The executor's core: one approved Decision in, ExecutionResults out. Guardrails, marker
// check (idempotency), staleness, rollback capture, dry run, apply, verification and rollback,
// against a kube API behind an interface so unit tests drive it without a cluster.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "aiops/kube/client.hpp"
#include "aiops/metrics.hpp"
#include "aiops/v1/decision.pb.h"
#include "aiops/v1/execution.pb.h"
#include "guardrails.hpp"

namespace aiops::executor {

// Annotations the executor keeps on the workload's own metadata (never the pod template, so
// they do not start a rollout). Written by the same server-side apply as the change itself.
inline constexpr const char* kMarkerAnnotation = "aiops.io/remediation";  // "<id>/<attempt>"
inline constexpr const char* kPhaseAnnotation = "aiops.io/phase";         // applied | rolled-back
inline constexpr const char* kRollbackAnnotation = "aiops.io/rollback";   // captured rollback

// What the executor needs from a cluster.
class KubeApi {
 public:
  virtual ~KubeApi() = default;
  virtual kube::Result<Json> Get(const std::string& path) = 0;
  virtual kube::Result<Json> List(const std::string& path, const kube::ListOptions& options) = 0;
  virtual kube::Result<Json> Patch(const std::string& path, const Json& body, kube::PatchType type,
                                   const kube::PatchOptions& options) = 0;
};

class ClientKubeApi : public KubeApi {
 public:
  explicit ClientKubeApi(kube::Client& c) : c_(c) {}
  kube::Result<Json> Get(const std::string& path) override { return c_.Get(path); }
  kube::Result<Json> List(const std::string& path, const kube::ListOptions& options) override {
    return c_.List(path, options);
  }
  kube::Result<Json> Patch(const std::string& path, const Json& body, kube::PatchType type,
                           const kube::PatchOptions& options) override {
    return c_.Patch(path, body, type, options);
  }

 private:
  kube::Client& c_;
};

struct Options {
  std::string field_manager = "aiops";
  // Conflicts only with managers whose operation is Update (kubectl client-side apply,
  // kubectl edit/set, other imperative writers) are taken over without the decision's
  // force_conflicts; conflicts with another Apply manager always need force_conflicts.
  bool take_over_update_managers = true;
  std::chrono::milliseconds verify_timeout{std::chrono::minutes(2)};
  std::chrono::milliseconds rollback_verify_timeout{std::chrono::minutes(2)};
  std::chrono::milliseconds poll_interval{500};
  // Fail verification as soon as a pod of the new revision is in a hard failure state
  // (ImagePullBackOff, CrashLoopBackOff, ...) instead of waiting for the deadline.
  bool fail_fast = true;
  std::string producer = "aiops-executor";
};

// Time and sleeping, injectable for tests.
struct Clock {
  std::function<std::chrono::system_clock::time_point()> now = [] {
    return std::chrono::system_clock::now();
  };
  std::function<void(std::chrono::milliseconds)> sleep;  // default: this_thread::sleep_for
};

// A parsed 409 cause: the other manager and the field it holds.
struct FieldConflict {
  std::string manager;
  std::string field;
};
std::vector<FieldConflict> ParseConflicts(const Json& status);

// The values the live object holds for exactly the fields `patch` sets (lists of containers and
// env entries matched by name; an absent field is left out). Returns an apply configuration
// (apiVersion, kind, metadata name/namespace from the patch).
Json CaptureRollback(const Json& patch, const Json& live);

// Merge patch (RFC 7386) turning `from` into `to`.
Json MergeDiff(const Json& from, const Json& to);

// API path of a workload.
std::string WorkloadPath(const v1::WorkloadRef& w);

class Executor {
 public:
  // Called with every intermediate result (APPLYING, APPLIED); returns false when it could not
  // be published (before anything was applied that aborts the execution, to be retried).
  using Publish = std::function<bool(const v1::ExecutionResult&)>;

  Executor(KubeApi& kube, Options options, Clock clock = {}, metrics::Registry* metrics = nullptr,
           const std::atomic<bool>* stop = nullptr);

  // Runs one approved decision to its final result (VERIFIED, ROLLED_BACK, FAILED, STALE,
  // REFUSED). `aborted` is set when an intermediate publish failed before any change.
  v1::ExecutionResult Execute(const v1::Decision& decision, const Publish& publish,
                              bool* aborted = nullptr);

 private:
  struct Run;
  struct Verdict {
    bool healthy = false;
    std::string reason;
  };
  v1::ExecutionStep Begin(v1::ExecutionStep::Kind kind, const std::string& action_id = "");
  void End(Run& run, v1::ExecutionStep step, v1::ExecutionStep::Outcome outcome,
           const std::string& message, int http_status = 0);
  Verdict VerifyRollout(const v1::WorkloadRef& w, int64_t min_generation,
                        std::chrono::milliseconds timeout);
  std::optional<std::string> CheckOnce(const v1::WorkloadRef& w, int64_t min_generation,
                                       bool* failed_hard);
  void Sleep(std::chrono::milliseconds d);
  v1::ExecutionResult RollBack(Run& run, const std::string& path, const v1::WorkloadRef& w,
                               const std::string& first_reason, bool* aborted);
  v1::ExecutionResult VerifyPhase(Run& run, const std::string& path, const v1::WorkloadRef& w,
                                  int64_t generation, bool* aborted);
  v1::ExecutionResult Finish(Run& run, v1::ExecutionResult::Status status,
                             const std::string& reason);

  KubeApi& kube_;
  Options options_;
  Clock clock_;
  metrics::Registry* metrics_;
  const std::atomic<bool>* stop_;
};

}  // namespace aiops::executor
