#include "aiops/kafka_consumer.hpp"

#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>

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

std::optional<Message> Consumer::Poll() {
  std::unique_ptr<RdKafka::Message> msg(consumer_->consume(200));
  switch (msg->err()) {
    case RdKafka::ERR_NO_ERROR:
      return Message::From(*msg);
    case RdKafka::ERR__TIMED_OUT:
    case RdKafka::ERR__PARTITION_EOF:
      return std::nullopt;
    default: {
      // Broker down, unknown topic, ...: librdkafka reconnects by itself. Log at most
      // every 10 s so an outage does not flood the log.
      auto now = std::chrono::steady_clock::now();
      if (now - last_error_log_ > std::chrono::seconds(10)) {
        log::Warn({{"group", group_id_}}, "kafka consume error: {}", msg->errstr());
        last_error_log_ = now;
      }
      return std::nullopt;
    }
  }
}

// Concurrent handling (ConsumerOptions::max_in_flight > 1). Workers run the handler; the
// consumer handle stays on the Run() thread, which stores what the workers report storable.
class Consumer::Pool {
 public:
  struct Storable {
    std::string topic;
    int32_t partition;
    int64_t next;
  };

  Pool(Consumer& consumer, int threads) : consumer_(consumer), limit_(2 * threads) {
    for (int i = 0; i < threads; ++i)
      workers_.emplace_back([this] { Work(); });
  }
  ~Pool() { Close(); }

  // Lets running handlers finish and stops the workers; queued messages stay unhandled and
  // unstored, so they come back.
  void Close() {
    {
      std::lock_guard lock(mu_);
      closing_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : workers_)
      t.join();
    workers_.clear();
  }

  // Waits up to `timeout` until fewer than the limit are in flight.
  bool WaitForRoom(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return room_cv_.wait_for(lock, timeout, [&] { return in_flight_ < limit_; });
  }

  void Submit(Message m, std::string key) {
    std::lock_guard lock(mu_);
    ++in_flight_;
    auto& part = partitions_[{m.topic, m.partition}];
    part.unfinished.insert(m.offset);
    part.next = std::max(part.next, m.offset + 1);
    if (busy_.insert(key).second) {
      ready_.push_back({std::move(m), std::move(key)});
      work_cv_.notify_one();
    } else {
      waiting_[key].push_back({std::move(m), key});
    }
  }

  std::vector<Storable> TakeStorable() {
    std::lock_guard lock(mu_);
    return std::exchange(storable_, {});
  }

 private:
  struct Item {
    Message message;
    std::string key;
  };
  struct Partition {
    std::multiset<int64_t> unfinished;  // multi: a redelivery may overlap its first delivery
    int64_t next = 0;                   // one past the highest offset submitted
    int64_t stored = -1;
  };

  void Work() {
    while (true) {
      Item item;
      {
        std::unique_lock lock(mu_);
        work_cv_.wait(lock, [&] { return closing_ || !ready_.empty(); });
        if (closing_) return;
        item = std::move(ready_.front());
        ready_.pop_front();
      }
      bool done = consumer_.Handle(item.message);
      std::lock_guard lock(mu_);
      --in_flight_;
      Finish(item, done);
      room_cv_.notify_all();
    }
  }

  // Under mu_: releases the key to its next waiting message, and makes the partition's
  // offset storable up to its oldest unfinished message.
  void Finish(const Item& item, bool done) {
    auto w = waiting_.find(item.key);
    if (w != waiting_.end() && !w->second.empty()) {
      ready_.push_back(std::move(w->second.front()));
      w->second.pop_front();
      work_cv_.notify_one();
    } else {
      if (w != waiting_.end()) waiting_.erase(w);
      busy_.erase(item.key);
    }
    // Not done (stopping): the offset stays unfinished, so nothing at or after it is stored.
    if (!done) return;
    const auto& m = item.message;
    auto& part = partitions_[{m.topic, m.partition}];
    if (auto it = part.unfinished.find(m.offset); it != part.unfinished.end()) {
      part.unfinished.erase(it);
    }
    int64_t low = part.unfinished.empty() ? part.next : *part.unfinished.begin();
    if (low > part.stored) {
      part.stored = low;
      storable_.push_back({m.topic, m.partition, low});
    }
  }

  Consumer& consumer_;
  const int limit_;
  std::mutex mu_;
  std::condition_variable work_cv_, room_cv_;
  bool closing_ = false;
  int in_flight_ = 0;
  std::deque<Item> ready_;
  std::set<std::string> busy_;
  std::map<std::string, std::deque<Item>> waiting_;
  std::map<std::pair<std::string, int32_t>, Partition> partitions_;
  std::vector<Storable> storable_;
  std::vector<std::thread> workers_;
};

void Consumer::RunConcurrent() {
  Pool pool(*this, options_.max_in_flight);
  auto store = [&] {
    for (const auto& s : pool.TakeStorable())
      StoreOffset(s.topic, s.partition, s.next);
  };
  while (!stop_) {
    store();
    // Full: fetch nothing more until a worker finishes. (A handler that blocks longer than
    // max.poll.interval.ms, 5 min, would cost this member its partitions: they are redelivered.)
    if (!pool.WaitForRoom(std::chrono::milliseconds(200))) continue;
    if (auto m = Poll()) {
      auto key = options_.order_key ? options_.order_key(*m) : m->key;
      pool.Submit(std::move(*m), std::move(key));
    }
  }
  // Handlers see stop_ and end; what they finished is stored before the final commit.
  pool.Close();
  store();
}

void Consumer::Run() {
  log::Info({{"group", group_id_}, {"max_in_flight", std::to_string(options_.max_in_flight)}},
            "kafka consumer started");
  if (options_.max_in_flight > 1) {
    RunConcurrent();
  } else {
    while (!stop_) {
      if (auto m = Poll(); m && Handle(*m)) StoreOffset(m->topic, m->partition, m->offset + 1);
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

bool Consumer::Handle(const Message& m) {
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
    if (outcome.kind == Outcome::Kind::kOk) return true;
    if (outcome.kind == Outcome::Kind::kRetry && attempt < config_.handler_retries) {
      log::Warn(where, "handler failed (attempt {} of {}), retrying in {} ms: {}", attempt + 1,
                config_.handler_retries + 1, backoff, outcome.reason);
      if (metrics_ != nullptr) {
        metrics_
            ->GetCounter("aiops_kafka_handler_retries_total", "Handler retries after a failure",
                         {{"topic", m.topic}})
            .Inc();
      }
      if (!Backoff(backoff)) return false;  // stopping: the message comes back
      backoff *= 2;
      continue;
    }
    std::string reason =
        outcome.kind == Outcome::Kind::kRetry
            ? "handler failed after " + std::to_string(attempt + 1) + " attempts: " + outcome.reason
            : outcome.reason;
    return SendToDeadLetter(m, reason);
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

void Consumer::StoreOffset(const std::string& topic, int32_t partition, int64_t next) {
  // librdkafka 2.0.2 stores the offset as given: the next offset to read.
  std::unique_ptr<RdKafka::TopicPartition> tp(
      RdKafka::TopicPartition::create(topic, partition, next));
  std::vector<RdKafka::TopicPartition*> offsets = {tp.get()};
  auto rc = consumer_->offsets_store(offsets);
  if (rc != RdKafka::ERR_NO_ERROR || tp->err() != RdKafka::ERR_NO_ERROR) {
    // ERR__STATE: the partition was revoked meanwhile; its new owner will redeliver.
    log::Warn({{"topic", topic}, {"partition", std::to_string(partition)}},
              "could not store offset {}: {}", next,
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
