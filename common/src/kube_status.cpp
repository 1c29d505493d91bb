#include "aiops/kube/status.hpp"

#include <climits>

#include "aiops/json_fields.hpp"

namespace aiops::kube {

using json_fields::Field;
using json_fields::String;

ApiError ErrorFromBody(int http_status, const std::string& body) {
  ApiError e;
  e.code = http_status;
  auto doc = Json::parse(body, nullptr, false);
  if (!doc.is_discarded() && String(doc, "kind") == "Status") {
    e.status = doc;
    e.reason = String(doc, "reason");
    e.message = String(doc, "message");
  } else {
    e.message = body.substr(0, 512);
  }
  if (e.reason.empty()) e.reason = "HTTP" + std::to_string(http_status);
  return e;
}

WatchLine ParseWatchLine(const std::string& line) {
  WatchLine out;
  auto doc = Json::parse(line, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return out;
  WatchEvent ev{String(doc, "type"), Field(doc, "object")};
  if (ev.type == "ERROR") {
    // The Status may be missing or malformed; it is still an error that ends the watch.
    ApiError e;
    e.status = ev.object;
    e.code = static_cast<int>(json_fields::Integer(ev.object, "code", 0, INT_MIN, INT_MAX));
    e.reason = String(ev.object, "reason");
    e.message = String(ev.object, "message");
    if (e.reason.empty()) e.reason = "WatchError";
    out.error = e;
  } else {
    out.resource_version = String(Field(ev.object, "metadata"), "resourceVersion");
  }
  out.event = std::move(ev);
  return out;
}

}  // namespace aiops::kube
