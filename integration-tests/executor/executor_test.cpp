// The executor end to end: kube-sim serves the bad-image-tag scenario, the development broker
// carries Decisions in and ExecutionResults out, and aiops-executor runs as a real process.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "aiops/envelope.hpp"
#include "aiops/kafka_producer.hpp"
#include "aiops/kafka_reader.hpp"
#include "aiops/kube/client.hpp"
#include "aiops/kube/credentials.hpp"
#include "aiops/topics.hpp"
#include "aiops/v1/decision.pb.h"
#include "aiops/v1/execution.pb.h"
#include "devbroker.hpp"

using namespace aiops;
using namespace aiops::testing;
using ::testing::HasSubstr;
using Json = nlohmann::json;
using Result = v1::ExecutionResult;
using Step = v1::ExecutionStep;

namespace {

const char* kBroken = "registry.example.com/shop/web:1.4.3";
const char* kGood = "registry.example.com/shop/web:1.4.2";
const char* kPath = "/apis/apps/v1/namespaces/shop/deployments/web";

kafka::KafkaConfig KafkaFor(const std::string& bootstrap) {
  kafka::KafkaConfig c;
  c.bootstrap = bootstrap;
  return c;
}

class ExecutorIT : public ::testing::Test {
 protected:
  void SetUp() override {
    kubeconfig_ = dir_.File("kubeconfig");
    kube_sim_ = std::make_unique<Subprocess>(std::vector<std::string>{
        Bin("kube-sim"), "--scenario", std::string(KUBE_SIM_SCENARIOS) + "/bad-image-tag.yaml",
        "--listen", "127.0.0.1:0", "--speed", "10", "--kubeconfig-out", kubeconfig_});
    ASSERT_TRUE(PollUntil([&] { return !ReadFile(kubeconfig_).empty() || !kube_sim_->Running(); },
                          std::chrono::seconds(60)) &&
                kube_sim_->Running())
        << kube_sim_->Output();
    kube_ = std::make_unique<kube::Client>(kube::LoadKubeconfig(kubeconfig_));
    config_ = dir_.File("aiops.yaml");
    std::ofstream(config_) << "clusters:\n  - name: sim\n    kubeconfig: " << kubeconfig_
                           << "\nkafka:\n  bootstrap: " << broker_.bootstrap()
                           << "\n  properties:\n    session.timeout.ms: \"6000\"\n"
                           << "executor:\n  verify_timeout_seconds: 60\n"
                           << "  rollback_verify_timeout_seconds: 60\n  poll_interval_ms: 200\n";
    executor_ = std::make_unique<Subprocess>(std::vector<std::string>{
        Bin("aiops-executor"), "--config", config_, "--http-listen", "127.0.0.1:0"});
    producer_ = std::make_unique<kafka::Producer>(KafkaFor(broker_.bootstrap()), "it-executor");
    reader_ = std::make_unique<kafka::TopicReader>(
        KafkaFor(broker_.bootstrap()), std::vector<std::string>{topics::kExecutions}, true);
  }

  Json Deployment() {
    auto r = kube_->Get(kPath);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? r.value() : Json::object();
  }
  static std::string Image(const Json& d) {
    return d["spec"]["template"]["spec"]["containers"][0]["image"];
  }

  static std::string Patch(const std::string& image) {
    return Json{
        {"apiVersion", "apps/v1"},
        {"kind", "Deployment"},
        {"metadata", {{"name", "web"}, {"namespace", "shop"}}},
        {"spec",
         {{"template",
           {{"spec", {{"containers", Json::array({{{"name", "web"}, {"image", image}}})}}}}}}}}
        .dump();
  }

  // A decision as the approver writes it for the proposer's bad-image-tag runbook.
  v1::Decision Decide(const std::string& id, const std::string& image, int64_t generation) {
    v1::Decision d;
    *d.mutable_envelope() = envelope::New(id, "sim", envelope::NewTraceId(), "it-approver");
    envelope::Stamp(*d.mutable_envelope(), envelope::Stage::kDecided);
    d.set_verdict(v1::Decision::VERDICT_APPROVED);
    d.set_actor("policy:auto-low-risk");
    d.set_policy("auto-low-risk");
    d.set_attempt(1);
    d.set_expected_generation(generation);
    auto* w = d.mutable_workload();
    w->set_api_version("apps/v1");
    w->set_kind("Deployment");
    w->set_namespace_("shop");
    w->set_name("web");
    auto* a = d.add_actions();
    a->set_id("a1");
    a->set_type(v1::Action::TYPE_SERVER_SIDE_APPLY);
    *a->mutable_target() = *w;
    a->set_patch(Patch(image));
    a->set_description("set image of container web to " + image);
    auto* rb = d.add_rollback_actions();
    *rb = *a;
    rb->set_patch(Patch(kBroken));
    rb->set_description("set image of container web to " + std::string(kBroken));
    return d;
  }

  void Send(const v1::Decision& d) {
    auto r = producer_->PublishAndWait(topics::kDecisions, d.envelope().remediation_id(), d,
                                       std::chrono::seconds(30));
    ASSERT_TRUE(r.ok) << r.error;
  }

  static bool Final(const Result& r) {
    return r.status() != Result::STATUS_APPLYING && r.status() != Result::STATUS_APPLIED;
  }
  // Waits until `n` final results for `id` arrived; returns every result of the id.
  std::vector<Result> WaitFinal(const std::string& id, size_t n) {
    auto finals = [&] {
      size_t c = 0;
      for (const auto& r : results_)
        if (r.envelope().remediation_id() == id && Final(r)) ++c;
      return c;
    };
    EXPECT_TRUE(PollUntil(
        [&] {
          while (auto m = reader_->Next(std::chrono::milliseconds(50))) {
            Result r;
            if (r.ParseFromString(m->payload)) results_.push_back(r);
          }
          return finals() >= n;
        },
        std::chrono::seconds(120)))
        << "executor log:\n"
        << executor_->Output();
    std::vector<Result> out;
    for (const auto& r : results_)
      if (r.envelope().remediation_id() == id) out.push_back(r);
    return out;
  }
  static const Step* FindStep(const Result& r, Step::Kind k) {
    for (const auto& s : r.steps())
      if (s.kind() == k) return &s;
    return nullptr;
  }

  DevBroker broker_;
  TempDir dir_;
  std::string kubeconfig_, config_;
  std::unique_ptr<Subprocess> kube_sim_, executor_;
  std::unique_ptr<kube::Client> kube_;
  std::unique_ptr<kafka::Producer> producer_;
  std::unique_ptr<kafka::TopicReader> reader_;
  std::vector<Result> results_;
};

}  // namespace

TEST_F(ExecutorIT, BadImageTagFixHealsAndIsVerifiedWithEveryStepInTheAudit) {
  auto before = Deployment();
  ASSERT_EQ(Image(before), kBroken);
  auto started = std::chrono::steady_clock::now();
  Send(Decide("rem-heal", kGood, before["metadata"]["generation"]));
  auto results = WaitFinal("rem-heal", 1);
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_FALSE(results.empty());
  const auto& last = results.back();
  ASSERT_EQ(last.status(), Result::STATUS_VERIFIED) << last.reason() << "\n" << executor_->Output();
  std::cout << "decision -> Verified in " << elapsed << " s (kube-sim --speed 10)\n";
  EXPECT_EQ(results.front().status(), Result::STATUS_APPLYING);
  EXPECT_TRUE(envelope::StampOf(last.envelope(), envelope::Stage::kVerified));

  auto d = Deployment();
  EXPECT_EQ(Image(d), kGood);
  EXPECT_EQ(d["status"]["availableReplicas"], 2);
  EXPECT_EQ(d["status"]["updatedReplicas"], 2);
  EXPECT_EQ(d["metadata"]["annotations"]["aiops.io/remediation"], "rem-heal/1");
  // SSA by manager aiops took the image over from the kubectl client-side-apply owner
  bool aiops_manager = false;
  for (const auto& mf : d["metadata"]["managedFields"])
    if (mf["manager"] == "aiops" && mf["operation"] == "Apply") aiops_manager = true;
  EXPECT_TRUE(aiops_manager);

  // Every step's outcome and duration in `aiopsctl audit`.
  std::string out;
  ASSERT_EQ(RunCommand(Bin("aiopsctl") + " audit --bootstrap " + broker_.bootstrap() +
                           " --topic aiops.executions --from-beginning -o json --timeout 60",
                       &out),
            0)
      << out;
  std::string final_line;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);)
    if (line.find("STATUS_VERIFIED") != std::string::npos) final_line = line;
  ASSERT_FALSE(final_line.empty()) << out;
  auto steps = Json::parse(final_line)["message"]["steps"];
  ASSERT_EQ(steps.size(), 6u) << final_line;
  for (const auto& s : steps) {
    std::cout << "  " << s.value("kind", "") << " " << s.value("outcome", "") << " "
              << s.value("duration", "") << "\n";
    EXPECT_EQ(s["outcome"], "OUTCOME_SUCCEEDED") << s.dump();
    EXPECT_TRUE(s.contains("duration")) << s.dump();
    EXPECT_TRUE(s.contains("started") && s.contains("finished")) << s.dump();
  }
}

TEST_F(ExecutorIT, AnotherBadTagFailsVerificationAndTheSpecReturnsExactly) {
  auto before = Deployment();
  Send(Decide("rem-bad", "registry.example.com/shop/web:1.4.9", before["metadata"]["generation"]));
  auto results = WaitFinal("rem-bad", 1);
  ASSERT_FALSE(results.empty());
  const auto& last = results.back();
  ASSERT_EQ(last.status(), Result::STATUS_ROLLED_BACK) << last.reason() << "\n"
                                                       << executor_->Output();
  EXPECT_THAT(last.reason(), HasSubstr("verification failed"));
  std::cout << "reason: " << last.reason() << "\n";
  ASSERT_TRUE(FindStep(last, Step::KIND_VERIFY));
  EXPECT_EQ(FindStep(last, Step::KIND_VERIFY)->outcome(), Step::OUTCOME_FAILED);
  EXPECT_EQ(FindStep(last, Step::KIND_ROLLBACK)->outcome(), Step::OUTCOME_SUCCEEDED);
  EXPECT_EQ(FindStep(last, Step::KIND_ROLLBACK_VERIFY)->outcome(), Step::OUTCOME_SUCCEEDED);
  ASSERT_EQ(last.captured_rollback_size(), 1);
  EXPECT_THAT(last.captured_rollback(0), HasSubstr(kBroken));
  auto after = Deployment();
  EXPECT_EQ(after["spec"], before["spec"])
      << "before: " << before["spec"].dump() << "\nafter: " << after["spec"].dump();
}

TEST_F(ExecutorIT, ConflictingFieldManagerFailsWithoutForce) {
  // A GitOps controller server-side applies (and so co-owns) the container image.
  kube::PatchOptions po;
  po.field_manager = "gitops-controller";
  po.force = true;
  auto own = kube_->Patch(kPath, Json::parse(Patch(kBroken)), kube::PatchType::kApply, po);
  ASSERT_TRUE(own.ok()) << own.error().ToString();
  auto before = Deployment();
  Send(Decide("rem-conflict", kGood, before["metadata"]["generation"]));
  auto results = WaitFinal("rem-conflict", 1);
  ASSERT_FALSE(results.empty());
  const auto& last = results.back();
  ASSERT_EQ(last.status(), Result::STATUS_FAILED) << last.reason();
  EXPECT_THAT(last.reason(), HasSubstr("gitops-controller"));
  EXPECT_THAT(last.reason(), HasSubstr("image"));
  const auto* dry = FindStep(last, Step::KIND_DRY_RUN);
  ASSERT_TRUE(dry);
  EXPECT_EQ(dry->http_status(), 409);
  ASSERT_GE(dry->conflicts_size(), 1);
  std::string all;
  for (const auto& c : dry->conflicts())
    all += c + "\n";
  EXPECT_THAT(all, HasSubstr("gitops-controller (Apply)"));
  EXPECT_EQ(FindStep(last, Step::KIND_APPLY), nullptr);
  EXPECT_EQ(Image(Deployment()), kBroken);
  EXPECT_EQ(Deployment()["metadata"]["generation"], before["metadata"]["generation"]);
}

TEST_F(ExecutorIT, StaleDecisionIsRefused) {
  auto before = Deployment();
  int64_t evidence_generation = before["metadata"]["generation"];
  // Someone changes the image after the evidence was taken.
  kube::PatchOptions po;
  po.field_manager = "kubectl-edit";
  auto edit = kube_->Patch(kPath, Json::parse(R"({"spec":{"template":{"spec":{"containers":[
                             {"name":"web","image":"registry.example.com/shop/web:1.4.4"}]}}}})"),
                           kube::PatchType::kStrategicMerge, po);
  ASSERT_TRUE(edit.ok()) << edit.error().ToString();
  Send(Decide("rem-stale", kGood, evidence_generation));
  auto results = WaitFinal("rem-stale", 1);
  ASSERT_EQ(results.size(), 1u);  // nothing applied, so no APPLYING either
  EXPECT_EQ(results[0].status(), Result::STATUS_STALE) << results[0].reason();
  EXPECT_THAT(results[0].reason(), HasSubstr("changed since the evidence"));
  EXPECT_EQ(Image(Deployment()), "registry.example.com/shop/web:1.4.4");
}

TEST_F(ExecutorIT, DecisionDeliveredTwiceAppliesOnce) {
  auto before = Deployment();
  int64_t gen = before["metadata"]["generation"];
  auto d = Decide("rem-twice", kGood, gen);
  Send(d);
  Send(d);  // a redelivery
  auto results = WaitFinal("rem-twice", 2);
  int applied = 0, skipped = 0;
  for (const auto& r : results) {
    if (!Final(r)) continue;
    EXPECT_EQ(r.status(), Result::STATUS_VERIFIED) << r.reason();
    const auto* apply = FindStep(r, Step::KIND_APPLY);
    ASSERT_TRUE(apply);
    if (apply->outcome() == Step::OUTCOME_SUCCEEDED) ++applied;
    if (apply->outcome() == Step::OUTCOME_SKIPPED) ++skipped;
  }
  EXPECT_EQ(applied, 1);
  EXPECT_EQ(skipped, 1);
  auto after = Deployment();
  EXPECT_EQ(after["metadata"]["generation"], gen + 1);
  EXPECT_EQ(Image(after), kGood);
}
