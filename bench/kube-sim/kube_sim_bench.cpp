// kube-sim throughput over real HTTP, in one process: objects listed per second (paginated and
// unpaginated) and watch events delivered per second to several concurrent watchers, with
// 100,000 pods stored. Usage: kube-sim-bench [pods] [watchers] [updates]
#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "api_server.hpp"
#include "http_server.hpp"

using namespace kubesim;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

json Pod(int i) {
  char name[32];
  snprintf(name, sizeof name, "pod-%06d", i);
  return {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", {{"name", name}, {"labels", {{"app", "bench-" + std::to_string(i % 100)}}}}},
      {"spec",
       {{"nodeName", "node-" + std::to_string(i % 50)},
        {"containers",
         json::array({{{"name", "app"},
                       {"image", "registry.example.com/bench/app:1.0"},
                       {"resources", {{"requests", {{"cpu", "100m"}, {"memory", "64Mi"}}}}}}})}}}};
}

std::string Cpu() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

}  // namespace

int main(int argc, char** argv) {
  int pods = argc > 1 ? std::atoi(argv[1]) : 100000;
  int watchers = argc > 2 ? std::atoi(argv[2]) : 8;
  int updates = argc > 3 ? std::atoi(argv[3]) : 20000;

  Store store(static_cast<size_t>(pods) * 2 + static_cast<size_t>(updates) * 2);
  SimClock clock;
  ObjectService objects(store, clock);
  LogStore logs;
  objects.Create(Namespaces(), "", {{"metadata", {{"name", "bench"}}}});
  ApiServer api(objects, logs);
  HttpServer http(api, store, static_cast<size_t>(watchers) + 16);
  int port = http.Bind("127.0.0.1", 0);
  if (port <= 0) {
    std::fprintf(stderr, "cannot bind\n");
    return 1;
  }
  http.Start();

  auto t0 = Clock::now();
  for (int i = 0; i < pods; ++i)
    objects.Create(Pods(), "bench", Pod(i));
  auto t1 = Clock::now();
  double create_rate = pods / Seconds(t0, t1);

  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(300, 0);
  client.set_keep_alive(true);
  // Measure the server, not gzip: clients on loopback gain nothing from compression.
  client.set_decompress(false);
  // Paginated list, as informers and kubectl do (limit=500).
  auto l0 = Clock::now();
  size_t listed = 0;
  std::string cont;
  int pages = 0;
  do {
    std::string path = "/api/v1/namespaces/bench/pods?limit=500";
    if (!cont.empty()) path += "&continue=" + httplib::detail::encode_query_param(cont);
    auto res = client.Get(path.c_str());
    if (!res || res->status != 200) {
      std::fprintf(stderr, "list failed\n");
      return 1;
    }
    // Only the list metadata is decoded: the benchmark measures the server, not a JSON parser.
    const std::string& body = res->body;
    for (size_t p = body.find("\"kind\":\"Pod\""); p != std::string::npos;
         p = body.find("\"kind\":\"Pod\"", p + 1))
      ++listed;
    size_t meta = body.find("\"metadata\":");
    json m = json::parse(body.substr(meta + 11, body.find('}', meta) - meta - 10));
    cont = m.value("continue", "");
    ++pages;
  } while (!cont.empty());
  auto l1 = Clock::now();
  double paged_rate = listed / Seconds(l0, l1);
  if (listed != static_cast<size_t>(pods)) {
    std::fprintf(stderr, "listed %zu of %d pods\n", listed, pods);
    return 1;
  }
  // One unpaginated list of everything.
  auto u0 = Clock::now();
  auto all = client.Get("/api/v1/pods");
  auto u1 = Clock::now();
  size_t all_items = 0;
  if (all) {
    for (size_t p = all->body.find("\"kind\":\"Pod\""); p != std::string::npos;
         p = all->body.find("\"kind\":\"Pod\"", p + 1))
      ++all_items;
  }
  double full_rate = all_items / Seconds(u0, u1);
  double full_mb = all ? all->body.size() / 1048576.0 : 0;

  // Watchers from the current resourceVersion, then `updates` pod status writes.
  std::string rv = std::to_string(store.CurrentRv());
  std::vector<std::atomic<long>> received(static_cast<size_t>(watchers));
  std::vector<std::atomic<bool>> in_order(static_cast<size_t>(watchers));
  std::vector<std::thread> threads;
  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<httplib::Client>> wclients;
  for (int w = 0; w < watchers; ++w) {
    received[static_cast<size_t>(w)] = 0;
    in_order[static_cast<size_t>(w)] = true;
    wclients.push_back(std::make_unique<httplib::Client>("127.0.0.1", port));
    wclients.back()->set_read_timeout(300, 0);
  }
  for (int w = 0; w < watchers; ++w) {
    threads.emplace_back([&, w] {
      std::string buf;
      uint64_t last_rv = 0;
      wclients[static_cast<size_t>(w)]->Get(
          ("/api/v1/namespaces/bench/pods?watch=true&resourceVersion=" + rv).c_str(),
          [&](const char* data, size_t len) {
            buf.append(data, len);
            size_t start = 0, nl;
            while ((nl = buf.find('\n', start)) != std::string::npos) {
              // Cheap order check: the resourceVersion field of each event must increase.
              size_t p = buf.find("\"resourceVersion\":\"", start);
              if (p != std::string::npos && p < nl) {
                uint64_t v = std::strtoull(buf.c_str() + p + 19, nullptr, 10);
                if (v <= last_rv) in_order[static_cast<size_t>(w)] = false;
                last_rv = v;
              }
              ++received[static_cast<size_t>(w)];
              start = nl + 1;
            }
            buf.erase(0, start);
            return !stop;
          });
    });
  }
  // Let every watcher connect before writing.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto w0 = Clock::now();
  for (int i = 0; i < updates; ++i) {
    char name[32];
    snprintf(name, sizeof name, "pod-%06d", i % pods);
    objects.Mutate(Pods(), "bench", name, [&](json& o) {
      o["status"]["phase"] = "Running";
      o["status"]["observedUpdate"] = i;
      return true;
    });
  }
  auto w_written = Clock::now();
  bool all_done = false;
  while (!all_done && Seconds(w0, Clock::now()) < 300) {
    all_done = true;
    for (auto& r : received)
      all_done = all_done && r >= updates;
    if (!all_done) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  auto w1 = Clock::now();
  long delivered = 0;
  bool ordered = true;
  for (int w = 0; w < watchers; ++w) {
    delivered += std::min<long>(received[static_cast<size_t>(w)], updates);
    ordered = ordered && in_order[static_cast<size_t>(w)];
  }
  stop = true;
  // Wake the streams so they notice `stop`.
  objects.Mutate(Pods(), "bench", "pod-000000", [](json& o) {
    o["status"]["phase"] = "Succeeded";
    return true;
  });
  for (auto& c : wclients)
    c->stop();
  for (auto& t : threads)
    t.join();
  http.Stop();

  std::printf("kube-sim benchmark  (%d pods, %d watchers, %d updates; %u CPUs: %s)\n", pods,
              watchers, updates, std::thread::hardware_concurrency(), Cpu().c_str());
  std::printf("%-48s %14s\n", "measurement", "result");
  std::printf("%-48s %14.0f\n", "pods created (objects/s, in process)", create_rate);
  std::printf("%-48s %14.0f\n", "paginated list, limit=500 (objects/s)", paged_rate);
  std::printf("%-48s %14.0f\n", "unpaginated list (objects/s)", full_rate);
  std::printf("%-48s %14.1f\n", "unpaginated list size (MiB)", full_mb);
  std::printf("%-48s %14d\n", "pages", pages);
  std::printf("%-48s %14.0f\n", "updates written (writes/s)", updates / Seconds(w0, w_written));
  std::printf("%-48s %14.0f\n", "watch events delivered, all watchers (events/s)",
              delivered / Seconds(w0, w1));
  std::printf("%-48s %14s\n", "every watcher got every event in order",
              all_done && ordered ? "yes" : "NO");
  return all_done && ordered ? 0 : 1;
}
