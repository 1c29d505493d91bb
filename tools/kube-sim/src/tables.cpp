#include "tables.hpp"

#include "json_util.hpp"
#include "selectors.hpp"

namespace kubesim {
namespace {

json Col(const std::string& name, const std::string& type, int priority = 0,
         const std::string& format = "") {
  return {{"name", name},
          {"type", type},
          {"format", format},
          {"description", name},
          {"priority", priority}};
}

std::string Age(const json& obj, const char* field, SimTime now) {
  SimTime t;
  std::string s = PathString(obj, {"metadata", field});
  if (s.empty() || !ParseRfc3339(s, &t)) return "<unknown>";
  return HumanDuration(std::chrono::duration_cast<std::chrono::seconds>(now - t));
}

std::string AgeOf(const std::string& ts, SimTime now) {
  SimTime t;
  if (ts.empty() || !ParseRfc3339(ts, &t)) return "<unknown>";
  return HumanDuration(std::chrono::duration_cast<std::chrono::seconds>(now - t));
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i)
    out += (i ? "," : "") + v[i];
  return out;
}

std::string Containers(const json& spec, const char* field) {
  std::vector<std::string> out;
  for (const auto& c : Path(spec, {"containers"}))
    out.push_back(PathString(c, {field}));
  return Join(out);
}

std::string SelectorString(const json& sel) {
  std::string s = LabelSelector::FromObject(sel).String();
  return s.empty() ? "<none>" : s;
}

int64_t I(const json& obj, std::initializer_list<const char*> keys) {
  return PathInt(obj, keys, 0);
}

json PodCells(const json& pod, SimTime now) {
  int total = 0, ready = 0, restarts = 0;
  std::string last_restart;
  total = static_cast<int>(Path(pod, {"spec", "containers"}).size());
  for (const auto& cs : Path(pod, {"status", "containerStatuses"})) {
    if (cs.value("ready", false)) ++ready;
    restarts += cs.value("restartCount", 0);
    std::string fin = PathString(cs, {"lastState", "terminated", "finishedAt"});
    if (!fin.empty() && fin > last_restart) last_restart = fin;
  }
  std::string restarts_cell = std::to_string(restarts);
  if (restarts > 0 && !last_restart.empty())
    restarts_cell += " (" + AgeOf(last_restart, now) + " ago)";
  std::string ip = PathString(pod, {"status", "podIP"}, "<none>");
  std::string node = PathString(pod, {"spec", "nodeName"}, "<none>");
  return json::array({PathString(pod, {"metadata", "name"}),
                      std::to_string(ready) + "/" + std::to_string(total), PodStatusReason(pod),
                      restarts_cell, Age(pod, "creationTimestamp", now), ip, node, "<none>",
                      "<none>"});
}

}  // namespace

std::string PodStatusReason(const json& pod) {
  std::string reason = PathString(pod, {"status", "phase"}, "Unknown");
  std::string r = PathString(pod, {"status", "reason"});
  if (!r.empty()) reason = r;
  bool has_running = false;
  const json& statuses = Path(pod, {"status", "containerStatuses"});
  for (auto it = statuses.rbegin(); it != statuses.rend(); ++it) {
    const json& st = Path(*it, {"state"});
    std::string waiting = PathString(st, {"waiting", "reason"});
    std::string term = PathString(st, {"terminated", "reason"});
    if (!waiting.empty()) {
      reason = waiting;
    } else if (!term.empty()) {
      reason = term;
    } else if (st.contains("terminated")) {
      reason = "ExitCode:" + std::to_string(PathInt(st, {"terminated", "exitCode"}));
    } else if (st.contains("running") && it->value("ready", false)) {
      has_running = true;
    }
  }
  if (reason == "Completed" && has_running) reason = "Running";
  // A pod the scheduler could not place shows plain Pending, like kubectl.
  if (!PathString(pod, {"metadata", "deletionTimestamp"}).empty()) reason = "Terminating";
  return reason;
}

json TableColumns(const ResourceInfo& r) {
  if (&r == &Pods())
    return json::array({Col("Name", "string", 0, "name"), Col("Ready", "string"),
                        Col("Status", "string"), Col("Restarts", "string"), Col("Age", "string"),
                        Col("IP", "string", 1), Col("Node", "string", 1),
                        Col("Nominated Node", "string", 1), Col("Readiness Gates", "string", 1)});
  if (&r == &Deployments())
    return json::array({Col("Name", "string", 0, "name"), Col("Ready", "string"),
                        Col("Up-to-date", "integer"), Col("Available", "integer"),
                        Col("Age", "string"), Col("Containers", "string", 1),
                        Col("Images", "string", 1), Col("Selector", "string", 1)});
  if (&r == &ReplicaSets())
    return json::array({Col("Name", "string", 0, "name"), Col("Desired", "integer"),
                        Col("Current", "integer"), Col("Ready", "integer"), Col("Age", "string"),
                        Col("Containers", "string", 1), Col("Images", "string", 1),
                        Col("Selector", "string", 1)});
  if (&r == &StatefulSets())
    return json::array({Col("Name", "string", 0, "name"), Col("Ready", "string"),
                        Col("Age", "string"), Col("Containers", "string", 1),
                        Col("Images", "string", 1)});
  if (&r == &DaemonSets())
    return json::array(
        {Col("Name", "string", 0, "name"), Col("Desired", "integer"), Col("Current", "integer"),
         Col("Ready", "integer"), Col("Up-to-date", "integer"), Col("Available", "integer"),
         Col("Node Selector", "string"), Col("Age", "string"), Col("Containers", "string", 1),
         Col("Images", "string", 1), Col("Selector", "string", 1)});
  if (&r == &Nodes())
    return json::array({Col("Name", "string", 0, "name"), Col("Status", "string"),
                        Col("Roles", "string"), Col("Age", "string"), Col("Version", "string"),
                        Col("Internal-IP", "string", 1), Col("External-IP", "string", 1),
                        Col("OS-Image", "string", 1), Col("Kernel-Version", "string", 1),
                        Col("Container-Runtime", "string", 1)});
  if (&r == &Namespaces())
    return json::array(
        {Col("Name", "string", 0, "name"), Col("Status", "string"), Col("Age", "string")});
  if (&r == &Events())
    return json::array({Col("Last Seen", "string"), Col("Type", "string"), Col("Reason", "string"),
                        Col("Object", "string"), Col("Subobject", "string", 1),
                        Col("Source", "string", 1), Col("Message", "string"),
                        Col("First Seen", "string", 1), Col("Count", "string", 1),
                        Col("Name", "string", 1, "name")});
  if (&r == &Services())
    return json::array({Col("Name", "string", 0, "name"), Col("Type", "string"),
                        Col("Cluster-IP", "string"), Col("External-IP", "string"),
                        Col("Port(s)", "string"), Col("Age", "string"),
                        Col("Selector", "string", 1)});
  if (&r == &Secrets())
    return json::array({Col("Name", "string", 0, "name"), Col("Type", "string"),
                        Col("Data", "string"), Col("Age", "string")});
  if (&r == &ConfigMaps())
    return json::array(
        {Col("Name", "string", 0, "name"), Col("Data", "string"), Col("Age", "string")});
  return json::array({Col("Name", "string", 0, "name"), Col("Age", "string")});
}

json TableRow(const ResourceInfo& r, const json& obj, SimTime now, IncludeObject include) {
  json cells;
  std::string name = PathString(obj, {"metadata", "name"});
  std::string age = Age(obj, "creationTimestamp", now);
  const json& spec = Path(obj, {"spec"});
  const json& st = Path(obj, {"status"});
  if (&r == &Pods()) {
    cells = PodCells(obj, now);
  } else if (&r == &Deployments()) {
    const json& ps = Path(spec, {"template", "spec"});
    cells = {name,
             std::to_string(I(st, {"readyReplicas"})) + "/" + std::to_string(I(spec, {"replicas"})),
             I(st, {"updatedReplicas"}),
             I(st, {"availableReplicas"}),
             age,
             Containers(ps, "name"),
             Containers(ps, "image"),
             SelectorString(Path(spec, {"selector"}))};
  } else if (&r == &ReplicaSets()) {
    const json& ps = Path(spec, {"template", "spec"});
    cells = {name,
             I(spec, {"replicas"}),
             I(st, {"replicas"}),
             I(st, {"readyReplicas"}),
             age,
             Containers(ps, "name"),
             Containers(ps, "image"),
             SelectorString(Path(spec, {"selector"}))};
  } else if (&r == &StatefulSets()) {
    const json& ps = Path(spec, {"template", "spec"});
    cells = {name,
             std::to_string(I(st, {"readyReplicas"})) + "/" + std::to_string(I(spec, {"replicas"})),
             age, Containers(ps, "name"), Containers(ps, "image")};
  } else if (&r == &DaemonSets()) {
    const json& ps = Path(spec, {"template", "spec"});
    std::string ns_sel;
    for (const auto& [k, v] : Path(ps, {"nodeSelector"}).items())
      ns_sel +=
          (ns_sel.empty() ? "" : ",") + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
    cells = {name,
             I(st, {"desiredNumberScheduled"}),
             I(st, {"currentNumberScheduled"}),
             I(st, {"numberReady"}),
             I(st, {"updatedNumberScheduled"}),
             I(st, {"numberAvailable"}),
             ns_sel.empty() ? "<none>" : ns_sel,
             age,
             Containers(ps, "name"),
             Containers(ps, "image"),
             SelectorString(Path(spec, {"selector"}))};
  } else if (&r == &Nodes()) {
    std::string status = "Unknown";
    for (const auto& c : Path(st, {"conditions"})) {
      if (c.value("type", "") == "Ready")
        status = c.value("status", "") == "True" ? "Ready" : "NotReady";
    }
    if (Path(spec, {"unschedulable"}) == true) status += ",SchedulingDisabled";
    std::vector<std::string> roles;
    for (const auto& [k, v] : Path(obj, {"metadata", "labels"}).items()) {
      const std::string prefix = "node-role.kubernetes.io/";
      if (k.rfind(prefix, 0) == 0) roles.push_back(k.substr(prefix.size()));
    }
    std::string ip = "<none>";
    for (const auto& a : Path(st, {"addresses"})) {
      if (a.value("type", "") == "InternalIP") ip = a.value("address", "");
    }
    cells = {name,
             status,
             roles.empty() ? "<none>" : Join(roles),
             age,
             PathString(st, {"nodeInfo", "kubeletVersion"}),
             ip,
             "<none>",
             PathString(st, {"nodeInfo", "osImage"}),
             PathString(st, {"nodeInfo", "kernelVersion"}),
             PathString(st, {"nodeInfo", "containerRuntimeVersion"})};
  } else if (&r == &Namespaces()) {
    cells = {name, PathString(st, {"phase"}), age};
  } else if (&r == &Events()) {
    std::string last = PathString(obj, {"lastTimestamp"});
    if (last.empty()) last = PathString(obj, {"eventTime"});
    std::string first = PathString(obj, {"firstTimestamp"});
    const json& io = Path(obj, {"involvedObject"});
    std::string object = PathString(io, {"kind"});
    for (auto& c : object)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    object += "/" + PathString(io, {"name"});
    std::string source = PathString(obj, {"source", "component"});
    std::string host = PathString(obj, {"source", "host"});
    if (!host.empty()) source += ", " + host;
    cells = {AgeOf(last, now),
             PathString(obj, {"type"}),
             PathString(obj, {"reason"}),
             object,
             PathString(io, {"fieldPath"}),
             source,
             PathString(obj, {"message"}),
             AgeOf(first, now),
             std::to_string(PathInt(obj, {"count"}, 1)),
             name};
  } else if (&r == &Services()) {
    std::string ports;
    for (const auto& p : Path(spec, {"ports"})) {
      if (!ports.empty()) ports += ",";
      ports += std::to_string(PathInt(p, {"port"})) + "/" + PathString(p, {"protocol"}, "TCP");
    }
    std::string sel;
    for (const auto& [k, v] : Path(spec, {"selector"}).items())
      sel += (sel.empty() ? "" : ",") + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
    cells = {name,
             PathString(spec, {"type"}),
             PathString(spec, {"clusterIP"}, "<none>"),
             "<none>",
             ports.empty() ? "<none>" : ports,
             age,
             sel.empty() ? "<none>" : sel};
  } else if (&r == &Secrets()) {
    size_t n = Path(obj, {"data"}).size() + Path(obj, {"stringData"}).size();
    cells = {name, PathString(obj, {"type"}), std::to_string(n), age};
  } else if (&r == &ConfigMaps()) {
    size_t n = Path(obj, {"data"}).size() + Path(obj, {"binaryData"}).size();
    cells = {name, std::to_string(n), age};
  } else {
    cells = {name, age};
  }
  json row = {{"cells", cells}};
  if (include == IncludeObject::kObject) {
    row["object"] = obj;
  } else if (include == IncludeObject::kMetadata) {
    json meta = obj["metadata"];
    meta.erase("managedFields");
    row["object"] = {
        {"kind", "PartialObjectMetadata"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", meta}};
  }
  return row;
}

json MakeTable(const ResourceInfo& r, const std::vector<ObjPtr>& items, SimTime now,
               IncludeObject include, const json& list_meta) {
  json rows = json::array();
  for (const auto& o : items)
    rows.push_back(TableRow(r, o->obj, now, include));
  return {{"kind", "Table"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", list_meta},
          {"columnDefinitions", TableColumns(r)},
          {"rows", rows}};
}

}  // namespace kubesim
