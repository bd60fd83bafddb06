#include "kafka/alert_consumer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <string_view>

#include "core/fault_injection.hpp"

namespace tocsin::kafka {
namespace {

using std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto consume_timeout = 100ms;
constexpr auto commit_interval = 1s;
constexpr auto lag_interval = 1s;
constexpr auto retry_pause = 500ms;       // before a record whose handler threw is read again
constexpr auto error_log_interval = 10s;  // per error code
constexpr auto committed_timeout = 2s;    // looking up the group's offsets at assignment
constexpr auto seek_timeout = 1s;
constexpr std::size_t logged_payload_bytes = 200;

// Owns the TopicPartition objects of a list (librdkafka's C++ API hands out raw pointers).
struct partition_list {
  std::vector<RdKafka::TopicPartition*> items;
  partition_list() = default;
  partition_list(const partition_list&) = delete;
  partition_list& operator=(const partition_list&) = delete;
  ~partition_list() { RdKafka::TopicPartition::destroy(items); }
  void add(const std::string& topic, std::int32_t partition, std::int64_t offset) {
    items.push_back(RdKafka::TopicPartition::create(topic, partition, offset));
  }
};

std::string_view payload_of(const RdKafka::Message& message) {
  if (message.payload() == nullptr) return {};
  return {static_cast<const char*>(message.payload()), message.len()};
}

// Consumer-level errors that are not worth a word: nothing arrived in time, end of a partition.
bool is_quiet(RdKafka::ErrorCode err) {
  return err == RdKafka::ERR_NO_ERROR || err == RdKafka::ERR__TIMED_OUT ||
         err == RdKafka::ERR__PARTITION_EOF;
}

void log_and_free(RdKafka::Error* error, const char* what) {
  if (error == nullptr) return;
  spdlog::error("kafka: alert consumer: {}: {}", what, error->str());
  delete error;
}

}  // namespace

class alert_consumer::rebalance final : public RdKafka::RebalanceCb {
 public:
  explicit rebalance(alert_consumer& owner) : owner_(owner) {}
  void rebalance_cb(RdKafka::KafkaConsumer* /*consumer*/, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    owner_.on_rebalance(err, partitions);
  }

 private:
  alert_consumer& owner_;
};

alert_consumer::alert_consumer(const config::kafka_config& kafka, handler on_alert,
                               metrics_registry& metrics)
    : kafka_(kafka),
      on_alert_(std::move(on_alert)),
      metrics_(metrics),
      consumed_(metrics.get_counter("tocsin_bus_consumed_total", "Alerts read off the bus.")),
      bad_alerts_(metrics.get_counter("tocsin_bus_errors_total", "Alerts the bus failed to carry.",
                                      {{"reason", "bad_alert"}})),
      handler_failures_(metrics.get_counter("tocsin_bus_errors_total",
                                            "Alerts the bus failed to carry.",
                                            {{"reason", "handler_failed"}})),
      events_(std::make_unique<log_events>("alert consumer")),
      rebalance_(std::make_unique<rebalance>(*this)),
      consumer_(create_consumer()) {}

alert_consumer::~alert_consumer() { stop(); }

std::unique_ptr<RdKafka::KafkaConsumer> alert_consumer::create_consumer() {
  auto conf = make_conf(kafka_, client_role::consumer);
  std::string errstr;
  conf->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(rebalance_.get()), errstr);
  conf->set("event_cb", static_cast<RdKafka::EventCb*>(events_.get()), errstr);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf.get(), errstr));
  if (!consumer) throw client_config_error({"bus.kafka: cannot create the consumer: " + errstr});
  return consumer;
}

void alert_consumer::start() {
  std::lock_guard lock(lifecycle_mutex_);
  if (started_ || closed_) return;
  const RdKafka::ErrorCode err = consumer_->subscribe({kafka_.topic});
  if (err != RdKafka::ERR_NO_ERROR) {
    throw std::runtime_error("bus.kafka: cannot subscribe to " + kafka_.topic + ": " +
                             RdKafka::err2str(err));
  }
  started_ = true;
  spdlog::info("kafka: alert consumer: joining group {} on topic {}", kafka_.group, kafka_.topic);
  thread_ = std::thread([this] { run(); });
}

void alert_consumer::stop() {
  std::lock_guard lock(lifecycle_mutex_);
  if (closed_) return;
  closed_ = true;
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  commit_handled();
  // Leaves the group; the revocation this triggers commits again (nothing left by now).
  const RdKafka::ErrorCode err = consumer_->close();
  if (err != RdKafka::ERR_NO_ERROR) {
    spdlog::warn("kafka: alert consumer: close: {}", RdKafka::err2str(err));
  }
}

bool alert_consumer::assigned() const { return assigned_; }

void alert_consumer::run() {
  while (!stopping_) {
    const std::unique_ptr<RdKafka::Message> message(
        consumer_->consume(static_cast<int>(consume_timeout / 1ms)));
    if (message->err() == RdKafka::ERR_NO_ERROR) {
      handle(*message);
    } else if (!is_quiet(message->err())) {
      count_error(message->err(), message->errstr());
    }
    resume_retries();
    const auto now = steady_clock::now();
    if (now >= next_commit_) {
      commit_handled();
      next_commit_ = now + commit_interval;
    }
    if (now >= next_lag_update_) {
      update_lag();
      next_lag_update_ = now + lag_interval;
    }
  }
}

void alert_consumer::handle(const RdKafka::Message& message) {
  const std::int32_t partition = message.partition();
  const std::int64_t offset = message.offset();
  const auto it = partitions_.find(partition);
  if (it == partitions_.end()) return;  // not ours any more (revoked meanwhile)
  partition_state& state = it->second;
  if (state.retry_offset >= 0) {
    // Fetched before the partition was paused: read again after the retry.
    if (offset > state.retry_offset) return;
    state.retry_offset = -1;
  }

  std::string problem;
  const auto alert = rules::parse_alert_json(payload_of(message), &problem);
  if (!alert) {
    bad_alerts_.inc();
    const std::string_view payload = payload_of(message);
    spdlog::error("kafka: alert consumer: {}/{}@{} is not Alert JSON ({}), skipped: {}{}",
                  message.topic_name(), partition, offset, problem,
                  payload.substr(0, logged_payload_bytes),
                  payload.size() > logged_payload_bytes ? "..." : "");
    state.next = offset + 1;
    return;
  }
  consumed_.inc();
  try {
    on_alert_(*alert);
  } catch (const std::exception& e) {
    handler_failures_.inc();
    spdlog::error("kafka: alert consumer: handling {}/{}@{} (fingerprint {}) failed: {}; retrying",
                  message.topic_name(), partition, offset, alert->fingerprint, e.what());
    pause_for_retry(partition, offset);
    return;
  } catch (...) {
    handler_failures_.inc();
    spdlog::error("kafka: alert consumer: handling {}/{}@{} (fingerprint {}) failed; retrying",
                  message.topic_name(), partition, offset, alert->fingerprint);
    pause_for_retry(partition, offset);
    return;
  }
  state.next = offset + 1;
}

void alert_consumer::pause_for_retry(std::int32_t partition, std::int64_t offset) {
  partition_state& state = partitions_[partition];
  state.next = offset;  // not handled: neither committed nor counted out of the lag
  state.retry_offset = offset;
  state.resume_at = steady_clock::now() + retry_pause;
  partition_list list;
  list.add(kafka_.topic, partition, offset);
  const RdKafka::ErrorCode err = consumer_->pause(list.items);
  if (err != RdKafka::ERR_NO_ERROR) count_error(err, "pause: " + RdKafka::err2str(err));
  state.paused = true;
}

void alert_consumer::resume_retries() {
  const auto now = steady_clock::now();
  for (auto& [partition, state] : partitions_) {
    if (!state.paused || now < state.resume_at) continue;
    partition_list list;
    list.add(kafka_.topic, partition, state.retry_offset);
    // Seeking flushes what was fetched after the failed record, so it comes next.
    const RdKafka::ErrorCode err =
        fault_injection::fail("kafka.consumer.seek", 0)
            ? RdKafka::ERR__TIMED_OUT
            : consumer_->seek(*list.items.front(), static_cast<int>(seek_timeout / 1ms));
    if (err != RdKafka::ERR_NO_ERROR) {
      count_error(err, "seek: " + RdKafka::err2str(err));
      state.resume_at = now + retry_pause;  // stay paused, try again
      continue;
    }
    consumer_->resume(list.items);
    state.paused = false;
  }
}

void alert_consumer::on_rebalance(RdKafka::ErrorCode err,
                                  std::vector<RdKafka::TopicPartition*>& partitions) {
  switch (err) {
    case RdKafka::ERR__ASSIGN_PARTITIONS:
      assign(partitions);
      break;
    case RdKafka::ERR__REVOKE_PARTITIONS:
      revoke(partitions);
      break;
    default:
      count_error(err, "rebalance: " + RdKafka::err2str(err));
      revoke(partitions);
      break;
  }
}

void alert_consumer::assign(std::vector<RdKafka::TopicPartition*>& partitions) {
  // Where the group left off, so the lag is known before the first record arrives.
  partition_list committed;
  for (const auto* tp : partitions) {
    committed.add(tp->topic(), tp->partition(), RdKafka::Topic::OFFSET_INVALID);
  }
  if (consumer_->committed(committed.items, static_cast<int>(committed_timeout / 1ms)) !=
      RdKafka::ERR_NO_ERROR) {
    RdKafka::TopicPartition::destroy(committed.items);
    committed.items.clear();
  }
  for (const auto* tp : partitions) {
    partition_state state;
    for (const auto* c : committed.items) {
      if (c->partition() == tp->partition() && c->err() == RdKafka::ERR_NO_ERROR &&
          c->offset() >= 0) {
        state.next = state.committed = c->offset();
      }
    }
    partitions_[tp->partition()] = state;
  }

  if (consumer_->rebalance_protocol() == "COOPERATIVE") {
    log_and_free(consumer_->incremental_assign(partitions), "incremental assign");
  } else {
    const RdKafka::ErrorCode e = consumer_->assign(partitions);
    if (e != RdKafka::ERR_NO_ERROR) count_error(e, "assign: " + RdKafka::err2str(e));
  }
  assigned_ = true;
  spdlog::info("kafka: alert consumer: {} partition(s) of {} assigned", partitions.size(),
               kafka_.topic);
}

void alert_consumer::revoke(std::vector<RdKafka::TopicPartition*>& partitions) {
  // A lost assignment (session timed out) cannot be committed: another member owns it now.
  if (!consumer_->assignment_lost()) commit_handled();
  if (consumer_->rebalance_protocol() == "COOPERATIVE") {
    log_and_free(consumer_->incremental_unassign(partitions), "incremental unassign");
  } else {
    consumer_->unassign();
  }
  for (const auto* tp : partitions) {
    partitions_.erase(tp->partition());
    lag_gauge(tp->partition()).set(0);  // another router's lag now
  }
  if (!partitions.empty()) {
    spdlog::info("kafka: alert consumer: {} partition(s) of {} revoked", partitions.size(),
                 kafka_.topic);
  }
}

void alert_consumer::commit_handled() {
  partition_list offsets;
  for (const auto& [partition, state] : partitions_) {
    if (state.next > state.committed) offsets.add(kafka_.topic, partition, state.next);
  }
  if (offsets.items.empty()) return;
  const RdKafka::ErrorCode err = consumer_->commitSync(offsets.items);
  if (err != RdKafka::ERR_NO_ERROR) {
    count_error(err, "commit: " + RdKafka::err2str(err));
    return;  // retried with the next commit
  }
  for (const auto* tp : offsets.items) {
    const auto it = partitions_.find(tp->partition());
    if (tp->err() != RdKafka::ERR_NO_ERROR) {
      count_error(tp->err(), "commit partition " + std::to_string(tp->partition()) + ": " +
                                 RdKafka::err2str(tp->err()));
    } else if (it != partitions_.end()) {
      it->second.committed = std::max(it->second.committed, tp->offset());
    }
  }
}

void alert_consumer::update_lag() {
  for (const auto& [partition, state] : partitions_) {
    if (state.next < 0) continue;  // nothing known yet
    std::int64_t low = -1;
    std::int64_t high = -1;
    // The cached watermark from the last fetch response: no broker round trip.
    if (consumer_->get_watermark_offsets(kafka_.topic, partition, &low, &high) !=
            RdKafka::ERR_NO_ERROR ||
        high < 0) {
      continue;
    }
    lag_gauge(partition).set(std::max<std::int64_t>(0, high - state.next));
  }
}

gauge& alert_consumer::lag_gauge(std::int32_t partition) {
  gauge*& g = lag_gauges_[partition];
  if (g == nullptr) {
    g = &metrics_.get_gauge("tocsin_bus_consumer_lag",
                            "Records on the bus not yet handled by this router.",
                            {{"topic", kafka_.topic}, {"partition", std::to_string(partition)}});
  }
  return *g;
}

void alert_consumer::count_error(RdKafka::ErrorCode err, const std::string& what) {
  error_count& e = errors_[err];
  if (e.count == nullptr) {
    e.count = &metrics_.get_counter("tocsin_bus_errors_total", "Alerts the bus failed to carry.",
                                    {{"reason", error_label(err)}});
  }
  e.count->inc();
  const auto now = steady_clock::now();
  if (!e.logged || now - e.last_logged >= error_log_interval) {
    spdlog::warn("kafka: alert consumer: {} ({} time(s) so far)", what, e.count->value());
    e.logged = true;
    e.last_logged = now;
  }
}

}  // namespace tocsin::kafka
