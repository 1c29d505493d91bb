#include "aiops/kafka_reader.hpp"

#include <librdkafka/rdkafkacpp.h>
#include <unistd.h>

#include <random>
#include <stdexcept>

#include "aiops/kafka_conf.hpp"

namespace aiops::kafka {

namespace {
std::string UniqueGroup() {
  std::random_device rd;
  char buf[32];
  snprintf(buf, sizeof(buf), "%08x", rd());
  return "aiops-reader-" + std::to_string(getpid()) + "-" + buf;
}
}  // namespace

TopicReader::TopicReader(const KafkaConfig& config, std::vector<std::string> topics,
                         bool from_beginning, std::string group_id)
    : group_id_(group_id.empty() ? UniqueGroup() : std::move(group_id)) {
  auto conf = internal::BuildConf(config, config.client_id + "-reader",
                                  {{"group.id", group_id_},
                                   {"enable.auto.commit", "false"},
                                   {"enable.auto.offset.store", "false"},
                                   {"enable.partition.eof", "true"},
                                   {"auto.offset.reset", from_beginning ? "earliest" : "latest"}});
  std::string err;
  consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!consumer_) throw std::runtime_error("cannot create kafka consumer: " + err);
  if (auto rc = consumer_->subscribe(topics); rc != RdKafka::ERR_NO_ERROR) {
    throw std::runtime_error("kafka subscribe failed: " + RdKafka::err2str(rc));
  }
}

TopicReader::~TopicReader() {
  if (consumer_) consumer_->close();
}

std::optional<Message> TopicReader::Next(std::chrono::milliseconds timeout) {
  std::unique_ptr<RdKafka::Message> msg(consumer_->consume(static_cast<int>(timeout.count())));
  switch (msg->err()) {
    case RdKafka::ERR_NO_ERROR:
      at_end_.erase({msg->topic_name(), msg->partition()});
      return Message::From(*msg);
    case RdKafka::ERR__PARTITION_EOF:
      at_end_.insert({msg->topic_name(), msg->partition()});
      return std::nullopt;
    case RdKafka::ERR__TIMED_OUT:
      return std::nullopt;
    default:
      last_error_ = msg->errstr();
      return std::nullopt;
  }
}

bool TopicReader::CaughtUp() const {
  std::vector<RdKafka::TopicPartition*> assignment;
  if (consumer_->assignment(assignment) != RdKafka::ERR_NO_ERROR) return false;
  bool all = !assignment.empty();
  for (auto* tp : assignment) {
    if (!at_end_.count({tp->topic(), tp->partition()})) all = false;
  }
  RdKafka::TopicPartition::destroy(assignment);
  return all;
}

}  // namespace aiops::kafka
