#include "kafka/partition_owner.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <stdexcept>

#include "kafka/topics.hpp"

namespace tocsin::kafka {
namespace {
constexpr int consume_timeout_ms = 100;
}  // namespace

class partition_owner::rebalance final : public RdKafka::RebalanceCb {
 public:
  explicit rebalance(partition_owner& owner) : owner_(owner) {}
  void rebalance_cb(RdKafka::KafkaConsumer* /*consumer*/, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    owner_.on_rebalance(err, partitions);
  }

 private:
  partition_owner& owner_;
};

partition_owner::partition_owner(const config::kafka_config& kafka, int partitions,
                                 record_handler on_record, metrics_registry& metrics,
                                 partition_owner_options options)
    : kafka_(kafka),
      partitions_(partitions),
      on_record_(std::move(on_record)),
      options_([&] {
        if (options.topic.empty()) options.topic = kafka.nflog_topic.name;
        return std::move(options);
      }()),
      owned_gauge_(metrics.get_gauge(options_.owned_metric, options_.owned_help)),
      events_(std::make_unique<log_events>("partition owner " + options_.topic)),
      rebalance_(std::make_unique<rebalance>(*this)),
      errors_("partition owner " + options_.topic, metrics) {
  auto conf = make_conf(kafka_, client_role::group_member);
  std::string errstr;
  conf->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(rebalance_.get()), errstr);
  conf->set("event_cb", static_cast<RdKafka::EventCb*>(events_.get()), errstr);
  consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), errstr));
  if (!consumer_) {
    throw client_config_error({"bus.kafka: cannot create the group consumer: " + errstr});
  }
}

partition_owner::~partition_owner() { stop(); }

void partition_owner::start() {
  std::lock_guard lock(lifecycle_mutex_);
  if (started_ || closed_) return;
  const RdKafka::ErrorCode err = consumer_->subscribe({options_.topic});
  if (err != RdKafka::ERR_NO_ERROR) {
    throw std::runtime_error("bus.kafka: cannot subscribe to " + options_.topic + ": " +
                             RdKafka::err2str(err));
  }
  started_ = true;
  spdlog::info("kafka: partition owner: joining group {} on {}", kafka_.group, options_.topic);
  thread_ = std::thread([this] { run(); });
}

void partition_owner::stop() {
  std::lock_guard lock(lifecycle_mutex_);
  if (closed_) return;
  closed_ = true;
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  const RdKafka::ErrorCode err = consumer_->close();  // leaves the group: a quick hand-over
  if (err != RdKafka::ERR_NO_ERROR) {
    spdlog::warn("kafka: partition owner: close: {}", RdKafka::err2str(err));
  }
  std::lock_guard state(mutex_);
  assigned_.clear();
  owned_.clear();
  ever_assigned_ = false;
  owned_gauge_.set(0);
}

std::int32_t partition_owner::partition_of(std::string_view group_key) const {
  return nflog_partition(group_key, partitions_);
}

bool partition_owner::owns(std::string_view group_key) const {
  if (!polling_) return false;
  std::lock_guard lock(mutex_);
  return owned_.contains(partition_of(group_key));
}

bool partition_owner::ready() const {
  if (!polling_) return false;
  std::lock_guard lock(mutex_);
  return ever_assigned_ && owned_.size() == assigned_.size();
}

void partition_owner::run() {
  bool was_healthy = true;
  while (!stopping_) {
    const bool healthy = !options_.healthy || options_.healthy();
    if (healthy != was_healthy) {
      if (healthy) {
        spdlog::info("kafka: partition owner: {}: healthy again, polling", options_.topic);
      } else {
        spdlog::error(
            "kafka: partition owner: {}: this router is stuck; not polling, so its partitions go "
            "to the other routers after max.poll.interval.ms",
            options_.topic);
      }
      was_healthy = healthy;
    }
    if (!healthy) {
      polling_ = false;  // owns nothing from now: another router may get these partitions
      std::this_thread::sleep_for(std::chrono::milliseconds(consume_timeout_ms));
      continue;
    }
    const std::unique_ptr<RdKafka::Message> message(consumer_->consume(consume_timeout_ms));
    // Back from a stall: the rebalance a lost assignment causes has been served by this call.
    polling_ = true;
    if (message->err() == RdKafka::ERR_NO_ERROR) {
      try {
        on_record_(key_of(*message), payload_of(*message));
      } catch (const std::exception& e) {
        spdlog::error("kafka: partition owner: handling {}/{}@{} failed: {}", message->topic_name(),
                      message->partition(), message->offset(), e.what());
      }
    } else if (message->err() == RdKafka::ERR__PARTITION_EOF) {
      reached_end(message->partition());
    } else if (!is_quiet(message->err())) {
      errors_.count(message->err(), message->errstr());
    }
  }
}

void partition_owner::reached_end(std::int32_t partition) {
  std::lock_guard lock(mutex_);
  if (!assigned_.contains(partition) || !owned_.insert(partition).second) return;
  owned_gauge_.set(static_cast<std::int64_t>(owned_.size()));
  spdlog::info("kafka: partition owner: partition {} of {} read to its end: this router owns it",
               partition, options_.topic);
}

void partition_owner::set_start_offsets(std::vector<RdKafka::TopicPartition*>& partitions) {
  if (options_.replay <= std::chrono::milliseconds::zero()) {
    for (auto* tp : partitions) tp->set_offset(RdKafka::Topic::OFFSET_BEGINNING);
    return;
  }
  const auto since = std::chrono::system_clock::now() - options_.replay;
  const std::int64_t since_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(since.time_since_epoch()).count();
  for (auto* tp : partitions) tp->set_offset(since_ms);
  const RdKafka::ErrorCode err = consumer_->offsetsForTimes(partitions, 10000);
  for (auto* tp : partitions) {
    // No record that recent: from the end. The lookup failed: from the beginning, which reads
    // too much rather than too little.
    if (err != RdKafka::ERR_NO_ERROR || tp->err() != RdKafka::ERR_NO_ERROR) {
      tp->set_offset(RdKafka::Topic::OFFSET_BEGINNING);
    } else if (tp->offset() < 0) {
      tp->set_offset(RdKafka::Topic::OFFSET_END);
    }
  }
  if (err != RdKafka::ERR_NO_ERROR) {
    errors_.count(err, "offsetsForTimes: " + RdKafka::err2str(err) + "; reading from the start");
  }
}

void partition_owner::on_rebalance(RdKafka::ErrorCode err,
                                   std::vector<RdKafka::TopicPartition*>& partitions) {
  if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
    if (options_.on_assignment_change) options_.on_assignment_change();
    // Each assigned partition is read (whole, or from `replay` ago) before it is owned.
    set_start_offsets(partitions);
    const RdKafka::ErrorCode e = consumer_->assign(partitions);
    if (e != RdKafka::ERR_NO_ERROR) errors_.count(e, "assign: " + RdKafka::err2str(e));
    std::lock_guard lock(mutex_);
    ever_assigned_ = true;
    for (const auto* tp : partitions) assigned_.insert(tp->partition());
    spdlog::info("kafka: partition owner: {} partition(s) of {} assigned", partitions.size(),
                 options_.topic);
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
  if (options_.on_assignment_change) options_.on_assignment_change();
  consumer_->unassign();
  if (!partitions.empty()) {
    spdlog::info("kafka: partition owner: {} partition(s) of {} revoked", partitions.size(),
                 options_.topic);
  }
}

}  // namespace tocsin::kafka
