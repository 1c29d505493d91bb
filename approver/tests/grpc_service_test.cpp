// The Approval service over a real in-process gRPC channel: bearer tokens from metadata,
// status codes on the wire, the recorded identity, and the watch stream.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <thread>

#include "fixtures.hpp"
#include "grpc_service.hpp"

using namespace aiops;
using namespace aiops::approver;
using namespace aiops::approver::testing;
using grpc::StatusCode;
using ::testing::HasSubstr;

namespace {

const std::string kAliceToken = "alice-token-0123456789";
const std::string kVictorToken = "victor-token-0123456789";

class GrpcServiceTest : public ::testing::Test {
 protected:
  GrpcServiceTest()
      : auth_({{"alice", Role::kApprover, kAliceToken}, {"victor", Role::kViewer, kVictorToken}}),
        approver_(store_, Policies{}, sink_, "aiops-approver/test"),
        service_(store_, approver_, auth_, &metrics_) {
    int port = 0;
    server_ = StartServer({"127.0.0.1:0", "", ""}, service_, &port);
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                       grpc::InsecureChannelCredentials());
    stub_ = v1::Approval::NewStub(channel);
    store_.Apply(MakeAnomaly("rem-1"), T(1));
    store_.Apply(MakeProposal("rem-1"), T(3));
  }
  ~GrpcServiceTest() override {
    service_.Stop();
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  }

  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return ctx;
  }

  Store store_;
  FakeSink sink_;
  metrics::Registry metrics_;
  Authenticator auth_;
  Approver approver_;
  ApprovalService service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Approval::Stub> stub_;
};

TEST_F(GrpcServiceTest, MissingOrWrongTokenIsUnauthenticated) {
  v1::ListRemediationsRequest req;
  v1::ListRemediationsResponse resp;
  auto s = stub_->ListRemediations(Ctx("").get(), req, &resp);
  EXPECT_EQ(s.error_code(), StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(s.error_message(), HasSubstr("missing bearer token"));
  s = stub_->ListRemediations(Ctx("not-a-valid-token-at-all").get(), req, &resp);
  EXPECT_EQ(s.error_code(), StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(s.error_message(), "invalid token");
  v1::ApproveRequest approve;
  approve.set_id("rem-1");
  v1::ApproveResponse aresp;
  EXPECT_EQ(stub_->Approve(Ctx("").get(), approve, &aresp).error_code(),
            StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(sink_.published.empty());
  EXPECT_THAT(metrics_.Render(),
              HasSubstr("aiops_approver_grpc_requests_total{code=\"UNAUTHENTICATED\",method="
                        "\"ListRemediations\"} 2"));
}

TEST_F(GrpcServiceTest, ViewerReadsButCannotDecide) {
  v1::ListRemediationsRequest req;
  v1::ListRemediationsResponse resp;
  ASSERT_TRUE(stub_->ListRemediations(Ctx(kVictorToken).get(), req, &resp).ok());
  ASSERT_EQ(resp.remediations_size(), 1);
  v1::GetRemediationRequest get;
  get.set_id("rem-1");
  v1::Remediation r;
  ASSERT_TRUE(stub_->GetRemediation(Ctx(kVictorToken).get(), get, &r).ok());
  EXPECT_EQ(r.proposal().actions_size(), 1);
  v1::ApproveRequest approve;
  approve.set_id("rem-1");
  v1::ApproveResponse aresp;
  auto s = stub_->Approve(Ctx(kVictorToken).get(), approve, &aresp);
  EXPECT_EQ(s.error_code(), StatusCode::PERMISSION_DENIED);
  v1::RejectRequest reject;
  reject.set_id("rem-1");
  reject.set_reason("no");
  v1::RejectResponse rresp;
  EXPECT_EQ(stub_->Reject(Ctx(kVictorToken).get(), reject, &rresp).error_code(),
            StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(sink_.published.empty());
}

TEST_F(GrpcServiceTest, ApprovalIsRecordedAsTheTokensIdentity) {
  v1::ApproveRequest approve;
  approve.set_id("rem-1");
  approve.set_comment("I am bob, honestly");
  v1::ApproveResponse resp;
  ASSERT_TRUE(stub_->Approve(Ctx(kAliceToken).get(), approve, &resp).ok());
  EXPECT_TRUE(resp.decided());
  ASSERT_EQ(sink_.published.size(), 1u);
  EXPECT_EQ(sink_.published[0].actor(), "alice");
  EXPECT_EQ(resp.remediation().state(), v1::REMEDIATION_STATE_APPROVED);
}

TEST_F(GrpcServiceTest, WatchSendsASnapshotThenChanges) {
  auto ctx = Ctx(kVictorToken);
  v1::WatchRemediationsRequest req;
  req.set_include_existing(true);
  auto reader = stub_->WatchRemediations(ctx.get(), req);
  v1::RemediationEvent ev;
  ASSERT_TRUE(reader->Read(&ev));
  EXPECT_EQ(ev.type(), v1::RemediationEvent::TYPE_SNAPSHOT);
  EXPECT_EQ(ev.remediation().id(), "rem-1");
  store_.Apply(MakeAnomaly("rem-2"), T(5));
  ASSERT_TRUE(reader->Read(&ev));
  EXPECT_EQ(ev.type(), v1::RemediationEvent::TYPE_CHANGED);
  EXPECT_EQ(ev.remediation().id(), "rem-2");
  EXPECT_EQ(ev.remediation().state(), v1::REMEDIATION_STATE_DETECTED);
  ctx->TryCancel();
  while (reader->Read(&ev)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), StatusCode::CANCELLED);
}

TEST_F(GrpcServiceTest, WatchFiltersByState) {
  auto ctx = Ctx(kVictorToken);
  v1::WatchRemediationsRequest req;
  req.mutable_filter()->add_states(v1::REMEDIATION_STATE_APPROVED);
  auto reader = stub_->WatchRemediations(ctx.get(), req);
  store_.Apply(MakeAnomaly("rem-2"), T(5));  // Detected: filtered out
  v1::ApproveRequest approve;
  approve.set_id("rem-1");
  v1::ApproveResponse resp;
  ASSERT_TRUE(stub_->Approve(Ctx(kAliceToken).get(), approve, &resp).ok());
  v1::RemediationEvent ev;
  ASSERT_TRUE(reader->Read(&ev));
  EXPECT_EQ(ev.remediation().id(), "rem-1");
  EXPECT_EQ(ev.remediation().state(), v1::REMEDIATION_STATE_APPROVED);
  ctx->TryCancel();
  while (reader->Read(&ev)) {
  }
  reader->Finish();
}

}  // namespace
