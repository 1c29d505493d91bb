#include "aiops/health_server.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>

#include "aiops/metrics.hpp"

using aiops::http::HealthServer;

TEST(HealthServerTest, ServesHealthReadinessAndMetrics) {
  aiops::metrics::Registry registry;
  registry.GetCounter("aiops_test_total", "A test counter").Inc(2);
  std::atomic<bool> ready{false};
  HealthServer server(registry, [&]() -> std::optional<std::string> {
    if (ready) return std::nullopt;
    return "kafka unreachable";
  });
  server.Start("127.0.0.1:0");
  ASSERT_GT(server.port(), 0);
  httplib::Client client("127.0.0.1", server.port());

  auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);

  auto not_ready = client.Get("/readyz");
  ASSERT_TRUE(not_ready);
  EXPECT_EQ(not_ready->status, 503);
  EXPECT_EQ(not_ready->body, "not ready: kafka unreachable\n");
  ready = true;
  auto is_ready = client.Get("/readyz");
  ASSERT_TRUE(is_ready);
  EXPECT_EQ(is_ready->status, 200);

  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(metrics->body.find("# TYPE aiops_test_total counter\naiops_test_total 2\n"),
            std::string::npos);

  auto missing = client.Get("/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  server.Stop();
}

TEST(HealthServerTest, AnAddressInUseIsAStartupError) {
  aiops::metrics::Registry registry;
  HealthServer first(registry, nullptr);
  first.Start("127.0.0.1:0");
  HealthServer second(registry, nullptr);
  EXPECT_THROW(second.Start("127.0.0.1:" + std::to_string(first.port())), std::runtime_error);
}
