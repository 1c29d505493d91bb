#include "status.hpp"

#include "resources.hpp"

namespace kubesim {

json ApiError::ToStatus() const {
  json s = {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", json::object()},
            {"status", "Failure"}, {"message", what()},  {"reason", reason_},
            {"code", code_}};
  if (!details_.is_null()) s["details"] = details_;
  return s;
}

std::string QualifiedResource(const ResourceInfo& r) {
  return r.group.empty() ? r.resource : r.resource + "." + r.group;
}

static json Details(const ResourceInfo& r, const std::string& name) {
  json d = {{"name", name}, {"kind", r.resource}};
  if (!r.group.empty()) d["group"] = r.group;
  return d;
}

ApiError NotFound(const ResourceInfo& r, const std::string& name) {
  return ApiError(404, "NotFound", QualifiedResource(r) + " \"" + name + "\" not found",
                  Details(r, name));
}

ApiError AlreadyExists(const ResourceInfo& r, const std::string& name) {
  return ApiError(409, "AlreadyExists", QualifiedResource(r) + " \"" + name + "\" already exists",
                  Details(r, name));
}

ApiError ConflictModified(const ResourceInfo& r, const std::string& name) {
  return ApiError(409, "Conflict",
                  "Operation cannot be fulfilled on " + QualifiedResource(r) + " \"" + name +
                      "\": the object has been modified; please apply your changes to the "
                      "latest version and try again",
                  Details(r, name));
}

ApiError Invalid(const ResourceInfo& r, const std::string& name, const json& causes) {
  std::string msg =
      r.kind + (r.group.empty() ? "" : "." + r.group) + " \"" + name + "\" is invalid: ";
  bool first = true;
  if (causes.size() > 1) msg += "[";
  for (const auto& c : causes) {
    if (!first) msg += ", ";
    first = false;
    msg += c.value("field", "") + ": " + c.value("message", "");
  }
  if (causes.size() > 1) msg += "]";
  json d = {{"name", name}, {"kind", r.kind}, {"causes", causes}};
  if (!r.group.empty()) d["group"] = r.group;
  return ApiError(422, "Invalid", msg, d);
}

ApiError BadRequest(const std::string& message) {
  return ApiError(400, "BadRequest", message);
}
ApiError Gone(const std::string& message) {
  return ApiError(410, "Expired", message);
}
ApiError Unauthorized() {
  return ApiError(401, "Unauthorized", "Unauthorized");
}
ApiError MethodNotSupported(const std::string& method, const std::string& resource) {
  return ApiError(405, "MethodNotAllowed",
                  "the server does not allow this method on the requested resource",
                  json{{"kind", resource}, {"causes", json::array({{{"message", method}}})}});
}
ApiError UnsupportedMediaType(const std::string& content_type) {
  return ApiError(415, "UnsupportedMediaType",
                  "the body of the request was in an unknown format - accepted media types "
                  "include: application/json-patch+json, application/merge-patch+json, "
                  "application/apply-patch+yaml, application/strategic-merge-patch+json (got " +
                      content_type + ")");
}

json SuccessStatus(const json& details) {
  return {{"kind", "Status"},
          {"apiVersion", "v1"},
          {"metadata", json::object()},
          {"status", "Success"},
          {"details", details}};
}

}  // namespace kubesim
