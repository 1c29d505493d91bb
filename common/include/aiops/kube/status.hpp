// Reading what the API server says went wrong: a non-2xx answer's Status body, and the lines
// of a watch stream (where errors arrive as ERROR events holding a Status). Both read bytes
// from the network, so any input gives a value, never an exception.
#pragma once

#include <optional>
#include <string>

#include "aiops/kube/client.hpp"

namespace aiops::kube {

// The error of a non-2xx answer: reason and message of the Status the body holds, else the
// first 512 bytes of the body; reason falls back to "HTTP<code>".
ApiError ErrorFromBody(int http_status, const std::string& body);

// One line of a watch stream. `event` is empty for a line that is not a JSON object; an
// ERROR event also sets `error` from its Status; `resource_version` is the object's, if any.
struct WatchLine {
  std::optional<WatchEvent> event;
  std::optional<ApiError> error;
  std::string resource_version;
};
WatchLine ParseWatchLine(const std::string& line);

}  // namespace aiops::kube
