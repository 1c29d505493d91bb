#include "scenario.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "status.hpp"

#ifndef KUBESIM_SCENARIO_DIR
#define KUBESIM_SCENARIO_DIR ""
#endif

namespace kubesim {
namespace {

std::string Str(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

json NodeObject(const json& n) {
  if (!n.is_object() || !n.contains("name")) throw std::runtime_error("every node needs a `name`");
  json capacity = {{"cpu", n.contains("cpu") ? Str(n["cpu"]) : "4"},
                   {"memory", n.contains("memory") ? Str(n["memory"]) : "8Gi"},
                   {"pods", n.contains("pods") ? Str(n["pods"]) : "110"},
                   {"ephemeral-storage", "100Gi"}};
  json node = {
      {"apiVersion", "v1"},
      {"kind", "Node"},
      {"metadata", {{"name", Str(n["name"])}, {"labels", n.value("labels", json::object())}}},
      {"spec", json::object()},
      {"status", {{"capacity", capacity}, {"allocatable", capacity}}}};
  if (n.contains("taints")) node["spec"]["taints"] = n["taints"];
  if (n.value("unschedulable", false)) node["spec"]["unschedulable"] = true;
  return node;
}

}  // namespace

Scenario ParseScenario(const std::string& yaml_text) {
  json doc = YamlToJson(yaml_text);
  if (!doc.is_object()) throw std::runtime_error("a scenario must be a YAML mapping");
  Scenario s;
  for (const auto& [k, v] : doc.items()) {
    if (k == "name")
      s.name = Str(v);
    else if (k == "description")
      s.description = Str(v);
    else if (k == "fieldManager")
      s.field_manager = Str(v);
    else if (k == "registry") {
      if (!v.is_object()) throw std::runtime_error("`registry` must be a mapping with `images`");
      for (const auto& img : v.value("images", json::array()))
        s.images.push_back(ImageRegistry::FromJson(img));
    } else if (k == "nodes") {
      if (!v.is_array()) throw std::runtime_error("`nodes` must be a list");
      for (const auto& n : v)
        s.nodes.push_back(NodeObject(n));
    } else if (k == "objects") {
      if (!v.is_array()) throw std::runtime_error("`objects` must be a list of manifests");
      for (const auto& o : v) {
        if (!o.is_object() || !o.contains("kind") || !o.contains("apiVersion"))
          throw std::runtime_error("every object needs `apiVersion` and `kind`");
        if (!FindByKind(Str(o["apiVersion"]), Str(o["kind"])))
          throw std::runtime_error("unsupported kind " + Str(o["apiVersion"]) + "/" +
                                   Str(o["kind"]));
        s.objects.push_back(o);
      }
    } else {
      throw std::runtime_error("unknown scenario field `" + k + "`");
    }
  }
  return s;
}

Scenario LoadScenario(const std::string& arg) {
  std::vector<std::string> candidates = {arg};
  if (std::string(KUBESIM_SCENARIO_DIR).size()) {
    candidates.push_back(std::string(KUBESIM_SCENARIO_DIR) + "/" + arg);
    candidates.push_back(std::string(KUBESIM_SCENARIO_DIR) + "/" + arg + ".yaml");
  }
  for (const auto& path : candidates) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) continue;
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    try {
      Scenario s = ParseScenario(ss.str());
      if (s.name.empty()) s.name = std::filesystem::path(path).stem().string();
      return s;
    } catch (const std::exception& e) {
      throw std::runtime_error(path + ": " + e.what());
    }
  }
  throw std::runtime_error("scenario not found: " + arg);
}

void Bootstrap(ObjectService& objects) {
  for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    if (objects.Get(Namespaces(), "", ns)) continue;
    objects.Create(Namespaces(), "",
                   {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}});
  }
}

void ApplyScenario(const Scenario& s, ObjectService& objects, ImageRegistry& registry) {
  for (const auto& img : s.images)
    registry.Add(img);
  std::vector<json> nodes = s.nodes;
  if (nodes.empty()) nodes.push_back(NodeObject({{"name", "kube-sim-node"}}));
  for (const auto& n : nodes) {
    try {
      objects.Create(Nodes(), "", n);
    } catch (const ApiError& e) {
      throw std::runtime_error("node " + PathString(n, {"metadata", "name"}) + ": " + e.what());
    }
  }
  WriteOptions wo;
  wo.field_manager = s.field_manager;
  // Namespaces first so objects can be listed in any order in the file.
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& o : s.objects) {
      bool is_ns = o.value("kind", "") == "Namespace";
      if ((pass == 0) != is_ns) continue;
      const ResourceInfo* r = FindByKind(Str(o["apiVersion"]), Str(o["kind"]));
      std::string ns = r->namespaced ? PathString(o, {"metadata", "namespace"}, "default") : "";
      std::string name = PathString(o, {"metadata", "name"});
      if (is_ns && objects.Get(*r, "", name)) continue;
      try {
        objects.Create(*r, ns, o, wo);
      } catch (const ApiError& e) {
        throw std::runtime_error(r->kind + " " + ns + "/" + name + ": " + e.what());
      }
    }
  }
}

}  // namespace kubesim
