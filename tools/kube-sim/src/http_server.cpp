#include "http_server.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <cctype>

namespace kubesim {

HttpServer::HttpServer(ApiServer& api, Store& store, size_t threads, const TlsIdentity* tls)
    : api_(api), store_(store) {
  if (tls)
    server_ = std::make_unique<httplib::SSLServer>(tls->cert, tls->key);
  else
    server_ = std::make_unique<httplib::Server>();
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_->set_payload_max_length(64 * 1024 * 1024);
  server_->set_keep_alive_max_count(1000);
  server_->set_read_timeout(30);
  server_->set_write_timeout(30);
  auto handler = [this](const httplib::Request& req, httplib::Response& res) {
    ApiRequest ar;
    ar.method = req.method;
    ar.path = req.path;
    for (const auto& [k, v] : req.params)
      ar.query.emplace(k, v);
    for (const auto& [k, v] : req.headers) {
      std::string key = k;
      for (auto& c : key)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      ar.headers[key] = v;
    }
    ar.body = req.body;
    ApiResponse resp = api_.Handle(ar);
    spdlog::debug("{} {} -> {}", req.method, req.target, resp.status);
    res.status = resp.status;
    for (const auto& [name, value] : resp.headers)
      res.set_header(name, value);
    if (resp.stream) {
      auto stream = resp.stream;
      Store* store = &store_;
      // "application/json;stream=watch" rather than plain "application/json": httplib gzips
      // plain JSON for clients that accept it (Go's transport always does), and a gzip stream
      // holds events back in its buffer. client-go reads both forms the same way.
      res.set_chunked_content_provider(
          resp.content_type + ";stream=watch", [stream, store](size_t, httplib::DataSink& sink) {
            // Called again and again by httplib while we return true; each call waits at most
            // half a second so shutdown and disconnects are noticed promptly.
            if (store->IsShutdown()) {
              sink.done();
              return true;
            }
            // A watcher that went away must release its thread even when no events flow.
            if (!sink.is_writable()) return false;
            std::string chunk;
            bool more = stream->Next(&chunk, std::chrono::milliseconds(500));
            if (!chunk.empty() && !sink.write(chunk.data(), chunk.size())) return false;
            if (!more || store->IsShutdown()) sink.done();
            return true;
          });
    } else {
      res.set_content(resp.body, resp.content_type.c_str());
    }
  };
  server_->Get(".*", handler);
  server_->Post(".*", handler);
  server_->Put(".*", handler);
  server_->Patch(".*", handler);
  server_->Delete(".*", handler);
}

HttpServer::~HttpServer() {
  Stop();
}

int HttpServer::Bind(const std::string& host, int port) {
  if (port == 0) return server_->bind_to_any_port(host);
  return server_->bind_to_port(host, port) ? port : -1;
}

void HttpServer::Start() {
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

void HttpServer::Stop() {
  store_.Shutdown();
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace kubesim
