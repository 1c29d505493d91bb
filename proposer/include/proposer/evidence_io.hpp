// Evidence in the protobuf JSON mapping (field names as in the .proto), as the fixtures and
// `aiopsctl audit -o json` write it.
#pragma once

#include <string>

#include "aiops/v1/evidence.pb.h"

namespace aiops::proposer {

// Throws std::runtime_error naming the file and the parse error.
v1::Evidence LoadEvidenceJson(const std::string& path);
v1::Evidence ParseEvidenceJson(const std::string& text, const std::string& origin = "<json>");

}  // namespace aiops::proposer
