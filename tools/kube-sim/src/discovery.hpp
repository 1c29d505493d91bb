// Discovery documents (/version, /api, /apis, /api/v1, /apis/apps/v1) and the OpenAPI v3
// documents kubectl downloads to decide it may use server-side field validation.
#pragma once

#include <optional>
#include <string>

#include "json_util.hpp"

namespace kubesim {

json VersionInfo();
json ApiVersions();                                      // GET /api
json ApiGroupList();                                     // GET /apis
std::optional<json> ApiGroup(const std::string& group);  // GET /apis/apps
// GET /api/v1 or /apis/apps/v1; nullopt when the group version is not served.
std::optional<json> ApiResourceList(const std::string& group, const std::string& version);
json OpenApiV3Index();  // GET /openapi/v3
// GET /openapi/v3/api/v1 or /openapi/v3/apis/apps/v1.
std::optional<json> OpenApiV3Document(const std::string& gv_path);

}  // namespace kubesim
