#include "proposer/facts.hpp"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cctype>
#include <regex>
#include <sstream>

#include "aiops/names.hpp"
#include "aiops/quantity.hpp"
#include "proposer/candidate.hpp"

namespace aiops::proposer {

using nlohmann::json;

v1::RiskLevel RiskFromString(const std::string& s) {
  return ParseRisk(s).value_or(v1::RISK_LEVEL_UNSPECIFIED);
}

namespace {

const json* FindNamed(const json& list, const std::string& name) {
  if (!list.is_array()) return nullptr;
  for (const auto& item : list) {
    if (item.is_object() && item.value("name", "") == name) return &item;
  }
  return nullptr;
}

const json* Path(const json& j, std::initializer_list<const char*> keys) {
  const json* cur = &j;
  for (const char* k : keys) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(k);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

std::string PathString(const json& j, std::initializer_list<const char*> keys) {
  const json* v = Path(j, keys);
  if (v == nullptr) return "";
  if (v->is_string()) return v->get<std::string>();
  if (v->is_number()) return v->dump();
  return "";
}

// The container spec of `name` in a pod template spec (containers, then initContainers).
const json* ContainerIn(const json& pod_spec, const std::string& name, bool init) {
  const json* list = Path(pod_spec, {init ? "initContainers" : "containers"});
  if (list == nullptr) return nullptr;
  return FindNamed(*list, name);
}

const json* WorkloadPodSpec(const json& workload) {
  return Path(workload, {"spec", "template", "spec"});
}

std::string Repository(const std::string& image) {
  std::string ref = image;
  auto at = ref.find('@');
  if (at != std::string::npos) ref = ref.substr(0, at);
  auto slash = ref.rfind('/');
  auto colon = ref.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    ref = ref.substr(0, colon);
  }
  return ref;
}

int64_t Seconds(const google::protobuf::Timestamp& t) {
  return t.seconds();
}

std::string JoinLines(const std::vector<std::string>& lines, const std::string& sep) {
  std::string out;
  for (const auto& l : lines) {
    if (!out.empty()) out += sep;
    out += l;
  }
  return out;
}

}  // namespace

json WorkloadObject(const v1::Evidence& evidence) {
  if (!evidence.workload_json().empty()) {
    auto parsed = json::parse(evidence.workload_json(), nullptr, false);
    if (parsed.is_object()) return parsed;
  }
  const auto& w = evidence.anomaly().workload();
  json out = {{"apiVersion", w.api_version().empty() ? "apps/v1" : w.api_version()},
              {"kind", w.kind()},
              {"metadata", {{"name", w.name()}, {"namespace", w.namespace_()}}}};
  if (evidence.pods_size() == 0) return out;
  json containers = json::array();
  json init = json::array();
  for (const auto& c : evidence.pods(0).containers()) {
    json spec = {{"name", c.name()}, {"image", c.image()}};
    for (const auto& [k, v] : c.requests())
      spec["resources"]["requests"][k] = v;
    for (const auto& [k, v] : c.limits())
      spec["resources"]["limits"][k] = v;
    (c.init() ? init : containers).push_back(spec);
  }
  out["spec"]["template"]["spec"]["containers"] = containers;
  if (!init.empty()) out["spec"]["template"]["spec"]["initContainers"] = init;
  return out;
}

json ComputeFacts(const v1::Evidence& evidence, const json& params) {
  json f = json::object();
  const auto& a = evidence.anomaly();
  const auto& w = a.workload();
  f["namespace"] = w.namespace_();
  f["name"] = w.name();
  f["kind"] = w.kind();
  f["api_version"] = w.api_version().empty() ? "apps/v1" : w.api_version();
  f["workload"] = w.kind() + " " + w.namespace_() + "/" + w.name();
  f["failure_class"] = FailureClassName(a.failure_class());
  if (!a.reason().empty()) f["reason"] = a.reason();
  if (!a.message().empty()) f["message"] = a.message();
  f["affected_pods"] = a.affected_pods();

  const json workload = WorkloadObject(evidence);
  const json* pod_spec = WorkloadPodSpec(workload);

  // The failing container: named by the anomaly, else the first one not running in the pods.
  std::string container = a.container();
  bool init = a.init_container();
  if (container.empty()) {
    for (const auto& p : evidence.pods()) {
      for (const auto& c : p.containers()) {
        if (container.empty() && (c.state() != "running" || !c.ready())) {
          container = c.name();
          init = c.init();
        }
      }
    }
  }
  if (container.empty() && pod_spec != nullptr) {
    if (const json* list = Path(*pod_spec, {"containers"});
        list != nullptr && list->is_array() && list->size() == 1) {
      container = (*list)[0].value("name", "");
    }
  }
  const json* cspec = nullptr;
  const v1::ContainerEvidence* cev = nullptr;
  for (const auto& p : evidence.pods()) {
    for (const auto& c : p.containers()) {
      if (cev == nullptr && c.name() == container) cev = &c;
    }
  }
  if (!container.empty()) {
    f["container"] = container;
    f["init_container"] = init;
    if (pod_spec != nullptr) cspec = ContainerIn(*pod_spec, container, init);
  }
  std::string image;
  if (cspec != nullptr) image = cspec->value("image", "");
  if (image.empty() && cev != nullptr) image = cev->image();
  if (!image.empty()) f["image"] = image;
  if (cev != nullptr) {
    f["restart_count"] = cev->restart_count();
    if (!cev->last_termination_reason().empty()) {
      f["last_termination_reason"] = cev->last_termination_reason();
      f["last_exit_code"] = cev->last_exit_code();
    }
  }

  // Revisions, oldest first.
  std::vector<const v1::Revision*> revs;
  for (const auto& r : evidence.revisions())
    revs.push_back(&r);
  std::sort(revs.begin(), revs.end(),
            [](const auto* x, const auto* y) { return x->revision() < y->revision(); });
  auto image_of = [&](const v1::Revision& r) -> std::string {
    if (!r.pod_template_json().empty()) {
      auto t = json::parse(r.pod_template_json(), nullptr, false);
      if (t.is_object()) {
        if (const json* spec = Path(t, {"spec"}); spec != nullptr && !container.empty()) {
          if (const json* c = ContainerIn(*spec, container, init)) return c->value("image", "");
        }
      }
    }
    if (r.images_size() == 1) return r.images(0);
    for (const auto& i : r.images()) {
      if (!image.empty() && Repository(i) == Repository(image)) return i;
    }
    return "";
  };
  if (!revs.empty()) {
    const v1::Revision& current = *revs.back();
    f["current_revision"] = current.revision();
    for (auto it = revs.rbegin(); it != revs.rend(); ++it) {
      const auto& r = **it;
      if (!r.ran_healthy()) continue;
      std::string img = image_of(r);
      if (!img.empty() && img != image && !f.contains("healthy_image")) {
        f["healthy_image"] = img;
        f["healthy_revision"] = r.revision();
      }
      if (r.revision() < current.revision() && !f.contains("previous_revision")) {
        f["previous_revision"] = r.revision();
        f["previous_images"] = JoinLines({r.images().begin(), r.images().end()}, ", ");
        if (!current.ran_healthy()) {
          bool began_after = true;
          if (a.has_first_seen() && current.has_created()) {
            began_after = Seconds(a.first_seen()) >= Seconds(current.created());
          }
          if (began_after) {
            f["crash_began_with_rollout"] = true;
            f["rollout_images"] =
                JoinLines({current.images().begin(), current.images().end()}, ", ");
            if (!current.change_cause().empty()) f["rollout_change_cause"] = current.change_cause();
          }
        }
      }
    }
  }
  if (!f.contains("healthy_image") && !container.empty()) {
    // A pod of the workload still running the container with another image (an old replica
    // set during a rolling update) is also a known-good image.
    for (const auto& p : evidence.pods()) {
      for (const auto& c : p.containers()) {
        if (c.name() == container && c.state() == "running" && c.ready() && !c.image().empty() &&
            c.image() != image && !f.contains("healthy_image")) {
          f["healthy_image"] = c.image();
          f["healthy_pod"] = p.name();
        }
      }
    }
  }

  // Memory of the failing container.
  auto resource = [&](const char* kind, const char* res) -> std::string {
    if (cspec != nullptr) {
      std::string v = PathString(*cspec, {"resources", kind, res});
      if (!v.empty()) return v;
    }
    if (cev != nullptr) {
      const auto& m = std::string(kind) == "limits" ? cev->limits() : cev->requests();
      auto it = m.find(res);
      if (it != m.end()) return it->second;
    }
    return "";
  };
  if (!container.empty()) {
    std::string limit = resource("limits", "memory");
    std::string request = resource("requests", "memory");
    if (!request.empty()) f["memory_request"] = request;
    if (auto lim = ParseQuantity(limit)) {
      f["memory_limit"] = limit;
      double factor = params.value("memory_factor", 2.0);
      double cap = 4.0 * 1024 * 1024 * 1024;
      if (params.contains("memory_max")) {
        const auto& m = params["memory_max"];
        if (auto q = ParseQuantity(m.is_string() ? m.get<std::string>() : m.dump())) cap = *q;
      }
      f["memory_max"] = FormatMemory(cap);
      double raised = std::min(*lim * factor, cap);
      if (raised > *lim && factor > 1) {
        f["new_memory_limit"] = FormatMemory(raised);
      } else {
        f["memory_at_max"] = true;
      }
    }
  }

  // Missing references (evidence first, then the status message).
  std::vector<std::string> missing;
  for (const auto& m : evidence.missing_references()) {
    std::string s = m.kind() + " " + m.name();
    if (!m.key().empty()) s += " (key " + m.key() + ")";
    if (!m.referenced_by().empty()) s += " referenced by " + m.referenced_by();
    missing.push_back(s);
    if (!f.contains("missing_name")) {
      f["missing_kind"] = m.kind();
      f["missing_name"] = m.name();
      if (!m.key().empty()) f["missing_key"] = m.key();
    }
  }
  if (missing.empty()) {
    std::vector<std::string> texts = {a.message()};
    if (cev != nullptr) texts.push_back(cev->message());
    static const std::regex kNotFound(R"((configmap|secret) \"([^\"]+)\" not found)",
                                      std::regex::icase);
    static const std::regex kNoKey(
        R"(couldn't find key (\S+) in (ConfigMap|Secret) ([^/\s]+)/(\S+))", std::regex::icase);
    for (const auto& t : texts) {
      std::smatch m;
      if (std::regex_search(t, m, kNoKey)) {
        std::string kind = m[2].str();
        missing.push_back(kind + " " + m[4].str() + " (key " + m[1].str() + ")");
        f["missing_kind"] = kind;
        f["missing_name"] = m[4].str();
        f["missing_key"] = m[1].str();
        break;
      }
      if (std::regex_search(t, m, kNotFound)) {
        std::string kind = m[1].str();
        kind = std::tolower(kind[0]) == 'c' ? "ConfigMap" : "Secret";
        missing.push_back(kind + " " + m[2].str());
        f["missing_kind"] = kind;
        f["missing_name"] = m[2].str();
        break;
      }
    }
  }
  if (!missing.empty()) f["missing_refs"] = JoinLines(missing, "; ");

  // Scheduling numbers.
  double pod_mem = 0, pod_cpu = 0;
  if (pod_spec != nullptr) {
    if (const json* list = Path(*pod_spec, {"containers"}); list != nullptr && list->is_array()) {
      for (const auto& c : *list) {
        if (auto q = ParseQuantity(PathString(c, {"resources", "requests", "memory"})))
          pod_mem += *q;
        if (auto q = ParseQuantity(PathString(c, {"resources", "requests", "cpu"}))) pod_cpu += *q;
      }
    }
  }
  if (pod_mem > 0) f["pod_memory_request"] = FormatMemory(pod_mem);
  if (pod_cpu > 0) f["pod_cpu_request"] = FormatCpu(pod_cpu);
  double max_alloc_mem = 0, max_alloc_cpu = 0, max_free_mem = -1, max_free_cpu = -1;
  std::vector<std::string> node_lines;
  for (const auto& n : evidence.nodes()) {
    auto get = [](const google::protobuf::Map<std::string, std::string>& m, const char* k) {
      auto it = m.find(k);
      return it == m.end() ? std::optional<double>() : ParseQuantity(it->second);
    };
    auto am = get(n.allocatable(), "memory");
    auto ac = get(n.allocatable(), "cpu");
    double rm = get(n.requested(), "memory").value_or(0);
    double rc = get(n.requested(), "cpu").value_or(0);
    std::ostringstream line;
    line << n.name() << ":";
    if (am) {
      max_alloc_mem = std::max(max_alloc_mem, *am);
      max_free_mem = std::max(max_free_mem, *am - rm);
      line << " memory " << FormatMemory(rm) << " of " << FormatMemory(*am) << " requested";
    }
    if (ac) {
      max_alloc_cpu = std::max(max_alloc_cpu, *ac);
      max_free_cpu = std::max(max_free_cpu, *ac - rc);
      line << ", cpu " << FormatCpu(rc) << " of " << FormatCpu(*ac) << " requested";
    }
    if (n.unschedulable()) line << ", cordoned";
    node_lines.push_back(line.str());
  }
  if (!node_lines.empty()) {
    f["node_count"] = evidence.nodes_size();
    f["nodes_summary"] = JoinLines(node_lines, "; ");
  }
  if (max_alloc_mem > 0) f["largest_node_memory"] = FormatMemory(max_alloc_mem);
  if (max_free_mem >= 0) f["most_free_node_memory"] = FormatMemory(max_free_mem);
  if (max_alloc_cpu > 0) f["largest_node_cpu"] = FormatCpu(max_alloc_cpu);
  if (max_free_cpu >= 0) f["most_free_node_cpu"] = FormatCpu(max_free_cpu);
  std::string sched_msg;
  for (const auto& p : evidence.pods()) {
    for (const auto& c : p.conditions()) {
      if (c.type() == "PodScheduled" && c.status() == "False" && sched_msg.empty()) {
        sched_msg = c.message();
      }
    }
  }
  for (const auto& e : evidence.events()) {
    if (e.reason() == "FailedScheduling" && sched_msg.empty()) sched_msg = e.message();
  }
  if (sched_msg.empty() && a.failure_class() == v1::FAILURE_CLASS_UNSCHEDULABLE) {
    sched_msg = a.message();
  }
  if (!sched_msg.empty()) {
    f["scheduler_message"] = sched_msg;
    if (sched_msg.find("Insufficient memory") != std::string::npos) f["insufficient_memory"] = true;
    if (sched_msg.find("Insufficient cpu") != std::string::npos) f["insufficient_cpu"] = true;
  }
  // A request reduction is supported only by a known-good revision that requested less and
  // fits on a node.
  if (!container.empty() && max_free_mem > 0) {
    auto cur_req = ParseQuantity(resource("requests", "memory"));
    for (auto it = revs.rbegin(); it != revs.rend(); ++it) {
      const auto& r = **it;
      if (!r.ran_healthy() || r.pod_template_json().empty()) continue;
      auto t = json::parse(r.pod_template_json(), nullptr, false);
      const json* spec = t.is_object() ? Path(t, {"spec"}) : nullptr;
      const json* c = spec != nullptr ? ContainerIn(*spec, container, init) : nullptr;
      if (c == nullptr) continue;
      std::string req = PathString(*c, {"resources", "requests", "memory"});
      auto q = ParseQuantity(req);
      if (!q || !cur_req || *q >= *cur_req || *q > max_free_mem) continue;
      f["supported_memory_request"] = req;
      std::string lim = PathString(*c, {"resources", "limits", "memory"});
      auto cur_lim = ParseQuantity(resource("limits", "memory"));
      if (!lim.empty()) {
        f["supported_memory_limit"] = lim;
      } else if (cur_lim) {
        f["supported_memory_limit"] = resource("limits", "memory");
      }
      f["supported_revision"] = r.revision();
      break;
    }
  }

  // Logs: the tail of the failing container's crashed instance, and a telling line.
  const v1::ContainerLog* log = nullptr;
  for (const auto& l : evidence.logs()) {
    if (l.container() != container && !container.empty()) continue;
    if (log == nullptr || (l.previous() && !log->previous())) log = &l;
  }
  if (log != nullptr && !log->text().empty()) {
    std::vector<std::string> lines;
    std::istringstream in(log->text());
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) lines.push_back(line);
    }
    if (lines.size() > 5) lines.erase(lines.begin(), lines.end() - 5);
    f["log_tail"] = JoinLines(lines, " | ");
    static const std::regex kTelling(
        R"(not set|missing|required|not found|refused|denied|no such|fatal|panic|error)",
        std::regex::icase);
    for (const auto& l : lines) {
      if (std::regex_search(l, kTelling)) {
        f["log_hint"] = l;
        break;
      }
    }
  }
  // The most frequent warning event.
  const v1::KubeEvent* top = nullptr;
  for (const auto& e : evidence.events()) {
    if (e.type() == "Warning" && (top == nullptr || e.count() > top->count())) top = &e;
  }
  if (top != nullptr) f["top_event"] = top->reason() + ": " + top->message();
  // A runbook's parameters are facts too (so its text can quote them).
  if (params.is_object()) {
    for (auto it = params.begin(); it != params.end(); ++it) {
      if (!f.contains(it.key())) f[it.key()] = it.value();
    }
  }
  return f;
}

namespace {

bool Defined(const json& facts, const std::string& name) {
  auto it = facts.find(name);
  return it != facts.end() && !it->is_null() && !(it->is_boolean() && !it->get<bool>());
}

std::string AsText(const json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

}  // namespace

std::string RenderText(const std::string& text, const json& facts,
                       std::vector<std::string>* missing) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t open = text.find("{{", pos);
    if (open == std::string::npos) break;
    size_t close = text.find("}}", open + 2);
    if (close == std::string::npos) break;
    out += text.substr(pos, open - pos);
    std::string name = text.substr(open + 2, close - open - 2);
    name.erase(0, name.find_first_not_of(' '));
    name.erase(name.find_last_not_of(' ') + 1);
    if (Defined(facts, name)) {
      out += AsText(facts[name]);
    } else {
      out += "(unknown " + name + ")";
      if (missing != nullptr) missing->push_back(name);
    }
    pos = close + 2;
  }
  out += text.substr(pos);
  return out;
}

json RenderTemplate(const json& tmpl, const json& facts, std::vector<std::string>* missing) {
  if (tmpl.is_string()) {
    const std::string s = tmpl.get<std::string>();
    static const std::regex kWhole(R"(^\{\{\s*([A-Za-z0-9_]+)\s*\}\}$)");
    std::smatch m;
    if (std::regex_match(s, m, kWhole)) {
      if (Defined(facts, m[1].str())) return facts[m[1].str()];
      if (missing != nullptr) missing->push_back(m[1].str());
      return nullptr;
    }
    return RenderText(s, facts, missing);
  }
  if (tmpl.is_object()) {
    json out = json::object();
    for (auto it = tmpl.begin(); it != tmpl.end(); ++it) {
      out[it.key()] = RenderTemplate(it.value(), facts, missing);
    }
    return out;
  }
  if (tmpl.is_array()) {
    json out = json::array();
    for (const auto& v : tmpl)
      out.push_back(RenderTemplate(v, facts, missing));
    return out;
  }
  return tmpl;
}

std::string ErrorSignature(const v1::Evidence& evidence) {
  const auto& a = evidence.anomaly();
  std::string msg = a.message();
  static const std::regex kHex(R"(\b[0-9a-f]{5,}\b)");
  static const std::regex kDigits(R"([0-9]+)");
  msg = std::regex_replace(msg, kHex, "#");
  msg = std::regex_replace(msg, kDigits, "#");
  return a.reason() + "|" + msg;
}

}  // namespace aiops::proposer
