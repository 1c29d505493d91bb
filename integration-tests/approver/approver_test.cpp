// aiops-approver end to end: a broker and the approver run as processes; the test talks to
// them only through their public interfaces (Kafka topics, aiopsctl, the Approval gRPC API).
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <fstream>
#include <iostream>
#include <regex>

#include "aiops/envelope.hpp"
#include "aiops/kafka_producer.hpp"
#include "aiops/kafka_reader.hpp"
#include "aiops/topics.hpp"
#include "aiops/v1/approval.grpc.pb.h"
#include "aiops/v1/decision.pb.h"
#include "aiops/v1/evidence.pb.h"
#include "aiops/v1/proposal.pb.h"
#include "devbroker.hpp"
#include "subprocess.hpp"

using namespace aiops;
using namespace aiops::testing;
using grpc::StatusCode;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

const std::string kAliceToken = "it-alice-token-0123456789";
const std::string kBobToken = "it-bob-token-0123456789";
const std::string kVictorToken = "it-victor-token-0123456789";

kafka::KafkaConfig KafkaFor(const std::string& bootstrap) {
  kafka::KafkaConfig c;
  c.bootstrap = bootstrap;
  c.client_id = "it-approver";
  c.properties["log_level"] = "3";
  return c;
}

v1::WorkloadRef Workload(const std::string& ns, const std::string& name) {
  v1::WorkloadRef w;
  w.set_api_version("apps/v1");
  w.set_kind("Deployment");
  w.set_namespace_(ns);
  w.set_name(name);
  return w;
}

// Everything the approver needs from the three earlier stages, as they would publish it.
struct Pipeline {
  static v1::Anomaly Anomaly(const std::string& id, const std::string& ns,
                             const std::string& name) {
    v1::Anomaly a;
    *a.mutable_envelope() = envelope::New(id, "it-cluster", "", "aiops-detector/it");
    envelope::Stamp(*a.mutable_envelope(), envelope::Stage::kDetected);
    a.set_status(v1::Anomaly::STATUS_OPEN);
    a.set_failure_class(v1::FAILURE_CLASS_IMAGE_PULL);
    a.set_reason("ImagePullBackOff");
    a.set_message("Back-off pulling image \"nginx:1.99\"");
    *a.mutable_workload() = Workload(ns, name);
    return a;
  }
  static v1::Proposal Proposal(const v1::Anomaly& a, v1::RiskLevel risk) {
    v1::Proposal p;
    *p.mutable_envelope() = envelope::Next(a.envelope(), "aiops-proposer/it");
    envelope::Stamp(*p.mutable_envelope(), envelope::Stage::kProposed);
    p.set_summary("image tag nginx:1.99 does not exist; use the last good tag");
    p.set_root_cause("bad image tag");
    p.set_risk(risk);
    p.set_failure_class(a.failure_class());
    *p.mutable_workload() = a.workload();
    p.mutable_source()->set_kind(v1::ProposalSource::KIND_RUNBOOK);
    p.mutable_source()->set_runbook_id("image-pull");
    p.set_evidence_generation(4);
    p.set_evidence_resource_version("777");
    auto* act = p.add_actions();
    act->set_id("a1");
    act->set_type(v1::Action::TYPE_SERVER_SIDE_APPLY);
    *act->mutable_target() = a.workload();
    act->set_patch(
        R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":")" +
        a.workload().name() + R"(","namespace":")" + a.workload().namespace_() +
        R"("},"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.25.3"}]}}}})");
    act->set_description("set image of container web to nginx:1.25.3");
    auto* rb = p.add_rollback_actions();
    rb->set_id("r1");
    rb->set_type(v1::Action::TYPE_ROLLBACK_TO_REVISION);
    *rb->mutable_target() = a.workload();
    rb->set_rollback_to_revision(2);
    return p;
  }
};

class ApproverIT : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    broker_ = new DevBroker(3);
    dir_ = new TempDir();
    std::ofstream(dir_->File("alice")) << kAliceToken << "\n";
    std::ofstream(dir_->File("bob")) << kBobToken << "\n";
    std::ofstream(dir_->File("approver.yaml")) << R"(
auth:
  tokens:
    - {identity: alice, role: approver, token_file: )" +
                                                      dir_->File("alice") + R"(}
    - {identity: bob, role: approver, token_file: )" + dir_->File("bob") +
                                                      R"(}
    - {identity: victor, role: viewer, token_env: IT_VICTOR_TOKEN}
policies:
  auto_approve:
    - {name: it-auto, sources: [runbook], risks: [low], namespaces: [auto]}
  two_person: {risks: [high]}
  rate_limit: {max_per_workload_per_hour: 100}
  expiry: {ttl: 1h}
)";
    port_ = FreePort();
    producer_ = new kafka::Producer(KafkaFor(broker_->bootstrap()), "it-approver");
    decisions_reader_ =
        new kafka::TopicReader(KafkaFor(broker_->bootstrap()), {topics::kDecisions}, true);
    StartApprover();
  }

  static void TearDownTestSuite() {
    delete approver_;
    delete decisions_reader_;
    delete producer_;
    delete dir_;
    delete broker_;
    approver_ = nullptr;
  }

  static void StartApprover() {
    delete approver_;
    approver_ = new Subprocess(
        {Bin("aiops-approver"), "--config", dir_->File("approver.yaml"), "--kafka-bootstrap",
         broker_->bootstrap(), "--http-listen", "127.0.0.1:0", "--grpc-listen",
         "127.0.0.1:" + std::to_string(port_), "--set", "approver.sweep_interval_ms=200"},
        {{"IT_VICTOR_TOKEN", kVictorToken}});
    ASSERT_TRUE(approver_->WaitForOutput("approver ready", std::chrono::seconds(60)))
        << approver_->Output();
  }

  static std::string Server() { return "127.0.0.1:" + std::to_string(port_); }

  // Runs aiopsctl with server and token from the environment (as a person would set them).
  static int Ctl(const std::string& args, const std::string& token, std::string* out) {
    std::string env = "HOME=" + dir_->path() + " AIOPS_SERVER=" + Server() + " ";
    if (!token.empty()) env += "AIOPS_TOKEN=" + token + " ";
    return RunCommand(env + Bin("aiopsctl") + " " + args, out);
  }

  static void Publish(const std::string& topic, const google::protobuf::Message& m,
                      const std::string& id) {
    auto d = producer_->PublishAndWait(topic, id, m, std::chrono::seconds(30));
    ASSERT_TRUE(d.ok) << d.error;
  }

  // Anomaly + evidence + proposal for a new remediation; returns its id.
  static std::string Propose(const std::string& tag, const std::string& ns,
                             v1::RiskLevel risk = v1::RISK_LEVEL_MEDIUM) {
    std::string id = envelope::RemediationId({"it", tag, std::to_string(getpid())});
    auto a = Pipeline::Anomaly(id, ns, "web-" + tag);
    Publish(topics::kAnomalies, a, id);
    v1::Evidence e;
    *e.mutable_envelope() = envelope::Next(a.envelope(), "aiops-collector/it");
    envelope::Stamp(*e.mutable_envelope(), envelope::Stage::kCollected);
    *e.mutable_anomaly() = a;
    e.add_pods()->set_name("web-" + tag + "-1");
    Publish(topics::kEvidence, e, id);
    Publish(topics::kProposals, Pipeline::Proposal(a, risk), id);
    return id;
  }

  static std::unique_ptr<v1::Approval::Stub> Stub() {
    return v1::Approval::NewStub(grpc::CreateChannel(Server(), grpc::InsecureChannelCredentials()));
  }
  static std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return ctx;
  }

  static std::optional<v1::Remediation> Get(const std::string& id) {
    v1::GetRemediationRequest req;
    req.set_id(id);
    v1::Remediation r;
    if (!Stub()->GetRemediation(Ctx(kVictorToken).get(), req, &r).ok()) return std::nullopt;
    return r;
  }

  static bool WaitForState(const std::string& id, v1::RemediationState state) {
    return PollUntil(
        [&] {
          auto r = Get(id);
          return r && r->state() == state;
        },
        std::chrono::seconds(60), std::chrono::milliseconds(100));
  }

  // Reads aiops.decisions (from the start, all tests share the reader) until a decision
  // for `id` with `verdict` shows up.
  static std::optional<v1::Decision> WaitForDecision(const std::string& id,
                                                     v1::Decision::Verdict verdict) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      for (const auto& d : decisions_) {
        if (d.envelope().remediation_id() == id && d.verdict() == verdict) return d;
      }
      if (auto m = decisions_reader_->Next(std::chrono::milliseconds(200))) {
        v1::Decision d;
        if (!kafka::Decode(*m, d)) decisions_.push_back(d);
      }
    }
    return std::nullopt;
  }

  static int CountDecisions(const std::string& id) {
    // Drain what is there now (the reader is caught up when nothing arrives for a while).
    while (auto m = decisions_reader_->Next(std::chrono::milliseconds(500))) {
      v1::Decision d;
      if (!kafka::Decode(*m, d)) decisions_.push_back(d);
    }
    int n = 0;
    for (const auto& d : decisions_)
      n += d.envelope().remediation_id() == id;
    return n;
  }

  static DevBroker* broker_;
  static TempDir* dir_;
  static int port_;
  static Subprocess* approver_;
  static kafka::Producer* producer_;
  static kafka::TopicReader* decisions_reader_;
  static std::vector<v1::Decision> decisions_;
};

DevBroker* ApproverIT::broker_ = nullptr;
TempDir* ApproverIT::dir_ = nullptr;
int ApproverIT::port_ = 0;
Subprocess* ApproverIT::approver_ = nullptr;
kafka::Producer* ApproverIT::producer_ = nullptr;
kafka::TopicReader* ApproverIT::decisions_reader_ = nullptr;
std::vector<v1::Decision> ApproverIT::decisions_;

TEST_F(ApproverIT, AProposalOnTheTopicAppearsInAiopsctlList) {
  auto id = Propose("listed", "shop");
  std::string out;
  ASSERT_TRUE(PollUntil(
      [&] {
        return Ctl("list -o json", kVictorToken, &out) == 0 && out.find(id) != std::string::npos &&
               out.find("REMEDIATION_STATE_READY_FOR_REVIEW") != std::string::npos;
      },
      std::chrono::seconds(60), std::chrono::milliseconds(200)))
      << out;
  auto doc = nlohmann::json::parse(out);
  bool found = false;
  for (const auto& r : doc) {
    if (r["id"] != id) continue;
    found = true;
    EXPECT_EQ(r["state"], "REMEDIATION_STATE_READY_FOR_REVIEW");
    EXPECT_EQ(r["workload"]["name"], "web-listed");
    EXPECT_EQ(r["proposal"]["actions"][0]["id"], "a1");
  }
  EXPECT_TRUE(found) << out;

  ASSERT_EQ(Ctl("list --namespace shop", kVictorToken, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("ID"));
  EXPECT_THAT(out, HasSubstr("SOURCE"));
  EXPECT_TRUE(std::regex_search(out, std::regex(id + " +[0-9]+[smhd] +it-cluster +shop +"
                                                     "deployment/web-listed +ImagePullBackOff +"
                                                     "ReadyForReview +medium +runbook:image-pull")))
      << out;

  ASSERT_EQ(Ctl("get " + id, kVictorToken, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("State:      ReadyForReview"));
  EXPECT_THAT(out, HasSubstr("image: nginx:1.25.3")) << "the patch is shown as YAML";
}

TEST_F(ApproverIT, AiopsctlApprovePublishesTheDecisionAsTheTokensIdentity) {
  auto id = Propose("approve", "shop");
  ASSERT_TRUE(WaitForState(id, v1::REMEDIATION_STATE_READY_FOR_REVIEW));
  std::string out;
  auto started = std::chrono::steady_clock::now();
  ASSERT_EQ(Ctl("approve " + id + " -m 'tag verified in the registry'", kAliceToken, &out), 0)
      << out;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  started)
                .count();
  std::cout << "[figure] aiopsctl approve round trip (process start to broker ack): " << ms
            << " ms\n";
  EXPECT_THAT(out, HasSubstr(id + " approved"));

  auto d = WaitForDecision(id, v1::Decision::VERDICT_APPROVED);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->actor(), "alice");
  EXPECT_EQ(d->comment(), "tag verified in the registry");
  ASSERT_EQ(d->approvals_size(), 1);
  EXPECT_EQ(d->approvals(0).actor(), "alice");
  ASSERT_EQ(d->actions_size(), 1);
  EXPECT_THAT(d->actions(0).patch(), HasSubstr("nginx:1.25.3"));
  EXPECT_EQ(d->rollback_actions_size(), 1);
  EXPECT_EQ(d->expected_generation(), 4);
  EXPECT_EQ(d->expected_resource_version(), "777");
  EXPECT_EQ(d->workload().name(), "web-approve");
  EXPECT_TRUE(d->envelope().times().has_proposed());
  EXPECT_TRUE(d->envelope().times().has_decided());

  // Returned only after the ack, so the state is already visible; approving twice is harmless.
  EXPECT_EQ(Get(id)->state(), v1::REMEDIATION_STATE_APPROVED);
  ASSERT_EQ(Ctl("approve " + id, kBobToken, &out), 0) << out;
  EXPECT_EQ(CountDecisions(id), 1);
}

TEST_F(ApproverIT, EveryErrorHasItsCodeAndAiopsctlSaysWhy) {
  auto id = Propose("errors", "shop");
  ASSERT_TRUE(WaitForState(id, v1::REMEDIATION_STATE_READY_FOR_REVIEW));
  auto stub = Stub();
  std::string out;

  // UNAUTHENTICATED: no token, wrong token.
  v1::ListRemediationsRequest list;
  v1::ListRemediationsResponse lresp;
  EXPECT_EQ(stub->ListRemediations(Ctx("").get(), list, &lresp).error_code(),
            StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(stub->ListRemediations(Ctx("wrong-token-0000000000").get(), list, &lresp).error_code(),
            StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Ctl("list", "", &out), 4);
  EXPECT_THAT(out, HasSubstr("not authenticated"));
  EXPECT_THAT(out, HasSubstr("set AIOPS_TOKEN"));
  EXPECT_EQ(Ctl("list", "wrong-token-0000000000", &out), 4);
  EXPECT_THAT(out, HasSubstr("invalid token"));

  // PERMISSION_DENIED: a viewer approving.
  v1::ApproveRequest approve;
  approve.set_id(id);
  v1::ApproveResponse aresp;
  EXPECT_EQ(stub->Approve(Ctx(kVictorToken).get(), approve, &aresp).error_code(),
            StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Ctl("approve " + id, kVictorToken, &out), 4);
  EXPECT_THAT(out, HasSubstr("permission denied: identity 'victor' has role viewer"));

  // NOT_FOUND.
  v1::GetRemediationRequest get;
  get.set_id("rem-doesnotexist000000");
  v1::Remediation r;
  EXPECT_EQ(stub->GetRemediation(Ctx(kVictorToken).get(), get, &r).error_code(),
            StatusCode::NOT_FOUND);
  EXPECT_EQ(Ctl("approve rem-doesnotexist000000", kAliceToken, &out), 3);
  EXPECT_THAT(out, HasSubstr("remediation rem-doesnotexist000000 not found"));

  // INVALID_ARGUMENT: a rejection without a reason, a malformed id.
  v1::RejectRequest reject;
  reject.set_id(id);
  v1::RejectResponse rresp;
  EXPECT_EQ(stub->Reject(Ctx(kBobToken).get(), reject, &rresp).error_code(),
            StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Ctl("reject " + id + " -m ''", kBobToken, &out), 2);
  EXPECT_THAT(out, HasSubstr("a reason is required"));
  EXPECT_EQ(Ctl("get 'bad id!'", kBobToken, &out), 2);

  // FAILED_PRECONDITION: approving what was rejected.
  ASSERT_EQ(Ctl("reject " + id + " -m 'wrong registry'", kBobToken, &out), 0) << out;
  EXPECT_EQ(stub->Approve(Ctx(kAliceToken).get(), approve, &aresp).error_code(),
            StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Ctl("approve " + id, kAliceToken, &out), 5);
  EXPECT_THAT(out,
              HasSubstr("refused: remediation " + id + " is Rejected (by bob: wrong registry)"));
  auto d = WaitForDecision(id, v1::Decision::VERDICT_REJECTED);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->actor(), "bob");
  EXPECT_EQ(CountDecisions(id), 1) << "refused calls publish nothing";
}

TEST_F(ApproverIT, AutoApprovePolicyDecidesAsThePolicy) {
  auto id = Propose("auto", "auto", v1::RISK_LEVEL_LOW);
  auto d = WaitForDecision(id, v1::Decision::VERDICT_APPROVED);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->actor(), "policy:it-auto");
  EXPECT_EQ(d->policy(), "it-auto");
  ASSERT_EQ(d->approvals_size(), 1);
  EXPECT_EQ(d->approvals(0).actor(), "policy:it-auto");
  EXPECT_TRUE(WaitForState(id, v1::REMEDIATION_STATE_APPROVED));
  // Same namespace, medium risk: no rule matches, it waits for a person.
  auto manual = Propose("auto-medium", "auto", v1::RISK_LEVEL_MEDIUM);
  ASSERT_TRUE(WaitForState(manual, v1::REMEDIATION_STATE_READY_FOR_REVIEW));
  EXPECT_EQ(CountDecisions(manual), 0);
}

TEST_F(ApproverIT, HighRiskNeedsTwoDistinctApproversAndSurvivesARestart) {
  auto id = Propose("two-person", "shop", v1::RISK_LEVEL_HIGH);
  auto done = Propose("restart-approved", "shop");
  ASSERT_TRUE(WaitForState(id, v1::REMEDIATION_STATE_READY_FOR_REVIEW));
  ASSERT_TRUE(WaitForState(done, v1::REMEDIATION_STATE_READY_FOR_REVIEW));
  std::string out;
  ASSERT_EQ(Ctl("approve " + done, kAliceToken, &out), 0) << out;

  ASSERT_EQ(Ctl("approve " + id + " -m 'first'", kAliceToken, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("approval recorded; still needs 1 more approval(s)"));
  auto partial = WaitForDecision(id, v1::Decision::VERDICT_UNSPECIFIED);
  ASSERT_TRUE(partial.has_value()) << "the partial approval is kept on aiops.decisions";
  EXPECT_EQ(partial->approvals(0).actor(), "alice");
  EXPECT_EQ(Get(id)->state(), v1::REMEDIATION_STATE_READY_FOR_REVIEW);
  ASSERT_EQ(Ctl("approve " + id, kAliceToken, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("'alice' already approved"));

  // Some volume, so the rebuild figure means something.
  const int kExtra = 500;
  std::vector<std::future<kafka::Delivery>> acks;
  for (int i = 0; i < kExtra; ++i) {
    std::string rid = envelope::RemediationId({"it-bulk", std::to_string(i)});
    acks.push_back(producer_->Publish(topics::kAnomalies, rid,
                                      Pipeline::Anomaly(rid, "bulk", "w" + std::to_string(i))));
  }
  for (auto& a : acks)
    ASSERT_TRUE(a.get().ok);

  std::string before_id, before_done;
  ASSERT_EQ(Ctl("get " + id + " -o json", kVictorToken, &before_id), 0) << before_id;
  ASSERT_EQ(Ctl("get " + done + " -o json", kVictorToken, &before_done), 0) << before_done;
  ASSERT_TRUE(PollUntil(
      [&] {
        return Ctl("list -n bulk -o json", kVictorToken, &out) == 0 &&
               nlohmann::json::parse(out).size() == kExtra;
      },
      std::chrono::seconds(60), std::chrono::milliseconds(200)));

  EXPECT_EQ(approver_->Stop(SIGKILL), -SIGKILL);
  StartApprover();
  std::smatch m;
  std::string log = approver_->Output();
  if (std::regex_search(log, m, std::regex("state rebuilt from Kafka messages=(\\d+).*ms=(\\d+)")))
    std::cout << "[figure] state rebuilt from " << m[1] << " messages in " << m[2]
              << " ms (including the reader's group join)\n";

  std::string after_id, after_done;
  ASSERT_EQ(Ctl("get " + id + " -o json", kVictorToken, &after_id), 0) << after_id;
  ASSERT_EQ(Ctl("get " + done + " -o json", kVictorToken, &after_done), 0) << after_done;
  EXPECT_EQ(after_id, before_id) << "the record is unchanged after a restart";
  EXPECT_EQ(after_done, before_done);

  // Alice's approval survived: bob's is the second one.
  ASSERT_EQ(Ctl("approve " + id + " -m 'second'", kBobToken, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr(id + " approved"));
  auto d = WaitForDecision(id, v1::Decision::VERDICT_APPROVED);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->actor(), "bob");
  EXPECT_EQ(d->policy(), "two-person");
  ASSERT_EQ(d->approvals_size(), 2);
  EXPECT_EQ(d->approvals(0).actor(), "alice");
  EXPECT_EQ(d->approvals(1).actor(), "bob");
}

TEST_F(ApproverIT, GarbageOnTheTopicsDoesNotBreakIt) {
  ASSERT_TRUE(producer_
                  ->SendAndWait(topics::kProposals, "rem-garbage", "\x01\x02 not protobuf", {},
                                std::chrono::seconds(30))
                  .ok);
  ASSERT_TRUE(producer_
                  ->SendAndWait(topics::kDecisions, "rem-garbage2", "", {{"message-type", "x"}},
                                std::chrono::seconds(30))
                  .ok);
  auto a = Pipeline::Anomaly("rem-key-mismatch", "shop", "web");
  ASSERT_TRUE(
      producer_->PublishAndWait(topics::kAnomalies, "rem-other-key", a, std::chrono::seconds(30))
          .ok);
  auto id = Propose("after-garbage", "shop");
  ASSERT_TRUE(WaitForState(id, v1::REMEDIATION_STATE_READY_FOR_REVIEW)) << approver_->Output();
  EXPECT_TRUE(approver_->Running());
  std::string out;
  ASSERT_EQ(Ctl("list -o json", kVictorToken, &out), 0);
  EXPECT_THAT(out, Not(HasSubstr("rem-garbage")));
  EXPECT_THAT(out, Not(HasSubstr("rem-key-mismatch")));
  EXPECT_THAT(approver_->Output(), HasSubstr("skipping a message that does not decode"));
}

TEST_F(ApproverIT, WatchStreamsChanges) {
  Subprocess watch({Bin("aiopsctl"), "watch", "--server", Server(), "--token", kVictorToken, "-o",
                    "json", "--max", "1", "--state", "ReadyForReview"});
  auto id = Propose("watched", "shop");
  ASSERT_TRUE(WaitForState(id, v1::REMEDIATION_STATE_READY_FOR_REVIEW));
  int more = 0;
  bool seen = PollUntil(
      [&] {
        if (watch.Output().find("REMEDIATION_STATE_READY_FOR_REVIEW") != std::string::npos)
          return true;
        // The watch may have connected after that change: make another one.
        Propose("watched-" + std::to_string(++more), "shop");
        return false;
      },
      std::chrono::seconds(60), std::chrono::milliseconds(500));
  ASSERT_TRUE(seen) << watch.Output();
  EXPECT_TRUE(PollUntil([&] { return !watch.Running(); }, std::chrono::seconds(30)));
  EXPECT_EQ(watch.Stop(SIGTERM), 0) << watch.Output();
  auto line = watch.Output();
  auto ev = nlohmann::json::parse(line.substr(0, line.find('\n')));
  EXPECT_EQ(ev["type"], "TYPE_CHANGED");
  EXPECT_EQ(ev["remediation"]["state"], "REMEDIATION_STATE_READY_FOR_REVIEW");
}

TEST(ApproverStartupIT, RefusesToRunWithoutTokensOrInsecureDevOffLoopback) {
  std::string out;
  int rc = RunCommand(Bin("aiops-approver") +
                          " --kafka-bootstrap 127.0.0.1:1 --http-listen "
                          "127.0.0.1:0 --grpc-listen 0.0.0.0:0 --insecure-dev",
                      &out);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_THAT(out, HasSubstr("--insecure-dev is refused"));
  rc = RunCommand(
      Bin("aiops-approver") + " --kafka-bootstrap 127.0.0.1:1 --http-listen 127.0.0.1:0", &out);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_THAT(out, HasSubstr("no tokens configured"));
}

}  // namespace

namespace {

TEST(ApproverTlsIT, ServesTlsAndAiopsctlVerifiesTheCertificate) {
  TempDir dir;
  std::string out;
  ASSERT_EQ(RunCommand("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
                       "-addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
                           dir.File("key.pem") + " -out " + dir.File("cert.pem"),
                       &out),
            0)
      << out;
  std::ofstream(dir.File("approver.yaml")) << R"(
grpc:
  tls_cert: )" + dir.File("cert.pem") + R"(
  tls_key: )" + dir.File("key.pem") + R"(
auth:
  tokens:
    - {identity: alice, role: approver, token_env: IT_TLS_TOKEN}
)";
  DevBroker broker(1);
  int port = FreePort();
  Subprocess approver({Bin("aiops-approver"), "--config", dir.File("approver.yaml"),
                       "--kafka-bootstrap", broker.bootstrap(), "--http-listen", "127.0.0.1:0",
                       "--grpc-listen", "127.0.0.1:" + std::to_string(port)},
                      {{"IT_TLS_TOKEN", kAliceToken}});
  ASSERT_TRUE(approver.WaitForOutput("approver ready", std::chrono::seconds(60)))
      << approver.Output();
  EXPECT_THAT(approver.Output(), HasSubstr("tls=on"));
  EXPECT_THAT(approver.Output(), Not(HasSubstr(kAliceToken))) << "tokens are never logged";
  std::string ctl = "HOME=" + dir.path() + " AIOPS_TOKEN=" + kAliceToken + " " + Bin("aiopsctl") +
                    " list --server 127.0.0.1:" + std::to_string(port);
  EXPECT_EQ(RunCommand(ctl + " --ca-file " + dir.File("cert.pem"), &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("No remediations."));
  EXPECT_EQ(RunCommand(ctl, &out), 6) << "plaintext to a TLS server fails: " << out;
  EXPECT_THAT(out, HasSubstr("cannot reach the approver"));
}

}  // namespace
