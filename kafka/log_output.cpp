#include "kafka/log_output.hpp"

#include <spdlog/spdlog.h>

#include <charconv>

namespace tocsin::kafka {
namespace {

using namespace std::chrono_literals;

constexpr auto poll_timeout = 100ms;
constexpr auto shutdown_flush = 5s;
constexpr auto purge_timeout = 1s;

int queue_limit(RdKafka::Conf& conf) {
  std::string text;
  int limit = 100000;  // librdkafka's default
  if (conf.get("queue.buffering.max.messages", text) == RdKafka::Conf::CONF_OK) {
    std::from_chars(text.data(), text.data() + text.size(), limit);
  }
  return limit;
}

}  // namespace

log_output::log_output(const config::kafka_config& kafka, const std::string& topic,
                       metrics_registry& metrics)
    : output_("kafka:" + topic),
      metrics_(metrics),
      lines_(metrics.get_counter("tocsin_output_lines_total", "Lines written by outputs.",
                                 {{"output", output_}})),
      bytes_(metrics.get_counter("tocsin_output_bytes_total", "Bytes written by outputs.",
                                 {{"output", output_}})),
      delivery_reports_(std::make_unique<delivery_reports>(
          [this](RdKafka::Message& message) { on_delivery(message); })),
      events_(std::make_unique<log_events>("output " + topic)) {
  auto conf = make_conf(kafka, client_role::log_producer);
  std::string errstr;
  conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(delivery_reports_.get()), errstr);
  conf->set("event_cb", static_cast<RdKafka::EventCb*>(events_.get()), errstr);
  accept_below_ = queue_limit(*conf) / 10 * 9;
  producer_.reset(RdKafka::Producer::create(conf.get(), errstr));
  if (!producer_) {
    throw client_config_error({"outputs: kafka: cannot create the producer: " + errstr});
  }
  topic_.reset(RdKafka::Topic::create(producer_.get(), topic, nullptr, errstr));
  if (!topic_) throw client_config_error({"outputs: kafka: topic " + topic + ": " + errstr});
  thread_ = std::thread([this] { run(); });
}

log_output::~log_output() {
  stopping_ = true;
  thread_.join();
  flush(shutdown_flush);
  // What is still queued is lost: purge it so it is counted rather than silently dropped.
  producer_->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
  const auto deadline = std::chrono::steady_clock::now() + purge_timeout;
  while (producer_->outq_len() > 0 && std::chrono::steady_clock::now() < deadline) {
    producer_->poll(50);
  }
  topic_.reset();
  producer_.reset();
}

bool log_output::accepting() const { return producer_->outq_len() < accept_below_; }

void log_output::consume(const collector::event& ev) {
  thread_local std::string json;
  json.clear();
  collector::append_event_json(ev, json);
  const RdKafka::ErrorCode err = producer_->produce(
      topic_.get(), RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY, json.data(),
      json.size(), ev.host.empty() ? nullptr : ev.host.data(), ev.host.size(), nullptr);
  if (err == RdKafka::ERR_NO_ERROR) return;
  count_error(err);
  if (!failing_.exchange(true)) {
    spdlog::warn("{}: cannot queue events: {}", output_, RdKafka::err2str(err));
  }
}

void log_output::flush(std::chrono::milliseconds timeout) {
  producer_->flush(static_cast<int>(timeout.count()));
}

void log_output::on_delivery(RdKafka::Message& message) {
  if (message.err() == RdKafka::ERR_NO_ERROR) {
    lines_.inc();
    bytes_.inc(message.len());
    if (failing_.exchange(false)) spdlog::info("{}: delivering events again", output_);
    return;
  }
  count_error(message.err());
  if (!failing_.exchange(true)) {
    spdlog::warn("{}: event delivery failed: {}", output_, RdKafka::err2str(message.err()));
  }
}

void log_output::run() {
  while (!stopping_) producer_->poll(static_cast<int>(poll_timeout / 1ms));
}

void log_output::count_error(RdKafka::ErrorCode err) {
  const std::string reason = error_label(err);
  std::lock_guard lock(errors_mutex_);
  counter*& errors = errors_[reason];
  if (errors == nullptr) {
    errors = &metrics_.get_counter("tocsin_output_errors_total", "Lines outputs failed to write.",
                                   {{"output", output_}, {"reason", reason}});
  }
  errors->inc();
}

}  // namespace tocsin::kafka
