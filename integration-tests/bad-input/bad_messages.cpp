#include "bad_messages.hpp"

#include <random>
#include <stdexcept>

#include "aiops/envelope.hpp"
#include "aiops/kafka_message.hpp"
#include "aiops/topics.hpp"
#include "aiops/v1/anomaly.pb.h"
#include "aiops/v1/decision.pb.h"
#include "aiops/v1/evidence.pb.h"
#include "aiops/v1/execution.pb.h"
#include "aiops/v1/proposal.pb.h"

namespace aiops::testing {

namespace {

// Fills the envelope and workload every message type shares.
template <class Msg>
void Common(Msg& m, const std::string& rid, const std::string& ghost) {
  *m.mutable_envelope() = envelope::New(rid, "kube-sim", envelope::NewTraceId(), "bad-input-test");
  auto* w = m.mutable_workload();
  w->set_api_version("apps/v1");
  w->set_kind("Deployment");
  w->set_namespace_("analytics");
  w->set_name(ghost);
}

std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 gen(seed);  // fixed seed: the same bytes on every run
  std::uniform_int_distribution<int> byte(0, 255);
  std::string s(n, '\0');
  for (auto& c : s)
    c = static_cast<char>(byte(gen));
  return s;
}

// The topic whose type is written, headerless, onto `topic` (a valid protobuf of the wrong type).
std::string OtherTopic(const std::string& topic) {
  const auto& all = topics::Pipeline();
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i] == topic) return all[(i + 1) % all.size()];
  }
  throw std::invalid_argument("not a pipeline topic: " + topic);
}

}  // namespace

std::unique_ptr<google::protobuf::Message> NewOfTopic(const std::string& topic) {
  if (topic == topics::kAnomalies) return std::make_unique<v1::Anomaly>();
  if (topic == topics::kEvidence) return std::make_unique<v1::Evidence>();
  if (topic == topics::kProposals) return std::make_unique<v1::Proposal>();
  if (topic == topics::kDecisions) return std::make_unique<v1::Decision>();
  if (topic == topics::kExecutions) return std::make_unique<v1::ExecutionResult>();
  throw std::invalid_argument("not a pipeline topic: " + topic);
}

std::string ValidPayload(const std::string& topic, const std::string& rid,
                         const std::string& filler) {
  const std::string ghost = "ghost-" + rid.substr(rid.size() > 12 ? rid.size() - 12 : 0);
  if (topic == topics::kAnomalies || topic == topics::kEvidence) {
    v1::Anomaly a;
    Common(a, rid, ghost);
    a.set_status(v1::Anomaly::STATUS_OPEN);
    a.set_failure_class(v1::FAILURE_CLASS_OOM_KILLED);
    a.set_reason("OOMKilled");
    a.set_message(filler);
    a.set_container("worker");
    a.set_affected_pods(1);
    a.set_incident_key("kube-sim/analytics/Deployment/" + ghost + "/oom");
    if (topic == topics::kAnomalies) return a.SerializeAsString();
    v1::Evidence e;
    *e.mutable_envelope() = a.envelope();
    *e.mutable_anomaly() = a;
    e.set_workload_json(R"({"apiVersion":"apps/v1","kind":"Deployment"})");
    e.add_collection_errors("bad-input test: nothing collected");
    return e.SerializeAsString();
  }
  if (topic == topics::kProposals) {
    v1::Proposal p;
    Common(p, rid, ghost);
    p.set_summary(filler);
    p.set_manual(true);
    p.set_risk(v1::RISK_LEVEL_HIGH);
    return p.SerializeAsString();
  }
  if (topic == topics::kDecisions) {
    v1::Decision d;
    Common(d, rid, ghost);
    d.set_verdict(v1::Decision::VERDICT_REJECTED);
    d.set_actor("bad-input-test");
    d.set_comment(filler);
    d.set_attempt(1);
    return d.SerializeAsString();
  }
  if (topic == topics::kExecutions) {
    v1::ExecutionResult x;
    *x.mutable_envelope() =
        envelope::New(rid, "kube-sim", envelope::NewTraceId(), "bad-input-test");
    x.set_attempt(1);
    x.set_status(v1::ExecutionResult::STATUS_FAILED);
    x.set_reason(filler);
    return x.SerializeAsString();
  }
  throw std::invalid_argument("not a pipeline topic: " + topic);
}

std::vector<BadMessage> BadMessagesFor(const std::string& topic, const std::string& tag) {
  auto typed = NewOfTopic(topic);
  const std::string type = typed->GetTypeName();
  std::vector<BadMessage> out;
  auto add = [&](std::string name, std::string key, std::string payload,
                 kafka::Headers headers = {}, bool must_refuse = true) {
    BadMessage b{name, std::move(key), false, must_refuse, std::move(payload), std::move(headers),
                 {}};
    b.headers.emplace_back(kTestCaseHeader, tag + "/" + name);
    out.push_back(std::move(b));
  };

  add("random-bytes", "bad-" + tag + "-random", RandomBytes(1024, 1));
  // Cut a valid message at several points: inside the first tag, inside the envelope, in the
  // middle and one byte short. A cut that lands on a field boundary still decodes; that case
  // is valid input (refusal stays empty); the first and last cut never are.
  const std::string rid_cut = "rem-badinput-" + tag + "-cut";
  const std::string whole = ValidPayload(topic, rid_cut, std::string(200, 'x'));
  for (size_t cut : {size_t{1}, size_t{5}, whole.size() / 2, whole.size() - 1}) {
    add("truncated-at-" + std::to_string(cut), rid_cut, whole.substr(0, cut),
        {{kafka::kHeaderMessageType, type}}, cut == 1 || cut == whole.size() - 1);
  }
  // About 900 KB: under the 1 MB limits of producer and broker, so the service gets it.
  add("oversized-random", "bad-" + tag + "-oversized", RandomBytes(900 * 1024, 2));
  const std::string rid_huge = "rem-badinput-" + tag + "-huge";
  add("huge-string-field", rid_huge, ValidPayload(topic, rid_huge, std::string(900 * 1024, 'h')),
      {{kafka::kHeaderMessageType, type}}, false);
  // A valid protobuf of another pipeline type, once labelled honestly and once unlabelled
  // (kcat, another producer): the bytes may then decode as this type by accident.
  const std::string other = OtherTopic(topic);
  const std::string rid_wrong = "rem-badinput-" + tag + "-wrongtype";
  add("wrong-type-labelled", rid_wrong, ValidPayload(other, rid_wrong),
      {{kafka::kHeaderMessageType, NewOfTopic(other)->GetTypeName()}});
  add("wrong-type-unlabelled", rid_wrong, ValidPayload(other, rid_wrong), {}, false);
  add("empty-value", "bad-" + tag + "-empty", "", {{kafka::kHeaderMessageType, type}});
  const std::string rid_nokey = "rem-badinput-" + tag + "-nokey";
  add("missing-key", "", ValidPayload(topic, rid_nokey), {{kafka::kHeaderMessageType, type}});
  out.back().null_key = true;
  add("empty-remediation-id", "bad-" + tag + "-emptyid", ValidPayload(topic, ""),
      {{kafka::kHeaderMessageType, type}});

  for (auto& b : out) {
    kafka::Message m;
    m.topic = topic;
    m.key = b.key;
    m.payload = b.payload;
    m.headers = b.headers;
    auto fresh = NewOfTopic(topic);
    b.refusal = kafka::Decode(m, *fresh);
  }
  return out;
}

}  // namespace aiops::testing
