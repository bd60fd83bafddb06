#include "kafka/alert_consumer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <stdexcept>

namespace tocsin::kafka {
namespace {

using std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto consume_timeout = 100ms;
constexpr auto lag_interval = 1s;
constexpr int metadata_timeout_ms = 10000;
constexpr std::size_t logged_payload_bytes = 200;

}  // namespace

alert_consumer::alert_consumer(const config::kafka_config& kafka, handlers on,
                               metrics_registry& metrics)
    : kafka_(kafka),
      on_(std::move(on)),
      metrics_(metrics),
      consumed_(metrics.get_counter("tocsin_bus_consumed_total", "Alerts read off the bus.")),
      bad_alerts_(metrics.get_counter("tocsin_bus_errors_total", "Alerts the bus failed to carry.",
                                      {{"reason", "bad_alert"}})),
      // Also silences: a record the router could not take.
      handler_failures_(metrics.get_counter("tocsin_bus_errors_total",
                                            "Alerts the bus failed to carry.",
                                            {{"reason", "handler_failed"}})),
      events_(std::make_unique<log_events>("alert consumer")),
      consumer_(create_consumer()),
      errors_("alert consumer", metrics) {}

alert_consumer::~alert_consumer() { stop(); }

std::unique_ptr<RdKafka::KafkaConsumer> alert_consumer::create_consumer() {
  auto conf = make_conf(kafka_, client_role::reader);
  std::string errstr;
  conf->set("event_cb", static_cast<RdKafka::EventCb*>(events_.get()), errstr);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf.get(), errstr));
  if (!consumer) throw client_config_error({"bus.kafka: cannot create the consumer: " + errstr});
  return consumer;
}

int alert_consumer::partition_count(const std::string& topic) {
  std::string errstr;
  const std::unique_ptr<RdKafka::Topic> handle(
      RdKafka::Topic::create(consumer_.get(), topic, nullptr, errstr));
  if (!handle) throw std::runtime_error("bus.kafka: topic " + topic + ": " + errstr);
  RdKafka::Metadata* raw = nullptr;
  const RdKafka::ErrorCode err =
      consumer_->metadata(false, handle.get(), &raw, metadata_timeout_ms);
  const std::unique_ptr<RdKafka::Metadata> metadata(raw);
  if (err != RdKafka::ERR_NO_ERROR || metadata->topics()->empty()) {
    throw std::runtime_error("bus.kafka: cannot read the partitions of " + topic + ": " +
                             RdKafka::err2str(err));
  }
  return static_cast<int>(metadata->topics()->front()->partitions()->size());
}

void alert_consumer::start() {
  std::lock_guard lock(lifecycle_mutex_);
  if (started_ || closed_) return;
  const std::string& silences = kafka_.silences_topic.name;
  const int alert_partitions = partition_count(kafka_.topic);
  const int silence_partitions = partition_count(silences);
  const std::string& oncall = kafka_.oncall_topic.name;
  const int oncall_partitions = partition_count(oncall);

  // Alerts: the first record at or after now − rebuild_window; none → the end.
  const auto since = std::chrono::system_clock::now() - kafka_.rebuild_window;
  const std::int64_t since_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(since.time_since_epoch()).count();
  partition_list alerts;
  for (int p = 0; p < alert_partitions; ++p) alerts.add(kafka_.topic, p, since_ms);
  // Retried for a while: another router may have created the topics a moment ago, and their
  // partitions answer "not leader" until elected.
  RdKafka::ErrorCode err = RdKafka::ERR_NO_ERROR;
  const auto deadline = steady_clock::now() + std::chrono::milliseconds(metadata_timeout_ms);
  do {
    err = consumer_->offsetsForTimes(alerts.items, metadata_timeout_ms);
    if (err == RdKafka::ERR_NO_ERROR) break;
    std::this_thread::sleep_for(200ms);
    for (auto* tp : alerts.items) tp->set_offset(since_ms);
  } while (steady_clock::now() < deadline);
  if (err != RdKafka::ERR_NO_ERROR) {
    throw std::runtime_error("bus.kafka: cannot find where to rebuild " + kafka_.topic +
                             " from: " + RdKafka::err2str(err));
  }
  partition_list assignment;
  for (const auto* tp : alerts.items) {
    const std::int64_t offset = tp->offset() >= 0 ? tp->offset() : RdKafka::Topic::OFFSET_END;
    assignment.add(kafka_.topic, tp->partition(), offset);
    next_alert_offset_[tp->partition()] = tp->offset();
    not_at_end_.emplace(kafka_.topic, tp->partition());
  }
  for (int p = 0; p < silence_partitions; ++p) {
    assignment.add(silences, p, RdKafka::Topic::OFFSET_BEGINNING);
    not_at_end_.emplace(silences, p);
  }
  for (int p = 0; p < oncall_partitions; ++p) {
    assignment.add(oncall, p, RdKafka::Topic::OFFSET_BEGINNING);
    not_at_end_.emplace(oncall, p);
  }
  const RdKafka::ErrorCode assigned = consumer_->assign(assignment.items);
  if (assigned != RdKafka::ERR_NO_ERROR) {
    throw std::runtime_error("bus.kafka: cannot assign the partitions of " + kafka_.topic + ": " +
                             RdKafka::err2str(assigned));
  }
  started_ = true;
  spdlog::info(
      "kafka: alert consumer: reading {} partition(s) of {} from {} s ago, and {} of {} and {} "
      "of {} from the beginning",
      alert_partitions, kafka_.topic,
      std::chrono::duration_cast<std::chrono::seconds>(kafka_.rebuild_window).count(),
      silence_partitions, silences, oncall_partitions, oncall);
  thread_ = std::thread([this] { run(); });
}

void alert_consumer::stop() {
  std::lock_guard lock(lifecycle_mutex_);
  if (closed_) return;
  closed_ = true;
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  const RdKafka::ErrorCode err = consumer_->close();
  if (err != RdKafka::ERR_NO_ERROR) {
    spdlog::warn("kafka: alert consumer: close: {}", RdKafka::err2str(err));
  }
}

void alert_consumer::run() {
  while (!stopping_) {
    const std::unique_ptr<RdKafka::Message> message(
        consumer_->consume(static_cast<int>(consume_timeout / 1ms)));
    if (message->err() == RdKafka::ERR_NO_ERROR) {
      handle(*message);
    } else if (message->err() == RdKafka::ERR__PARTITION_EOF) {
      reached_end(message->topic_name(), message->partition());
    } else if (!is_quiet(message->err())) {
      errors_.count(message->err(), message->errstr());
    }
    const auto now = steady_clock::now();
    if (now >= next_lag_update_) {
      update_lag();
      next_lag_update_ = now + lag_interval;
    }
  }
}

void alert_consumer::handle(const RdKafka::Message& message) {
  const std::string topic = message.topic_name();
  const std::string_view payload = payload_of(message);
  try {
    if (topic == kafka_.oncall_topic.name) {
      if (on_.on_oncall) on_.on_oncall(key_of(message), payload);
      return;
    }
    if (topic != kafka_.topic) {
      on_.on_silence(key_of(message), payload);
      return;
    }
    next_alert_offset_[message.partition()] = message.offset() + 1;
    std::string problem;
    const auto alert = rules::parse_alert_json(payload, &problem);
    if (!alert) {
      bad_alerts_.inc();
      spdlog::error("kafka: alert consumer: {}/{}@{} is not Alert JSON ({}), skipped: {}{}", topic,
                    message.partition(), message.offset(), problem,
                    payload.substr(0, logged_payload_bytes),
                    payload.size() > logged_payload_bytes ? "..." : "");
      return;
    }
    consumed_.inc();
    on_.on_alert(*alert);
  } catch (const std::exception& e) {
    handler_failures_.inc();
    spdlog::error("kafka: alert consumer: handling {}/{}@{} failed: {}", topic, message.partition(),
                  message.offset(), e.what());
  }
}

void alert_consumer::reached_end(const std::string& topic, std::int32_t partition) {
  if (not_at_end_.erase({topic, partition}) == 0 || !not_at_end_.empty()) return;
  caught_up_ = true;
  spdlog::info("kafka: alert consumer: alerts, silences and escalations read up to now");
}

void alert_consumer::update_lag() {
  for (const auto& [partition, next] : next_alert_offset_) {
    if (next < 0) continue;  // nothing known yet
    std::int64_t low = -1;
    std::int64_t high = -1;
    // The cached watermark from the last fetch response: no broker round trip.
    if (consumer_->get_watermark_offsets(kafka_.topic, partition, &low, &high) !=
            RdKafka::ERR_NO_ERROR ||
        high < 0) {
      continue;
    }
    lag_gauge(partition).set(std::max<std::int64_t>(0, high - next));
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

}  // namespace tocsin::kafka
