#include "aiops/kafka_producer.hpp"

#include <librdkafka/rdkafkacpp.h>

#include <stdexcept>

#include "aiops/envelope.hpp"
#include "aiops/kafka_conf.hpp"
#include "aiops/log.hpp"
#include "aiops/metrics.hpp"
#include "aiops/topics.hpp"

namespace aiops::kafka {

// Resolves the promise passed as msg_opaque with the broker's answer.
class Producer::DeliveryCallback : public RdKafka::DeliveryReportCb {
 public:
  explicit DeliveryCallback(metrics::Registry* metrics) : metrics_(metrics) {}

  void dr_cb(RdKafka::Message& message) override {
    auto* promise = static_cast<std::promise<Delivery>*>(message.msg_opaque());
    Delivery d;
    d.topic = message.topic_name();
    d.partition = message.partition();
    d.offset = message.offset();
    d.ok = message.err() == RdKafka::ERR_NO_ERROR;
    if (!d.ok) {
      d.error = message.errstr();
      log::Warn({{"topic", d.topic}}, "kafka delivery failed: {}", d.error);
    }
    if (metrics_ != nullptr) {
      if (d.ok) {
        metrics_
            ->GetCounter("aiops_kafka_messages_produced_total",
                         "Messages acknowledged by the broker", {{"topic", d.topic}})
            .Inc();
      } else {
        metrics_
            ->GetCounter("aiops_kafka_delivery_errors_total",
                         "Messages the broker did not acknowledge", {{"topic", d.topic}})
            .Inc();
      }
    }
    if (promise != nullptr) {
      promise->set_value(std::move(d));
      delete promise;
    }
  }

 private:
  metrics::Registry* metrics_;
};

Producer::Producer(const KafkaConfig& config, const std::string& service,
                   metrics::Registry* metrics)
    : callback_(std::make_unique<DeliveryCallback>(metrics)) {
  // Idempotence implies acks=all and ordered, duplicate-free retries per partition
  // (NOTES.md: setting acks=1 alongside fails). linger.ms stays small: we trade a little
  // batching for detection-to-proposal latency.
  auto conf = internal::BuildConf(config, config.client_id + "-" + service,
                                  {{"enable.idempotence", "true"}, {"linger.ms", "5"}});
  std::string err;
  if (conf->set("dr_cb", callback_.get(), err) != RdKafka::Conf::CONF_OK) {
    throw std::runtime_error("kafka dr_cb: " + err);
  }
  producer_.reset(RdKafka::Producer::create(conf.get(), err));
  if (!producer_) throw std::runtime_error("cannot create kafka producer: " + err);
  poller_ = std::thread([this] {
    while (!stop_)
      producer_->poll(100);
  });
  // librdkafka looks an unknown topic up about once a second, so the first message to each
  // topic waited ~1 s (seen on every hop of the first incident, and as the p99 of
  // pipeline-bench; librdkafka issue #3202 gives this workaround): ask for the metadata of
  // every aiops.* topic now, off the caller's thread, with handles that keep the topics known.
  for (const auto& name : topics::All()) {
    std::string topic_err;
    std::unique_ptr<RdKafka::Topic> t(
        RdKafka::Topic::create(producer_.get(), name, nullptr, topic_err));
    if (t) warm_topics_.push_back(std::move(t));
  }
  warmer_ = std::thread([this] {
    for (const auto& t : warm_topics_) {
      if (stop_) return;
      RdKafka::Metadata* md = nullptr;
      if (producer_->metadata(false, t.get(), &md, 5000) == RdKafka::ERR_NO_ERROR) delete md;
    }
  });
}

Producer::~Producer() {
  if (!Flush(std::chrono::seconds(10))) {
    log::Warn({{"queued", std::to_string(producer_->outq_len())}},
              "kafka producer closed with undelivered messages");
  }
  stop_ = true;
  if (warmer_.joinable()) warmer_.join();
  if (poller_.joinable()) poller_.join();
  // Fail any report still pending so no caller waits on a future forever.
  producer_->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
  producer_->poll(0);
}

std::future<Delivery> Producer::Send(const std::string& topic, const std::string& key,
                                     const std::string& payload, const Headers& headers) {
  auto* promise = new std::promise<Delivery>();
  auto future = promise->get_future();
  RdKafka::Headers* h = RdKafka::Headers::create();
  for (const auto& [name, value] : headers)
    h->add(name, value);
  while (true) {
    auto rc = producer_->produce(topic, RdKafka::Topic::PARTITION_UA,
                                 RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(payload.data()),
                                 payload.size(), key.data(), key.size(), 0, h, promise);
    if (rc == RdKafka::ERR_NO_ERROR) break;  // librdkafka now owns the headers
    if (rc == RdKafka::ERR__QUEUE_FULL && !stop_) {
      producer_->poll(50);  // wait for room rather than dropping the message
      continue;
    }
    delete h;
    Delivery d;
    d.topic = topic;
    d.error = RdKafka::err2str(rc);
    promise->set_value(d);
    delete promise;
    break;
  }
  return future;
}

std::future<Delivery> Producer::Publish(const std::string& topic, const std::string& key,
                                        const google::protobuf::Message& message) {
  std::string payload;
  if (!message.SerializeToString(&payload)) {
    throw std::logic_error("cannot serialise " + message.GetTypeName());
  }
  Headers headers = {{kHeaderContentType, kContentTypeProtobuf},
                     {kHeaderMessageType, message.GetTypeName()},
                     {kHeaderSchemaVersion, std::to_string(envelope::kSchemaVersion)}};
  return Send(topic, key, payload, headers);
}

namespace {
Delivery Wait(std::future<Delivery> f, const std::string& topic,
              std::chrono::milliseconds timeout) {
  if (f.wait_for(timeout) != std::future_status::ready) {
    Delivery d;
    d.topic = topic;
    d.error = "no delivery report within " + std::to_string(timeout.count()) + " ms";
    return d;
  }
  return f.get();
}
}  // namespace

Delivery Producer::SendAndWait(const std::string& topic, const std::string& key,
                               const std::string& payload, const Headers& headers,
                               std::chrono::milliseconds timeout) {
  return Wait(Send(topic, key, payload, headers), topic, timeout);
}

Delivery Producer::PublishAndWait(const std::string& topic, const std::string& key,
                                  const google::protobuf::Message& message,
                                  std::chrono::milliseconds timeout) {
  return Wait(Publish(topic, key, message), topic, timeout);
}

bool Producer::Flush(std::chrono::milliseconds timeout) {
  return producer_->flush(static_cast<int>(timeout.count())) == RdKafka::ERR_NO_ERROR;
}

bool Producer::Reachable(std::chrono::milliseconds timeout) {
  RdKafka::Metadata* md = nullptr;
  auto rc = producer_->metadata(false, nullptr, &md, static_cast<int>(timeout.count()));
  delete md;
  return rc == RdKafka::ERR_NO_ERROR;
}

}  // namespace aiops::kafka
