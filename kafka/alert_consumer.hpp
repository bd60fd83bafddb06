#pragma once
// The router's view of the cluster (DESIGN.md "Scale-out"): every partition of the alerts topic,
// from `bus.kafka.rebuild_window` ago (found by offsetsForTimes), and every partition of the
// silences and on-call topics, from the beginning, assign()ed: no consumer group and no commits,
// so every router sees every alert, silence and escalation. Alert records go to `on_alert`,
// silence records to `on_silence`, escalation records to `on_oncall`. A record that cannot be read
// is counted (tocsin_bus_errors_total{reason= "bad_alert"}), logged and skipped. Lag per alerts
// partition: tocsin_bus_consumer_lag.

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "config/config.hpp"
#include "core/metrics.hpp"
#include "kafka/client_config.hpp"
#include "kafka/consumer_support.hpp"
#include "rules/alert.hpp"

namespace tocsin::kafka {

class alert_consumer {
 public:
  struct handlers {
    std::function<void(const rules::alert&)> on_alert;
    std::function<void(std::string_view key, std::string_view value)> on_silence;
    std::function<void(std::string_view key, std::string_view value)> on_oncall;
  };

  // Throws client_config_error for rejected properties.
  alert_consumer(const config::kafka_config& kafka, handlers on, metrics_registry& metrics);
  ~alert_consumer();  // stop()
  alert_consumer(const alert_consumer&) = delete;
  alert_consumer& operator=(const alert_consumer&) = delete;

  // Finds the partitions and where to start in each, assigns them and consumes on its own
  // thread. Throws std::runtime_error when the topics' metadata or offsets cannot be read.
  void start();
  void stop();  // joins the thread and closes the client

  // True once every partition was read up to where it ended at start(): the router's state is
  // rebuilt (for /readyz).
  [[nodiscard]] bool caught_up() const { return caught_up_; }

 private:
  std::unique_ptr<RdKafka::KafkaConsumer> create_consumer();
  int partition_count(const std::string& topic);
  void run();  // the consume thread
  void handle(const RdKafka::Message& message);
  void reached_end(const std::string& topic, std::int32_t partition);
  void update_lag();
  gauge& lag_gauge(std::int32_t partition);

  const config::kafka_config kafka_;
  const handlers on_;
  metrics_registry& metrics_;
  counter& consumed_;
  counter& bad_alerts_;
  counter& handler_failures_;
  std::unique_ptr<log_events> events_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;

  // Touched by the consume thread only (or by start() before it runs).
  std::map<std::int32_t, std::int64_t> next_alert_offset_;  // per alerts partition
  std::set<std::pair<std::string, std::int32_t>> not_at_end_;
  std::map<std::int32_t, gauge*> lag_gauges_;
  client_errors errors_;
  std::chrono::steady_clock::time_point next_lag_update_{};

  std::mutex lifecycle_mutex_;  // start() and stop()
  bool started_ = false;
  bool closed_ = false;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> caught_up_{false};
  std::thread thread_;
};

}  // namespace tocsin::kafka
