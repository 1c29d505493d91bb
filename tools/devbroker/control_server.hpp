// A loopback-only HTTP endpoint that injects faults into the development broker's mock
// cluster, so fault-injection tests can take brokers down, add latency or make requests fail:
//   POST /brokers/{id}/down          the broker stops accepting connections
//   POST /brokers/{id}/up            and accepts them again
//   POST /brokers/{id}/rtt?ms=N      every answer of the broker is delayed by N ms
//   POST /errors?api=K&code=E&count=N  the next N requests of API key K fail with E
//                                    (E: a number or a name such as REQUEST_TIMED_OUT)
//   GET  /status                     {"bootstrap", "brokers", "down"}
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

struct rd_kafka_mock_cluster_s;

namespace httplib {
class Server;
}

namespace aiops::devbroker {

class ControlServer {
 public:
  ControlServer(rd_kafka_mock_cluster_s* cluster, std::string bootstrap, int brokers);
  ~ControlServer();
  // Binds `listen` (host:port, port 0 picks one); only loopback hosts are accepted.
  // Returns the bound "host:port"; throws std::runtime_error on a refused or busy address.
  std::string Start(const std::string& listen);

 private:
  rd_kafka_mock_cluster_s* cluster_;
  std::string bootstrap_;
  int brokers_;
  std::mutex mu_;  // handlers run on several server threads
  std::set<int> down_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

// "REQUEST_TIMED_OUT" or "7" -> the error code; -1 when unknown.
int ParseKafkaError(const std::string& text);

}  // namespace aiops::devbroker
