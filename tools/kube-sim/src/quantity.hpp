// Kubernetes resource quantities ("500m", "64Mi", "1.5Gi", "2") for the scheduler and kubelet.
#pragma once

#include <optional>
#include <string>

namespace kubesim {

// Parses a quantity into base units (cores for cpu, bytes for memory). nullopt when invalid.
std::optional<double> ParseQuantity(const std::string& q);

}  // namespace kubesim
