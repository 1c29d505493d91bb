// Reads topics as a log, without storing offsets: for the audit trail (aiopsctl audit) and
// for replaying history. Joins its own consumer group so it never disturbs the services'
// groups, and knows when it has caught up with the end of every partition.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "aiops/kafka_config.hpp"
#include "aiops/kafka_message.hpp"

namespace RdKafka {
class KafkaConsumer;
}

namespace aiops::kafka {

class TopicReader {
 public:
  // `from_beginning` reads each topic from its first retained message, otherwise only what
  // arrives after the reader joined. `group_id` empty: a unique one is made.
  TopicReader(const KafkaConfig& config, std::vector<std::string> topics, bool from_beginning,
              std::string group_id = "");
  ~TopicReader();
  TopicReader(const TopicReader&) = delete;
  TopicReader& operator=(const TopicReader&) = delete;

  // Next message within `timeout`, or nullopt.
  std::optional<Message> Next(std::chrono::milliseconds timeout);
  // True once partitions are assigned and every assigned partition reported its end.
  bool CaughtUp() const;
  // The last consume error seen (broker unreachable, unknown topic), empty if none.
  const std::string& last_error() const { return last_error_; }
  const std::string& group_id() const { return group_id_; }

 private:
  std::string group_id_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::set<std::pair<std::string, int32_t>> at_end_;
  std::string last_error_;
};

}  // namespace aiops::kafka
