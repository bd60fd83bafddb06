#pragma once
// The router's producer of cluster state (DESIGN.md "Scale-out"): silence records and
// notification-log records, idempotent with acks=all. publish() never blocks; delivery reports
// are read on the publisher's own thread, failures counted (tocsin_bus_errors_total{reason}) and
// logged. A record librdkafka could not deliver within message.timeout.ms is lost to the other
// routers (this router keeps it in router.db).

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "config/config.hpp"
#include "core/metrics.hpp"
#include "kafka/client_config.hpp"
#include "kafka/consumer_support.hpp"

namespace tocsin::kafka {

class state_publisher {
 public:
  // Throws client_config_error for rejected properties.
  // Records carry a `tocsin-node` header with `node_name`.
  state_publisher(const config::kafka_config& kafka, metrics_registry& metrics,
                  std::string node_name = {});
  ~state_publisher();  // flushes for up to 5 s, then stops
  state_publisher(const state_publisher&) = delete;
  state_publisher& operator=(const state_publisher&) = delete;

  // `partition` -1: librdkafka's partitioner by key. An empty `value` is a tombstone (null). An
  // empty `value` is a tombstone (null).
  void publish(const std::string& topic, std::int32_t partition, const std::string& key,
               const std::string& value);
  // An alert for the alerts topic (key = fingerprint), with the `tocsin-schema` header the
  // collectors' alert records carry.
  void publish_alert(const std::string& topic, const std::string& fingerprint,
                     const std::string& alert_json);

 private:
  void count_failure(RdKafka::ErrorCode err, const std::string& topic);

  void produce(const std::string& topic, std::int32_t partition, const std::string& key,
               const std::string& value, bool alert);

  const std::string node_name_;
  std::mutex errors_mutex_;  // produce() callers and the poller report failures
  client_errors errors_;     // counted per error, logged at most every 10 s per error
  counter& published_;
  std::unique_ptr<delivery_reports> reports_;
  std::unique_ptr<log_events> events_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::atomic<bool> stopping_{false};
  std::thread poller_;
};

}  // namespace tocsin::kafka
