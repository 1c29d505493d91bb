// Bad input on every pipeline topic and on the approval API, against the whole product
// (`aiops-local up`: dev broker, kube-sim and the five services as real processes). Our promise:
// bad input is dead-lettered or refused with a readable reason, counted in the metrics, and no
// service crashes, hangs or stops serving: a genuine incident afterwards still flows through.
//
// One stack for every case (starting it costs most of the run time), hence one TEST.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

#include "aiops/kafka_consumer.hpp"
#include "aiops/kafka_reader.hpp"
#include "aiops/topics.hpp"
#include "aiops/v1/approval.grpc.pb.h"
#include "bad_messages.hpp"
#include "local_stack.hpp"
#include "metrics_probe.hpp"

using namespace aiops;
using namespace aiops::testing;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

namespace {

// The incident that must still flow after the bad input: OOM-killed analytics/report-worker,
// created only once the bad input is on the topics.
const char* kScenario = R"(name: bad-input
registry:
  images:
    - image: registry.example.com/analytics/report-worker:2.3.0
      memoryMiB: 300
      oomAfterSeconds: 2
objects:
  - {apiVersion: v1, kind: Namespace, metadata: {name: analytics}}
)";

const char* kReportWorker = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: report-worker, namespace: analytics, labels: {app: report-worker}}
spec:
  replicas: 1
  selector: {matchLabels: {app: report-worker}}
  template:
    metadata: {labels: {app: report-worker}}
    spec:
      containers:
        - name: worker
          image: registry.example.com/analytics/report-worker:2.3.0
          resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 256Mi}}
)";

// Which service dead-letters what it cannot decode from each topic. The approver reads every
// topic without a consumer group (its state is a replay) and skips, counting, instead.
const std::map<std::string, std::string> kDeadLetteringConsumer = {
    {topics::kAnomalies, "collector"},
    {topics::kEvidence, "proposer"},
    {topics::kDecisions, "executor"},
};

std::string Short(const std::string& topic) {
  return topic.substr(topic.find('.') + 1);
}

// Produces one bad message: through our producer, or kcat when the key must be absent (our
// producer always sends a key, if empty).
void Produce(kafka::Producer& producer, const std::string& bootstrap, const TempDir& tmp,
             const std::string& topic, const BadMessage& b) {
  if (!b.null_key) {
    auto d = producer.SendAndWait(topic, b.key, b.payload, b.headers, 30s);
    ASSERT_TRUE(d.ok) << b.name << ": " << d.error;
    return;
  }
  std::string file = tmp.File(Short(topic) + "-" + b.name + ".bin");
  std::ofstream(file, std::ios::binary) << b.payload;
  std::string cmd = "kcat -P -b " + bootstrap + " -t " + topic;
  for (const auto& [k, v] : b.headers)
    cmd += " -H '" + k + "=" + v + "'";
  std::string out;
  ASSERT_EQ(RunCommand(cmd + " " + file + " 2>&1", &out), 0) << out;
}

// Every dead letter so far, by its x-test-case header (dead letters keep the original headers).
class DeadLetters {
 public:
  explicit DeadLetters(const std::string& bootstrap)
      : reader_(Config(bootstrap), {topics::kDeadLetter}, true) {}
  std::multimap<std::string, kafka::Message>& Drain() {
    while (auto m = reader_.Next(100ms)) {
      by_case_.emplace(m->Header(kTestCaseHeader).value_or(""), *m);
    }
    return by_case_;
  }

 private:
  static kafka::KafkaConfig Config(const std::string& bootstrap) {
    kafka::KafkaConfig c;
    c.bootstrap = bootstrap;
    return c;
  }
  kafka::TopicReader reader_;
  std::multimap<std::string, kafka::Message> by_case_;
};

std::map<std::string, pid_t> Pids(const LocalStack& stack) {
  std::map<std::string, pid_t> out;
  for (const auto& [name, p] : stack.Processes())
    out[name] = p.pid;
  return out;
}

void ExpectAllHealthy(const LocalStack& stack) {
  for (const auto& [name, p] : stack.Processes()) {
    if (!p.http.empty()) {
      EXPECT_TRUE(Healthy(p.http)) << name << " /healthz";
    }
  }
}

// --- gRPC ----------------------------------------------------------------------------------

class ApprovalClient {
 public:
  ApprovalClient(const std::string& addr, std::string token)
      : stub_(v1::Approval::NewStub(grpc::CreateChannel(addr, grpc::InsecureChannelCredentials()))),
        token_(std::move(token)) {}

  // `token`: nullopt sends no authorization metadata at all.
  template <class Req, class Resp>
  grpc::Status Call(grpc::Status (v1::Approval::Stub::*method)(grpc::ClientContext*, const Req&,
                                                               Resp*),
                    const Req& req, Resp* resp, std::optional<std::string> token = {}) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 30s);
    std::string t = token.value_or(token_);
    if (!t.empty()) ctx.AddMetadata("authorization", "Bearer " + t);
    return (stub_.get()->*method)(&ctx, req, resp);
  }
  grpc::Status Get(const std::string& id, v1::Remediation* out = nullptr,
                   std::optional<std::string> token = {}) {
    v1::GetRemediationRequest req;
    req.set_id(id);
    v1::Remediation r;
    return Call(&v1::Approval::Stub::GetRemediation, req, out ? out : &r, token);
  }
  grpc::Status Approve(const std::string& id, const std::string& comment) {
    v1::ApproveRequest req;
    req.set_id(id);
    req.set_comment(comment);
    v1::ApproveResponse resp;
    return Call(&v1::Approval::Stub::Approve, req, &resp);
  }
  grpc::Status Reject(const std::string& id, const std::string& reason) {
    v1::RejectRequest req;
    req.set_id(id);
    req.set_reason(reason);
    v1::RejectResponse resp;
    return Call(&v1::Approval::Stub::Reject, req, &resp);
  }

 private:
  std::unique_ptr<v1::Approval::Stub> stub_;
  std::string token_;
};

#define EXPECT_STATUS(call, code, text)                                                        \
  do {                                                                                         \
    grpc::Status s_ = (call);                                                                  \
    EXPECT_EQ(s_.error_code(), grpc::StatusCode::code) << #call << ": " << s_.error_message(); \
    EXPECT_THAT(s_.error_message(), HasSubstr(text)) << #call;                                 \
  } while (0)

// Every bad call gets a clear code and message; the approver keeps serving and its state is
// unchanged by them. `id` is a remediation in ReadyForReview.
void BadApprovalCalls(const LocalStack& stack, const std::string& id) {
  auto first_line = [&](const std::string& file) {
    std::string text = ReadFile(stack.File(file));
    return text.substr(0, text.find('\n'));
  };
  ApprovalClient api(first_line("approver.addr"), first_line("token"));

  // Authentication comes first, whatever the request.
  EXPECT_STATUS(api.Get(id, nullptr, std::string()), UNAUTHENTICATED, "missing bearer token");
  EXPECT_STATUS(api.Get(id, nullptr, std::string("not-the-token")), UNAUTHENTICATED, "");
  // Ids.
  EXPECT_STATUS(api.Get(""), INVALID_ARGUMENT, "a remediation id is required");
  EXPECT_STATUS(api.Approve("", "x"), INVALID_ARGUMENT, "a remediation id is required");
  EXPECT_STATUS(api.Get("rem-00000000000000000000"), NOT_FOUND, "");
  EXPECT_STATUS(api.Approve("rem-00000000000000000000", "x"), NOT_FOUND, "");
  EXPECT_STATUS(api.Get(std::string(300, 'a')), INVALID_ARGUMENT, "longer than 253");
  // Sizes: 2 MB is refused by the approver, 5 MB already by gRPC (4 MB receive limit).
  EXPECT_STATUS(api.Approve(id, std::string(2 << 20, 'c')), INVALID_ARGUMENT,
                "comment is longer than");
  EXPECT_STATUS(api.Reject(id, std::string(2 << 20, 'r')), INVALID_ARGUMENT,
                "reason is longer than");
  EXPECT_STATUS(api.Approve(id, std::string(5 << 20, 'c')), RESOURCE_EXHAUSTED, "");
  // Invalid UTF-8 in proto3 strings: gRPC's server cannot parse the request and answers
  // INTERNAL with an empty message before our code runs (the request never reaches the
  // approver, so the remediation is not approved with a broken comment). Clients built on
  // protobuf log the problem when they serialise it.
  EXPECT_STATUS(api.Get("rem-\xff\xfe"), INTERNAL, "");
  EXPECT_STATUS(api.Approve(id, "ok \xc3\x28 then"), INTERNAL, "");

  // None of that changed the remediation.
  v1::Remediation r;
  ASSERT_TRUE(api.Get(id, &r).ok());
  EXPECT_EQ(r.state(), v1::REMEDIATION_STATE_READY_FOR_REVIEW);

  // Approving a rejected remediation is an error that says so.
  ASSERT_TRUE(api.Reject(id, "bad-input suite").ok());
  EXPECT_STATUS(api.Approve(id, "too late"), FAILED_PRECONDITION, "is Rejected");
  // And the approver still serves valid calls.
  ASSERT_TRUE(api.Get(id, &r).ok());
  EXPECT_EQ(r.state(), v1::REMEDIATION_STATE_REJECTED);
  v1::ListRemediationsRequest list;
  v1::ListRemediationsResponse listed;
  EXPECT_TRUE(api.Call(&v1::Approval::Stub::ListRemediations, list, &listed).ok());
  EXPECT_GE(listed.remediations_size(), 1);
}

}  // namespace

TEST(BadInputPipelineTest, BadMessagesAndCallsAreRefusedAndAGenuineIncidentStillFlows) {
  std::string kcat;
  if (RunCommand("command -v kcat", &kcat) != 0) GTEST_SKIP() << "kcat not installed";
  TempDir tmp;
  std::string scenario = tmp.File("scenario.yaml");
  std::ofstream(scenario) << kScenario;
  LocalStack stack({}, scenario);
  ASSERT_TRUE(stack.WaitUp()) << stack.Logs();
  const auto pids_before = Pids(stack);
  const std::string bootstrap = stack.Bootstrap();

  // 1. Every bad message on every topic.
  kafka::KafkaConfig kc;
  kc.bootstrap = bootstrap;
  kafka::Producer producer(kc, "bad-input-test");
  std::map<std::string, std::vector<BadMessage>> sent;
  for (const auto& topic : topics::Pipeline()) {
    sent[topic] = BadMessagesFor(topic, Short(topic));
    for (const auto& b : sent[topic])
      Produce(producer, bootstrap, tmp, topic, b);
  }
  // The cases the suite is about really are refused by the decoder (the rest is valid input
  // that must merely not hurt).
  for (const auto& [topic, cases] : sent) {
    for (const auto& b : cases) {
      if (b.must_refuse) {
        EXPECT_TRUE(b.refusal) << topic << " " << b.name << " decodes";
      }
    }
  }

  // 2. Each dead-lettering consumer dead-letters every refused message with the decoder's
  //    reason and the origin.
  DeadLetters dead(bootstrap);
  auto all_dead_lettered = [&] {
    auto& got = dead.Drain();
    for (const auto& [topic, service] : kDeadLetteringConsumer) {
      for (const auto& b : sent[topic]) {
        if (b.refusal && got.count(Short(topic) + "/" + b.name) == 0) return false;
      }
    }
    return true;
  };
  ASSERT_TRUE(PollUntil(all_dead_lettered, 180s, 200ms)) << stack.Logs();
  for (const auto& [topic, service] : kDeadLetteringConsumer) {
    int refused = 0;
    for (const auto& b : sent[topic]) {
      if (!b.refusal) continue;
      ++refused;
      auto range = dead.Drain().equal_range(Short(topic) + "/" + b.name);
      for (auto it = range.first; it != range.second; ++it) {
        const kafka::Message& m = it->second;
        SCOPED_TRACE(topic + " " + b.name);
        EXPECT_EQ(m.Header(kafka::kHeaderDlqError), *b.refusal);
        EXPECT_EQ(m.Header(kafka::kHeaderDlqTopic), topic);
        EXPECT_TRUE(m.Header(kafka::kHeaderDlqOffset).has_value());
        EXPECT_EQ(m.key, b.key);
        EXPECT_EQ(m.payload.size(), b.payload.size());
      }
    }
    std::string http = stack.Processes()[service].http;
    EXPECT_GE(ScrapeMetric(http, "aiops_kafka_deadlettered_total", {"topic=\"" + topic + "\""}),
              refused)
        << service;
  }
  // The approver skipped exactly the refused messages of every topic, counting them.
  std::string approver_http = stack.Processes()["approver"].http;
  for (const auto& [topic, cases] : sent) {
    int refused = 0;
    for (const auto& b : cases)
      refused += b.refusal ? 1 : 0;
    EXPECT_TRUE(PollUntil(
        [&] {
          return ScrapeMetric(approver_http, "aiops_approver_messages_total",
                              {"topic=\"" + topic + "\"", "result=\"invalid\""}) == refused;
        },
        60s, 200ms))
        << topic << " approver invalid count, expected " << refused;
  }

  // 3. Nothing crashed (aiops-local would have restarted it under a new pid), all healthy.
  EXPECT_EQ(Pids(stack), pids_before) << stack.Logs();
  ExpectAllHealthy(stack);

  // 4. A genuine incident produced afterwards still reaches ReadyForReview.
  std::string manifest = tmp.File("report-worker.yaml");
  std::ofstream(manifest) << kReportWorker;
  std::string out;
  ASSERT_EQ(RunCommand("kubectl --kubeconfig " + stack.File("kubeconfig") + " apply -f " +
                           manifest + " 2>&1",
                       &out),
            0)
      << out;
  ASSERT_TRUE(
      stack.WaitState("analytics", "report-worker", "REMEDIATION_STATE_READY_FOR_REVIEW", 240s))
      << stack.List().dump(1) << stack.Logs();
  std::string id = Field(stack.Find("analytics", "report-worker"), {"id"});

  // 5. Bad approval calls, then the approver still serves.
  BadApprovalCalls(stack, id);

  EXPECT_EQ(Pids(stack), pids_before) << stack.Logs();
  ExpectAllHealthy(stack);
}
