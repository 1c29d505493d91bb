// The simulator's own control endpoints under /_sim (never faulted, same listener and token as
// the API): fault switches (GET/PUT/POST/DELETE /_sim/faults) and the write audit
// (GET /_sim/audit?since=SEQ&limit=N). See docs/kube-sim.md.
#pragma once

#include "api_server.hpp"

namespace kubesim {

bool IsSimControlPath(const std::string& path);
// Throws ApiError (400 with the reason for bad fault rules, 404, 405) like the API handlers.
ApiResponse HandleSimControl(const ApiRequest& req, FaultInjector& faults, const WriteAudit& audit);

}  // namespace kubesim
