#include "proposer/evidence_io.hpp"

#include <google/protobuf/util/json_util.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace aiops::proposer {

v1::Evidence ParseEvidenceJson(const std::string& text, const std::string& origin) {
  v1::Evidence e;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(text, &e, options);
  if (!status.ok()) {
    throw std::runtime_error(
        origin + ": not valid aiops.v1.Evidence JSON: " + std::string(status.message()));
  }
  return e;
}

v1::Evidence LoadEvidenceJson(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return ParseEvidenceJson(text.str(), path);
}

}  // namespace aiops::proposer
