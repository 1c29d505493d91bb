// The kube client against a small in-process HTTP server speaking the API's wire format.
#include "aiops/kube/client.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <thread>

#include "aiops/kube/list_watch.hpp"

using namespace aiops::kube;

namespace {
class FakeApi {
 public:
  FakeApi() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running())
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeApi() {
    server_.stop();
    thread_.join();
  }
  httplib::Server& server() { return server_; }
  Client MakeClient(const std::string& token = "") {
    Credentials c;
    c.server = "http://127.0.0.1:" + std::to_string(port_);
    c.token = token;
    ClientOptions o;
    o.initial_backoff = std::chrono::milliseconds(10);
    return Client(c, o);
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

std::string Status(int code, const std::string& reason, const std::string& message) {
  return Json{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
              {"code", code},     {"reason", reason},   {"message", message}}
      .dump();
}
}  // namespace

TEST(KubeClientTest, GetSendsTheBearerTokenAndParsesJson) {
  FakeApi api;
  std::string auth;
  api.server().Get("/api/v1/namespaces/shop/pods/web-1", [&](const auto& req, auto& res) {
    auth = req.get_header_value("Authorization");
    res.set_content(R"({"kind": "Pod", "metadata": {"name": "web-1"}})", "application/json");
  });
  auto client = api.MakeClient("t0k3n");
  auto r = client.Get(Path("", "v1", "pods", "shop", "web-1"));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r.value()["metadata"]["name"], "web-1");
  EXPECT_EQ(auth, "Bearer t0k3n");
}

TEST(KubeClientTest, ApiErrorsAreValuesWithTheStatus) {
  FakeApi api;
  api.server().Get("/api/v1/namespaces/shop/pods/gone", [&](const auto&, auto& res) {
    res.status = 404;
    res.set_content(Status(404, "NotFound", "pods \"gone\" not found"), "application/json");
  });
  auto client = api.MakeClient();
  auto r = client.Get("/api/v1/namespaces/shop/pods/gone");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().NotFound());
  EXPECT_EQ(r.error().reason, "NotFound");
  EXPECT_EQ(r.error().message, "pods \"gone\" not found");
  EXPECT_EQ(r.error().ToString(), "404 NotFound: pods \"gone\" not found");
}

TEST(KubeClientTest, FiveHundredsAndTooManyRequestsAreRetriedWithinTheBudget) {
  FakeApi api;
  std::atomic<int> hits{0};
  api.server().Get("/api/v1/nodes", [&](const auto&, auto& res) {
    int n = ++hits;
    if (n == 1) {
      res.status = 500;
      res.set_content(Status(500, "InternalError", "etcd"), "application/json");
    } else if (n == 2) {
      res.status = 429;
      res.set_header("Retry-After", "0");
      res.set_content(Status(429, "TooManyRequests", "slow down"), "application/json");
    } else {
      res.set_content(R"({"items": []})", "application/json");
    }
  });
  auto client = api.MakeClient();
  auto r = client.Get("/api/v1/nodes");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(hits.load(), 3);
}

TEST(KubeClientTest, AConflictIsNotRetried) {
  FakeApi api;
  std::atomic<int> hits{0};
  api.server().Patch("/apis/apps/v1/namespaces/shop/deployments/web", [&](const auto& req,
                                                                          auto& res) {
    ++hits;
    EXPECT_EQ(req.get_header_value("Content-Type"), "application/apply-patch+yaml");
    EXPECT_EQ(req.get_param_value("fieldManager"), "aiops");
    EXPECT_EQ(req.get_param_value("dryRun"), "All");
    EXPECT_EQ(req.get_param_value("force"), "true");
    res.status = 409;
    res.set_content(Status(409, "Conflict", "Apply failed with 1 conflict"), "application/json");
  });
  auto client = api.MakeClient();
  auto r = client.Patch("/apis/apps/v1/namespaces/shop/deployments/web", Json{{"spec", {}}},
                        PatchType::kApply, {"aiops", true, true});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().Conflict());
  EXPECT_EQ(hits.load(), 1);
}

TEST(KubeClientTest, TransportFailuresAreValues) {
  Credentials c;
  c.server = "http://127.0.0.1:1";
  ClientOptions o;
  o.max_retries = 1;
  o.initial_backoff = std::chrono::milliseconds(1);
  Client client(c, o);
  auto r = client.Get("/version");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, 0);
  EXPECT_EQ(r.error().reason, "Transport");
}

TEST(KubeClientTest, ListFollowsContinueTokens) {
  FakeApi api;
  api.server().Get("/api/v1/pods", [&](const auto& req, auto& res) {
    EXPECT_EQ(req.get_param_value("labelSelector"), "app=web,tier in (a,b)");
    if (req.get_param_value("continue").empty()) {
      res.set_content(R"({"metadata": {"resourceVersion": "100", "continue": "page2"},
                          "items": [{"metadata": {"name": "a"}}, {"metadata": {"name": "b"}}]})",
                      "application/json");
    } else {
      res.set_content(R"({"metadata": {"resourceVersion": "100"},
                          "items": [{"metadata": {"name": "c"}}]})",
                      "application/json");
    }
  });
  auto client = api.MakeClient();
  ListOptions o;
  o.label_selector = "app=web,tier in (a,b)";
  o.page_size = 2;
  auto r = client.List("/api/v1/pods", o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.value()["items"].size(), 3u);
  EXPECT_EQ(r.value()["items"][2]["metadata"]["name"], "c");
  EXPECT_EQ(r.value()["metadata"]["resourceVersion"], "100");
}

TEST(KubeClientTest, WatchStreamsEventsAndEndsWithGoneOnA410ErrorEvent) {
  FakeApi api;
  api.server().Get("/api/v1/pods", [&](const auto& req, auto& res) {
    EXPECT_EQ(req.get_param_value("watch"), "true");
    EXPECT_EQ(req.get_param_value("resourceVersion"), "10");
    res.set_chunked_content_provider("application/json", [](size_t, httplib::DataSink& sink) {
      std::string body =
          R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"11"}}})"
          "\n"
          R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"12"}}})"
          "\n"
          R"({"type":"MODIFIED","object":{"metadata":{"name":"a","resourceVersion":"13"}}})"
          "\n"
          R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old"}})"
          "\n";
      sink.write(body.data(), body.size());
      sink.done();
      return true;
    });
  });
  auto client = api.MakeClient();
  std::vector<std::string> types;
  std::atomic<bool> stop{false};
  auto end = client.Watch(
      "/api/v1/pods", "10", "",
      [&](const WatchEvent& ev) {
        types.push_back(ev.type);
        return true;
      },
      stop);
  EXPECT_EQ(types, (std::vector<std::string>{"ADDED", "BOOKMARK", "MODIFIED"}));
  EXPECT_EQ(end.reason, WatchEnd::Reason::kGone);
  EXPECT_EQ(end.resource_version, "13");
  ASSERT_TRUE(end.error);
  EXPECT_EQ(end.error->code, 410);
}

TEST(KubeClientTest, ListWatchRelistsAfterGoneAndResumesAfterAClose) {
  FakeApi api;
  std::atomic<int> lists{0}, watches{0};
  std::vector<std::string> watch_versions;
  std::mutex mu;
  api.server().Get("/api/v1/pods", [&](const auto& req, auto& res) {
    if (req.get_param_value("watch") != "true") {
      int n = ++lists;
      res.set_content(Json{{"metadata", {{"resourceVersion", std::to_string(n * 100)}}},
                           {"items", Json::array({Json{{"metadata", {{"name", "p"}}}}})}}
                          .dump(),
                      "application/json");
      return;
    }
    int w = ++watches;
    {
      std::lock_guard lock(mu);
      watch_versions.push_back(req.get_param_value("resourceVersion"));
    }
    std::string body;
    if (w == 1) {  // one event then a normal close
      body = R"({"type":"ADDED","object":{"metadata":{"name":"q","resourceVersion":"150"}}})"
             "\n";
    } else if (w == 2) {  // too old: relist
      body = R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}})"
             "\n";
    } else {
      body = R"({"type":"MODIFIED","object":{"metadata":{"name":"q","resourceVersion":"201"}}})"
             "\n";
    }
    res.set_content(body, "application/json");
  });
  auto client = api.MakeClient();
  std::atomic<bool> stop{false};
  std::atomic<int> relists{0}, events{0};
  std::vector<std::string> restarts;
  ListWatchHandlers h;
  h.on_relist_begin = [&] { ++relists; };
  h.on_event = [&](const WatchEvent&) {
    if (++events >= 2) stop = true;
  };
  h.on_restart = [&](const std::string& why) { restarts.push_back(why); };
  ListWatchOptions o;
  o.min_backoff = std::chrono::milliseconds(1);
  RunListWatch(client, "/api/v1/pods", o, h, stop);
  EXPECT_EQ(relists.load(), 2);
  EXPECT_EQ(events.load(), 2);
  EXPECT_EQ(watch_versions, (std::vector<std::string>{"100", "150", "200"}));
  EXPECT_EQ(restarts, (std::vector<std::string>{"closed", "gone"}));
}
