#pragma once
// The Kafka AlertBus (`bus.type: kafka`): each alert is one record on `bus.kafka.topic`,
// key = fingerprint, value = Alert JSON, header `tocsin-node` = node_name. Idempotent, acks=all.
//
// Nothing is lost while Kafka is away: an alert librdkafka cannot take (local queue full) or
// cannot deliver (message timeout, fatal error, purge at shutdown) goes to the disk spool. The
// spool is written by its own worker (tocsin_queue_depth{queue="spool"}), so publish() never
// waits for an fdatasync; an alert is durable once that worker has synced it. One that finds the
// worker's queue full is written by the publishing thread itself and counted
// (tocsin_spool_writer_behind_total). While the spool or its worker holds records, new alerts go
// behind them so order is kept, and a background thread re-publishes the spool oldest first,
// deleting records only on a successful delivery report. The spool left by a previous run is
// replayed at start-up; what the worker still holds at shutdown is written first.
//
// An alert larger than message.max.bytes (the client's or the brokers') can never be delivered:
// it is dropped and counted (tocsin_bus_errors_total{reason="msg_size_too_large"}), also when a
// spool from a run with a larger limit holds it, instead of holding up every alert behind it.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "bus/alert_bus.hpp"
#include "config/config.hpp"
#include "core/bounded_worker.hpp"
#include "core/metrics.hpp"
#include "kafka/client_config.hpp"
#include "kafka/spool.hpp"

namespace tocsin::kafka {

struct alert_producer_options {
  std::string node_name;                            // the tocsin-node header
  std::filesystem::path spool_dir;                  // data_dir/spool
  std::chrono::milliseconds replay_interval{1000};  // how often an idle spool replay is tried
  std::size_t spool_queue_capacity = 100000;        // alerts waiting for the spool writer
  // Tests: runs on the spool writer before each append, so a test can hold the writer up.
  std::function<void()> before_spool_write;
};

class alert_producer final : public bus::alert_bus {
 public:
  // Throws client_config_error for rejected properties, std::runtime_error for an unusable spool.
  alert_producer(const config::kafka_config& kafka, alert_producer_options options,
                 metrics_registry& metrics);
  // Waits up to 5 s for in-flight deliveries; whatever is still undelivered is spooled, and the
  // spool writer writes everything it holds before this returns.
  ~alert_producer() override;
  alert_producer(const alert_producer&) = delete;
  alert_producer& operator=(const alert_producer&) = delete;

  // Never blocks on Kafka: produce or spool.
  void publish(std::vector<rules::alert> alerts) override;

  // True once a broker has answered (for /readyz).
  [[nodiscard]] bool connected() const;

 private:
  struct spool_entry {
    std::string key;
    std::string value;
  };

  // True while alerts must go behind the spool rather than straight to Kafka.
  [[nodiscard]] bool spooling() const;
  // Hands one alert to the spool writer; never waits for the disk.
  void to_spool(std::string key, std::string value);
  void write_to_spool(const spool_entry& e);  // the spool writer's thread

  std::unique_ptr<RdKafka::Producer> create_producer();
  // Hands one record to librdkafka; `spool_id` 0 = a direct publish.
  RdKafka::ErrorCode produce(RdKafka::Producer& producer, const std::string& key,
                             const std::string& value, std::uint64_t spool_id);
  void on_delivery(RdKafka::Message& message);  // on whichever thread polls
  void run();                                   // the poll / replay thread
  void replay();
  void probe_connection();
  void replace_failed_producer();
  // Purges what `producer` holds and polls until every delivery report has been handled.
  void drain(RdKafka::Producer& producer, std::chrono::milliseconds timeout);
  void count_error(RdKafka::ErrorCode err);

  const config::kafka_config kafka_;
  const alert_producer_options options_;
  metrics_registry& metrics_;
  counter& published_;
  spool spool_;
  std::unique_ptr<delivery_reports> delivery_reports_;  // → on_delivery()
  std::unique_ptr<log_events> events_;

  // Shared for produce(), exclusive to replace the producer (poll thread only, after a fatal
  // error). The poll thread reads producer_ without it: nobody else replaces it.
  std::shared_mutex producer_mutex_;
  std::unique_ptr<RdKafka::Producer> producer_;

  std::atomic<bool> fatal_{false};
  std::atomic<bool> connected_{false};
  std::atomic<bool> stopping_{false};

  // Replay state, touched only where delivery reports are served (the poll thread, or the
  // destructor once that thread has stopped).
  std::set<std::uint64_t> replay_in_flight_;  // spool ids produced, no report yet
  bool replay_batch_failed_ = false;
  bool replay_now_ = false;
  bool delivering_failed_ = false;  // logs once per failing episode
  std::chrono::steady_clock::time_point next_replay_{};
  std::chrono::steady_clock::time_point next_probe_{};

  std::mutex errors_mutex_;
  std::map<std::string, counter*> errors_;  // tocsin_bus_errors_total by reason

  // Alerts handed to the spool writer and not yet appended: they count as spooled for ordering.
  std::atomic<std::size_t> spool_backlog_{0};
  std::atomic<bool> spool_writer_behind_logged_{false};  // one warning per episode
  // After what its thread uses (spool_, options_), before thread_ (on_delivery() pushes to it).
  bounded_worker<spool_entry> spool_writer_;

  std::thread thread_;
};

}  // namespace tocsin::kafka
