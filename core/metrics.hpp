#pragma once
// Prometheus metrics: counters, gauges and histograms with labels, rendered in the text exposition
// format.

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace tocsin {

using metric_labels = std::vector<std::pair<std::string, std::string>>;

// `{a="x",b="y"}` with label values escaped as the text format requires; "" without labels.
std::string render_metric_labels(const metric_labels& labels);

// A sample value as Prometheus clients write floats: "0.005", "1", "2.5", "+Inf", "NaN".
std::string format_metric_value(double v);

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

// Counts observations into cumulative buckets (Prometheus `_bucket{le=...}`, `_sum`, `_count`).
// Lock-free; safe from any thread. A reader may see a bucket and the count of one observation
// apart, which Prometheus tolerates.
class histogram {
 public:
  // `upper_bounds` are sorted and deduplicated here; +Inf is implicit.
  explicit histogram(std::vector<double> upper_bounds);

  void observe(double v);

  [[nodiscard]] const std::vector<double>& upper_bounds() const { return bounds_; }
  // Observations <= upper_bounds()[i] (cumulative), for i < upper_bounds().size().
  [[nodiscard]] std::uint64_t cumulative_count(std::size_t bucket) const;
  [[nodiscard]] std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  [[nodiscard]] double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // per bucket, not cumulative
  std::atomic<std::uint64_t> count_{0};
  std::atomic<double> sum_{0.0};
};

// Owns every metric. Looking a metric up takes a lock, so hot paths look up once and keep the
// reference (references stay valid for the registry's lifetime).
class metrics_registry {
 public:
  counter& get_counter(const std::string& name, const std::string& help,
                       const metric_labels& labels = {});
  gauge& get_gauge(const std::string& name, const std::string& help,
                   const metric_labels& labels = {});
  // `buckets` apply when the series is created; a later lookup returns the existing series.
  histogram& get_histogram(const std::string& name, const std::string& help,
                           const metric_labels& labels, const std::vector<double>& buckets);

  enum class kind { counter, gauge, histogram };
  // A family whose series appear later (labels such as `reason` are known only then): its HELP
  // and TYPE lines are rendered from now on.
  void declare(const std::string& name, const std::string& help, kind type);

  // Families another layer renders (the log-derived metrics of rules files): render() appends
  // what `append` writes (whole families in the text format) after its own families. Returns an
  // id for remove_renderer(), which waits for a render() that is running it.
  using family_renderer = std::function<void(std::string& out)>;
  std::uint64_t add_renderer(family_renderer append);
  void remove_renderer(std::uint64_t id);

  // The whole registry in Prometheus text format 0.0.4.
  [[nodiscard]] std::string render() const;

 private:
  struct family {
    std::string help;
    kind type = kind::counter;
    std::map<std::string, std::size_t> series;  // rendered label set → index into storage
  };
  // The registry's own families.
  [[nodiscard]] std::string render_own() const;
  // The family `name`, added when new; throws std::logic_error if it has another type.
  family& family_for(const std::string& name, const std::string& help, kind type);
  // Index of the series in its kind's storage; the series is added when new.
  std::size_t find_or_add(const std::string& name, const std::string& help, kind type,
                          const metric_labels& labels,
                          const std::vector<double>* buckets = nullptr);

  mutable std::mutex mutex_;
  std::map<std::string, family> families_;
  std::deque<counter> counters_;  // deque: references stay valid as it grows
  std::deque<gauge> gauges_;
  std::deque<histogram> histograms_;
  // Not mutex_: a renderer takes its own locks, and may look metrics up while holding them.
  mutable std::mutex renderers_mutex_;
  std::map<std::uint64_t, family_renderer> renderers_;
  std::uint64_t next_renderer_ = 1;
};

}  // namespace tocsin
