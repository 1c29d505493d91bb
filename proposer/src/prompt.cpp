#include "proposer/prompt.hpp"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "proposer/facts.hpp"

namespace aiops::proposer {

using nlohmann::json;

size_t EstimateTokens(size_t bytes) {
  return (bytes + 3) / 4;
}

namespace {

std::string SystemMessage(const v1::WorkloadRef& w) {
  std::ostringstream s;
  s << "You are a senior Kubernetes SRE. You get the evidence of one failing workload and "
       "answer with ONE JSON object that matches the given schema, nothing else.\n"
       "Hard rules:\n"
       "1. Change only the incident's workload: "
    << w.kind() << " " << w.namespace_() << "/" << w.name()
    << ". Every action's target and patch metadata name exactly it (apiVersion apps/v1).\n"
       "2. type server_side_apply: patch is an apply configuration holding apiVersion, kind, "
       "metadata.name, metadata.namespace and only the fields to set; containers are "
       "identified by name.\n"
       "3. Allowed fields: spec.replicas, spec.template.metadata.annotations, and in "
       "spec.template.spec.containers[]/initContainers[]: image, resources, env, envFrom, "
       "livenessProbe, readinessProbe, startupProbe. Nothing else.\n"
       "4. Never privileged, securityContext, host namespaces, hostPath, added capabilities, "
       "or an image with :latest or without a tag.\n"
       "5. type rollback_to_revision restores a revision listed in the history.\n"
       "6. If no safe change exists (a missing ConfigMap/Secret, a value the evidence does not "
       "show), answer manual=true with no actions and the diagnosis. Never invent values.\n"
       "7. reasoning: observation -> thought steps as an SRE writes them; risk low|medium|high "
       "with reasons; confidence 0..1.";
  return s.str();
}

std::string Ts(const google::protobuf::Timestamp& t) {
  return google::protobuf::util::TimeUtil::ToString(t);
}

// Compact view of the workload's containers: what a fix would touch.
std::string WorkloadSection(const v1::Evidence& e) {
  json w = WorkloadObject(e);
  json out = json::object();
  if (w.contains("spec") && w["spec"].is_object()) {
    const json& spec = w["spec"];
    if (spec.contains("replicas")) out["replicas"] = spec["replicas"];
    const json* pod = nullptr;
    if (spec.contains("template") && spec["template"].contains("spec")) {
      pod = &spec["template"]["spec"];
    }
    if (pod != nullptr) {
      for (const char* list : {"initContainers", "containers"}) {
        if (!pod->contains(list) || !(*pod)[list].is_array()) continue;
        json cs = json::array();
        for (const auto& c : (*pod)[list]) {
          json k = json::object();
          for (const char* f : {"name", "image", "resources", "env", "envFrom", "livenessProbe",
                                "readinessProbe", "startupProbe"}) {
            if (c.contains(f)) k[f] = c[f];
          }
          cs.push_back(k);
        }
        out[list] = cs;
      }
    }
  }
  std::ostringstream s;
  s << "## Workload spec (apply fields only)\n" << out.dump() << "\n";
  if (e.workload_generation() != 0) {
    s << "generation " << e.workload_generation() << ", resourceVersion "
      << e.workload_resource_version() << "\n";
  }
  return s.str();
}

std::string ContainerSection(const v1::Evidence& e) {
  std::ostringstream s;
  s << "## Pods\n";
  std::set<std::string> seen;
  for (const auto& p : e.pods()) {
    std::ostringstream line;
    line << p.phase();
    if (!p.reason().empty()) line << " " << p.reason();
    for (const auto& c : p.containers()) {
      line << " | " << (c.init() ? "init " : "") << c.name() << " " << c.image() << " "
           << c.state();
      if (!c.reason().empty()) line << " " << c.reason();
      if (!c.message().empty()) line << ": " << c.message();
      if (c.restart_count() > 0) line << ", restarts " << c.restart_count();
      if (!c.last_termination_reason().empty()) {
        line << ", last " << c.last_termination_reason() << " exit " << c.last_exit_code();
      }
      line << (c.ready() ? ", ready" : ", not ready");
      for (const auto& env : c.env()) {
        line << ", env " << env.name() << "<-" << env.source();
        if (env.redacted()) line << "(redacted)";
      }
    }
    for (const auto& cond : p.conditions()) {
      if (cond.status() == "False" && !cond.message().empty()) {
        line << " | " << cond.type() << "=False " << cond.reason() << ": " << cond.message();
      }
    }
    std::string key = line.str();
    // Pods in the same state say the same thing: list the state once with a count.
    if (seen.insert(key).second) s << "- " << p.name() << ": " << key << "\n";
  }
  return s.str();
}

std::string MissingSection(const v1::Evidence& e) {
  if (e.missing_references_size() == 0) return "";
  std::ostringstream s;
  s << "## Missing references\n";
  for (const auto& m : e.missing_references()) {
    s << "- " << m.kind() << " " << m.name();
    if (!m.key().empty()) s << " key " << m.key();
    if (!m.referenced_by().empty()) s << " (" << m.referenced_by() << ")";
    s << "\n";
  }
  return s.str();
}

std::string RevisionSection(const v1::Evidence& e) {
  if (e.revisions_size() == 0) return "";
  std::ostringstream s;
  s << "## Rollout history (newest last)\n";
  std::vector<const v1::Revision*> revs;
  for (const auto& r : e.revisions())
    revs.push_back(&r);
  std::sort(revs.begin(), revs.end(),
            [](const auto* a, const auto* b) { return a->revision() < b->revision(); });
  for (const auto* r : revs) {
    s << "- revision " << r->revision() << ": ";
    for (int i = 0; i < r->images_size(); ++i)
      s << (i ? ", " : "") << r->images(i);
    s << (r->ran_healthy() ? " (ran healthy)" : " (never healthy)");
    s << ", ready " << r->ready_replicas() << "/" << r->replicas();
    if (r->has_created()) s << ", created " << Ts(r->created());
    if (!r->change_cause().empty()) s << ", cause: " << r->change_cause();
    s << "\n";
  }
  return s.str();
}

std::vector<std::string> EventLines(const v1::Evidence& e) {
  std::vector<const v1::KubeEvent*> events;
  for (const auto& ev : e.events())
    events.push_back(&ev);
  // Warnings first, then the most repeated.
  std::stable_sort(events.begin(), events.end(), [](const auto* a, const auto* b) {
    if ((a->type() == "Warning") != (b->type() == "Warning")) return a->type() == "Warning";
    return a->count() > b->count();
  });
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto* ev : events) {
    std::string key = ev->reason() + ": " + ev->message();
    if (!seen.insert(key).second) continue;
    out.push_back("- " + ev->type() + " " + key + " (x" + std::to_string(ev->count()) + ", " +
                  ev->involved_kind() + "/" + ev->involved_name() + ")");
  }
  return out;
}

std::string NodeSection(const v1::Evidence& e) {
  if (e.nodes_size() == 0) return "";
  std::ostringstream s;
  s << "## Nodes\n";
  for (const auto& n : e.nodes()) {
    s << "- " << n.name() << ": allocatable";
    for (const auto& k : {"cpu", "memory"}) {
      auto it = n.allocatable().find(k);
      if (it != n.allocatable().end()) s << " " << k << "=" << it->second;
    }
    s << ", requested";
    for (const auto& k : {"cpu", "memory"}) {
      auto it = n.requested().find(k);
      if (it != n.requested().end()) s << " " << k << "=" << it->second;
    }
    if (n.unschedulable()) s << ", cordoned";
    for (const auto& t : n.taints())
      s << ", taint " << t;
    s << "\n";
  }
  return s.str();
}

// Keeps the last `max_bytes` of `text`, starting at a line boundary.
std::string Tail(const std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::string t = text.substr(text.size() - max_bytes);
  auto nl = t.find('\n');
  if (nl != std::string::npos && nl + 1 < t.size()) t = t.substr(nl + 1);
  return t;
}

}  // namespace

Prompt BuildPrompt(const v1::Evidence& e, const std::vector<const Runbook*>& guidance,
                   const PromptOptions& options) {
  Prompt p;
  const auto& a = e.anomaly();
  const auto& w = a.workload();
  std::string system = SystemMessage(w);
  const size_t budget = options.token_budget * 4;
  size_t left = budget > system.size() ? budget - system.size() : 0;

  std::ostringstream user;
  auto add = [&](const std::string& section, const std::string& name) {
    if (section.empty()) return;
    if (section.size() <= left) {
      user << section;
      left -= section.size();
    } else {
      p.omitted.push_back(name);
    }
  };
  {
    std::ostringstream s;
    s << "## Incident\n"
      << w.kind() << " " << w.namespace_() << "/" << w.name() << ": "
      << FailureClassName(a.failure_class()) << ", reason " << a.reason() << "\n";
    if (!a.message().empty()) s << "message: " << a.message() << "\n";
    if (!a.container().empty()) {
      s << (a.init_container() ? "init container: " : "container: ") << a.container() << "\n";
    }
    s << "affected pods: " << a.affected_pods();
    if (a.has_first_seen()) s << ", first seen " << Ts(a.first_seen());
    s << "\n";
    std::string incident = s.str();
    // The incident is never dropped; at worst it is cut.
    if (incident.size() > left) incident = incident.substr(0, left);
    user << incident;
    left -= incident.size();
  }
  add(WorkloadSection(e), "workload spec");
  add(ContainerSection(e), "pods");
  add(MissingSection(e), "missing references");
  add(RevisionSection(e), "rollout history");
  if (!guidance.empty()) {
    std::ostringstream s;
    s << "## Runbook guidance\n";
    for (const auto* r : guidance) {
      if (!r->guidance.empty()) s << "- " << r->id << ": " << r->guidance << "\n";
    }
    add(s.str(), "runbook guidance");
  }
  // Events and logs are cut to fit rather than dropped whole.
  {
    auto lines = EventLines(e);
    if (!lines.empty()) {
      std::string head = "## Events\n";
      if (head.size() < left) {
        user << head;
        left -= head.size();
        size_t kept = 0;
        for (const auto& l : lines) {
          if (l.size() + 1 > left) break;
          user << l << "\n";
          left -= l.size() + 1;
          ++kept;
        }
        if (kept < lines.size()) {
          p.omitted.push_back(std::to_string(lines.size() - kept) + " of " +
                              std::to_string(lines.size()) + " events");
        }
      } else {
        p.omitted.push_back("events");
      }
    }
  }
  for (const auto& l : e.logs()) {
    std::string head = "## Log " + l.pod() + "/" + l.container() +
                       (l.previous() ? " (previous instance)" : "") + "\n";
    if (head.size() + 40 >= left) {
      p.omitted.push_back("log " + l.pod() + "/" + l.container());
      continue;
    }
    std::string text = l.text();
    if (!text.empty() && text.back() != '\n') text += "\n";
    std::string tail = Tail(text, left - head.size());
    if (tail.size() < text.size()) {
      p.omitted.push_back("head of log " + l.pod() + "/" + l.container() + " (" +
                          std::to_string(text.size() - tail.size()) + " bytes)");
    }
    user << head << tail;
    left -= head.size() + tail.size();
  }
  add(NodeSection(e), "nodes");
  if (e.collection_errors_size() > 0) {
    std::ostringstream s;
    s << "## Not collected\n";
    for (const auto& c : e.collection_errors())
      s << "- " << c << "\n";
    add(s.str(), "collection errors");
  }
  if (!p.omitted.empty()) {
    std::ostringstream s;
    s << "## Omitted for size\n";
    for (const auto& o : p.omitted)
      s << "- " << o << "\n";
    // Fits only if there is room; otherwise the list itself is the price of the budget.
    if (s.str().size() <= left) user << s.str();
  }
  p.messages.push_back({"system", system});
  p.messages.push_back({"user", user.str()});
  p.bytes = system.size() + user.str().size();
  p.estimated_tokens = EstimateTokens(p.bytes);
  return p;
}

std::string RepairMessage(const std::vector<std::string>& errors) {
  std::ostringstream s;
  s << "Your answer was rejected:\n";
  for (const auto& e : errors)
    s << "- " << e << "\n";
  s << "Answer again with ONE JSON object matching the schema and the hard rules. If no "
       "allowed change fixes the incident, answer manual=true with no actions.";
  return s.str();
}

}  // namespace aiops::proposer
