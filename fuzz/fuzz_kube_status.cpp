// Error answers and watch streams come from the network: a proxy's HTML page, a Status from
// a newer server, a truncated or hostile stream. ErrorFromBody and ParseWatchLine must read
// every body and line into a value (they run inside a libcurl callback, where an exception
// cannot be allowed to escape).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "aiops/kube/status.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto e = aiops::kube::ErrorFromBody(500, text);
  if (e.reason.empty()) std::abort();  // callers print and branch on it
  (void)e.ToString();
  // A stream is split on newlines before parsing; feed each line the way the client does.
  size_t start = 0;
  for (size_t nl; start <= text.size(); start = nl + 1) {
    nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    auto line = aiops::kube::ParseWatchLine(text.substr(start, nl - start));
    if (line.error) (void)line.error->ToString();
  }
  return 0;
}
