// Server-side printing: the meta.k8s.io/v1 Table kubectl asks for (Accept: ...;as=Table), with
// the same columns and cell values as the real API server's printers.
#pragma once

#include <string>
#include <vector>

#include "clock.hpp"
#include "resources.hpp"
#include "store.hpp"

namespace kubesim {

enum class IncludeObject { kNone, kMetadata, kObject };

json TableColumns(const ResourceInfo& r);
json TableRow(const ResourceInfo& r, const json& obj, SimTime now, IncludeObject include);
json MakeTable(const ResourceInfo& r, const std::vector<ObjPtr>& items, SimTime now,
               IncludeObject include, const json& list_meta);

// The STATUS column of `kubectl get pods` (kubectl's printPod logic).
std::string PodStatusReason(const json& pod);

}  // namespace kubesim
