// The HTTP endpoints every service exposes: /healthz (the process serves requests),
// /readyz (dependencies reachable: 503 with the reason until they are) and Prometheus
// /metrics.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace aiops::metrics {
class Registry;
}

namespace aiops::http {

// Returns nullopt when ready, otherwise why not ("kafka unreachable").
using ReadinessCheck = std::function<std::optional<std::string>()>;

class HealthServer {
 public:
  HealthServer(metrics::Registry& registry, ReadinessCheck ready);
  ~HealthServer();
  HealthServer(const HealthServer&) = delete;
  HealthServer& operator=(const HealthServer&) = delete;

  // Binds "host:port" (port 0 picks a free one) and serves on a background thread.
  // Throws std::runtime_error when the address cannot be bound.
  void Start(const std::string& listen);
  void Stop();
  int port() const { return port_; }
  const std::string& host() const { return host_; }

 private:
  metrics::Registry& registry_;
  ReadinessCheck ready_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::string host_;
  int port_ = 0;
};

}  // namespace aiops::http
