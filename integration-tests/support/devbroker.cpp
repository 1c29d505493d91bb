#include "devbroker.hpp"

#include <stdexcept>

namespace aiops::testing {

DevBroker::DevBroker(int partitions) : bootstrap_file_(dir_.File("bootstrap")) {
  process_ = std::make_unique<Subprocess>(
      std::vector<std::string>{Bin("aiops-devbroker"), "--partitions", std::to_string(partitions),
                               "--bootstrap-file", bootstrap_file_});
  if (!PollUntil([&] { return !ReadFile(bootstrap_file_).empty(); }, std::chrono::seconds(60))) {
    throw std::runtime_error("aiops-devbroker did not start: " + process_->Output());
  }
  bootstrap_ = ReadFile(bootstrap_file_);
  while (!bootstrap_.empty() && (bootstrap_.back() == '\n' || bootstrap_.back() == '\r')) {
    bootstrap_.pop_back();
  }
}

}  // namespace aiops::testing
