#include "sim_control.hpp"

#include <stdexcept>

#include "status.hpp"

namespace kubesim {
namespace {

ApiResponse Json200(const json& body) {
  ApiResponse r;
  r.body = body.dump();
  return r;
}

uint64_t UnsignedQuery(const ApiRequest& req, const std::string& key) {
  std::string v = req.Query(key, "0");
  if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || v.size() > 19)
    throw BadRequest(key + " must be a non-negative integer, got \"" + v + "\"");
  return std::stoull(v);
}

ApiResponse Faults(const ApiRequest& req, FaultInjector& faults) {
  const std::string& m = req.method;
  if (m == "GET") return Json200(faults.State());
  if (m == "DELETE") {
    faults.Clear();
    return Json200(faults.State());
  }
  if (m != "PUT" && m != "POST") throw MethodNotSupported(m, "_sim/faults");
  json doc = json::parse(req.body, nullptr, false);
  if (doc.is_discarded()) throw BadRequest("fault rules: the body is not valid JSON");
  try {
    faults.SetRules(ParseFaultRules(doc));
  } catch (const std::invalid_argument& e) {
    throw BadRequest(std::string("fault rules: ") + e.what());
  }
  return Json200(faults.State());
}

}  // namespace

bool IsSimControlPath(const std::string& path) {
  return path == "/_sim" || path.rfind("/_sim/", 0) == 0;
}

ApiResponse HandleSimControl(const ApiRequest& req, FaultInjector& faults,
                             const WriteAudit& audit) {
  if (req.path == "/_sim/faults") return Faults(req, faults);
  if (req.path == "/_sim/audit") {
    if (req.method != "GET") throw MethodNotSupported(req.method, "_sim/audit");
    return Json200(audit.Since(UnsignedQuery(req, "since"), UnsignedQuery(req, "limit")));
  }
  throw ApiError(404, "NotFound", "the server could not find the requested resource");
}

}  // namespace kubesim
