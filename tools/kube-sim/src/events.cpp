#include "events.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>

#include "status.hpp"

namespace kubesim {

void EventRecorder::Record(const json& involved, const std::string& type, const std::string& reason,
                           const std::string& message, const std::string& component,
                           const std::string& host, const std::string& field_path) {
  const json& meta = Path(involved, {"metadata"});
  std::string ns = PathString(meta, {"namespace"}, "default");
  std::string uid = PathString(meta, {"uid"});
  std::string key = uid + "\x1f" + type + "\x1f" + reason + "\x1f" + message + "\x1f" + component +
                    "\x1f" + field_path;
  std::string now = objects_.Now();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = names_.find(key);
  if (it != names_.end()) {
    std::string name = it->second.substr(it->second.find('/') + 1);
    ObjPtr updated = objects_.Mutate(Events(), ns, name, [&](json& ev) {
      ev["count"] = PathInt(ev, {"count"}, 1) + 1;
      ev["lastTimestamp"] = now;
      return true;
    });
    if (updated) return;
    names_.erase(it);  // deleted meanwhile: record a fresh one
  }
  auto ns_since_epoch = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            objects_.clock().Now().time_since_epoch())
                            .count();
  char suffix[32];
  snprintf(suffix, sizeof suffix, "%llx", static_cast<unsigned long long>(ns_since_epoch));
  std::string name = PathString(meta, {"name"}) + "." + suffix;
  json io = {{"kind", PathString(involved, {"kind"})},
             {"namespace", PathString(meta, {"namespace"})},
             {"name", PathString(meta, {"name"})},
             {"uid", uid},
             {"apiVersion", PathString(involved, {"apiVersion"})},
             {"resourceVersion", PathString(meta, {"resourceVersion"})}};
  if (io["namespace"] == "") io.erase("namespace");
  if (!field_path.empty()) io["fieldPath"] = field_path;
  json source = {{"component", component}};
  if (!host.empty()) source["host"] = host;
  json ev = {{"apiVersion", "v1"},
             {"kind", "Event"},
             {"metadata", {{"name", name}, {"namespace", ns}}},
             {"involvedObject", io},
             {"reason", reason},
             {"message", message},
             {"source", source},
             {"firstTimestamp", now},
             {"lastTimestamp", now},
             {"count", 1},
             {"type", type},
             {"eventTime", nullptr},
             {"reportingComponent", component},
             {"reportingInstance", host}};
  try {
    objects_.Create(Events(), ns, ev);
    names_[key] = ns + "/" + name;
  } catch (const ApiError& e) {
    spdlog::debug("event not recorded: {}", e.what());
  }
}

}  // namespace kubesim
