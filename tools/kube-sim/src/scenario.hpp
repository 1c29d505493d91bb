// Scenario files: the images the simulated registry holds (and how they behave), the nodes,
// and the objects that exist when kube-sim starts. Format: docs/kube-sim.md.
#pragma once

#include <string>
#include <vector>

#include "image_registry.hpp"
#include "objects.hpp"

namespace kubesim {

struct Scenario {
  std::string name;
  std::string description;
  std::vector<ImageBehavior> images;
  std::vector<json> nodes;    // Node objects
  std::vector<json> objects;  // any served kind, created in order (namespaces first)
  // Initial objects look as if this manager created them (operation Update); "" records none.
  std::string field_manager = "kubectl-client-side-apply";
};

// Parses scenario YAML. Throws std::runtime_error naming the problem.
Scenario ParseScenario(const std::string& yaml_text);
// `arg` is a file path, or the name of a shipped scenario ("demo", "oom-killed").
Scenario LoadScenario(const std::string& arg);
// Namespaces every cluster has (default, kube-system, kube-public, kube-node-lease).
void Bootstrap(ObjectService& objects);
// Registers images, creates nodes and objects. Throws std::runtime_error on a bad object.
void ApplyScenario(const Scenario& s, ObjectService& objects, ImageRegistry& registry);

}  // namespace kubesim
