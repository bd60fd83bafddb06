// Tests for rules/value_window.hpp: the log-bucketed summary's accuracy and merging, and the
// sliding window of summaries (its boundary, late seconds, and quantiles as it slides).

#include "rules/value_window.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace tocsin::rules {
namespace {

constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double quantiles[] = {0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1};

// The exact nearest-rank value of `sorted`.
double exact_quantile(const std::vector<double>& sorted, double q) {
  return sorted[quantile_rank(q, sorted.size()) - 1];
}

// Whether `estimate` is within 1 % of `truth` (plus the zero bin's 1e-9), tracking the worst.
bool within_one_percent(double estimate, double truth, double* worst) {
  const double error = std::fabs(estimate - truth);
  if (truth != 0) *worst = std::max(*worst, error / std::fabs(truth));
  return error <= 0.01 * std::fabs(truth) * (1 + 1e-12) + value_summary::zero_below;
}

TEST(ValueSummary, BinsAreWithinOnePercentAndSortLikeValues) {
  std::int32_t previous = std::numeric_limits<std::int32_t>::min();
  double worst = 0;
  for (double v = -1e12; v < 1e12;) {
    const std::int32_t bin = value_summary::bin_of(v);
    EXPECT_GE(bin, previous) << v;
    previous = bin;
    EXPECT_TRUE(
        within_one_percent(value_summary::bin_value(bin), std::fabs(v) < 1e-9 ? 0 : v, &worst))
        << v;
    // Walk the magnitudes in irregular steps, through zero.
    if (std::fabs(v) < 1e-10) {
      v = v < 0 ? 0 : 1e-10;
    } else if (v < 0) {
      v = v / 1.0137 > -1e-10 ? -1e-11 : v / 1.0137;
    } else {
      v *= 1.0137;
    }
  }
  std::printf("[ measured ] worst representative error over +-[1e-9, 1e12]: %.4f %%\n",
              100 * worst);
  EXPECT_EQ(value_summary::bin_of(0), 0);
  EXPECT_EQ(value_summary::bin_of(5e-10), 0);
  EXPECT_EQ(value_summary::bin_of(-5e-10), 0);
  EXPECT_EQ(value_summary::bin_of(1e-9), 1);
  EXPECT_EQ(value_summary::bin_of(-1e-9), -1);
  EXPECT_EQ(value_summary::bin_value(0), 0);
  EXPECT_EQ(value_summary::bin_of(-3.5), -value_summary::bin_of(3.5));
  // Outside the finite doubles: clamped, never undefined.
  EXPECT_EQ(value_summary::bin_of(std::numeric_limits<double>::quiet_NaN()), 0);
  const std::int32_t top = value_summary::bin_of(inf);
  EXPECT_EQ(top, value_summary::bin_of(std::numeric_limits<double>::max()));
  EXPECT_EQ(value_summary::bin_of(-inf), -top);
  EXPECT_TRUE(std::isfinite(value_summary::bin_value(top)));
  EXPECT_TRUE(within_one_percent(value_summary::bin_value(top), std::numeric_limits<double>::max(),
                                 &worst));
}

TEST(ValueSummary, QuantileRankIsNearestRank) {
  EXPECT_EQ(quantile_rank(0.07, 100), 7U);  // 0.07 * 100 is 7.000000000000001 in doubles
  EXPECT_EQ(quantile_rank(0.5, 10), 5U);
  EXPECT_EQ(quantile_rank(0.5, 11), 6U);
  EXPECT_EQ(quantile_rank(0.99, 100), 99U);
  EXPECT_EQ(quantile_rank(0.999, 100), 100U);
  EXPECT_EQ(quantile_rank(1, 100), 100U);
  EXPECT_EQ(quantile_rank(1e-9, 100), 1U);
  EXPECT_EQ(quantile_rank(0, 100), 1U);
  EXPECT_EQ(quantile_rank(-1, 100), 1U);
  EXPECT_EQ(quantile_rank(2, 100), 100U);
  EXPECT_EQ(quantile_rank(0.5, 1), 1U);
}

struct distribution {
  const char* name;
  std::vector<double> values;
};

std::vector<distribution> distributions() {
  std::mt19937_64 rng(20261204);
  std::vector<distribution> out;
  constexpr int n = 20'000;
  distribution uniform{"uniform [0, 1000)", {}};
  std::uniform_real_distribution<double> u(0, 1000);
  for (int i = 0; i < n; ++i) uniform.values.push_back(u(rng));
  out.push_back(std::move(uniform));
  distribution lognormal{"lognormal (0, 2)", {}};
  std::lognormal_distribution<double> ln(0, 2);
  for (int i = 0; i < n; ++i) lognormal.values.push_back(ln(rng));
  out.push_back(std::move(lognormal));
  out.push_back({"constant 42.5", std::vector<double>(1000, 42.5)});
  distribution mixed{"normal (0, 10), 20 % zeros", {}};
  std::normal_distribution<double> normal(0, 10);
  for (int i = 0; i < n; ++i) mixed.values.push_back(i % 5 == 0 ? 0 : normal(rng));
  out.push_back(std::move(mixed));
  distribution integers{"integers -500..500", {}};
  for (int i = 0; i < n; ++i) integers.values.push_back(static_cast<double>(i % 1001) - 500);
  out.push_back(std::move(integers));
  return out;
}

TEST(ValueSummary, QuantilesWithinOnePercentOfNearestRank) {
  for (const auto& d : distributions()) {
    value_summary s;
    for (const double v : d.values) s.add(v);
    std::vector<double> sorted = d.values;
    std::sort(sorted.begin(), sorted.end());
    double worst = 0;
    for (const double q : quantiles) {
      const std::optional<double> estimate = s.quantile(q);
      ASSERT_TRUE(estimate.has_value());
      EXPECT_TRUE(within_one_percent(*estimate, exact_quantile(sorted, q), &worst))
          << d.name << " q=" << q << ": " << *estimate << " for " << exact_quantile(sorted, q);
    }
    std::printf("[ measured ] %s: %zu bins, worst quantile error %.4f %%\n", d.name, s.bins.size(),
                100 * worst);
    EXPECT_EQ(s.count, d.values.size());
    EXPECT_EQ(s.min, sorted.front());
    EXPECT_EQ(s.max, sorted.back());
    EXPECT_EQ(*s.quantile(1), sorted.back());  // the ends are min and max, exact
    EXPECT_EQ(*s.quantile(1e-9), sorted.front());
    EXPECT_TRUE(std::is_sorted(s.bins.begin(), s.bins.end()));
    for (const auto& [bin, n] : s.bins) EXPECT_GT(n, 0U);
  }
  EXPECT_FALSE(value_summary{}.quantile(0.5).has_value());
  value_summary one;
  one.add(3);
  EXPECT_FALSE(one.quantile(std::numeric_limits<double>::quiet_NaN()).has_value());
}

TEST(ValueSummary, MergeEqualsAddingAll) {
  for (const auto& d : distributions()) {
    value_summary all;
    std::vector<value_summary> parts(3);
    for (std::size_t i = 0; i < d.values.size(); ++i) {
      all.add(d.values[i]);
      parts[(i * 31) % 3].add(d.values[i]);
    }
    value_summary merged;
    merged.merge(parts[2]);
    merged.merge(value_summary{});  // an empty second changes nothing
    merged.merge(parts[0]);
    merged.merge(parts[1]);
    EXPECT_EQ(merged.count, all.count) << d.name;
    EXPECT_EQ(merged.bins, all.bins) << d.name;
    EXPECT_EQ(merged.min, all.min) << d.name;
    EXPECT_EQ(merged.max, all.max) << d.name;
    // The same sum up to the order of the additions.
    EXPECT_NEAR(merged.sum, all.sum, 1e-9 * std::fabs(all.sum) + 1e-9) << d.name;
  }
}

TEST(ValueSummary, CountSumMinMaxAreExact) {
  value_summary s;
  for (const double v : {2.5, -1.25, 0.0, 1e6, 3.0}) s.add(v);
  EXPECT_EQ(s.count, 5U);
  EXPECT_EQ(s.sum, 1'000'004.25);
  EXPECT_EQ(s.min, -1.25);
  EXPECT_EQ(s.max, 1e6);
}

TEST(SlidingValues, EmptyEvaluatesToNothing) {
  sliding_values w;
  EXPECT_TRUE(w.empty());
  EXPECT_EQ(w.count(), 0U);
  for (const auto f : {aggregate_function::avg, aggregate_function::min, aggregate_function::max,
                       aggregate_function::sum, aggregate_function::quantile}) {
    EXPECT_FALSE(w.evaluate(f, 0.5).has_value());
  }
  w.add(100, 1);
  w.expire(110, 10);
  EXPECT_TRUE(w.empty());
  EXPECT_FALSE(w.evaluate(aggregate_function::sum).has_value());
  EXPECT_FALSE(w.evaluate(aggregate_function::max).has_value());
}

TEST(SlidingValues, ExpiryAtTheBoundary) {
  sliding_values w;
  w.add(100, 10);
  w.add(100, 2);
  w.add(105, 7);
  w.add(109, 1);
  w.expire(109, 10);  // keeps 100..109
  EXPECT_EQ(w.count(), 4U);
  EXPECT_EQ(w.evaluate(aggregate_function::sum), 20);
  EXPECT_EQ(w.evaluate(aggregate_function::avg), 5);
  EXPECT_EQ(w.evaluate(aggregate_function::min), 1);
  EXPECT_EQ(w.evaluate(aggregate_function::max), 10);
  w.expire(110, 10);  // 100 <= 110 - 10: gone, and with it the max
  EXPECT_EQ(w.count(), 2U);
  EXPECT_EQ(w.evaluate(aggregate_function::sum), 8);
  EXPECT_EQ(w.evaluate(aggregate_function::avg), 4);
  EXPECT_EQ(w.evaluate(aggregate_function::min), 1);
  EXPECT_EQ(w.evaluate(aggregate_function::max), 7);
  // A late value for an expired second is ignored; one for a kept second counts.
  w.add(100, 1000);
  w.add(101, 3);
  EXPECT_EQ(w.count(), 3U);
  EXPECT_EQ(w.evaluate(aggregate_function::max), 7);
  w.expire(114, 0);  // a window below 1 is 1: keeps only 114 and later
  EXPECT_TRUE(w.empty());
}

TEST(SlidingValues, SecondsAfterNowCount) {
  sliding_values w;
  w.add(120, 5);  // a collector whose clock runs ahead
  w.add(110, 1);
  w.expire(110, 10);
  EXPECT_EQ(w.count(), 2U);
  EXPECT_EQ(w.evaluate(aggregate_function::max), 5);
  w.expire(120, 10);
  EXPECT_EQ(w.count(), 1U);
  EXPECT_EQ(w.evaluate(aggregate_function::quantile, 0.5), 5);
}

TEST(SlidingValues, LateSecondsMergeIntoTheirOwnSecond) {
  sliding_values w;
  w.add(108, 5);
  value_summary late;
  late.add(-4);
  late.add(100);
  w.add(103, late);  // older than 108, still inside
  w.add(108, late);  // merged into an existing second
  EXPECT_EQ(w.count(), 5U);
  EXPECT_EQ(w.evaluate(aggregate_function::sum), 197);
  EXPECT_EQ(w.evaluate(aggregate_function::min), -4);
  w.expire(113, 10);  // drops 103 only
  EXPECT_EQ(w.count(), 3U);
  EXPECT_EQ(w.evaluate(aggregate_function::sum), 101);
  w.expire(118, 10);
  EXPECT_TRUE(w.empty());
  w.add(200, value_summary{});  // an empty summary is nothing
  EXPECT_TRUE(w.empty());
}

TEST(SlidingValues, QuantilesAsTheWindowSlides) {
  // Second s carries 100 values rising with s, so the minimum leaves with every second and p50 /
  // p99 move. Three collectors' summaries per second are merged, newest second first.
  constexpr std::int64_t window = 10;
  sliding_values merged;
  sliding_values direct;
  std::vector<std::pair<std::int64_t, double>> all;
  double worst = 0;
  std::mt19937_64 rng(99);
  std::lognormal_distribution<double> ln(0, 1);
  for (std::int64_t now = 1000; now < 1100; now += 2) {
    std::vector<value_summary> parts(3);
    std::vector<value_summary> older(3);
    for (std::int64_t s = now; s < now + 2; ++s) {
      for (int j = 0; j < 100; ++j) {
        const double v = static_cast<double>(s - 1000) * ln(rng) + j - 20;
        all.emplace_back(s, v);
        direct.add(s, v);
        (s == now ? older : parts)[static_cast<std::size_t>(j % 3)].add(v);
      }
    }
    for (std::size_t p = 0; p < 3; ++p) merged.add(now + 1, parts[p]);
    for (std::size_t p = 0; p < 3; ++p) merged.add(now, older[p]);
    const std::int64_t at = now + 1;
    merged.expire(at, window);
    direct.expire(at, window);
    std::vector<double> kept;
    double sum = 0;
    for (const auto& [s, v] : all) {
      if (s > at - window) {
        kept.push_back(v);
        sum += v;
      }
    }
    std::sort(kept.begin(), kept.end());
    ASSERT_EQ(merged.count(), kept.size());
    ASSERT_EQ(direct.count(), kept.size());
    EXPECT_EQ(merged.evaluate(aggregate_function::min), kept.front());
    EXPECT_EQ(merged.evaluate(aggregate_function::max), kept.back());
    EXPECT_NEAR(*merged.evaluate(aggregate_function::sum), sum, 1e-9 * std::fabs(sum) + 1e-9);
    EXPECT_NEAR(*merged.evaluate(aggregate_function::avg), sum / static_cast<double>(kept.size()),
                1e-9);
    for (const double q : {0.5, 0.99}) {
      EXPECT_EQ(merged.evaluate(aggregate_function::quantile, q),
                direct.evaluate(aggregate_function::quantile, q));
      EXPECT_TRUE(within_one_percent(*merged.evaluate(aggregate_function::quantile, q),
                                     exact_quantile(kept, q), &worst))
          << at << " q=" << q;
    }
  }
  std::printf("[ measured ] sliding p50/p99 over 50 windows: worst error %.4f %%\n", 100 * worst);
  EXPECT_FALSE(merged.evaluate(aggregate_function::quantile, std::nan("")).has_value());
}

TEST(SlidingValues, SumDoesNotDriftAfterExpiry) {
  // Huge and tiny values in alternate seconds: subtracting the huge ones from a running sum would
  // leave rounding garbage; the window recomputes from the kept seconds instead.
  sliding_values w;
  for (std::int64_t s = 0; s < 100; ++s) {
    w.add(s, s % 2 == 0 ? 1e17 : 0.1);
    w.expire(s, 1);
  }
  EXPECT_EQ(w.evaluate(aggregate_function::sum), 0.1);
  EXPECT_EQ(w.evaluate(aggregate_function::avg), 0.1);
}

}  // namespace
}  // namespace tocsin::rules
