#include "pipeline/log_outputs.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

namespace tocsin::pipeline {

std::shared_ptr<collector::event_sink> log_output::sink() const {
  if (archive) return archive;
  return kafka;
}

void log_output::flush(std::chrono::milliseconds timeout) const {
  if (archive && !archive->flush(timeout)) {
    spdlog::warn("archive {}: not everything written within {} ms", key, timeout.count());
  }
  if (kafka) kafka->flush(timeout);
}

std::string output_key(const config::output_config& out) {
  if (out.type == config::output_type::kafka) return "kafka:" + out.topic;
  return "file:" + out.path + " max_open_files=" + std::to_string(out.max_open_files) +
         " max_new_paths_per_minute=" + std::to_string(out.max_new_paths_per_minute);
}

log_output_set::log_output_set(config::kafka_config bus_kafka, metrics_registry& metrics,
                               fd_budget* fds)
    : bus_kafka_(std::move(bus_kafka)), metrics_(metrics), fds_(fds) {}

std::vector<log_output> log_output_set::build(const config::config& cfg) const {
  std::vector<log_output> out;
  for (const auto& o : cfg.outputs) {
    const std::string key = output_key(o);
    const auto has_key = [&](const log_output& x) { return x.key == key; };
    if (std::any_of(out.begin(), out.end(), has_key)) {
      spdlog::warn("{}output {} is listed twice; it is written once",
                   config::location_prefix(o.where), key);
      continue;
    }
    if (auto same = std::find_if(running_.begin(), running_.end(), has_key);
        same != running_.end()) {
      out.push_back(*same);
    } else if (o.type == config::output_type::kafka) {
      out.push_back(
          {key, nullptr, std::make_shared<kafka::log_output>(bus_kafka_, o.topic, metrics_)});
    } else {
      collector::file_archive_limits limits;
      limits.max_open_files = o.max_open_files;
      limits.max_new_paths_per_minute = o.max_new_paths_per_minute;
      limits.fds = fds_;
      out.push_back(
          {key, std::make_shared<collector::file_archive>(o.path, metrics_, limits), nullptr});
    }
  }
  return out;
}

std::vector<log_output> log_output_set::replace(std::vector<log_output> next) {
  std::vector<log_output> dropped;
  for (log_output& old : running_) {
    const bool kept = std::any_of(next.begin(), next.end(),
                                  [&](const log_output& o) { return o.key == old.key; });
    if (!kept) dropped.push_back(std::move(old));
  }
  running_ = std::move(next);
  return dropped;
}

std::vector<std::shared_ptr<collector::event_sink>> log_output_set::sinks() const {
  std::vector<std::shared_ptr<collector::event_sink>> out;
  out.reserve(running_.size());
  for (const auto& o : running_) out.push_back(o.sink());
  return out;
}

void log_output_set::reopen_archives() const {
  for (const auto& o : running_) {
    if (o.archive) o.archive->reopen();
  }
}

void log_output_set::flush(std::chrono::steady_clock::time_point deadline) const {
  for (const auto& o : running_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    o.flush(std::max(left, std::chrono::milliseconds::zero()));
  }
}

}  // namespace tocsin::pipeline
