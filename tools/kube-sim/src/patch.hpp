// The three non-apply patch formats the API server accepts: RFC 7386 JSON merge patch, RFC 6902
// JSON patch, and Kubernetes strategic merge patch (lists merged by key, `$patch` directives).
#pragma once

#include <string>
#include <vector>

#include "json_util.hpp"

namespace kubesim {

// Merge keys of the associative lists of the built-in types we serve (from the Go struct tags:
// `patchMergeKey` / `listMapKeys`). Empty when the list is atomic. `sample` is an element of the
// list, used to tell container ports (containerPort) from service ports (port).
std::vector<std::string> ListMapKeys(const std::string& field, const json& sample);
// Lists of scalars merged as sets (`finalizers`).
bool IsSetList(const std::string& field);

json ApplyMergePatch(const json& target, const json& patch);
// Throws ApiError(422) when an operation fails (for example a failed `test`).
json ApplyJsonPatch(const json& target, const json& patch);
json ApplyStrategicMergePatch(const json& target, const json& patch);

}  // namespace kubesim
