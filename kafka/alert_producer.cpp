#include "kafka/alert_producer.hpp"

#include <spdlog/spdlog.h>

#include <cstdint>
#include <string_view>

namespace tocsin::kafka {
namespace {

using std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::size_t replay_batch = 500;
constexpr auto poll_timeout = 100ms;
constexpr auto probe_interval = 1s;
constexpr auto probe_timeout = 200ms;
constexpr auto shutdown_flush = 5s;
constexpr auto drain_timeout = 5s;
constexpr auto fatal_retry_pause = 1s;

void* opaque_of(std::uint64_t spool_id) {
  // librdkafka's per-message opaque is a pointer; the id only rides in it.
  return reinterpret_cast<void*>(  // NOLINT(performance-no-int-to-ptr)
      static_cast<std::uintptr_t>(spool_id));
}

std::uint64_t spool_id_of(const RdKafka::Message& message) {
  return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(message.msg_opaque()));
}

// An alert larger than the client's or the brokers' message.max.bytes can never be delivered:
// spooled, it would hold up every alert behind it for ever. It is dropped (and counted).
bool undeliverable(RdKafka::ErrorCode err) { return err == RdKafka::ERR_MSG_SIZE_TOO_LARGE; }

void log_dropped(std::string_view fingerprint, std::size_t bytes) {
  spdlog::error(
      "kafka: alert {} ({} bytes) is larger than Kafka takes (message.max.bytes); dropping it",
      fingerprint, bytes);
}

}  // namespace

alert_producer::alert_producer(const config::kafka_config& kafka, alert_producer_options options,
                               metrics_registry& metrics)
    : kafka_(kafka),
      options_(std::move(options)),
      metrics_(metrics),
      published_(metrics.get_counter("tocsin_bus_published_total", "Alerts put on the bus.")),
      spool_(options_.spool_dir, spool_options{.max_bytes = kafka.spool_max_bytes}, metrics),
      delivery_reports_(std::make_unique<delivery_reports>(
          [this](RdKafka::Message& message) { on_delivery(message); })),
      events_(std::make_unique<log_events>("alert producer", [this] { fatal_ = true; })),
      producer_(create_producer()),
      spool_writer_(options_.spool_queue_capacity,
                    {.depth = metrics.get_gauge("tocsin_queue_depth", "Items waiting in a queue.",
                                                {{"queue", "spool"}}),
                     .dropped = metrics.get_counter(
                         "tocsin_spool_writer_behind_total",
                         "Alerts written to the spool by the publishing thread because the spool "
                         "writer's queue was full.")},
                    [this](const spool_entry& e) {
                      if (options_.before_spool_write) options_.before_spool_write();
                      write_to_spool(e);
                    }) {
  if (!spool_.empty()) {
    spdlog::info("kafka: {} spooled alerts from an earlier run will be published",
                 spool_.records());
  }
  thread_ = std::thread([this] { run(); });
}

alert_producer::~alert_producer() {
  stopping_ = true;
  thread_.join();
  // Delivery reports are served here now: what cannot be delivered in time ends up in the spool.
  producer_->flush(static_cast<int>(shutdown_flush / 1ms));
  drain(*producer_, drain_timeout);
  producer_.reset();
  // Every delivery report is in: nothing more reaches the writer, and what it holds is written.
  spool_writer_.drain(steady_clock::time_point::max());
}

std::unique_ptr<RdKafka::Producer> alert_producer::create_producer() {
  auto conf = make_conf(kafka_, client_role::alert_producer);
  std::string errstr;
  conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(delivery_reports_.get()), errstr);
  conf->set("event_cb", static_cast<RdKafka::EventCb*>(events_.get()), errstr);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), errstr));
  // Settings that are each valid but not together (acks=1 with idempotence) fail here.
  if (!producer) throw client_config_error({"bus.kafka: cannot create the producer: " + errstr});
  return producer;
}

bool alert_producer::connected() const { return connected_; }

bool alert_producer::spooling() const { return fatal_ || spool_backlog_ > 0 || !spool_.empty(); }

void alert_producer::to_spool(std::string key, std::string value) {
  ++spool_backlog_;
  spool_entry entry{std::move(key), std::move(value)};
  if (spool_writer_.try_push(entry)) {
    // Read first: shards publish concurrently, and the flag is almost always already false.
    if (spool_writer_behind_logged_.load(std::memory_order_relaxed)) {
      spool_writer_behind_logged_ = false;
    }
    return;
  }
  // The writer is far behind (a long outage timing out a full librdkafka queue at once) or
  // stopping: write here rather than lose the alert. Only then does the caller wait for the disk,
  // and this alert may land in the spool ahead of some the writer still holds.
  if (!spool_writer_behind_logged_.exchange(true)) {
    spdlog::warn(
        "kafka: the spool writer is {} alerts behind; writing alerts to the spool directly until "
        "it catches up",
        options_.spool_queue_capacity);
  }
  write_to_spool(entry);
}

void alert_producer::write_to_spool(const spool_entry& e) {
  spool_.append(e.key, e.value);  // counts and logs its own failures
  --spool_backlog_;               // after the append: spooling() stays true throughout
}

void alert_producer::publish(std::vector<rules::alert> alerts) {
  for (const auto& alert : alerts) {
    std::string value = rules::to_json(alert);
    // Behind whatever is spooled already, so alerts reach the bus in order.
    if (spooling()) {
      to_spool(alert.fingerprint, std::move(value));
      continue;
    }
    RdKafka::ErrorCode err;
    {
      std::shared_lock lock(producer_mutex_);
      err = produce(*producer_, alert.fingerprint, value, 0);
    }
    if (err == RdKafka::ERR_NO_ERROR) continue;
    count_error(err);
    if (undeliverable(err)) {
      log_dropped(alert.fingerprint, value.size());
      continue;
    }
    if (err == RdKafka::ERR__FATAL) {
      fatal_ = true;
    } else if (err != RdKafka::ERR__QUEUE_FULL) {
      spdlog::warn("kafka: cannot publish alert {}: {}; spooling it", alert.fingerprint,
                   RdKafka::err2str(err));
    }
    to_spool(alert.fingerprint, std::move(value));
  }
}

RdKafka::ErrorCode alert_producer::produce(RdKafka::Producer& producer, const std::string& key,
                                           const std::string& value, std::uint64_t spool_id) {
  RdKafka::Headers* headers = RdKafka::Headers::create();
  headers->add("tocsin-node", options_.node_name);
  headers->add("tocsin-schema", alert_schema_version);
  const RdKafka::ErrorCode err =
      producer.produce(kafka_.topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                       const_cast<char*>(value.data()), value.size(), key.data(), key.size(), 0,
                       headers, opaque_of(spool_id));
  if (err != RdKafka::ERR_NO_ERROR) delete headers;  // librdkafka owns them only on success
  return err;
}

void alert_producer::on_delivery(RdKafka::Message& message) {
  const std::uint64_t spool_id = spool_id_of(message);
  if (message.err() == RdKafka::ERR_NO_ERROR) {
    published_.inc();
    connected_ = true;
    if (spool_id != 0) {
      spool_.ack(spool_id);
      replay_in_flight_.erase(spool_id);
    }
    if (delivering_failed_) {
      spdlog::info("kafka: alerts are being delivered again");
      delivering_failed_ = false;
    }
    if (!replay_batch_failed_) replay_now_ = true;  // the bus is back: no need to wait
    return;
  }

  count_error(message.err());
  if (undeliverable(message.err())) {  // the brokers' limit is below the client's
    log_dropped(
        std::string_view(static_cast<const char*>(message.key_pointer()), message.key_len()),
        message.len());
    if (spool_id != 0) {
      spool_.ack(spool_id);
      replay_in_flight_.erase(spool_id);
    }
    return;
  }
  if (!delivering_failed_) {
    spdlog::warn("kafka: alert delivery failed ({}); spooling until Kafka takes them again",
                 RdKafka::err2str(message.err()));
    delivering_failed_ = true;
  }
  if (spool_id == 0) {
    to_spool(std::string(static_cast<const char*>(message.key_pointer()), message.key_len()),
             std::string(static_cast<const char*>(message.payload()), message.len()));
  } else {
    spool_.nack(spool_id);  // still on disk
    replay_in_flight_.erase(spool_id);
    replay_batch_failed_ = true;
  }
  replay_now_ = false;
  next_replay_ = steady_clock::now() + options_.replay_interval;
}

void alert_producer::run() {
  while (!stopping_) {
    producer_->poll(static_cast<int>(poll_timeout / 1ms));
    if (fatal_) {
      replace_failed_producer();
      continue;
    }
    if (!connected_) probe_connection();
    if (replay_in_flight_.empty() && (replay_now_ || steady_clock::now() >= next_replay_) &&
        !spool_.empty()) {
      replay();
    }
  }
}

void alert_producer::replay() {
  replay_now_ = false;
  replay_batch_failed_ = false;
  next_replay_ = steady_clock::now() + options_.replay_interval;
  const std::vector<spool_record> records = spool_.take(replay_batch);
  for (std::size_t i = 0; i < records.size(); ++i) {
    const RdKafka::ErrorCode err =
        produce(*producer_, records[i].key, records[i].value, records[i].id);
    if (err == RdKafka::ERR_NO_ERROR) {
      replay_in_flight_.insert(records[i].id);
      continue;
    }
    if (undeliverable(err)) {  // spooled by a run with a larger message.max.bytes
      count_error(err);
      log_dropped(records[i].key, records[i].value.size());
      spool_.ack(records[i].id);
      continue;
    }
    // Not taken (queue full, or worse): the rest waits on disk for the next round.
    if (err == RdKafka::ERR__FATAL) fatal_ = true;
    spdlog::debug("kafka: spool replay paused: {}", RdKafka::err2str(err));
    for (std::size_t j = i; j < records.size(); ++j) spool_.nack(records[j].id);
    break;
  }
}

void alert_producer::probe_connection() {
  const auto now = steady_clock::now();
  if (now < next_probe_) return;
  next_probe_ = now + probe_interval;
  RdKafka::Metadata* metadata = nullptr;
  if (producer_->metadata(false, nullptr, &metadata, static_cast<int>(probe_timeout / 1ms)) ==
      RdKafka::ERR_NO_ERROR) {
    connected_ = true;
  }
  delete metadata;
}

void alert_producer::replace_failed_producer() {
  std::string reason;
  const RdKafka::ErrorCode code = producer_->fatal_error(reason);
  spdlog::error(
      "kafka: the alert producer failed for good ({}: {}); spooling its alerts and starting a "
      "new one",
      RdKafka::err2str(code), reason);
  drain(*producer_, drain_timeout);

  std::unique_ptr<RdKafka::Producer> fresh;
  try {
    fresh = create_producer();
  } catch (const std::exception& e) {
    spdlog::error("kafka: cannot start a new alert producer: {}", e.what());
    std::this_thread::sleep_for(fatal_retry_pause);
    return;  // fatal_ stays set: tried again on the next round
  }
  {
    std::unique_lock lock(producer_mutex_);
    producer_.swap(fresh);
  }
  fatal_ = false;
  replay_now_ = true;
  // `fresh` now holds the failed producer; it is deleted here, outside the lock.
}

void alert_producer::drain(RdKafka::Producer& producer, std::chrono::milliseconds timeout) {
  producer.purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
  const auto deadline = steady_clock::now() + timeout;
  while (producer.outq_len() > 0 && steady_clock::now() < deadline) producer.poll(50);
  producer.poll(0);
  // Spooled records whose report never came are handed out again by take().
  for (const std::uint64_t id : replay_in_flight_) spool_.nack(id);
  replay_in_flight_.clear();
}

void alert_producer::count_error(RdKafka::ErrorCode err) {
  const std::string reason = error_label(err);
  std::lock_guard lock(errors_mutex_);
  counter*& errors = errors_[reason];
  if (errors == nullptr) {
    errors = &metrics_.get_counter("tocsin_bus_errors_total", "Alerts the bus failed to carry.",
                                   {{"reason", reason}});
  }
  errors->inc();
}

}  // namespace tocsin::kafka
