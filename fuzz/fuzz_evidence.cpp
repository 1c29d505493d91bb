// The collector reads objects, lists and logs of a broken workload and publishes them, with
// secrets redacted, for many readers. Input: a JSON document, optionally followed by a NUL
// byte and log text. A fake cluster answers every GET with the document, every LIST with it
// as the only item, every log read with the text, so one input walks the whole builder
// (owner chain, pods, revisions, events, nodes, references) and the redaction of all of it.
// Nothing may crash or throw: a bad object is recorded as a note, never lost as an incident.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "aiops/envelope.hpp"
#include "evidence_builder.hpp"
#include "redact.hpp"

namespace {

using namespace aiops;
using kube::Json;

class EchoReader : public collector::KubeReader {
 public:
  EchoReader(Json doc, std::string logs) : doc_(std::move(doc)), logs_(std::move(logs)) {}
  kube::Result<Json> Get(const std::string&) override { return doc_; }
  kube::Result<Json> List(const std::string&, const kube::ListOptions&) override {
    return Json{{"items", Json::array({doc_})}};
  }
  kube::Result<std::string> Logs(const std::string&, const std::string&) override { return logs_; }

 private:
  Json doc_;
  std::string logs_;
};

v1::Anomaly AnomalyFor(size_t variant) {
  static const char* kinds[] = {"Deployment", "StatefulSet", "Pod"};
  v1::Anomaly a;
  *a.mutable_envelope() = envelope::New("rem-fuzz", "dev", "trace", "aiops-detector");
  a.set_status(v1::Anomaly::STATUS_OPEN);
  // Which failure class and workload kind are picked by the input, so every branch is reached.
  a.set_failure_class(static_cast<v1::FailureClass>(variant % (v1::FailureClass_MAX + 1)));
  a.set_reason("CrashLoopBackOff");
  a.set_message("back-off restarting failed container token=abc.def.ghi");
  a.set_container("web");
  auto* w = a.mutable_workload();
  w->set_api_version("apps/v1");
  w->set_kind(kinds[(variant / 16) % 3]);
  w->set_namespace_("shop");
  w->set_name("web");
  a.add_sample_pods("web-1");
  return a;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const auto nul = input.find('\0');
  std::string logs = nul == std::string::npos ? "" : input.substr(nul + 1);
  auto doc = Json::parse(input.substr(0, nul), nullptr, false);

  std::string text = logs;
  collector::RedactText(text);
  if (doc.is_discarded()) return 0;

  Json copy = doc;
  std::vector<std::string> notes;
  collector::RedactObject(copy, notes);

  EchoReader reader(doc, logs);
  collector::EvidenceBuilder builder(reader, collector::BuilderOptions{});
  v1::Evidence ev = builder.Build(AnomalyFor(size));
  if (ev.envelope().remediation_id() != "rem-fuzz") std::abort();
  return 0;
}
