// kube-sim over plain HTTP: errors as Status objects, pagination, watch semantics, shutdown.
#include <httplib.h>

#include <atomic>
#include <set>
#include <thread>

#include "kube_sim_fixture.hpp"

namespace kubesim_it {
namespace {

json Parse(const httplib::Result& r) {
  if (!r) return json();
  json j = json::parse(r->body, nullptr, false);
  return j.is_discarded() ? json() : j;
}

TEST(KubeSimHttp, ErrorsAreKubernetesStatusObjects) {
  KubeSim k("", 1, {"--token", "secret"});
  ASSERT_TRUE(k.ready());
  httplib::Client anon("127.0.0.1", k.port());
  auto denied = anon.Get("/api/v1/pods");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 401);
  EXPECT_EQ(Parse(denied)["reason"], "Unauthorized");

  httplib::Client c("127.0.0.1", k.port());
  c.set_bearer_token_auth("secret");
  auto bad =
      c.Post("/api/v1/namespaces/default/configmaps", "{\"metadata\": {", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(Parse(bad)["kind"], "Status");
  auto unknown = c.Get("/api/v1/namespaces/default/gizmos");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_EQ(Parse(unknown)["kind"], "Status");
  auto missing = c.Get("/apis/apps/v1/namespaces/default/deployments/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(Parse(missing)["message"], "deployments.apps \"nope\" not found");
  json cm = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "c"}}}};
  ASSERT_EQ(c.Post("/api/v1/namespaces/default/configmaps", cm.dump(), "application/json")->status,
            201);
  auto dup = c.Post("/api/v1/namespaces/default/configmaps", cm.dump(), "application/json");
  EXPECT_EQ(dup->status, 409);
  EXPECT_EQ(Parse(dup)["reason"], "AlreadyExists");
  auto yaml = c.Patch("/api/v1/namespaces/default/configmaps/c?fieldManager=t", "data: [unclosed",
                      "application/apply-patch+yaml");
  EXPECT_EQ(yaml->status, 400);
  // Still serving after all of that.
  EXPECT_EQ(c.Get("/version")->status, 200);
}

TEST(KubeSimHttp, ManyPodsListWithPagination) {
  KubeSim k("", 1, {"--no-simulation"});
  ASSERT_TRUE(k.ready());
  httplib::Client c("127.0.0.1", k.port());
  const int kPods = 1200;
  for (int i = 0; i < kPods; ++i) {
    json pod = {
        {"apiVersion", "v1"},
        {"kind", "Pod"},
        {"metadata",
         {{"name", "p-" + std::to_string(i)}, {"labels", {{"batch", i % 3 == 0 ? "a" : "b"}}}}},
        {"spec", {{"containers", json::array({{{"name", "c"}, {"image", "nginx:1.27"}}})}}}};
    auto r = c.Post("/api/v1/namespaces/default/pods", pod.dump(), "application/json");
    ASSERT_TRUE(r && r->status == 201) << (r ? r->body : "no response");
  }
  std::set<std::string> names;
  std::string cont;
  int pages = 0;
  std::string rv;
  do {
    std::string enc;
    for (char ch : cont) {
      if (ch == '+')
        enc += "%2B";
      else if (ch == '/')
        enc += "%2F";
      else if (ch == '=')
        enc += "%3D";
      else
        enc += ch;
    }
    std::string path = "/api/v1/pods?limit=250" + (cont.empty() ? "" : "&continue=" + enc);
    json page = Parse(c.Get(path.c_str()));
    ASSERT_TRUE(page.is_object());
    if (rv.empty()) rv = page["metadata"]["resourceVersion"];
    EXPECT_EQ(page["metadata"]["resourceVersion"], rv);
    for (const auto& p : page["items"])
      names.insert(p["metadata"]["name"].get<std::string>());
    cont = page["metadata"].value("continue", "");
    ++pages;
  } while (!cont.empty() && pages < 100);
  EXPECT_EQ(names.size(), static_cast<size_t>(kPods));
  EXPECT_EQ(pages, 5);
  json selected = Parse(c.Get("/api/v1/namespaces/default/pods?labelSelector=batch%3Da"));
  EXPECT_EQ(selected["items"].size(), 400u);
}

// Reads a watch stream in the background, line by line.
class WatchReader {
 public:
  WatchReader(int port, std::string path) : client_("127.0.0.1", port) {
    client_.set_read_timeout(120, 0);
    thread_ = std::thread([this, path] {
      client_.Get(path.c_str(), [&](const char* data, size_t len) {
        std::lock_guard<std::mutex> lock(mu_);
        buf_.append(data, len);
        size_t nl;
        while ((nl = buf_.find('\n')) != std::string::npos) {
          lines_.push_back(json::parse(buf_.substr(0, nl), nullptr, false));
          buf_.erase(0, nl + 1);
        }
        return !stop_;
      });
      done_ = true;
    });
  }
  ~WatchReader() {
    stop_ = true;
    client_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::vector<json> Lines() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }
  bool done() const { return done_; }

 private:
  httplib::Client client_;
  std::thread thread_;
  std::mutex mu_;
  std::string buf_;
  std::vector<json> lines_;
  std::atomic<bool> stop_{false}, done_{false};
};

TEST(KubeSimHttp, ConcurrentWatchersReceiveEveryEventInOrder) {
  KubeSim k("", 1, {"--no-simulation"});
  ASSERT_TRUE(k.ready());
  httplib::Client c("127.0.0.1", k.port());
  std::string rv =
      Parse(c.Get("/api/v1/namespaces/default/configmaps"))["metadata"]["resourceVersion"];
  std::vector<std::unique_ptr<WatchReader>> watchers;
  for (int i = 0; i < 8; ++i)
    watchers.push_back(std::make_unique<WatchReader>(
        k.port(), "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=" + rv));
  const int kWrites = 200;
  for (int i = 0; i < kWrites; ++i) {
    json cm = {{"metadata", {{"name", "cm-" + std::to_string(i)}}},
               {"data", {{"i", std::to_string(i)}}}};
    ASSERT_EQ(
        c.Post("/api/v1/namespaces/default/configmaps", cm.dump(), "application/json")->status,
        201);
  }
  for (auto& w : watchers) {
    ASSERT_TRUE(PollUntil([&] { return w->Lines().size() >= kWrites; }, 60s)) << w->Lines().size();
    auto lines = w->Lines();
    for (int i = 0; i < kWrites; ++i) {
      EXPECT_EQ(lines[i]["type"], "ADDED");
      EXPECT_EQ(lines[i]["object"]["metadata"]["name"], "cm-" + std::to_string(i));
    }
  }
}

TEST(KubeSimHttp, WatchFromTooOldResourceVersionGetsGoneInStream) {
  KubeSim k("", 1, {"--no-simulation", "--watch-cache-events", "50"});
  ASSERT_TRUE(k.ready());
  httplib::Client c("127.0.0.1", k.port());
  for (int i = 0; i < 120; ++i) {
    json cm = {{"metadata", {{"name", "cm-" + std::to_string(i)}}}};
    ASSERT_EQ(
        c.Post("/api/v1/namespaces/default/configmaps", cm.dump(), "application/json")->status,
        201);
  }
  WatchReader w(k.port(), "/api/v1/configmaps?watch=true&resourceVersion=3");
  ASSERT_TRUE(PollUntil([&] { return !w.Lines().empty(); }, 30s));
  json ev = w.Lines()[0];
  EXPECT_EQ(ev["type"], "ERROR");
  EXPECT_EQ(ev["object"]["code"], 410);
  EXPECT_EQ(ev["object"]["reason"], "Expired");
  EXPECT_TRUE(PollUntil([&] { return w.done(); }, 30s));
}

TEST(KubeSimHttp, BookmarksAndResumeFromResourceVersion) {
  KubeSim k("", 1, {"--no-simulation"});
  ASSERT_TRUE(k.ready());
  httplib::Client c("127.0.0.1", k.port());
  json cm = {{"metadata", {{"name", "a"}}}};
  json created =
      Parse(c.Post("/api/v1/namespaces/default/configmaps", cm.dump(), "application/json"));
  std::string rv = created["metadata"]["resourceVersion"];
  cm["metadata"]["name"] = "b";
  c.Post("/api/v1/namespaces/default/configmaps", cm.dump(), "application/json");
  // Resuming from the first object's version replays only what came after it.
  WatchReader w(
      k.port(),
      "/api/v1/namespaces/default/configmaps?watch=1&allowWatchBookmarks=true&resourceVersion=" +
          rv);
  ASSERT_TRUE(PollUntil(
      [&] {
        auto lines = w.Lines();
        return lines.size() >= 2 && lines.back()["type"] == "BOOKMARK";
      },
      30s));
  auto lines = w.Lines();
  EXPECT_EQ(lines[0]["type"], "ADDED");
  EXPECT_EQ(lines[0]["object"]["metadata"]["name"], "b");
  EXPECT_FALSE(lines.back()["object"]["metadata"]["resourceVersion"].get<std::string>().empty());
}

TEST(KubeSimHttp, AbandonedWatchesReleaseTheirThreads) {
  // Three worker threads only: if closed watches kept theirs, nothing else could be served.
  KubeSim k("", 1, {"--no-simulation", "--threads", "3"});
  ASSERT_TRUE(k.ready());
  httplib::Client c("127.0.0.1", k.port());
  c.set_read_timeout(2, 0);
  json cm = {{"metadata", {{"name", "seen"}}}};
  ASSERT_EQ(c.Post("/api/v1/namespaces/default/configmaps", cm.dump(), "application/json")->status,
            201);
  for (int round = 0; round < 2; ++round) {
    std::vector<std::unique_ptr<WatchReader>> watches;
    for (int i = 0; i < 3; ++i)
      watches.push_back(std::make_unique<WatchReader>(k.port(), "/api/v1/configmaps?watch=true"));
    // Each got the replayed ADDED event, so each holds a server thread now.
    for (auto& w : watches)
      ASSERT_TRUE(PollUntil([&] { return !w->Lines().empty(); }, 20s));
    watches.clear();  // the clients go away; no further event is ever written to them
  }
  EXPECT_TRUE(PollUntil(
      [&] {
        auto r = c.Get("/version");
        return r && r->status == 200;
      },
      20s));
}

TEST(KubeSimHttp, SigtermClosesWatchesAndExitsZero) {
  KubeSim k("demo", 5);
  ASSERT_TRUE(k.ready());
  WatchReader w(k.port(), "/api/v1/pods?watch=true");
  ASSERT_TRUE(PollUntil([&] { return !w.Lines().empty(); }, 30s));
  EXPECT_EQ(k.process().Stop(SIGTERM, 20s), 0) << k.process().Output();
  EXPECT_TRUE(PollUntil([&] { return w.done(); }, 20s));
}

TEST(KubeSimHttp, KubeconfigPointsAtTheServer) {
  KubeSim k("", 1);
  ASSERT_TRUE(k.ready());
  std::string kc = aiops::testing::ReadFile(k.kubeconfig());
  EXPECT_NE(kc.find("server: " + k.url()), std::string::npos) << kc;
  EXPECT_NE(kc.find("current-context: kube-sim"), std::string::npos);
}

}  // namespace
}  // namespace kubesim_it
