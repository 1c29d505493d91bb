#include "proposer/validator.hpp"

#include <set>

#include "aiops/quantity.hpp"

namespace aiops::proposer {

using nlohmann::json;

bool KindAllowed(const std::string& kind) {
  return kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet";
}

bool ImageIsPinned(const std::string& image, std::string* why) {
  auto fail = [&](const std::string& w) {
    if (why != nullptr) *why = w;
    return false;
  };
  if (image.empty()) return fail("image is empty");
  if (image.find_first_of(" \t\n") != std::string::npos) return fail("image has whitespace");
  if (image.find('@') != std::string::npos) return true;  // digest: the best pin
  auto slash = image.rfind('/');
  auto colon = image.rfind(':');
  // "host:5000/img" has a port, not a tag: the colon must come after the last slash.
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) {
    return fail("image " + image + " has no tag (means :latest)");
  }
  std::string tag = image.substr(colon + 1);
  if (tag.empty()) return fail("image " + image + " has an empty tag");
  if (tag == "latest") return fail("image " + image + " uses :latest");
  return true;
}

namespace {

class Checker {
 public:
  Checker(const v1::WorkloadRef& target, const json& workload, const ValidationLimits& limits,
          std::string prefix)
      : target_(target), workload_(workload), limits_(limits), prefix_(std::move(prefix)) {}

  std::vector<std::string> Run(const json& patch) {
    if (!patch.is_object()) {
      Err("", "patch is not a JSON object");
      return errors_;
    }
    for (auto it = patch.begin(); it != patch.end(); ++it) {
      const std::string& k = it.key();
      if (k == "apiVersion") {
        if (!it->is_string() || it->get<std::string>() != "apps/v1") {
          Err("apiVersion", "must be apps/v1");
        }
      } else if (k == "kind") {
        std::string kind = it->is_string() ? it->get<std::string>() : "";
        if (!KindAllowed(kind)) {
          Err("kind", "kind " + (kind.empty() ? it->dump() : kind) +
                          " is not allowed (Deployment, StatefulSet, DaemonSet)");
        } else if (kind != target_.kind()) {
          Err("kind", "kind " + kind + " is not the incident's workload kind " + target_.kind());
        }
      } else if (k == "metadata") {
        Metadata(*it);
      } else if (k == "spec") {
        Spec(*it);
      } else {
        Err(k, "field is not allowed");
      }
    }
    if (!patch.contains("apiVersion")) Err("apiVersion", "missing");
    if (!patch.contains("kind")) Err("kind", "missing");
    if (!patch.contains("metadata")) Err("metadata", "missing (name and namespace)");
    return errors_;
  }

 private:
  void Err(const std::string& path, const std::string& what) {
    errors_.push_back(prefix_ + (path.empty() ? "" : path + ": ") + what);
  }

  void Metadata(const json& m) {
    if (!m.is_object()) return Err("metadata", "must be an object");
    for (auto it = m.begin(); it != m.end(); ++it) {
      if (it.key() != "name" && it.key() != "namespace") {
        Err("metadata." + it.key(), "field is not allowed");
      }
    }
    std::string ns = m.value("namespace", "");
    std::string name = m.value("name", "");
    if (ns != target_.namespace_()) {
      Err("metadata.namespace", "namespace \"" + ns + "\" is not the incident's namespace \"" +
                                    target_.namespace_() + "\"");
    }
    if (name != target_.name()) {
      Err("metadata.name",
          "name \"" + name + "\" is not the incident's workload \"" + target_.name() + "\"");
    }
  }

  void Spec(const json& s) {
    if (!s.is_object()) return Err("spec", "must be an object");
    for (auto it = s.begin(); it != s.end(); ++it) {
      const std::string& k = it.key();
      if (k == "replicas") {
        if (target_.kind() == "DaemonSet") {
          Err("spec.replicas", "a DaemonSet has no replicas");
        } else if (!it->is_number_integer() || it->get<int64_t>() < 0 ||
                   it->get<int64_t>() > limits_.max_replicas) {
          Err("spec.replicas", "must be an integer in 0.." + std::to_string(limits_.max_replicas));
        }
      } else if (k == "template") {
        Template(*it);
      } else {
        Err("spec." + k, "field is not allowed");
      }
    }
  }

  void Template(const json& t) {
    if (!t.is_object()) return Err("spec.template", "must be an object");
    for (auto it = t.begin(); it != t.end(); ++it) {
      const std::string& k = it.key();
      if (k == "metadata") {
        if (!it->is_object()) {
          Err("spec.template.metadata", "must be an object");
          continue;
        }
        for (auto m = it->begin(); m != it->end(); ++m) {
          if (m.key() != "annotations") {
            Err("spec.template.metadata." + m.key(), "field is not allowed (annotations only)");
          } else if (!m->is_object()) {
            Err("spec.template.metadata.annotations", "must be an object");
          } else {
            for (auto a = m->begin(); a != m->end(); ++a) {
              if (!a->is_string()) {
                Err("spec.template.metadata.annotations." + a.key(), "must be a string");
              }
              if (a.key().rfind("container.apparmor.security.beta.kubernetes.io/", 0) == 0 ||
                  a.key().rfind("seccomp.security.alpha.kubernetes.io", 0) == 0) {
                Err("spec.template.metadata.annotations." + a.key(),
                    "security annotations are not allowed");
              }
            }
          }
        }
      } else if (k == "spec") {
        PodSpec(*it);
      } else {
        Err("spec.template." + k, "field is not allowed");
      }
    }
  }

  void PodSpec(const json& p) {
    const std::string base = "spec.template.spec";
    if (!p.is_object()) return Err(base, "must be an object");
    for (auto it = p.begin(); it != p.end(); ++it) {
      const std::string& k = it.key();
      if (k == "containers" || k == "initContainers") {
        Containers(*it, base + "." + k, k == "initContainers");
      } else if (k == "hostNetwork" || k == "hostPID" || k == "hostIPC" || k == "hostUsers") {
        Err(base + "." + k, "host namespaces are not allowed");
      } else if (k == "volumes") {
        bool host_path = it->dump().find("\"hostPath\"") != std::string::npos;
        Err(base + "." + k,
            host_path ? "hostPath volumes are not allowed" : "field is not allowed (volumes)");
      } else if (k == "securityContext") {
        Err(base + "." + k, "pod securityContext is not allowed");
      } else {
        Err(base + "." + k, "field is not allowed");
      }
    }
  }

  void Containers(const json& list, const std::string& base, bool init) {
    if (!list.is_array()) return Err(base, "must be a list of containers");
    std::set<std::string> seen;
    for (size_t i = 0; i < list.size(); ++i) {
      const json& c = list[i];
      if (!c.is_object() || !c.contains("name") || !c["name"].is_string()) {
        Err(base + "[" + std::to_string(i) + "]", "container must have a name");
        continue;
      }
      const std::string name = c["name"].get<std::string>();
      const std::string path = base + "[name=" + name + "]";
      if (!seen.insert(name).second) Err(path, "container listed twice");
      if (!ContainerExists(name, init)) {
        Err(path, std::string(init ? "init container" : "container") + " \"" + name +
                      "\" does not exist in the workload");
      }
      for (auto it = c.begin(); it != c.end(); ++it) {
        const std::string& k = it.key();
        const std::string fp = path + "." + k;
        if (k == "name") continue;
        if (k == "image") {
          std::string why;
          if (!it->is_string()) {
            Err(fp, "must be a string");
          } else if (!ImageIsPinned(it->get<std::string>(), &why)) {
            Err(fp, why);
          }
        } else if (k == "resources") {
          Resources(*it, fp);
        } else if (k == "env") {
          Env(*it, fp);
        } else if (k == "envFrom") {
          if (!it->is_array()) Err(fp, "must be a list");
        } else if (k == "livenessProbe" || k == "readinessProbe" || k == "startupProbe") {
          if (!it->is_object()) Err(fp, "must be an object");
        } else if (k == "securityContext") {
          SecurityContext(*it, fp);
        } else {
          Err(fp, "field is not allowed");
        }
      }
    }
  }

  void SecurityContext(const json& sc, const std::string& fp) {
    // Named precisely so a reviewer (and an LLM repair round) sees what was refused.
    if (sc.is_object() && sc.value("privileged", false)) {
      Err(fp + ".privileged", "privileged containers are not allowed");
    }
    if (sc.is_object() && sc.contains("capabilities") && sc["capabilities"].is_object() &&
        sc["capabilities"].contains("add")) {
      Err(fp + ".capabilities.add", "adding capabilities is not allowed");
    }
    if (sc.is_object() && sc.value("allowPrivilegeEscalation", false)) {
      Err(fp + ".allowPrivilegeEscalation", "privilege escalation is not allowed");
    }
    Err(fp, "field is not allowed (securityContext)");
  }

  void Resources(const json& r, const std::string& fp) {
    if (!r.is_object()) return Err(fp, "must be an object");
    std::optional<double> req_mem, lim_mem;
    for (auto it = r.begin(); it != r.end(); ++it) {
      if (it.key() != "requests" && it.key() != "limits") {
        Err(fp + "." + it.key(), "field is not allowed");
        continue;
      }
      if (!it->is_object()) {
        Err(fp + "." + it.key(), "must be an object");
        continue;
      }
      for (auto q = it->begin(); q != it->end(); ++q) {
        std::string qp = fp + "." + it.key() + "." + q.key();
        if (q.key() != "cpu" && q.key() != "memory" && q.key() != "ephemeral-storage") {
          Err(qp, "resource is not allowed");
          continue;
        }
        std::string text = q->is_string() ? q->get<std::string>() : q->dump();
        auto v = ParseQuantity(text);
        if (!v) {
          Err(qp, "\"" + text + "\" is not a quantity");
        } else if (q.key() == "memory") {
          (it.key() == "requests" ? req_mem : lim_mem) = v;
        }
      }
    }
    if (req_mem && lim_mem && *req_mem > *lim_mem) {
      Err(fp + ".requests.memory", "request is above the limit");
    }
  }

  void Env(const json& env, const std::string& fp) {
    if (!env.is_array()) return Err(fp, "must be a list");
    for (const auto& e : env) {
      if (!e.is_object() || !e.contains("name") || !e["name"].is_string()) {
        Err(fp, "every env entry needs a name");
        continue;
      }
      for (auto it = e.begin(); it != e.end(); ++it) {
        if (it.key() != "name" && it.key() != "value" && it.key() != "valueFrom") {
          Err(fp + "[name=" + e["name"].get<std::string>() + "]." + it.key(),
              "field is not allowed");
        }
      }
    }
  }

  bool ContainerExists(const std::string& name, bool init) const {
    const json* spec = nullptr;
    if (workload_.is_object() && workload_.contains("spec") && workload_["spec"].is_object() &&
        workload_["spec"].contains("template")) {
      const json& t = workload_["spec"]["template"];
      if (t.is_object() && t.contains("spec")) spec = &t["spec"];
    }
    if (spec == nullptr) return true;  // nothing to compare with
    const char* key = init ? "initContainers" : "containers";
    if (!spec->contains(key) || !(*spec)[key].is_array()) return false;
    for (const auto& c : (*spec)[key]) {
      if (c.is_object() && c.value("name", "") == name) return true;
    }
    return false;
  }

  const v1::WorkloadRef& target_;
  const json& workload_;
  const ValidationLimits& limits_;
  std::string prefix_;
  std::vector<std::string> errors_;
};

}  // namespace

std::vector<std::string> ValidatePatch(const json& patch, const v1::WorkloadRef& target,
                                       const json& workload, const ValidationLimits& limits) {
  return Checker(target, workload, limits, "").Run(patch);
}

std::vector<std::string> ValidateCandidate(const Candidate& candidate, const v1::Evidence& evidence,
                                           const ValidationLimits& limits) {
  std::vector<std::string> errors;
  const auto& w = evidence.anomaly().workload();
  if (!KindAllowed(w.kind()) && !candidate.actions.empty()) {
    errors.push_back("the incident's workload kind " + w.kind() +
                     " cannot be changed (only Deployment, StatefulSet, DaemonSet)");
  }
  if (candidate.manual && !candidate.actions.empty()) {
    errors.push_back("manual is true but actions are given");
  }
  if (!candidate.manual && candidate.actions.empty()) {
    errors.push_back("no actions given but manual is false");
  }
  if (candidate.confidence < 0 || candidate.confidence > 1) {
    errors.push_back("confidence must be within 0..1");
  }
  nlohmann::json workload;
  if (!evidence.workload_json().empty()) {
    workload = json::parse(evidence.workload_json(), nullptr, false);
    if (workload.is_discarded()) workload = nullptr;
  }
  for (size_t i = 0; i < candidate.actions.size(); ++i) {
    const auto& a = candidate.actions[i];
    const std::string p = "actions[" + std::to_string(i) + "]: ";
    if (!KindAllowed(a.kind)) {
      errors.push_back(p + "target kind " + a.kind +
                       " is not allowed (Deployment, StatefulSet, DaemonSet)");
    }
    if (a.ns != w.namespace_()) {
      errors.push_back(p + "target namespace \"" + a.ns + "\" is not the incident's namespace \"" +
                       w.namespace_() + "\"");
    }
    if (a.name != w.name() || a.kind != w.kind()) {
      errors.push_back(p + "target " + a.kind + " " + a.name + " is not the incident's workload " +
                       w.kind() + " " + w.name());
    }
    if (a.type == CandidateAction::Type::kRollback) {
      if (a.revision <= 0) errors.push_back(p + "rollback_to_revision must be a revision number");
      bool known = evidence.revisions_size() == 0;
      for (const auto& r : evidence.revisions())
        known = known || r.revision() == a.revision;
      if (!known) {
        errors.push_back(p + "revision " + std::to_string(a.revision) +
                         " is not in the workload's history");
      }
      continue;
    }
    for (auto& e : Checker(w, workload, limits, p + "patch ").Run(a.patch))
      errors.push_back(e);
    if (a.patch.is_object() && !a.patch.contains("spec")) {
      errors.push_back(p + "patch sets nothing (no spec)");
    }
  }
  return errors;
}

}  // namespace aiops::proposer
