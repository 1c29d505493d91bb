#include "control_server.hpp"

#include <httplib.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "aiops/config.hpp"

namespace aiops::devbroker {

int ParseKafkaError(const std::string& text) {
  if (text.empty()) return -1;
  try {
    size_t pos = 0;
    int v = std::stoi(text, &pos);
    if (pos == text.size()) return v;
  } catch (const std::exception&) {
  }
  const rd_kafka_err_desc* descs = nullptr;
  size_t n = 0;
  rd_kafka_get_err_descs(&descs, &n);
  for (size_t i = 0; i < n; ++i) {
    if (descs[i].name != nullptr && text == descs[i].name) return descs[i].code;
  }
  return -1;
}

namespace {
void Reply(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump() + "\n", "application/json");
}
}  // namespace

ControlServer::ControlServer(rd_kafka_mock_cluster_s* cluster, std::string bootstrap, int brokers)
    : cluster_(cluster),
      bootstrap_(std::move(bootstrap)),
      brokers_(brokers),
      server_(std::make_unique<httplib::Server>()) {
  auto broker_id = [this](const httplib::Request& req, httplib::Response& res) -> int {
    int id = std::atoi(req.matches[1].str().c_str());
    if (id < 1 || id > brokers_) {
      Reply(res, 404, {{"error", "no broker " + req.matches[1].str()}});
      return -1;
    }
    return id;
  };
  server_->Post(R"(/brokers/(\d+)/down)", [this, broker_id](const auto& req, auto& res) {
    int id = broker_id(req, res);
    if (id < 0) return;
    std::lock_guard lock(mu_);
    rd_kafka_mock_broker_set_down(cluster_, id);
    down_.insert(id);
    Reply(res, 200, {{"broker", id}, {"state", "down"}});
  });
  server_->Post(R"(/brokers/(\d+)/up)", [this, broker_id](const auto& req, auto& res) {
    int id = broker_id(req, res);
    if (id < 0) return;
    std::lock_guard lock(mu_);
    rd_kafka_mock_broker_set_up(cluster_, id);
    down_.erase(id);
    Reply(res, 200, {{"broker", id}, {"state", "up"}});
  });
  server_->Post(R"(/brokers/(\d+)/rtt)", [this, broker_id](const auto& req, auto& res) {
    int id = broker_id(req, res);
    if (id < 0) return;
    int ms = std::atoi(req.get_param_value("ms").c_str());
    if (ms < 0) return Reply(res, 400, {{"error", "ms must not be negative"}});
    rd_kafka_mock_broker_set_rtt(cluster_, id, ms);
    Reply(res, 200, {{"broker", id}, {"rtt_ms", ms}});
  });
  server_->Post("/errors", [this](const auto& req, auto& res) {
    int api = std::atoi(req.get_param_value("api").c_str());
    int code = ParseKafkaError(req.get_param_value("code"));
    int count = req.has_param("count") ? std::atoi(req.get_param_value("count").c_str()) : 1;
    if (!req.has_param("api") || api < 0 || code < 0 || count < 1 || count > 10000) {
      return Reply(res, 400,
                   {{"error",
                     "need api=<ApiKey number>, code=<error name or number>, "
                     "count=1..10000"}});
    }
    std::vector<rd_kafka_resp_err_t> errors(static_cast<size_t>(count),
                                            static_cast<rd_kafka_resp_err_t>(code));
    rd_kafka_mock_push_request_errors_array(cluster_, static_cast<int16_t>(api), errors.size(),
                                            errors.data());
    Reply(res, 200,
          {{"api", api},
           {"code", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(code))},
           {"count", count}});
  });
  server_->Get("/status", [this](const auto&, auto& res) {
    std::lock_guard lock(mu_);
    Reply(res, 200, {{"bootstrap", bootstrap_}, {"brokers", brokers_}, {"down", down_}});
  });
}

ControlServer::~ControlServer() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

std::string ControlServer::Start(const std::string& listen) {
  auto [host, port] = config::SplitHostPort(listen);
  if (host != "127.0.0.1" && host != "::1" && host != "localhost") {
    throw std::runtime_error("the control endpoint listens on loopback only, not " + host);
  }
  int bound =
      port == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, port) ? port : -1);
  if (bound <= 0) throw std::runtime_error("cannot listen on " + listen);
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!server_->is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return host + ":" + std::to_string(bound);
}

}  // namespace aiops::devbroker
