#include "rules/log_metrics.hpp"

// Locking: `table_mutex` guards which metrics exist (replace() takes it exclusively, everything
// else shared); each metric's `mutex` guards its map of series, taken exclusively only to add a
// label set. The values themselves are atomics, so observations of known series only share
// locks. Nothing here takes a registry lock while holding one of these, so a registry render()
// (which calls render() under its renderers lock) cannot deadlock with observe().

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string_view>
#include <unordered_map>

#include "rules/matcher.hpp"

namespace tocsin::rules {
namespace {

// Every field but the source locations.
bool same_definition(const metric_definition& a, const metric_definition& b) {
  return a.name == b.name && a.type == b.type && same_patterns(a.match, b.match) &&
         a.min_severity == b.min_severity && a.value == b.value && a.buckets == b.buckets &&
         a.labels == b.labels && a.help == b.help && a.max_series == b.max_series;
}

// HELP text escaping of the text format: backslash and newline.
std::string escape_help(const std::string& help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// A rendered label set with `le` added last: `{a="x",le="0.5"}`.
std::string with_le(const std::string& labels, const std::string& le) {
  const std::string pair = "le=\"" + le + "\"}";
  if (labels.empty()) return "{" + pair;
  return labels.substr(0, labels.size() - 1) + "," + pair;
}

// The text of a named group of the match (the last of equal names, as for alert labels), else
// of an event field. False when neither is there.
bool lookup(const log_metrics::captures& groups, const collector::event& ev,
            const std::string& name, std::string& out) {
  // NOLINTNEXTLINE(modernize-loop-convert): clang 14 with libstdc++ 12 rejects reverse_view
  for (auto it = groups.rbegin(); it != groups.rend(); ++it) {
    if (it->first == name) {
      out = it->second;
      return true;
    }
  }
  return compiled_rules::field_value(ev, name, out);
}

struct series {
  explicit series(const std::vector<double>* buckets)
      : hist(buckets != nullptr ? std::make_unique<histogram>(*buckets) : nullptr) {}
  std::atomic<double> value{0.0};  // counter, gauge
  std::unique_ptr<histogram> hist;
};

struct metric_state {
  metric_definition def;
  std::vector<std::string> label_names;  // label_name_for_field of def.labels
  counter* dropped = nullptr;
  counter* value_errors = nullptr;
  mutable std::shared_mutex mutex;
  std::map<std::string, std::unique_ptr<series>> by_labels;  // rendered label set → series
};

}  // namespace

struct log_metrics::impl {
  explicit impl(metrics_registry& r) : registry(r) {
    registry.declare("tocsin_log_metric_series_dropped_total",
                     "Observations of log-derived metrics dropped: their max_series was reached.",
                     metrics_registry::kind::counter);
    registry.declare("tocsin_log_metric_value_errors_total",
                     "Matches of log-derived metrics whose value is missing, no finite number, or "
                     "negative for a counter.",
                     metrics_registry::kind::counter);
  }

  metrics_registry& registry;
  mutable std::shared_mutex table_mutex;
  std::vector<std::shared_ptr<metric_state>> states;  // parallel to *source
  std::unordered_map<std::string, std::size_t> by_name;
  const std::vector<metric_definition>* source = nullptr;

  std::shared_ptr<metric_state> make_state(const metric_definition& def) const {
    auto state = std::make_shared<metric_state>();
    state->def = def;
    for (const std::string& field : def.labels) {
      state->label_names.push_back(label_name_for_field(field));
    }
    const metric_labels label{{"metric", def.name}};
    state->dropped = &registry.get_counter("tocsin_log_metric_series_dropped_total", "", label);
    state->value_errors = &registry.get_counter("tocsin_log_metric_value_errors_total", "", label);
    return state;
  }

  static void observe(metric_state& m, const captures& groups, const collector::event& ev);
  static void render(const metric_state& m, std::string& out);
};

void log_metrics::impl::observe(metric_state& m, const captures& groups,
                                const collector::event& ev) {
  const metric_definition& def = m.def;
  double value = 1;
  if (!def.value.empty()) {
    std::string text;
    const bool found = lookup(groups, ev, def.value, text);
    const char* end = text.data() + text.size();
    const auto parsed = std::from_chars(text.data(), end, value);
    if (!found || text.empty() || parsed.ec != std::errc() || parsed.ptr != end ||
        !std::isfinite(value) || (def.type == metric_type::counter && value < 0)) {
      m.value_errors->inc();
      return;
    }
  }
  metric_labels labels;
  labels.reserve(def.labels.size());
  std::string text;
  for (std::size_t i = 0; i < def.labels.size(); ++i) {
    if (!lookup(groups, ev, def.labels[i], text)) text.clear();
    labels.emplace_back(m.label_names[i], text);
  }
  const std::string key = render_metric_labels(labels);

  series* s = nullptr;
  {
    std::shared_lock lock(m.mutex);
    if (const auto it = m.by_labels.find(key); it != m.by_labels.end()) s = it->second.get();
  }
  if (s == nullptr) {
    std::unique_lock lock(m.mutex);
    auto it = m.by_labels.find(key);
    if (it == m.by_labels.end()) {
      if (m.by_labels.size() >= std::max<std::size_t>(def.max_series, 1)) {
        lock.unlock();
        m.dropped->inc();
        return;
      }
      const bool histogram = def.type == metric_type::histogram;
      it = m.by_labels.emplace(key, std::make_unique<series>(histogram ? &def.buckets : nullptr))
               .first;
    }
    s = it->second.get();
  }
  // Series are only removed with their metric_state, which the caller holds.
  switch (def.type) {
    case metric_type::counter:
      s->value.fetch_add(value, std::memory_order_relaxed);
      break;
    case metric_type::gauge:
      s->value.store(value, std::memory_order_relaxed);
      break;
    case metric_type::histogram:
      s->hist->observe(value);
      break;
  }
}

void log_metrics::impl::render(const metric_state& m, std::string& out) {
  const std::string& name = m.def.name;
  out += "# HELP " + name + ' ' + escape_help(m.def.help) + '\n';
  out += "# TYPE " + name + ' ' + metric_type_name(m.def.type) + '\n';
  std::shared_lock lock(m.mutex);
  for (const auto& [labels, s] : m.by_labels) {
    if (!s->hist) {
      out += name + labels + ' ' + format_metric_value(s->value.load(std::memory_order_relaxed)) +
             '\n';
      continue;
    }
    // As the registry does: the count first, so no bucket shows more than +Inf.
    const histogram& h = *s->hist;
    const std::uint64_t count = h.count();
    const double sum = h.sum();
    for (std::size_t i = 0; i < h.upper_bounds().size(); ++i) {
      out += name + "_bucket" + with_le(labels, format_metric_value(h.upper_bounds()[i])) + ' ' +
             std::to_string(std::min(h.cumulative_count(i), count)) + '\n';
    }
    out += name + "_bucket" + with_le(labels, "+Inf") + ' ' + std::to_string(count) + '\n';
    out += name + "_sum" + labels + ' ' + format_metric_value(sum) + '\n';
    out += name + "_count" + labels + ' ' + std::to_string(count) + '\n';
  }
}

log_metrics::log_metrics(metrics_registry& registry) : impl_(std::make_unique<impl>(registry)) {}

log_metrics::~log_metrics() = default;

void log_metrics::replace(const std::vector<metric_definition>& definitions) {
  // Built before taking the lock: the registry lookups take the registry's.
  std::vector<std::shared_ptr<metric_state>> fresh;
  fresh.reserve(definitions.size());
  for (const metric_definition& def : definitions) fresh.push_back(impl_->make_state(def));

  std::unique_lock lock(impl_->table_mutex);
  for (auto& state : fresh) {
    const auto it = impl_->by_name.find(state->def.name);
    if (it == impl_->by_name.end()) continue;
    const std::shared_ptr<metric_state>& old = impl_->states[it->second];
    if (same_definition(old->def, state->def)) state = old;  // its series go on
  }
  impl_->states = std::move(fresh);
  impl_->by_name.clear();
  for (std::size_t i = 0; i < impl_->states.size(); ++i) {
    impl_->by_name.try_emplace(impl_->states[i]->def.name, i);
  }
  impl_->source = &definitions;
}

void log_metrics::observe(const std::vector<metric_definition>& definitions, std::size_t metric,
                          const captures& groups, const collector::event& ev) {
  std::shared_lock lock(impl_->table_mutex);
  metric_state* state = nullptr;
  if (&definitions == impl_->source) {
    if (metric < impl_->states.size()) state = impl_->states[metric].get();
  } else if (metric < definitions.size()) {
    const auto it = impl_->by_name.find(definitions[metric].name);
    if (it != impl_->by_name.end() &&
        same_definition(impl_->states[it->second]->def, definitions[metric])) {
      state = impl_->states[it->second].get();
    }
  }
  if (state != nullptr) impl::observe(*state, groups, ev);
}

void log_metrics::render(std::string& out) const {
  std::shared_lock lock(impl_->table_mutex);
  for (const auto& state : impl_->states) impl::render(*state, out);
}

std::string log_metrics::render() const {
  std::string out;
  render(out);
  return out;
}

}  // namespace tocsin::rules
