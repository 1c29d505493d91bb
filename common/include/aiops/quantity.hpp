// Kubernetes resource quantities ("256Mi", "1.5Gi", "500m", "2"), enough for memory and cpu.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace aiops {

// The value in base units (bytes for memory, cores for cpu); nullopt when not a quantity.
std::optional<double> ParseQuantity(const std::string& text);
// Bytes as the largest binary unit that divides them ("512Mi", "3Gi"), rounded up to Mi.
std::string FormatMemory(double bytes);
// Cores as "2" or "500m".
std::string FormatCpu(double cores);

}  // namespace aiops
