#include "discovery.hpp"

#include "resources.hpp"

namespace kubesim {

json VersionInfo() {
  return {{"major", "1"},
          {"minor", "32"},
          {"gitVersion", "v1.32.0-kube-sim"},
          {"gitCommit", "0000000000000000000000000000000000000000"},
          {"gitTreeState", "clean"},
          {"buildDate", "2025-01-01T00:00:00Z"},
          {"goVersion", "go1.23.4"},
          {"compiler", "gc"},
          {"platform", "linux/amd64"}};
}

json ApiVersions() {
  return {{"kind", "APIVersions"},
          {"versions", json::array({"v1"})},
          {"serverAddressByClientCIDRs",
           json::array({{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", "127.0.0.1"}}})}};
}

static json GroupEntry(const std::string& group) {
  json gv = {{"groupVersion", group + "/v1"}, {"version", "v1"}};
  return {{"name", group}, {"versions", json::array({gv})}, {"preferredVersion", gv}};
}

json ApiGroupList() {
  return {{"kind", "APIGroupList"},
          {"apiVersion", "v1"},
          {"groups", json::array({GroupEntry("apps")})}};
}

std::optional<json> ApiGroup(const std::string& group) {
  if (group != "apps") return std::nullopt;
  json g = GroupEntry(group);
  g["kind"] = "APIGroup";
  g["apiVersion"] = "v1";
  return g;
}

static std::vector<std::string> VerbsFor(const ResourceInfo& r) {
  if (&r == &Namespaces() || &r == &Nodes())
    return {"create", "delete", "get", "list", "patch", "update", "watch"};
  return {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"};
}

std::optional<json> ApiResourceList(const std::string& group, const std::string& version) {
  if (version != "v1" || (group != "" && group != "apps")) return std::nullopt;
  json resources = json::array();
  for (const auto& r : AllResources()) {
    if (r.group != group) continue;
    json e = {
        {"name", r.resource},         {"singularName", r.singular},
        {"namespaced", r.namespaced}, {"kind", r.kind},
        {"verbs", VerbsFor(r)},       {"storageVersionHash", SafeEncode(r.Key()).substr(0, 11)}};
    if (!r.short_names.empty()) e["shortNames"] = r.short_names;
    if (!r.categories.empty()) e["categories"] = r.categories;
    resources.push_back(e);
    for (const auto& sub : r.subresources) {
      json s = {
          {"name", r.resource + "/" + sub}, {"singularName", ""}, {"namespaced", r.namespaced}};
      if (sub == "log") {
        s["kind"] = "Pod";
        s["verbs"] = json::array({"get"});
      } else if (sub == "scale") {
        s["group"] = "autoscaling";
        s["version"] = "v1";
        s["kind"] = "Scale";
        s["verbs"] = json::array({"get", "patch", "update"});
      } else {
        s["kind"] = r.kind;
        s["verbs"] = json::array({"get", "patch", "update"});
      }
      resources.push_back(s);
    }
  }
  return json{{"kind", "APIResourceList"},
              {"apiVersion", "v1"},
              {"groupVersion", group.empty() ? version : group + "/" + version},
              {"resources", resources}};
}

json OpenApiV3Index() {
  return {{"paths",
           {{"api/v1", {{"serverRelativeURL", "/openapi/v3/api/v1?hash=KUBESIMV1"}}},
            {"apis/apps/v1", {{"serverRelativeURL", "/openapi/v3/apis/apps/v1?hash=KUBESIMAPPS"}}},
            {"version", {{"serverRelativeURL", "/openapi/v3/version?hash=KUBESIMVERSION"}}}}}};
}

// kubectl only reads two facts from these documents: which PATCH operations accept the
// `fieldValidation` query parameter (then it validates server-side, which we accept), and the
// x-kubernetes-group-version-kind of each operation. Schemas are deliberately open objects.
std::optional<json> OpenApiV3Document(const std::string& gv_path) {
  std::string group;
  if (gv_path == "api/v1")
    group = "";
  else if (gv_path == "apis/apps/v1")
    group = "apps";
  else if (gv_path == "version") {
    return json{{"openapi", "3.0.0"},
                {"info", {{"title", "Kubernetes"}, {"version", "v1.32.0"}}},
                {"paths", json::object()}};
  } else {
    return std::nullopt;
  }
  json paths = json::object();
  json schemas = json::object();
  json params =
      json::array({{{"name", "dryRun"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
                   {{"name", "fieldManager"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
                   {{"name", "fieldValidation"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
                   {{"name", "force"}, {"in", "query"}, {"schema", {{"type", "boolean"}}}}});
  for (const auto& r : AllResources()) {
    if (r.group != group) continue;
    json gvk = {{"group", r.group}, {"version", r.version}, {"kind", r.kind}};
    std::string schema_name =
        std::string(r.group.empty() ? "io.k8s.api.core.v1." : "io.k8s.api.apps.v1.") + r.kind;
    schemas[schema_name] = {{"type", "object"},
                            {"x-kubernetes-group-version-kind", json::array({gvk})},
                            {"additionalProperties", true}};
    json ref = {{"$ref", "#/components/schemas/" + schema_name}};
    json response = {
        {"200", {{"description", "OK"}, {"content", {{"application/json", {{"schema", ref}}}}}}}};
    std::string base =
        "/" + gv_path + (r.namespaced ? "/namespaces/{namespace}/" : "/") + r.resource;
    auto op = [&](const std::string& id, bool with_params) {
      json o = {{"operationId", id + r.kind},
                {"x-kubernetes-group-version-kind", gvk},
                {"responses", response}};
      if (with_params) o["parameters"] = params;
      return o;
    };
    json item = {
        {"get", op("read", false)}, {"put", op("replace", true)}, {"delete", op("delete", false)}};
    item["patch"] = op("patch", true);
    item["patch"]["requestBody"] = {
        {"content",
         {{"application/apply-patch+yaml", {{"schema", {{"type", "object"}}}}},
          {"application/json-patch+json", {{"schema", {{"type", "object"}}}}},
          // strategic-merge-patch+json is left out on purpose: with it listed, client-side
          // `kubectl apply` would compute patches from these schema-less documents; without
          // it kubectl uses its built-in Go types, which know the list merge keys.
          {"application/merge-patch+json", {{"schema", {{"type", "object"}}}}}}}};
    paths[base + "/{name}"] = item;
    paths[base] = {{"get", op("list", false)}, {"post", op("create", true)}};
  }
  return json{{"openapi", "3.0.0"},
              {"info", {{"title", "Kubernetes"}, {"version", "v1.32.0"}}},
              {"paths", paths},
              {"components", {{"schemas", schemas}}}};
}

}  // namespace kubesim
