#include "rules/value_window.hpp"

#include <algorithm>
#include <cmath>

namespace tocsin::rules {
namespace {

// gamma and the bin offset k0, computed once (std::log is not constexpr).
struct bin_scale {
  double log_gamma;
  double log_representative;  // log(2 / (gamma + 1)): a bin's representative is gamma^i times it
  std::int32_t k0;            // ceil(log_gamma(zero_below)): that value lands in bin 1
  std::int32_t max_bin;       // the bin of the largest finite double
};

const bin_scale& scale() {
  static const bin_scale s = [] {
    constexpr double alpha = value_summary::relative_accuracy;
    const double gamma = (1 + alpha) / (1 - alpha);
    bin_scale r{};
    r.log_gamma = std::log(gamma);
    r.log_representative = std::log(2 / (gamma + 1));
    r.k0 = static_cast<std::int32_t>(std::ceil(std::log(value_summary::zero_below) / r.log_gamma));
    r.max_bin = static_cast<std::int32_t>(
                    std::ceil(std::log(std::numeric_limits<double>::max()) / r.log_gamma)) -
                r.k0 + 1;
    return r;
  }();
  return s;
}

// now - window without overflow, window at least 1.
std::int64_t cutoff_of(std::int64_t now, std::int64_t window) {
  window = std::max<std::int64_t>(window, 1);
  if (now < std::numeric_limits<std::int64_t>::min() + window) {
    return std::numeric_limits<std::int64_t>::min();
  }
  return now - window;
}

// The value of rank `rank` (1-based) of `n` values: min and max at the ends, else the
// representative of the bin holding it in sorted (bin, count) pairs, clamped into [lo, hi].
template <typename Bins>
double value_at_rank(const Bins& bins, std::uint64_t rank, std::uint64_t n, double lo, double hi) {
  if (rank <= 1) return lo;
  if (rank >= n) return hi;
  std::uint64_t seen = 0;
  for (const auto& [bin, n] : bins) {
    seen += n;
    if (seen >= rank) return std::clamp(value_summary::bin_value(bin), lo, hi);
  }
  return hi;  // not reached while the counts add up to the total
}

}  // namespace

std::uint64_t quantile_rank(double q, std::uint64_t n) {
  const double r = std::ceil(q * static_cast<double>(n) - 1e-9);
  if (!(r >= 1)) return 1;
  if (r >= static_cast<double>(n)) return n;
  return static_cast<std::uint64_t>(r);
}

std::int32_t value_summary::bin_of(double v) {
  const double a = std::fabs(v);
  if (!(a >= zero_below)) return 0;  // NaN too
  const auto& s = scale();
  const double k = std::ceil(std::log(a) / s.log_gamma) - s.k0 + 1;
  const auto bin = static_cast<std::int32_t>(std::clamp(k, 1.0, static_cast<double>(s.max_bin)));
  return v < 0 ? -bin : bin;
}

double value_summary::bin_value(std::int32_t bin) {
  if (bin == 0) return 0;
  const auto& s = scale();
  const std::int32_t k = std::min(bin < 0 ? -bin : bin, s.max_bin);
  // exp of the sum rather than a product so that the outermost bin does not overflow.
  const double v = std::exp((k + s.k0 - 1) * s.log_gamma + s.log_representative);
  return bin < 0 ? -v : v;
}

void value_summary::add(double v) {
  ++count;
  sum += v;
  min = std::min(min, v);
  max = std::max(max, v);
  const std::int32_t b = bin_of(v);
  const auto it = std::lower_bound(bins.begin(), bins.end(), b,
                                   [](const auto& p, std::int32_t x) { return p.first < x; });
  if (it != bins.end() && it->first == b) {
    ++it->second;
  } else {
    bins.emplace(it, b, 1);
  }
}

void value_summary::merge(const value_summary& other) {
  if (other.count == 0) return;
  count += other.count;
  sum += other.sum;
  min = std::min(min, other.min);
  max = std::max(max, other.max);
  std::vector<std::pair<std::int32_t, std::uint64_t>> merged;
  merged.reserve(bins.size() + other.bins.size());
  auto a = bins.begin();
  auto b = other.bins.begin();
  while (a != bins.end() || b != other.bins.end()) {
    if (b == other.bins.end() || (a != bins.end() && a->first < b->first)) {
      merged.push_back(*a++);
    } else if (a == bins.end() || b->first < a->first) {
      merged.push_back(*b++);
    } else {
      merged.emplace_back(a->first, a->second + b->second);
      ++a;
      ++b;
    }
  }
  bins = std::move(merged);
}

std::optional<double> value_summary::quantile(double q) const {
  if (count == 0 || std::isnan(q)) return std::nullopt;
  return value_at_rank(bins, quantile_rank(q, count), count, min, max);
}

void sliding_values::add(std::int64_t second, double v) {
  if (second <= cutoff_) return;
  seconds_[second].add(v);
  ++count_;
  sum_ += v;
  min_ = std::min(min_, v);
  max_ = std::max(max_, v);
  ++bins_[value_summary::bin_of(v)];
}

void sliding_values::add(std::int64_t second, const value_summary& s) {
  if (second <= cutoff_ || s.count == 0) return;
  seconds_[second].merge(s);
  count_ += s.count;
  sum_ += s.sum;
  min_ = std::min(min_, s.min);
  max_ = std::max(max_, s.max);
  for (const auto& [bin, n] : s.bins) bins_[bin] += n;
}

void sliding_values::expire(std::int64_t now, std::int64_t window) {
  const std::int64_t cutoff = cutoff_of(now, window);
  cutoff_ = std::max(cutoff_, cutoff);
  const auto keep = seconds_.upper_bound(cutoff);
  if (keep == seconds_.begin()) return;
  for (auto it = seconds_.begin(); it != keep; ++it) {
    count_ -= it->second.count;
    for (const auto& [bin, n] : it->second.bins) {
      const auto b = bins_.find(bin);
      if (b == bins_.end()) continue;  // cannot happen: every second's bins were added
      b->second -= std::min(b->second, n);
      if (b->second == 0) bins_.erase(b);
    }
  }
  seconds_.erase(seconds_.begin(), keep);
  // Recomputed rather than subtracted: the sum cannot drift and min/max need no deques.
  sum_ = 0;
  min_ = std::numeric_limits<double>::infinity();
  max_ = -std::numeric_limits<double>::infinity();
  for (const auto& [second, s] : seconds_) {
    sum_ += s.sum;
    min_ = std::min(min_, s.min);
    max_ = std::max(max_, s.max);
  }
}

std::optional<double> sliding_values::evaluate(aggregate_function f, double q) const {
  if (count_ == 0) return std::nullopt;
  switch (f) {
    case aggregate_function::avg:
      return sum_ / static_cast<double>(count_);
    case aggregate_function::min:
      return min_;
    case aggregate_function::max:
      return max_;
    case aggregate_function::sum:
      return sum_;
    case aggregate_function::quantile:
      if (std::isnan(q)) return std::nullopt;
      return value_at_rank(bins_, quantile_rank(q, count_), count_, min_, max_);
  }
  return std::nullopt;
}

}  // namespace tocsin::rules
