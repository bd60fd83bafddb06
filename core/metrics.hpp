#pragma once
// Prometheus metrics: counters and gauges with labels, rendered in the text exposition format.

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace tocsin {

using metric_labels = std::vector<std::pair<std::string, std::string>>;

// A monotonically increasing count. Lock-free; safe from any thread.
class counter {
 public:
  void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// A value that goes up and down. Lock-free; safe from any thread.
class gauge {
 public:
  void set(std::int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void add(std::int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  [[nodiscard]] std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

// Owns every metric. Looking a metric up takes a lock, so hot paths look up once and keep the
// reference (references stay valid for the registry's lifetime).
class metrics_registry {
 public:
  counter& get_counter(const std::string& name, const std::string& help,
                       const metric_labels& labels = {});
  gauge& get_gauge(const std::string& name, const std::string& help,
                   const metric_labels& labels = {});

  // The whole registry in Prometheus text format 0.0.4.
  [[nodiscard]] std::string render() const;

 private:
  struct family {
    std::string help;
    bool is_counter = true;
    std::map<std::string, std::size_t> series;  // rendered label set → index into storage
  };
  std::size_t find_or_add(const std::string& name, const std::string& help, bool is_counter,
                          const metric_labels& labels);

  mutable std::mutex mutex_;
  std::map<std::string, family> families_;
  std::deque<counter> counters_;  // deque: references stay valid as it grows
  std::deque<gauge> gauges_;
};

}  // namespace tocsin
