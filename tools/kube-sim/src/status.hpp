// Kubernetes `Status` errors. Every failure a client can see is one of these, so kubectl prints
// the same messages it would print against a real API server.
#pragma once

#include <stdexcept>
#include <string>

#include "json_util.hpp"

namespace kubesim {

struct ResourceInfo;

class ApiError : public std::runtime_error {
 public:
  ApiError(int code, std::string reason, const std::string& message, json details = nullptr)
      : std::runtime_error(message),
        code_(code),
        reason_(std::move(reason)),
        details_(std::move(details)) {}
  int code() const { return code_; }
  const std::string& reason() const { return reason_; }
  const json& details() const { return details_; }
  json ToStatus() const;

 private:
  int code_;
  std::string reason_;
  json details_;
};

// "pods" or "deployments.apps": how the API server names a resource in messages.
std::string QualifiedResource(const ResourceInfo& r);

ApiError NotFound(const ResourceInfo& r, const std::string& name);
ApiError AlreadyExists(const ResourceInfo& r, const std::string& name);
ApiError ConflictModified(const ResourceInfo& r, const std::string& name);
// `causes` is an array of {reason, message, field}.
ApiError Invalid(const ResourceInfo& r, const std::string& name, const json& causes);
ApiError BadRequest(const std::string& message);
ApiError Gone(const std::string& message);
ApiError Unauthorized();
ApiError MethodNotSupported(const std::string& method, const std::string& resource);
ApiError UnsupportedMediaType(const std::string& content_type);

json SuccessStatus(const json& details);

}  // namespace kubesim
