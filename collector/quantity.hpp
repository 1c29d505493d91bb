// Kubernetes resource quantities ("100m", "1.5", "64Mi", "1G") as numbers, for summing pod
// requests on a node in scheduling evidence.
#pragma once

#include <optional>
#include <string>

namespace aiops::collector {

// CPU in millicores; nullopt when unparsable.
std::optional<long long> CpuMillis(const std::string& q);
// Memory (or any byte quantity) in bytes; nullopt when unparsable.
std::optional<long long> Bytes(const std::string& q);
std::string FormatMillis(long long millis);  // "1500m"
std::string FormatBytes(long long bytes);    // "3Gi", "1536Mi", or plain bytes

}  // namespace aiops::collector
