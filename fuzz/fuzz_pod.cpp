// Pods come from the API server of a cluster the detector does not control, and a watch
// delivers whatever objects it holds. Classify and owner resolution read any JSON document
// as a pod: the answer is a failure or none, and a workload, never a crash or an exception.
// The ReplicaSet lookup answers with the same document, so owner chains are fuzzed too.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "classify.hpp"
#include "owner.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using aiops::detector::OwnerResolver;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto doc = nlohmann::json::parse(text, nullptr, false);
  // Also every string of the input as a timestamp (lastState.terminated.finishedAt etc.).
  (void)aiops::detector::ParseTime(text);
  if (doc.is_discarded()) return 0;

  constexpr int64_t kNow = 1795000000;  // 2026-11-18: fixed so a finding reproduces
  (void)aiops::detector::Classify(doc, kNow);
  (void)aiops::detector::ControllerRef(doc);
  OwnerResolver resolver([&doc](const std::string&, const std::string&) { return doc; });
  auto w = resolver.Resolve(doc);
  (void)w.ToProto();
  return 0;
}
