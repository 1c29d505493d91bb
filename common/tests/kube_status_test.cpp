// Error bodies and watch lines from the network: well-formed ones are read as Kubernetes
// means them, malformed ones (found by fuzz/fuzz_kube_status) become values, never exceptions.
#include "aiops/kube/status.hpp"

#include <gtest/gtest.h>

using namespace aiops::kube;

TEST(KubeStatus, StatusBodyGivesReasonAndMessage) {
  auto e =
      ErrorFromBody(404, R"({"kind":"Status","reason":"NotFound","message":"gone","code":404})");
  EXPECT_EQ(e.code, 404);
  EXPECT_EQ(e.reason, "NotFound");
  EXPECT_EQ(e.message, "gone");
  EXPECT_TRUE(e.NotFound());
}

TEST(KubeStatus, NonStatusBodyKeepsItsStart) {
  auto e = ErrorFromBody(502, "<html>bad gateway</html>");
  EXPECT_EQ(e.reason, "HTTP502");
  EXPECT_EQ(e.message, "<html>bad gateway</html>");
}

TEST(KubeStatus, StatusFieldsOfAnotherTypeDoNotThrow) {
  ApiError e;
  ASSERT_NO_THROW(e = ErrorFromBody(500, R"({"kind":"Status","reason":5,"message":["x"]})"));
  EXPECT_EQ(e.reason, "HTTP500");
  ASSERT_NO_THROW(e = ErrorFromBody(500, R"({"kind":7})"));
  EXPECT_EQ(e.reason, "HTTP500");
}

TEST(KubeStatus, WatchEventsAndResourceVersion) {
  auto l = ParseWatchLine(R"({"type":"ADDED","object":{"metadata":{"resourceVersion":"42"}}})");
  ASSERT_TRUE(l.event);
  EXPECT_EQ(l.event->type, "ADDED");
  EXPECT_EQ(l.resource_version, "42");
  EXPECT_FALSE(l.error);
  EXPECT_FALSE(ParseWatchLine("not json").event);
  EXPECT_FALSE(ParseWatchLine("[1,2]").event);
}

TEST(KubeStatus, GoneErrorEventEndsTheWatch) {
  auto l = ParseWatchLine(
      R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old"}})");
  ASSERT_TRUE(l.error);
  EXPECT_TRUE(l.error->Gone());
  EXPECT_EQ(l.error->reason, "Expired");
}

// The crash fuzz_kube_status found: an ERROR event without an object threw from inside the
// libcurl write callback (value() on null).
TEST(KubeStatus, ErrorEventWithoutStatusIsStillAnError) {
  WatchLine l;
  ASSERT_NO_THROW(l = ParseWatchLine(R"({"type":"ERROR"})"));
  ASSERT_TRUE(l.error);
  EXPECT_EQ(l.error->code, 0);
  EXPECT_EQ(l.error->reason, "WatchError");
  ASSERT_NO_THROW(l = ParseWatchLine(R"({"type":"ERROR","object":{"code":"410","reason":1}})"));
  ASSERT_TRUE(l.error);
  EXPECT_FALSE(l.error->Gone());
  ASSERT_NO_THROW(l = ParseWatchLine(R"({"type":"ERROR","object":{"code":99999999999}})"));
  EXPECT_EQ(l.error->code, 0);
}

TEST(KubeStatus, MalformedEventFieldsDoNotThrow) {
  WatchLine l;
  ASSERT_NO_THROW(l = ParseWatchLine(R"({"type":5,"object":{"metadata":[1]}})"));
  ASSERT_TRUE(l.event);
  EXPECT_EQ(l.event->type, "");
  EXPECT_EQ(l.resource_version, "");
  ASSERT_NO_THROW(
      l = ParseWatchLine(R"({"type":"MODIFIED","object":{"metadata":{"resourceVersion":7}}})"));
  EXPECT_EQ(l.resource_version, "");
}
