#include "core/metrics.hpp"

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

}  // namespace

std::size_t metrics_registry::find_or_add(const std::string& name, const std::string& help,
                                          bool is_counter, const metric_labels& labels) {
  auto [it, inserted] = families_.try_emplace(name);
  family& fam = it->second;
  if (inserted) {
    fam.help = help;
    fam.is_counter = is_counter;
  } else if (fam.is_counter != is_counter) {
    throw std::logic_error("metric " + name + " registered as both counter and gauge");
  }
  const std::string key = render_labels(labels);
  if (auto s = fam.series.find(key); s != fam.series.end()) return s->second;
  std::size_t index;
  if (is_counter) {
    index = counters_.size();
    counters_.emplace_back();
  } else {
    index = gauges_.size();
    gauges_.emplace_back();
  }
  fam.series.emplace(key, index);
  return index;
}

counter& metrics_registry::get_counter(const std::string& name, const std::string& help,
                                       const metric_labels& labels) {
  std::lock_guard lock(mutex_);
  return counters_[find_or_add(name, help, true, labels)];
}

gauge& metrics_registry::get_gauge(const std::string& name, const std::string& help,
                                   const metric_labels& labels) {
  std::lock_guard lock(mutex_);
  return gauges_[find_or_add(name, help, false, labels)];
}

std::string metrics_registry::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, fam] : families_) {
    out += "# HELP " + name + ' ' + fam.help + '\n';
    out += "# TYPE " + name + (fam.is_counter ? " counter\n" : " gauge\n");
    for (const auto& [labels, index] : fam.series) {
      out += name + labels + ' ';
      out += fam.is_counter ? std::to_string(counters_[index].value())
                            : std::to_string(gauges_[index].value());
      out += '\n';
    }
  }
  return out;
}

}  // namespace tocsin
