#include "core/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace tocsin {
namespace {

// `{a="x",b="y"}` with label values escaped as the exposition format requires.
std::string render_labels(const metric_labels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i != 0) out += ',';
    out += labels[i].first;
    out += "=\"";
    for (char c : labels[i].second) {
      if (c == '\\' || c == '"') {
        out += '\\';
        out += c;
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    out += '"';
  }
  out += '}';
  return out;
}

// A rendered label set with `le` added last: `{a="x",le="0.5"}`.
std::string with_le(const std::string& labels, const std::string& le) {
  const std::string pair = "le=\"" + le + "\"}";
  if (labels.empty()) return "{" + pair;
  return labels.substr(0, labels.size() - 1) + "," + pair;
}

// Shortest round-trip text, as Prometheus clients write floats ("0.005", "1", "2.5").
std::string format_double(double v) { return fmt::format("{}", v); }

const char* type_name(int type) {
  constexpr const char* names[] = {"counter", "gauge", "histogram"};
  return names[type];
}

}  // namespace

histogram::histogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)) {
  std::sort(bounds_.begin(), bounds_.end());
  bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
  buckets_ = std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1);
}

void histogram::observe(double v) {
  // The first bucket whose upper bound is >= v; the last slot is +Inf.
  const auto bucket = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) -
                                               bounds_.begin());
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t histogram::cumulative_count(std::size_t bucket) const {
  std::uint64_t total = 0;
  for (std::size_t i = 0; i <= bucket && i < bounds_.size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
  }
  return total;
}

metrics_registry::family& metrics_registry::family_for(const std::string& name,
                                                       const std::string& help, kind type) {
  auto [it, inserted] = families_.try_emplace(name);
  family& fam = it->second;
  if (inserted) {
    fam.help = help;
    fam.type = type;
  } else if (fam.type != type) {
    throw std::logic_error("metric " + name + " registered as both " +
                           type_name(static_cast<int>(fam.type)) + " and " +
                           type_name(static_cast<int>(type)));
  }
  return fam;
}

std::size_t metrics_registry::find_or_add(const std::string& name, const std::string& help,
                                          kind type, const metric_labels& labels,
                                          const std::vector<double>* buckets) {
  family& fam = family_for(name, help, type);
  const std::string key = render_labels(labels);
  if (auto s = fam.series.find(key); s != fam.series.end()) return s->second;
  std::size_t index = 0;
  switch (type) {
    case kind::counter:
      index = counters_.size();
      counters_.emplace_back();
      break;
    case kind::gauge:
      index = gauges_.size();
      gauges_.emplace_back();
      break;
    case kind::histogram:
      index = histograms_.size();
      histograms_.emplace_back(*buckets);
      break;
  }
  fam.series.emplace(key, index);
  return index;
}

void metrics_registry::declare(const std::string& name, const std::string& help, kind type) {
  std::lock_guard lock(mutex_);
  (void)family_for(name, help, type);
}

counter& metrics_registry::get_counter(const std::string& name, const std::string& help,
                                       const metric_labels& labels) {
  std::lock_guard lock(mutex_);
  return counters_[find_or_add(name, help, kind::counter, labels)];
}

gauge& metrics_registry::get_gauge(const std::string& name, const std::string& help,
                                   const metric_labels& labels) {
  std::lock_guard lock(mutex_);
  return gauges_[find_or_add(name, help, kind::gauge, labels)];
}

histogram& metrics_registry::get_histogram(const std::string& name, const std::string& help,
                                           const metric_labels& labels,
                                           const std::vector<double>& buckets) {
  std::lock_guard lock(mutex_);
  return histograms_[find_or_add(name, help, kind::histogram, labels, &buckets)];
}

std::string render_metric_labels(const metric_labels& labels) { return render_labels(labels); }

std::string format_metric_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return format_double(v);
}

std::uint64_t metrics_registry::add_renderer(family_renderer append) {
  std::lock_guard lock(renderers_mutex_);
  const std::uint64_t id = next_renderer_++;
  renderers_.emplace(id, std::move(append));
  return id;
}

void metrics_registry::remove_renderer(std::uint64_t id) {
  std::lock_guard lock(renderers_mutex_);
  renderers_.erase(id);
}

std::string metrics_registry::render() const {
  std::string out = render_own();
  std::lock_guard lock(renderers_mutex_);
  for (const auto& [id, append] : renderers_) append(out);
  return out;
}

std::string metrics_registry::render_own() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, fam] : families_) {
    out += "# HELP " + name + ' ' + fam.help + '\n';
    out += "# TYPE " + name + ' ' + type_name(static_cast<int>(fam.type)) + '\n';
    for (const auto& [labels, index] : fam.series) {
      switch (fam.type) {
        case kind::counter:
          out += name + labels + ' ' + std::to_string(counters_[index].value()) + '\n';
          break;
        case kind::gauge:
          out += name + labels + ' ' + std::to_string(gauges_[index].value()) + '\n';
          break;
        case kind::histogram: {
          const histogram& h = histograms_[index];
          // Read the count first: buckets observed after it can only make +Inf >= the others.
          const std::uint64_t count = h.count();
          const double sum = h.sum();
          for (std::size_t i = 0; i < h.upper_bounds().size(); ++i) {
            out += name + "_bucket" + with_le(labels, format_double(h.upper_bounds()[i])) + ' ' +
                   std::to_string(std::min(h.cumulative_count(i), count)) + '\n';
          }
          out += name + "_bucket" + with_le(labels, "+Inf") + ' ' + std::to_string(count) + '\n';
          out += name + "_sum" + labels + ' ' + format_double(sum) + '\n';
          out += name + "_count" + labels + ' ' + std::to_string(count) + '\n';
          break;
        }
      }
    }
  }
  return out;
}

}  // namespace tocsin
