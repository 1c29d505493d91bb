#include "aiops/kafka_consumer.hpp"

#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <stdexcept>
#include <thread>

#include "aiops/kafka_conf.hpp"
#include "aiops/log.hpp"
#include "aiops/metrics.hpp"

namespace aiops::kafka {

// Cooperative-sticky rebalancing: partitions move incrementally, and before a partition is
// taken away the offsets stored for it are committed, so its next owner does not redo work.
class Consumer::Rebalancer : public RdKafka::RebalanceCb {
 public:
  explicit Rebalancer(std::atomic<int>& assigned) : assigned_(assigned) {}

  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    const bool cooperative = consumer->rebalance_protocol() == "COOPERATIVE";
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      log::Info({{"partitions", Describe(partitions)}}, "kafka partitions assigned");
      RdKafka::Error* e = nullptr;
      if (cooperative) {
        e = consumer->incremental_assign(partitions);
      } else {
        consumer->assign(partitions);
      }
      if (e != nullptr) {
        log::Error({}, "kafka incremental_assign failed: {}", e->str());
        delete e;
      }
      assigned_ += static_cast<int>(partitions.size());
    } else {
      log::Info({{"partitions", Describe(partitions)}}, "kafka partitions revoked");
      consumer->commitSync();  // stored offsets of the partitions we are about to lose
      if (cooperative) {
        if (RdKafka::Error* e = consumer->incremental_unassign(partitions)) {
          log::Error({}, "kafka incremental_unassign failed: {}", e->str());
          delete e;
        }
        assigned_ -= static_cast<int>(partitions.size());
      } else {
        consumer->unassign();
        assigned_ = 0;
      }
    }
  }

 private:
  static std::string Describe(const std::vector<RdKafka::TopicPartition*>& partitions) {
    std::string out;
    for (const auto* tp : partitions) {
      if (!out.empty()) out += ",";
      out += tp->topic() + "[" + std::to_string(tp->partition()) + "]";
    }
    return out;
  }
  std::atomic<int>& assigned_;
};

Consumer::Consumer(const KafkaConfig& config, const std::string& service, ConsumerOptions options,
                   Handler handler, Producer& deadletter, metrics::Registry* metrics)
    : config_(config),
      group_id_(config.group_id.empty() ? service : config.group_id),
      options_(std::move(options)),
      handler_(std::move(handler)),
      deadletter_(deadletter),
      metrics_(metrics),
      rebalancer_(std::make_unique<Rebalancer>(assigned_partitions_)) {
  if (options_.topics.empty()) throw std::invalid_argument("consumer needs at least one topic");
  auto conf = internal::BuildConf(config_, config_.client_id + "-" + service,
                                  {{"group.id", group_id_},
                                   {"partition.assignment.strategy", "cooperative-sticky"},
                                   {"enable.auto.offset.store", "false"},
                                   {"enable.auto.commit", "true"},
                                   {"auto.commit.interval.ms", "1000"},
                                   {"auto.offset.reset", options_.auto_offset_reset}});
  std::string err;
  if (conf->set("rebalance_cb", rebalancer_.get(), err) != RdKafka::Conf::CONF_OK) {
    throw std::runtime_error("kafka rebalance_cb: " + err);
  }
  consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!consumer_) throw std::runtime_error("cannot create kafka consumer: " + err);
  if (auto rc = consumer_->subscribe(options_.topics); rc != RdKafka::ERR_NO_ERROR) {
    throw std::runtime_error("kafka subscribe failed: " + RdKafka::err2str(rc));
  }
}

Consumer::~Consumer() {
  if (consumer_) consumer_->close();
}

void Consumer::Run() {
  log::Info({{"group", group_id_}}, "kafka consumer started");
  auto last_error_log = std::chrono::steady_clock::time_point{};
  while (!stop_) {
    std::unique_ptr<RdKafka::Message> msg(consumer_->consume(200));
    switch (msg->err()) {
      case RdKafka::ERR_NO_ERROR:
        Handle(Message::From(*msg));
        break;
      case RdKafka::ERR__TIMED_OUT:
      case RdKafka::ERR__PARTITION_EOF:
        break;
      default: {
        // Broker down, unknown topic, ...: librdkafka reconnects by itself. Log at most
        // every 10 s so an outage does not flood the log.
        auto now = std::chrono::steady_clock::now();
        if (now - last_error_log > std::chrono::seconds(10)) {
          log::Warn({{"group", group_id_}}, "kafka consume error: {}", msg->errstr());
          last_error_log = now;
        }
      }
    }
  }
  if (auto rc = consumer_->commitSync();
      rc != RdKafka::ERR_NO_ERROR && rc != RdKafka::ERR__NO_OFFSET) {
    log::Warn({{"group", group_id_}}, "kafka final commit failed: {}", RdKafka::err2str(rc));
  }
  consumer_->close();
  consumer_.reset();
  log::Info({{"group", group_id_}}, "kafka consumer stopped, offsets committed");
}

void Consumer::Handle(const Message& m) {
  log::Fields where = {{"topic", m.topic},
                       {"partition", std::to_string(m.partition)},
                       {"offset", std::to_string(m.offset)}};
  if (metrics_ != nullptr) {
    metrics_
        ->GetCounter("aiops_kafka_messages_consumed_total", "Messages received from Kafka",
                     {{"topic", m.topic}})
        .Inc();
  }
  int backoff = config_.retry_backoff_ms;
  for (int attempt = 0;; ++attempt) {
    Outcome outcome;
    auto started = std::chrono::steady_clock::now();
    try {
      outcome = handler_(m);
    } catch (const std::exception& e) {
      outcome = Outcome::Retry(std::string("handler threw: ") + e.what());
    }
    if (metrics_ != nullptr) {
      metrics_
          ->GetHistogram("aiops_kafka_handler_seconds", "Time spent handling one message",
                         {{"topic", m.topic}})
          .Observe(
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
    if (outcome.kind == Outcome::Kind::kOk) {
      StoreOffset(m);
      return;
    }
    if (outcome.kind == Outcome::Kind::kRetry && attempt < config_.handler_retries) {
      log::Warn(where, "handler failed (attempt {} of {}), retrying in {} ms: {}", attempt + 1,
                config_.handler_retries + 1, backoff, outcome.reason);
      if (metrics_ != nullptr) {
        metrics_
            ->GetCounter("aiops_kafka_handler_retries_total", "Handler retries after a failure",
                         {{"topic", m.topic}})
            .Inc();
      }
      if (!Backoff(backoff)) return;  // stopping: leave the offset, the message comes back
      backoff *= 2;
      continue;
    }
    std::string reason =
        outcome.kind == Outcome::Kind::kRetry
            ? "handler failed after " + std::to_string(attempt + 1) + " attempts: " + outcome.reason
            : outcome.reason;
    if (SendToDeadLetter(m, reason)) StoreOffset(m);
    return;
  }
}

bool Consumer::SendToDeadLetter(const Message& m, const std::string& reason) {
  Headers headers = m.headers;
  headers.emplace_back(kHeaderDlqError, reason);
  headers.emplace_back(kHeaderDlqTopic, m.topic);
  headers.emplace_back(kHeaderDlqPartition, std::to_string(m.partition));
  headers.emplace_back(kHeaderDlqOffset, std::to_string(m.offset));
  headers.emplace_back(kHeaderDlqGroup, group_id_);
  log::Fields where = {{"topic", m.topic},
                       {"partition", std::to_string(m.partition)},
                       {"offset", std::to_string(m.offset)},
                       {"reason", reason}};
  int backoff = config_.retry_backoff_ms;
  while (!stop_) {
    auto d = deadletter_.SendAndWait(config_.deadletter_topic, m.key, m.payload, headers,
                                     std::chrono::seconds(30));
    if (d.ok) {
      log::Warn(where, "message dead-lettered to {}", config_.deadletter_topic);
      if (metrics_ != nullptr) {
        metrics_
            ->GetCounter("aiops_kafka_deadlettered_total", "Messages sent to the dead-letter topic",
                         {{"topic", m.topic}})
            .Inc();
      }
      return true;
    }
    // Not acknowledged: keep the offset unstored and try again, so nothing is lost.
    log::Error(where, "dead-lettering failed, will retry: {}", d.error);
    if (!Backoff(backoff)) break;
    backoff = std::min(backoff * 2, 10000);
  }
  return false;
}

void Consumer::StoreOffset(const Message& m) {
  // librdkafka 2.0.2 stores the offset as given: the next offset to read is offset + 1.
  std::unique_ptr<RdKafka::TopicPartition> tp(
      RdKafka::TopicPartition::create(m.topic, m.partition, m.offset + 1));
  std::vector<RdKafka::TopicPartition*> offsets = {tp.get()};
  auto rc = consumer_->offsets_store(offsets);
  if (rc != RdKafka::ERR_NO_ERROR || tp->err() != RdKafka::ERR_NO_ERROR) {
    // ERR__STATE: the partition was revoked meanwhile; its new owner will redeliver.
    log::Warn({{"topic", m.topic}, {"partition", std::to_string(m.partition)}},
              "could not store offset {}: {}", m.offset + 1,
              RdKafka::err2str(rc != RdKafka::ERR_NO_ERROR ? rc : tp->err()));
  }
}

bool Consumer::Backoff(int ms) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!stop_ && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return !stop_;
}

}  // namespace aiops::kafka
