// Shared pieces of the simulated control plane: the context every reconciler gets and the
// helpers they share (ownership, readiness, pod creation from templates).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "events.hpp"
#include "image_registry.hpp"
#include "logs.hpp"
#include "objects.hpp"

namespace kubesim {

struct KubeletState;  // kubelet.cpp

struct SimContext {
  ObjectService& objects;
  LogStore& logs;
  ImageRegistry& registry;
  EventRecorder& events;
  KubeletState& kubelet;
  SimTime now;
  // True on the periodic resync pass (every 10 sim seconds): retries that real components
  // repeat on a timer (scheduling attempts, config checks) record their events again.
  bool resync = false;
};

// Each reconciler looks at the whole cluster once per simulation step.
void ReconcileDeployments(SimContext& ctx);
void ReconcileReplicaSets(SimContext& ctx);
void ReconcileStatefulSets(SimContext& ctx);
void ReconcileDaemonSets(SimContext& ctx);
void CollectGarbage(SimContext& ctx);
void ExpireEvents(SimContext& ctx);  // events older than one sim hour, on resync passes
void ReconcileNodes(SimContext& ctx);
void SchedulePods(SimContext& ctx);
void RunKubelet(SimContext& ctx);

// --- helpers -----------------------------------------------------------------------------
std::string Uid(const json& obj);
std::string Name(const json& obj);
std::string Namespace(const json& obj);
// UID of the controlling owner (ownerReferences[].controller == true), "" when none.
std::string ControllerUid(const json& obj);
json ControllerRef(const json& owner);
bool PodActive(const json& pod);  // not finished and not being deleted
bool PodReady(const json& pod);
bool PodAvailable(const json& pod, int64_t min_ready_seconds, SimTime now);
// Deterministic pod-template-hash / controller-revision-hash.
std::string TemplateHash(const json& tmpl);
// A pod object built from a workload's template.
json PodFromTemplate(const json& tmpl, const json& owner, const std::string& name,
                     const json& extra_labels);
// Pods in the namespace controlled by `owner_uid`, active only.
std::vector<ObjPtr> OwnedPods(SimContext& ctx, const std::string& ns, const std::string& owner_uid);
json SetCondition(json conditions, const std::string& type, const std::string& status,
                  const std::string& reason, const std::string& message, const std::string& now,
                  bool with_update_time);
// Resolves an IntOrString ("25%" or 1) against `total`.
int64_t ResolveIntOrPercent(const json& v, int64_t total, bool round_up, int64_t def);

}  // namespace kubesim
