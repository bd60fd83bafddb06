#pragma once
// The router's side of the Kafka bus (`tocsin router`, `tocsin run` with bus.type kafka): joins the
// consumer group `bus.kafka.group` on `bus.kafka.topic`, auto-commit off. Each record is parsed as
// Alert JSON and handed to the handler; its offset is committed only after the handler returned,
// i.e. after the alert is in the router's durable state (at-least-once; the router deduplicates
// by fingerprint). Offsets are committed at least once a second, on partition revocation during
// a rebalance, and on stop(). A record that is not Alert JSON is counted
// (tocsin_bus_errors_total{reason="bad_alert"}), logged and skipped.
// Consumer lag per partition: tocsin_bus_consumer_lag{topic,partition}.

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "core/metrics.hpp"
#include "kafka/client_config.hpp"
#include "rules/alert.hpp"

namespace tocsin::kafka {

class alert_consumer {
 public:
  using handler = std::function<void(const rules::alert&)>;

  // Throws client_config_error for rejected properties.
  alert_consumer(const config::kafka_config& kafka, handler on_alert, metrics_registry& metrics);
  ~alert_consumer();  // stop()
  alert_consumer(const alert_consumer&) = delete;
  alert_consumer& operator=(const alert_consumer&) = delete;

  void start();  // subscribes and consumes on its own thread
  void stop();   // commits what was handled, leaves the group, joins the thread

  // True once the group has assigned partitions at least once (for /readyz).
  [[nodiscard]] bool assigned() const;

 private:
  class rebalance;  // librdkafka's RebalanceCb → on_rebalance()

  // What this consumer knows of one assigned partition.
  struct partition_state {
    std::int64_t next = -1;       // offset of the next record to handle; -1 = not known yet
    std::int64_t committed = -1;  // the last offset this consumer committed
    // A record whose handler threw: the partition is paused until `resume_at`, then read again
    // from `retry_offset`; later records that were already fetched are skipped meanwhile.
    std::int64_t retry_offset = -1;
    bool paused = false;
    std::chrono::steady_clock::time_point resume_at{};
  };

  struct error_count {
    counter* count = nullptr;
    std::chrono::steady_clock::time_point last_logged{};
    bool logged = false;
  };

  std::unique_ptr<RdKafka::KafkaConsumer> create_consumer();
  void run();  // the consume thread
  void handle(const RdKafka::Message& message);
  void on_rebalance(RdKafka::ErrorCode err, std::vector<RdKafka::TopicPartition*>& partitions);
  void assign(std::vector<RdKafka::TopicPartition*>& partitions);
  void revoke(std::vector<RdKafka::TopicPartition*>& partitions);
  void pause_for_retry(std::int32_t partition, std::int64_t offset);
  void resume_retries();
  // Commits `next` of every partition that moved since its last commit.
  void commit_handled();
  void update_lag();
  gauge& lag_gauge(std::int32_t partition);
  void count_error(RdKafka::ErrorCode err, const std::string& what);

  // The partition state, the error map and the lag gauges are touched only by the thread that
  // calls consume() (the rebalance callback runs inside it), or by stop() once that has ended.
  const config::kafka_config kafka_;
  const handler on_alert_;
  metrics_registry& metrics_;
  counter& consumed_;
  counter& bad_alerts_;
  counter& handler_failures_;
  std::unique_ptr<log_events> events_;
  std::unique_ptr<rebalance> rebalance_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;

  std::map<std::int32_t, partition_state> partitions_;
  std::map<std::int32_t, gauge*> lag_gauges_;
  std::map<RdKafka::ErrorCode, error_count> errors_;
  std::chrono::steady_clock::time_point next_commit_{};
  std::chrono::steady_clock::time_point next_lag_update_{};

  std::mutex lifecycle_mutex_;  // start() and stop()
  bool started_ = false;
  bool closed_ = false;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> assigned_{false};
  std::thread thread_;
};

}  // namespace tocsin::kafka
