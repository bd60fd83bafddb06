#pragma once
// The collector's log outputs (`outputs:`): file archives and Kafka logs topics.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "collector/event_sink.hpp"
#include "collector/file_archive.hpp"
#include "config/config.hpp"
#include "core/fd_budget.hpp"
#include "core/metrics.hpp"
#include "kafka/log_output.hpp"

namespace tocsin::pipeline {

// One configured log output; `key` says what it writes where, so a reload keeps an unchanged
// output (its open files, its producer) and replaces only what changed.
struct log_output {
  std::string key;
  std::shared_ptr<collector::file_archive> archive;  // type file
  std::shared_ptr<kafka::log_output> kafka;          // type kafka

  [[nodiscard]] std::shared_ptr<collector::event_sink> sink() const;
  // Logs a warning when an archive is not written out within `timeout`.
  void flush(std::chrono::milliseconds timeout) const;
};

// What `out` writes where: equal keys are the same output.
std::string output_key(const config::output_config& out);

// The running log outputs, and the next ones a reload builds from them.
class log_output_set {
 public:
  // A Kafka output produces with the bus's settings (`bus_kafka`), which only a restart changes.
  // Archive files take descriptors from `fds` (null: no budget). `metrics` and `fds` must
  // outlive the set.
  log_output_set(config::kafka_config bus_kafka, metrics_registry& metrics, fd_budget* fds);

  // `cfg`'s outputs, reusing the running ones with the same key; changes nothing. An output
  // listed twice is written once. Throws for a Kafka output librdkafka refuses.
  [[nodiscard]] std::vector<log_output> build(const config::config& cfg) const;
  // Makes `next` (from build()) the running outputs; returns the previous ones it does not keep.
  std::vector<log_output> replace(std::vector<log_output> next);

  [[nodiscard]] const std::vector<log_output>& running() const { return running_; }
  // Every running output's sink, in config order.
  [[nodiscard]] std::vector<std::shared_ptr<collector::event_sink>> sinks() const;
  // SIGHUP: logrotate has moved the archive files; the next event opens them anew.
  void reopen_archives() const;
  // Writes out what every running output holds, by `deadline`.
  void flush(std::chrono::steady_clock::time_point deadline) const;

 private:
  const config::kafka_config bus_kafka_;
  metrics_registry& metrics_;
  fd_budget* const fds_;
  std::vector<log_output> running_;
};

}  // namespace tocsin::pipeline
