// Binds ApiServer to cpp-httplib: one thread-pool thread per connection, watch streams as
// chunked responses, clean shutdown that ends every open watch.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "api_server.hpp"
#include "tls.hpp"

namespace httplib {
class Server;
}

namespace kubesim {

class HttpServer {
 public:
  // `threads`: pool size. Every open watch holds one thread, so this bounds concurrent watches.
  // With `tls`, serves https using that identity (it must outlive the server).
  HttpServer(ApiServer& api, Store& store, size_t threads = 256, const TlsIdentity* tls = nullptr);
  ~HttpServer();
  // Binds host:port (0 = any free port). Returns the bound port, or -1.
  int Bind(const std::string& host, int port);
  // Serves on a background thread.
  void Start();
  // Ends watches, stops accepting, joins the serving thread.
  void Stop();

 private:
  ApiServer& api_;
  Store& store_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace kubesim
