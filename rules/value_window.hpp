#pragma once
// Numbers over a sliding window, for `aggregate` rules (avg, min, max, sum, pNN of a field);
// mergeable so that a router can combine the per-second partial states of a cluster's collectors.
//
// Semantics, precisely (tests/unit/rules/value_window_test.cpp pins each of them):
//
// Summary. value_summary keeps count, sum, min and max exactly (sum is a plain double sum: exact
// for integers below 2^53, otherwise the usual rounding) and a histogram over logarithmic bins
// (DDSketch, Masson et al. 2019) with relative accuracy alpha = 1 %: bin i > 0 holds
// (gamma^(i-1+k0), gamma^(i+k0)] with gamma = (1 + alpha) / (1 - alpha) and k0 chosen so that
// 1e-9 falls in bin 1; its representative 2·gamma^(i+k0) / (gamma + 1) is within 1 % of every value
// in it. |v| < 1e-9 goes to bin 0 (representative 0); a negative v goes to minus the bin of -v, so
// bins sort like their values. Merging adds counts bin by bin, so it equals adding every value.
// NaN and ±infinity are the caller's to refuse: add() would turn sum/min/max into NaN or infinity
// (bin_of puts NaN in bin 0 and clamps infinities to the outermost bins, so nothing is undefined).
//
// Quantiles. The q-quantile (q in (0, 1]) of n values is the value of nearest rank
// r = ceil(q·n) (1-based, ascending), with q·n within 1e-9 of an integer counting as that
// integer so that 0.07 × 100 is rank 7, not 8; a q below that gives rank 1, above 1 rank n, NaN
// nullopt. Rank 1 is min and rank n is max, exactly; any other rank's estimate is the
// representative of the bin holding it, clamped into [min, max]: within 1 % of the true value
// (clamping only moves it closer).
//
// Window. sliding_values keeps one summary per Unix second. A value at second s counts at time
// `now` while s > now - window (window in whole seconds; below 1 is treated as 1). expire(now,
// window) drops seconds <= now - window and remembers that cutoff: later add()s at or below the
// highest cutoff seen are ignored, since they are already outside. A second later than `now` (a
// node whose clock runs ahead) is kept and counts. Seconds may arrive in any order; an older
// second still inside is merged into its own summary.
//
// Costs (B = distinct bins in one second, W = distinct bins in the window, S = kept seconds):
// add O(log S + log B + log W), plus an O(B) shift of the second's sorted bins when a value opens
// a new bin in it (B is small). The window's count, sum, min, max and bins are running totals:
// evaluate(avg/sum/min/max) is O(1), quantile O(W). expire() is O(log S) when nothing drops; when
// seconds drop it subtracts their bins (O(B log W) each) and recomputes sum, min and max from the S
// kept seconds' summaries in one pass: O(S), at most once per second of advancing time. So the
// sum never drifts from subtracting (after each such expire() it is the sum of the kept seconds'
// sums, oldest first; between them new values are added to it) and min/max need no deques.
//
// Memory per group (x86-64, libstdc++): sizeof(sliding_values), 136 bytes; per kept second a map
// node with its summary (~112 bytes) and a block of 16 bytes per bin it holds; per distinct bin
// in the window a map node (~64 bytes). The per-second bins dominate: a 5-minute window of
// latencies spread over 200 bins each second is ~300 × (112 + 3200) + 600 × 64 ≈ 1 MB, a steady
// value (1 bin a second) ~45 KB. Memory grows with window × spread, so long windows over widely
// spread values want few groups.

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "rules/rule.hpp"  // aggregate_function

namespace tocsin::rules {

// Count, sum, min, max and a log-bucketed histogram (DDSketch-style, 1 % relative accuracy) of
// numbers; mergeable by adding bins.
struct value_summary {
  static constexpr double relative_accuracy = 0.01;
  static constexpr double zero_below = 1e-9;  // |v| below this is bin 0

  std::uint64_t count = 0;
  double sum = 0;
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  std::vector<std::pair<std::int32_t, std::uint64_t>> bins;  // sorted by bin, counts > 0

  void add(double v);  // NaN/inf are the caller's to refuse (see above)
  void merge(const value_summary& other);
  // The q-quantile's estimate (see above); nullopt when empty or q is NaN.
  [[nodiscard]] std::optional<double> quantile(double q) const;

  static std::int32_t bin_of(double v);
  static double bin_value(std::int32_t bin);  // within 1 % of any v in the bin
};

// The nearest rank ceil(q·n) of the q-quantile of n >= 1 values, in [1, n] (see above).
std::uint64_t quantile_rank(double q, std::uint64_t n);

// A sliding window of value summaries, one per second.
class sliding_values {
 public:
  void add(std::int64_t second, double v);
  void add(std::int64_t second, const value_summary& s);        // a collector's second, merged
  void expire(std::int64_t now, std::int64_t window);           // drop seconds <= now - window
  [[nodiscard]] std::uint64_t count() const { return count_; }  // values in the kept seconds
  // avg, min, max, sum; quantile q in (0, 1]: nearest rank ceil(q·count) estimated within 1 %.
  // nullopt when no value is kept.
  [[nodiscard]] std::optional<double> evaluate(aggregate_function f, double q = 0) const;
  [[nodiscard]] bool empty() const { return count_ == 0; }

 private:
  void add_bins(const value_summary& s);

  std::map<std::int64_t, value_summary> seconds_;
  // Running totals over seconds_.
  std::uint64_t count_ = 0;
  double sum_ = 0;
  double min_ = std::numeric_limits<double>::infinity();
  double max_ = -std::numeric_limits<double>::infinity();
  std::map<std::int32_t, std::uint64_t> bins_;
  // The highest cutoff (now - window) expire() has seen: seconds at or below it are ignored.
  std::int64_t cutoff_ = std::numeric_limits<std::int64_t>::min();
};

}  // namespace tocsin::rules
