#pragma once
// The raw-log output (`outputs: - type: kafka`): every event as Event JSON on `topic`, key = host,
// through its own producer (so a log flood never queues in front of alerts). While the producer's
// local queue is nearly full, accepting() is false: TCP inputs stop reading and UDP drops are
// counted by the inputs. Delivery failures are counted (tocsin_output_errors_total{output,reason})
// and logged, not spooled.

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "collector/event_sink.hpp"
#include "config/config.hpp"
#include "core/metrics.hpp"
#include "kafka/client_config.hpp"

namespace tocsin::kafka {

class log_output final : public collector::event_sink {
 public:
  // Throws client_config_error for rejected properties.
  log_output(const config::kafka_config& kafka, const std::string& topic,
             metrics_registry& metrics);
  // Flushes for up to 5 s.
  ~log_output() override;
  log_output(const log_output&) = delete;
  log_output& operator=(const log_output&) = delete;

  [[nodiscard]] bool accepting() const override;
  void consume(const collector::event& ev) override;  // thread-safe: called by every shard
  void flush(std::chrono::milliseconds timeout);

 private:
  void on_delivery(RdKafka::Message& message);  // on whichever thread polls or flushes
  void count_error(RdKafka::ErrorCode err);
  void run();  // the poll thread

  const std::string output_;  // the `output` label: "kafka:<topic>"
  metrics_registry& metrics_;
  counter& lines_;
  counter& bytes_;
  std::unique_ptr<delivery_reports> delivery_reports_;  // → on_delivery()
  std::unique_ptr<log_events> events_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::unique_ptr<RdKafka::Topic> topic_;  // looked up once, not per event
  int accept_below_ = 0;                   // 90 % of queue.buffering.max.messages

  std::atomic<bool> stopping_{false};
  std::atomic<bool> failing_{false};  // logs once per failing episode

  std::mutex errors_mutex_;
  std::map<std::string, counter*> errors_;  // tocsin_output_errors_total by reason

  std::thread thread_;
};

}  // namespace tocsin::kafka
