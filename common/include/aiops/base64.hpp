// Base64 (RFC 4648, standard alphabet) for kubeconfig data fields and binary payloads in logs.
#pragma once

#include <optional>
#include <string>

namespace aiops {

std::string Base64Encode(const std::string& in);
// nullopt when `in` holds a character outside the alphabet (whitespace and padding are skipped).
std::optional<std::string> Base64Decode(const std::string& in);

}  // namespace aiops
