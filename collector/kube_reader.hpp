// What the collector reads from a cluster, behind an interface so unit tests feed fixtures.
// The reader counts calls: evidence is gathered within a bounded number of API requests.
#pragma once

#include <string>

#include "aiops/kube/client.hpp"

namespace aiops::collector {

class KubeReader {
 public:
  virtual ~KubeReader() = default;
  virtual kube::Result<kube::Json> Get(const std::string& path) = 0;
  virtual kube::Result<kube::Json> List(const std::string& path,
                                        const kube::ListOptions& options) = 0;
  virtual kube::Result<std::string> Logs(const std::string& path, const std::string& query) = 0;
};

// The real thing: a kube::Client.
class ClientReader : public KubeReader {
 public:
  explicit ClientReader(kube::Client& client) : client_(client) {}
  kube::Result<kube::Json> Get(const std::string& path) override { return client_.Get(path); }
  kube::Result<kube::Json> List(const std::string& path,
                                const kube::ListOptions& options) override {
    return client_.List(path, options);
  }
  kube::Result<std::string> Logs(const std::string& path, const std::string& query) override {
    return client_.GetText(path, query);
  }

 private:
  kube::Client& client_;
};

}  // namespace aiops::collector
