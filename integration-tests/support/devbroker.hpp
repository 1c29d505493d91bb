// Starts aiops-devbroker as a separate process for a test and hands out its address.
#pragma once

#include <memory>
#include <string>

#include "subprocess.hpp"

namespace aiops::testing {

class DevBroker {
 public:
  // Starts the broker and waits (generously) until it printed its bootstrap address.
  explicit DevBroker(int partitions = 6);
  const std::string& bootstrap() const { return bootstrap_; }
  const std::string& bootstrap_file() const { return bootstrap_file_; }
  Subprocess& process() { return *process_; }

 private:
  TempDir dir_;
  std::string bootstrap_file_;
  std::string bootstrap_;
  std::unique_ptr<Subprocess> process_;
};

}  // namespace aiops::testing
