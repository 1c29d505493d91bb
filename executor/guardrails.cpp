#include "guardrails.hpp"

#include <set>

namespace aiops::executor {

namespace {

const std::set<std::string> kRbacKinds = {"Role", "ClusterRole", "RoleBinding",
                                          "ClusterRoleBinding", "ServiceAccount"};

const std::set<std::string> kBaselineCapabilities = {
    "AUDIT_WRITE",      "CHOWN",   "DAC_OVERRIDE", "FOWNER",  "FSETID", "KILL",      "MKNOD",
    "NET_BIND_SERVICE", "SETFCAP", "SETGID",       "SETPCAP", "SETUID", "SYS_CHROOT"};

const std::set<std::string> kSafeSysctls = {"kernel.shm_rmid_forced",
                                            "net.ipv4.ip_local_port_range",
                                            "net.ipv4.ip_unprivileged_port_start",
                                            "net.ipv4.tcp_syncookies",
                                            "net.ipv4.ping_group_range",
                                            "net.ipv4.ip_local_reserved_ports",
                                            "net.ipv4.tcp_keepalive_time",
                                            "net.ipv4.tcp_fin_timeout",
                                            "net.ipv4.tcp_keepalive_intvl",
                                            "net.ipv4.tcp_keepalive_probes"};

const std::set<std::string> kAllowedSelinuxTypes = {"", "container_t", "container_init_t",
                                                    "container_kvm_t", "container_engine_t"};

// Fields a patch may set on one container (name is the list key).
const std::set<std::string> kContainerFields = {
    "name",    "image",         "resources",      "env",
    "envFrom", "livenessProbe", "readinessProbe", "startupProbe"};

// Rejects nulls (deletes) and `$patch`-style directives anywhere in a patch.
std::optional<std::string> CheckNoDeletes(const Json& j, const std::string& path) {
  if (j.is_null()) return "deletes are not allowed: " + path + " is null";
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!it.key().empty() && it.key()[0] == '$')
        return "patch directives are not allowed: " + path + "." + it.key();
      if (auto e = CheckNoDeletes(it.value(), path + "." + it.key())) return e;
    }
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i)
      if (auto e = CheckNoDeletes(j[i], path + "[" + std::to_string(i) + "]")) return e;
  }
  return std::nullopt;
}

std::optional<std::string> CheckContainers(const Json& list, const std::string& path) {
  if (!list.is_array()) return path + " must be a list";
  for (const auto& c : list) {
    if (!c.is_object() || !c.contains("name") || !c["name"].is_string())
      return "every entry of " + path + " needs a name (containers are matched by name)";
    std::string cpath = path + "[name=" + c["name"].get<std::string>() + "]";
    for (auto it = c.begin(); it != c.end(); ++it) {
      if (!kContainerFields.count(it.key()))
        return "field " + cpath + "." + it.key() +
               " is not in the allow list (image, resources, env, envFrom, probes)";
    }
    if (c.contains("image")) {
      if (!c["image"].is_string()) return cpath + ".image must be a string";
      if (auto e = CheckImagePinned(c["image"].get<std::string>())) return cpath + ": " + *e;
    }
    if (c.contains("resources")) {
      if (!c["resources"].is_object()) return cpath + ".resources must be a mapping";
      for (auto it = c["resources"].begin(); it != c["resources"].end(); ++it)
        if (it.key() != "limits" && it.key() != "requests")
          return "field " + cpath + ".resources." + it.key() +
                 " is not in the allow list (limits, requests)";
    }
    if (c.contains("env")) {
      if (!c["env"].is_array()) return cpath + ".env must be a list";
      for (const auto& e : c["env"]) {
        if (!e.is_object() || !e.contains("name"))
          return "every entry of " + cpath + ".env needs a name";
      }
    }
  }
  return std::nullopt;
}

}  // namespace

bool AllowedKind(const std::string& kind) {
  return kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet";
}

std::optional<std::string> CheckAction(const v1::Action& action, const v1::WorkloadRef& workload) {
  const std::string id = action.id().empty() ? std::string("(no id)") : action.id();
  auto refuse = [&](const std::string& why) { return "action " + id + ": " + why; };
  const auto& t = action.target();
  if (!AllowedKind(workload.kind()))
    return refuse("the remediation's workload kind " + workload.kind() +
                  " is not in the allow list (Deployment, StatefulSet, DaemonSet)");
  if (t.kind() == "Secret") return refuse("Secrets are never changed by the executor");
  if (kRbacKinds.count(t.kind()))
    return refuse("RBAC objects (" + t.kind() + ") are never changed by the executor");
  if (!AllowedKind(t.kind()))
    return refuse("kind " + (t.kind().empty() ? std::string("(empty)") : t.kind()) +
                  " is not in the allow list (Deployment, StatefulSet, DaemonSet)");
  if (t.namespace_() != workload.namespace_())
    return refuse("target namespace " + t.namespace_() + " is not the remediation's namespace " +
                  workload.namespace_());
  if (t.kind() != workload.kind() || t.name() != workload.name())
    return refuse("target " + t.kind() + " " + t.name() + " is not the remediation's workload " +
                  workload.kind() + " " + workload.name());

  if (action.type() == v1::Action::TYPE_ROLLBACK_TO_REVISION) {
    if (t.kind() != "Deployment")
      return refuse("rollback to a revision is supported for Deployments only");
    if (action.rollback_to_revision() <= 0) return refuse("rollback_to_revision must be positive");
    return std::nullopt;
  }
  if (action.type() != v1::Action::TYPE_SERVER_SIDE_APPLY)
    return refuse("unknown action type (only server-side apply and rollback to revision)");

  Json p;
  try {
    p = Json::parse(action.patch());
  } catch (const std::exception& e) {
    return refuse(std::string("patch is not valid JSON: ") + e.what());
  }
  if (!p.is_object()) return refuse("patch must be a JSON object");
  if (auto e = CheckNoDeletes(p, "")) return refuse(*e);
  for (auto it = p.begin(); it != p.end(); ++it) {
    const auto& k = it.key();
    if (k != "apiVersion" && k != "kind" && k != "metadata" && k != "spec")
      return refuse("top-level field ." + k + " is not in the allow list");
  }
  if (p.value("apiVersion", "") != "apps/v1")
    return refuse("patch apiVersion " + p.value("apiVersion", "(missing)") + " is not apps/v1");
  const std::string pkind = p.value("kind", "");
  if (pkind == "Secret") return refuse("Secrets are never changed by the executor (patch kind)");
  if (kRbacKinds.count(pkind))
    return refuse("RBAC objects (" + pkind + ") are never changed by the executor (patch kind)");
  if (pkind != t.kind())
    return refuse("patch kind " + (pkind.empty() ? std::string("(missing)") : pkind) +
                  " differs from the target kind " + t.kind());
  const Json meta = p.value("metadata", Json::object());
  if (!meta.is_object()) return refuse("metadata must be a mapping");
  for (auto it = meta.begin(); it != meta.end(); ++it) {
    if (it.key() == "labels")
      return refuse("workload labels are not allowed (they can move selectors)");
    if (it.key() == "annotations")
      return refuse(
          "workload metadata.annotations are not allowed (only pod template annotations)");
    if (it.key() != "name" && it.key() != "namespace")
      return refuse("field .metadata." + it.key() + " is not in the allow list");
  }
  if (meta.value("namespace", "") != workload.namespace_())
    return refuse("patch namespace " + meta.value("namespace", "(missing)") +
                  " is not the remediation's namespace " + workload.namespace_());
  if (meta.value("name", "") != workload.name())
    return refuse("patch name " + meta.value("name", "(missing)") +
                  " is not the remediation's workload " + workload.name());

  if (!p.contains("spec")) return refuse("patch sets nothing (no spec)");
  const Json& spec = p["spec"];
  if (!spec.is_object()) return refuse("spec must be a mapping");
  for (auto it = spec.begin(); it != spec.end(); ++it) {
    const auto& k = it.key();
    if (k == "replicas") {
      if (t.kind() == "DaemonSet") return refuse("a DaemonSet has no replicas");
      if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0)
        return refuse(".spec.replicas must be a non-negative integer");
      continue;
    }
    if (k == "selector") return refuse(".spec.selector may not be changed (it moves selectors)");
    if (k != "template") return refuse("field .spec." + k + " is not in the allow list");
  }
  if (!spec.contains("template")) return std::nullopt;
  const Json& tmpl = spec["template"];
  if (!tmpl.is_object()) return refuse(".spec.template must be a mapping");
  for (auto it = tmpl.begin(); it != tmpl.end(); ++it) {
    if (it.key() == "metadata") {
      if (!it.value().is_object()) return refuse(".spec.template.metadata must be a mapping");
      for (auto m = it.value().begin(); m != it.value().end(); ++m) {
        if (m.key() == "labels")
          return refuse("pod template labels are not allowed (they must match the selector)");
        if (m.key() != "annotations")
          return refuse("field .spec.template.metadata." + m.key() + " is not in the allow list");
        if (!m.value().is_object()) return refuse("pod template annotations must be a mapping");
        for (const auto& v : m.value())
          if (!v.is_string()) return refuse("pod template annotation values must be strings");
      }
    } else if (it.key() == "spec") {
      if (!it.value().is_object()) return refuse(".spec.template.spec must be a mapping");
      for (auto s = it.value().begin(); s != it.value().end(); ++s) {
        if (s.key() == "containers" || s.key() == "initContainers") {
          if (auto e = CheckContainers(s.value(), ".spec.template.spec." + s.key()))
            return refuse(*e);
        } else {
          return refuse("field .spec.template.spec." + s.key() + " is not in the allow list");
        }
      }
    } else {
      return refuse("field .spec.template." + it.key() + " is not in the allow list");
    }
  }
  return std::nullopt;
}

std::optional<std::string> CheckDecision(const v1::Decision& decision) {
  if (decision.actions().empty()) return "the decision approves no actions";
  for (const auto& a : decision.actions())
    if (auto e = CheckAction(a, decision.workload())) return e;
  return std::nullopt;
}

ImageRef ParseImage(const std::string& image) {
  ImageRef r;
  std::string rest = image;
  if (auto at = rest.find('@'); at != std::string::npos) {
    r.digest = rest.substr(at + 1);
    rest = rest.substr(0, at);
  }
  auto slash = rest.rfind('/');
  auto colon = rest.rfind(':');
  // A colon before the last slash belongs to a registry host:port, not a tag.
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    r.tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
  }
  r.name = rest;
  return r;
}

std::optional<std::string> CheckImagePinned(const std::string& image) {
  if (image.empty()) return "image is empty";
  auto r = ParseImage(image);
  if (!r.digest.empty()) return std::nullopt;
  if (r.tag.empty())
    return "image " + image + " has no tag (it means :latest); pin a tag or digest";
  if (r.tag == "latest") return "image " + image + " uses :latest; pin a tag or digest";
  return std::nullopt;
}

namespace {

void CheckSecurityContext(const Json& sc, const std::string& where, std::vector<std::string>& out) {
  if (!sc.is_object()) return;
  if (sc.value("privileged", false)) out.push_back(where + " is privileged");
  if (sc.contains("capabilities") && sc["capabilities"].contains("add")) {
    for (const auto& cap : sc["capabilities"]["add"]) {
      if (!cap.is_string()) continue;
      std::string c = cap.get<std::string>();
      std::string bare = c.rfind("CAP_", 0) == 0 ? c.substr(4) : c;
      if (!kBaselineCapabilities.count(bare))
        out.push_back(where + " adds capability " + c + " beyond the baseline set");
    }
  }
  if (sc.contains("procMount") && sc["procMount"].is_string() && sc["procMount"] != "Default")
    out.push_back(where + " uses procMount " + sc["procMount"].get<std::string>());
  if (sc.contains("seccompProfile") && sc["seccompProfile"].value("type", "") == "Unconfined")
    out.push_back(where + " uses seccomp profile Unconfined");
  if (sc.contains("appArmorProfile") && sc["appArmorProfile"].value("type", "") == "Unconfined")
    out.push_back(where + " uses AppArmor profile Unconfined");
  if (sc.contains("seLinuxOptions") && sc["seLinuxOptions"].is_object()) {
    const auto& se = sc["seLinuxOptions"];
    if (!se.value("user", "").empty() || !se.value("role", "").empty())
      out.push_back(where + " sets SELinux user/role");
    if (!kAllowedSelinuxTypes.count(se.value("type", "")))
      out.push_back(where + " uses SELinux type " + se.value("type", ""));
  }
  if (sc.contains("windowsOptions") && sc["windowsOptions"].value("hostProcess", false))
    out.push_back(where + " is a Windows HostProcess container");
}

}  // namespace

std::vector<std::string> CheckPodSecurity(const Json& workload) {
  std::vector<std::string> out;
  const Json tmpl = workload.value("spec", Json::object()).value("template", Json::object());
  const Json pod = tmpl.value("spec", Json::object());
  const Json annotations =
      tmpl.value("metadata", Json::object()).value("annotations", Json::object());
  for (const char* ns : {"hostNetwork", "hostPID", "hostIPC"})
    if (pod.value(ns, false)) out.push_back(std::string("pod uses ") + ns);
  for (const auto& v : pod.value("volumes", Json::array()))
    if (v.contains("hostPath"))
      out.push_back("volume " + v.value("name", "?") + " is a hostPath volume");
  if (pod.contains("securityContext")) {
    const auto& psc = pod["securityContext"];
    CheckSecurityContext(psc, "pod securityContext", out);
    for (const auto& s : psc.value("sysctls", Json::array()))
      if (!kSafeSysctls.count(s.value("name", "")))
        out.push_back("pod sets unsafe sysctl " + s.value("name", ""));
  }
  if (annotations.is_object()) {
    for (auto it = annotations.begin(); it != annotations.end(); ++it) {
      if (it.key().rfind("container.apparmor.security.beta.kubernetes.io/", 0) != 0) continue;
      std::string v = it.value().is_string() ? it.value().get<std::string>() : "";
      if (v != "runtime/default" && v.rfind("localhost/", 0) != 0)
        out.push_back("annotation " + it.key() + " sets AppArmor profile " + v);
    }
  }
  for (const char* list : {"initContainers", "containers", "ephemeralContainers"}) {
    for (const auto& c : pod.value(list, Json::array())) {
      std::string where = std::string(list) + "[" + c.value("name", "?") + "]";
      if (auto e = CheckImagePinned(c.value("image", ""))) out.push_back(where + ": " + *e);
      for (const auto& port : c.value("ports", Json::array()))
        if (port.value("hostPort", 0) != 0)
          out.push_back(where + " uses hostPort " + std::to_string(port.value("hostPort", 0)));
      if (c.contains("securityContext")) CheckSecurityContext(c["securityContext"], where, out);
    }
  }
  return out;
}

}  // namespace aiops::executor
