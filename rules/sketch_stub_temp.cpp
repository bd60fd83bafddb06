// TEMP STUB implementation until the sketch branch merges.
#include <algorithm>
#include <cmath>
#include <map>
#include "rules/sliding_distinct.hpp"
#include "rules/value_window.hpp"
namespace tocsin::rules {
namespace { std::map<const void*, std::map<std::uint64_t, std::int64_t>> d; std::map<const void*, std::vector<std::pair<std::int64_t,double>>> v; }
std::uint64_t value_hash(std::string_view value) { std::uint64_t h = 1469598103934665603ULL; for (unsigned char c : value) { h ^= c; h *= 1099511628211ULL; } return h; }
std::pair<std::uint32_t, std::uint8_t> sliding_distinct::register_of(std::uint64_t h) { return {static_cast<std::uint32_t>(h >> 54), 1}; }
void sliding_distinct::add(std::uint64_t hash, std::int64_t second) { auto& m = d[this]; m[hash] = std::max(m[hash], second); }
void sliding_distinct::add_register(std::uint32_t, std::uint8_t, std::int64_t) {}
std::uint64_t sliding_distinct::count(std::int64_t now, std::int64_t window) const { std::uint64_t n = 0; for (auto& [h, s] : d[this]) if (s > now - window) ++n; return n; }
void sliding_distinct::expire(std::int64_t now, std::int64_t window) { auto& m = d[this]; std::erase_if(m, [&](auto& x) { return x.second <= now - window; }); }
bool sliding_distinct::empty() const { return d[this].empty(); }
bool sliding_distinct::exact() const { return true; }
void value_summary::add(double x) { ++count; sum += x; min = std::min(min, x); max = std::max(max, x); }
void value_summary::merge(const value_summary&) {}
void sliding_values::add(std::int64_t s, double x) { v[this].emplace_back(s, x); }
void sliding_values::add(std::int64_t, const value_summary&) {}
void sliding_values::expire(std::int64_t now, std::int64_t window) { std::erase_if(v[this], [&](auto& x) { return x.first <= now - window; }); }
std::uint64_t sliding_values::count() const { return v[this].size(); }
bool sliding_values::empty() const { return v[this].empty(); }
std::optional<double> sliding_values::evaluate(aggregate_function f, double q) const {
  auto xs = v[this]; if (xs.empty()) return std::nullopt; std::vector<double> a; for (auto& p : xs) a.push_back(p.second); std::sort(a.begin(), a.end());
  double sum = 0; for (double x : a) sum += x;
  switch (f) { case aggregate_function::avg: return sum / a.size(); case aggregate_function::min: return a.front(); case aggregate_function::max: return a.back(); case aggregate_function::sum: return sum;
  default: { std::size_t r = static_cast<std::size_t>(std::ceil(q * a.size())); if (r == 0) r = 1; return a[r - 1]; } }
}
}
