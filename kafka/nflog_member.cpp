#include "kafka/nflog_member.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>

#include "kafka/topics.hpp"

namespace tocsin::kafka {
namespace {
constexpr int consume_timeout_ms = 100;
}  // namespace

class nflog_member::rebalance final : public RdKafka::RebalanceCb {
 public:
  explicit rebalance(nflog_member& owner) : owner_(owner) {}
  void rebalance_cb(RdKafka::KafkaConsumer* /*consumer*/, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    owner_.on_rebalance(err, partitions);
  }

 private:
  nflog_member& owner_;
};

nflog_member::nflog_member(const config::kafka_config& kafka, int partitions,
                           record_handler on_record, metrics_registry& metrics)
    : kafka_(kafka),
      partitions_(partitions),
      on_record_(std::move(on_record)),
      owned_gauge_(metrics.get_gauge(
          "tocsin_nflog_partitions_owned",
          "Notification-log partitions this router owns: it sends the groups that hash to them.")),
      events_(std::make_unique<log_events>("nflog member")),
      rebalance_(std::make_unique<rebalance>(*this)),
      errors_("nflog member", metrics) {
  auto conf = make_conf(kafka_, client_role::group_member);
  std::string errstr;
  conf->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(rebalance_.get()), errstr);
  conf->set("event_cb", static_cast<RdKafka::EventCb*>(events_.get()), errstr);
  consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), errstr));
  if (!consumer_) {
    throw client_config_error({"bus.kafka: cannot create the group consumer: " + errstr});
  }
}

nflog_member::~nflog_member() { stop(); }

void nflog_member::start() {
  std::lock_guard lock(lifecycle_mutex_);
  if (started_ || closed_) return;
  const RdKafka::ErrorCode err = consumer_->subscribe({kafka_.nflog_topic.name});
  if (err != RdKafka::ERR_NO_ERROR) {
    throw std::runtime_error("bus.kafka: cannot subscribe to " + kafka_.nflog_topic.name + ": " +
                             RdKafka::err2str(err));
  }
  started_ = true;
  spdlog::info("kafka: nflog member: joining group {} on {}", kafka_.group,
               kafka_.nflog_topic.name);
  thread_ = std::thread([this] { run(); });
}

void nflog_member::stop() {
  std::lock_guard lock(lifecycle_mutex_);
  if (closed_) return;
  closed_ = true;
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  const RdKafka::ErrorCode err = consumer_->close();  // leaves the group: a quick hand-over
  if (err != RdKafka::ERR_NO_ERROR) {
    spdlog::warn("kafka: nflog member: close: {}", RdKafka::err2str(err));
  }
  std::lock_guard state(mutex_);
  assigned_.clear();
  owned_.clear();
  owned_gauge_.set(0);
}

std::int32_t nflog_member::partition_of(std::string_view group_key) const {
  return nflog_partition(group_key, partitions_);
}

bool nflog_member::owns(std::string_view group_key) const {
  std::lock_guard lock(mutex_);
  return owned_.contains(partition_of(group_key));
}

bool nflog_member::ready() const {
  std::lock_guard lock(mutex_);
  return ever_assigned_ && owned_.size() == assigned_.size();
}

void nflog_member::run() {
  while (!stopping_) {
    const std::unique_ptr<RdKafka::Message> message(consumer_->consume(consume_timeout_ms));
    if (message->err() == RdKafka::ERR_NO_ERROR) {
      try {
        on_record_(key_of(*message), payload_of(*message));
      } catch (const std::exception& e) {
        spdlog::error("kafka: nflog member: handling {}/{}@{} failed: {}", message->topic_name(),
                      message->partition(), message->offset(), e.what());
      }
    } else if (message->err() == RdKafka::ERR__PARTITION_EOF) {
      reached_end(message->partition());
    } else if (!is_quiet(message->err())) {
      errors_.count(message->err(), message->errstr());
    }
  }
}

void nflog_member::reached_end(std::int32_t partition) {
  std::lock_guard lock(mutex_);
  if (!assigned_.contains(partition) || !owned_.insert(partition).second) return;
  owned_gauge_.set(static_cast<std::int64_t>(owned_.size()));
  spdlog::info("kafka: nflog member: partition {} read to its end: this router sends its groups",
               partition);
}

void nflog_member::on_rebalance(RdKafka::ErrorCode err,
                                std::vector<RdKafka::TopicPartition*>& partitions) {
  if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
    // Each assigned partition is read whole before its groups are sent.
    for (auto* tp : partitions) tp->set_offset(RdKafka::Topic::OFFSET_BEGINNING);
    const RdKafka::ErrorCode e = consumer_->assign(partitions);
    if (e != RdKafka::ERR_NO_ERROR) errors_.count(e, "assign: " + RdKafka::err2str(e));
    std::lock_guard lock(mutex_);
    ever_assigned_ = true;
    for (const auto* tp : partitions) assigned_.insert(tp->partition());
    spdlog::info("kafka: nflog member: {} partition(s) of {} assigned", partitions.size(),
                 kafka_.nflog_topic.name);
    return;
  }
  if (err != RdKafka::ERR__REVOKE_PARTITIONS) {
    errors_.count(err, "rebalance: " + RdKafka::err2str(err));
  }
  // Revoked (or lost): stop sending these groups before anything else happens.
  {
    std::lock_guard lock(mutex_);
    for (const auto* tp : partitions) {
      assigned_.erase(tp->partition());
      owned_.erase(tp->partition());
    }
    owned_gauge_.set(static_cast<std::int64_t>(owned_.size()));
  }
  consumer_->unassign();
  if (!partitions.empty()) {
    spdlog::info("kafka: nflog member: {} partition(s) of {} revoked", partitions.size(),
                 kafka_.nflog_topic.name);
  }
}

}  // namespace tocsin::kafka
