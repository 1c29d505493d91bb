#include "ingest.hpp"

#include "aiops/topics.hpp"
#include "aiops/v1/anomaly.pb.h"
#include "aiops/v1/decision.pb.h"
#include "aiops/v1/evidence.pb.h"
#include "aiops/v1/execution.pb.h"
#include "aiops/v1/proposal.pb.h"

namespace aiops::approver {

namespace {

template <class Msg>
IngestOutcome Fold(Store& store, const kafka::Message& m) {
  Msg msg;
  if (auto err = kafka::Decode(m, msg)) return {IngestOutcome::Kind::kInvalid, *err};
  TimePoint at =
      m.timestamp_ms > 0 ? TimePoint(std::chrono::milliseconds(m.timestamp_ms)) : Clock::now();
  return store.Apply(msg, at) == Store::Result::kApplied
             ? IngestOutcome{IngestOutcome::Kind::kApplied, ""}
             : IngestOutcome{IngestOutcome::Kind::kDuplicate, ""};
}

}  // namespace

IngestOutcome Ingest(Store& store, const kafka::Message& m) {
  if (m.topic == topics::kAnomalies) return Fold<v1::Anomaly>(store, m);
  if (m.topic == topics::kEvidence) return Fold<v1::Evidence>(store, m);
  if (m.topic == topics::kProposals) return Fold<v1::Proposal>(store, m);
  if (m.topic == topics::kDecisions) return Fold<v1::Decision>(store, m);
  if (m.topic == topics::kExecutions) return Fold<v1::ExecutionResult>(store, m);
  return {IngestOutcome::Kind::kIgnored, "not a pipeline topic"};
}

std::optional<std::string> KafkaDecisionSink::Publish(const v1::Decision& decision) {
  auto d = producer_.PublishAndWait(topics::kDecisions, decision.envelope().remediation_id(),
                                    decision, timeout_);
  if (!d.ok) return d.error.empty() ? std::string("no acknowledgement") : d.error;
  return std::nullopt;
}

}  // namespace aiops::approver
