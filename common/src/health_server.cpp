#include "aiops/health_server.hpp"

#include <httplib.h>

#include <chrono>
#include <stdexcept>

#include "aiops/config.hpp"
#include "aiops/metrics.hpp"

namespace aiops::http {

HealthServer::HealthServer(metrics::Registry& registry, ReadinessCheck ready)
    : registry_(registry), ready_(std::move(ready)), server_(std::make_unique<httplib::Server>()) {
  // httplib's default also sets SO_REUSEPORT, which lets a second process silently share a
  // port that is already taken. We want "address in use" to be a start-up error.
  server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  server_->Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    auto why = ready_ ? ready_() : std::nullopt;
    if (why) {
      res.status = 503;
      res.set_content("not ready: " + *why + "\n", "text/plain");
    } else {
      res.set_content("ready\n", "text/plain");
    }
  });
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(registry_.Render(), "text/plain; version=0.0.4; charset=utf-8");
  });
}

HealthServer::~HealthServer() {
  Stop();
}

void HealthServer::Start(const std::string& listen) {
  auto [host, port] = config::SplitHostPort(listen);
  host_ = host;
  if (port == 0) {
    port_ = server_->bind_to_any_port(host);
  } else {
    port_ = server_->bind_to_port(host, port) ? port : -1;
  }
  if (port_ <= 0) throw std::runtime_error("cannot listen on " + listen);
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // httplib's stop() is a no-op until the accept loop runs; wait for it so a Stop() right
  // after Start() cannot leave the thread listening forever.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!server_->is_running()) {
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("HTTP server on " + listen + " did not start");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void HealthServer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace aiops::http
