// The whole product on this machine, driven through its public interfaces only: `aiops-local
// up` starts the development broker, kube-sim and the five services; tests talk to them with
// `aiopsctl --local-dir` (gRPC), read the topics with `aiopsctl audit`, and check workloads
// through the kube API. Shared by the end-to-end and fault-injection suites.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "aiops/kube/client.hpp"
#include "subprocess.hpp"

namespace aiops::testing {

using Json = nlohmann::json;

// The string at `path` in j ("" when absent; non-strings are dumped).
std::string Field(const Json& j, std::initializer_list<const char*> path);
// The namespace of a remediation as aiopsctl prints it (proto JSON may spell it namespace_).
std::string Namespace(const Json& remediation);
// "ns/name" of a remediation's workload.
std::string WorkloadKey(const Json& remediation);
// True for states a remediation never leaves.
bool TerminalState(const std::string& state);

// The process ids aiops-local reports in DIR/processes ("name pid http=addr").
struct ProcessInfo {
  pid_t pid = -1;
  std::string http;
};

// `aiops-local up` in a temporary directory; stopped (SIGTERM) by the destructor.
class LocalStack {
 public:
  explicit LocalStack(std::vector<std::string> extra = {}, const std::string& scenario = "demo",
                      const std::string& speed = "10");
  ~LocalStack();
  LocalStack(const LocalStack&) = delete;
  LocalStack& operator=(const LocalStack&) = delete;

  // Waits until the approver's address is published (everything started).
  bool WaitUp();
  bool Running();
  Subprocess& launcher() { return *launcher_; }
  std::string File(const std::string& f) const { return dir_.File(f); }
  const std::string& dir() const { return dir_.path(); }
  // The broker's bootstrap address, without the trailing newline.
  std::string Bootstrap() const;

  // aiopsctl --local-dir DIR ARGS; returns the exit code.
  int Ctl(const std::string& args, std::string* out) const;
  // Every remediation (aiopsctl list -o json); empty on error.
  Json List() const;
  // The remediation of namespace/name (the newest when there are several); null if none.
  Json Find(const std::string& ns, const std::string& name) const;
  std::string StateOf(const std::string& ns, const std::string& name) const;
  bool WaitState(const std::string& ns, const std::string& name, const std::string& state,
                 std::chrono::milliseconds timeout = std::chrono::seconds(180)) const;
  // Every message of one remediation (or all, id empty) on the topics, decoded.
  std::vector<Json> Audit(const std::string& id, const std::string& topic = "") const;
  std::map<std::string, ProcessInfo> Processes() const;
  aiops::kube::Client Kube() const;
  Json Deployment(const std::string& ns, const std::string& name) const;
  // Healthy: every replica updated and available, and the rollout observed.
  bool Healthy(const std::string& ns, const std::string& name) const;
  // The launcher's output and the tail of every log, for failure messages.
  std::string Logs() const;

 private:
  TempDir dir_;
  std::unique_ptr<Subprocess> launcher_;
};

}  // namespace aiops::testing
