// Tests for rules/sliding_distinct.hpp: exact counting and its sliding boundary, the switch to the
// sliding HyperLogLog and back, and merging partial states in any order.

#include "rules/sliding_distinct.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace tocsin::rules {
namespace {

std::uint64_t user(std::uint64_t n) { return value_hash("user-" + std::to_string(n)); }

constexpr double standard_error = 1.04 / 32;  // 1.04 / sqrt(1024)

// Relative error of an estimate, printed so that the measured figures show in the test log.
double relative_error(std::uint64_t estimate, std::uint64_t truth, const char* what) {
  const double e =
      (static_cast<double>(estimate) - static_cast<double>(truth)) / static_cast<double>(truth);
  std::printf("[ measured ] %s: %llu for %llu, error %+.2f %% (%.2f sigma)\n", what,
              static_cast<unsigned long long>(estimate), static_cast<unsigned long long>(truth),
              100 * e, e / standard_error);
  return e;
}

TEST(ValueHash, IsPinnedFnv1aThenSplitmix64) {
  // Computed independently (Python) from the documented definition: these are part of the
  // cluster record format and must never change.
  EXPECT_EQ(value_hash(""), 0xf52a15e9a9b5e89bULL);
  EXPECT_EQ(value_hash("a"), 0x02c0bdbf481420f8ULL);
  EXPECT_EQ(value_hash("user-1"), 0xc499b5f8a721df58ULL);
  EXPECT_EQ(value_hash("user-42"), 0x7a1596f0e94b5793ULL);
}

TEST(SlidingDistinct, RegisterOfTakesTopBitsAndLeadingZeros) {
  EXPECT_EQ(sliding_distinct::register_of(0), std::make_pair(0U, std::uint8_t{55}));
  EXPECT_EQ(sliding_distinct::register_of(1), std::make_pair(0U, std::uint8_t{54}));
  EXPECT_EQ(sliding_distinct::register_of(~0ULL), std::make_pair(1023U, std::uint8_t{1}));
  EXPECT_EQ(sliding_distinct::register_of((5ULL << 54) | (1ULL << 51)),
            std::make_pair(5U, std::uint8_t{3}));
}

TEST(SlidingDistinct, EmptyCountsZero) {
  sliding_distinct d;
  EXPECT_TRUE(d.empty());
  EXPECT_TRUE(d.exact());
  EXPECT_EQ(d.count(100, 10), 0U);
}

TEST(SlidingDistinct, ExactBoundaryIsSecondAfterNowMinusWindow) {
  sliding_distinct d;
  d.add(user(1), 100);
  d.add(user(2), 101);
  d.add(user(1), 100);              // the same value again
  EXPECT_EQ(d.count(100, 10), 2U);  // a later sighting counts as inside
  EXPECT_EQ(d.count(109, 10), 2U);
  EXPECT_EQ(d.count(110, 10), 1U);  // 100 > 110 - 10 is false
  EXPECT_EQ(d.count(111, 10), 0U);
  EXPECT_EQ(d.count(110, 11), 2U);
  d.expire(109, 10);
  EXPECT_EQ(d.count(109, 10), 2U);
  d.expire(110, 10);
  EXPECT_EQ(d.count(110, 10), 1U);
  EXPECT_FALSE(d.empty());
  d.expire(111, 10);
  EXPECT_EQ(d.count(111, 10), 0U);
  EXPECT_TRUE(d.empty());
}

TEST(SlidingDistinct, WindowBelowOneIsOne) {
  sliding_distinct d;
  d.add(user(1), 100);
  EXPECT_EQ(d.count(100, 0), 1U);
  EXPECT_EQ(d.count(101, -5), 0U);
}

TEST(SlidingDistinct, ResightingRefreshes) {
  sliding_distinct d;
  d.add(user(1), 100);
  d.add(user(1), 105);
  EXPECT_EQ(d.count(114, 10), 1U);
  d.expire(114, 10);
  EXPECT_EQ(d.count(114, 10), 1U);
  EXPECT_EQ(d.count(115, 10), 0U);
}

TEST(SlidingDistinct, OutOfOrderSightingsNeverHideNewerOnes) {
  sliding_distinct d;
  d.add(user(1), 105);
  d.add(user(1), 100);  // older, arriving late: the latest stays 105
  d.add(user(2), 103);
  EXPECT_EQ(d.count(112, 10), 2U);
  d.expire(112, 10);
  EXPECT_EQ(d.count(114, 10), 1U);
  d.expire(114, 10);
  EXPECT_EQ(d.count(114, 10), 1U);
  // A late sighting already outside the window expire() has seen is ignored...
  d.add(user(3), 104);
  EXPECT_EQ(d.count(114, 10), 1U);
  // ... one still inside is merged.
  d.add(user(3), 105);
  d.add(user(4), 110);
  EXPECT_EQ(d.count(114, 10), 3U);
}

// Sightings (value, second) over 60 seconds, a few thousand of them over 300 values.
std::vector<std::pair<std::uint64_t, std::int64_t>> sightings(std::uint64_t values, int n,
                                                              unsigned seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::pair<std::uint64_t, std::int64_t>> out;
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    out.emplace_back(user(rng() % values), 1000 + static_cast<std::int64_t>(i * 60 / n));
  }
  return out;
}

TEST(SlidingDistinct, ThreePartialStreamsMergeToOneStream) {
  const auto all = sightings(300, 3000, 7);
  // One collector sees everything in order; three see a third each, and the router gets their
  // per-second states late and interleaved: collector 2's, then 0's, then 1's, in 10 s batches.
  std::vector<std::vector<std::pair<std::uint64_t, std::int64_t>>> parts(3);
  for (std::size_t i = 0; i < all.size(); ++i) parts[(i * 7919) % 3].push_back(all[i]);
  for (const std::int64_t window : {1, 5, 10, 30}) {
    sliding_distinct one;
    sliding_distinct merged;
    std::size_t next = 0;
    std::vector<std::size_t> part_next(3, 0);
    for (std::int64_t now = 1009; now < 1070; now += 10) {
      for (; next < all.size() && all[next].second <= now; ++next) {
        one.add(all[next].first, all[next].second);
      }
      for (const int p : {2, 0, 1}) {
        // Newest first within the batch: out of order inside it too.
        const std::size_t from = part_next[p];
        while (part_next[p] < parts[p].size() && parts[p][part_next[p]].second <= now) {
          ++part_next[p];
        }
        for (std::size_t i = part_next[p]; i-- > from;) {
          merged.add(parts[p][i].first, parts[p][i].second);
        }
      }
      for (std::int64_t at = now; at < now + 10; ++at) {
        EXPECT_EQ(merged.count(at, window), one.count(at, window)) << at << ' ' << window;
      }
      one.expire(now, window);
      merged.expire(now, window);
      EXPECT_EQ(merged.count(now, window), one.count(now, window)) << now << ' ' << window;
      EXPECT_TRUE(one.exact());
    }
  }
}

TEST(SlidingDistinct, ExactUpToTheLimitThenEstimate) {
  sliding_distinct d;
  for (std::uint64_t i = 0; i < sliding_distinct::exact_limit; ++i) d.add(user(i), 100);
  EXPECT_TRUE(d.exact());
  EXPECT_EQ(d.count(100, 10), sliding_distinct::exact_limit);
  std::printf("[ measured ] exact mode, %zu values: %zu bytes\n", sliding_distinct::exact_limit,
              d.memory_bytes());
  d.add(user(0), 101);  // a known value: still exact
  EXPECT_TRUE(d.exact());
  d.add(user(sliding_distinct::exact_limit), 101);  // a new one beyond the limit
  EXPECT_FALSE(d.exact());
  const double e = relative_error(d.count(101, 10), sliding_distinct::exact_limit + 1, "1001");
  EXPECT_LT(std::fabs(e), 3 * standard_error);
}

TEST(SlidingDistinct, EstimateWithinThreeStandardErrors) {
  for (const std::uint64_t n : {10'000ULL, 100'000ULL}) {
    sliding_distinct d;
    for (std::uint64_t i = 0; i < n; ++i) d.add(user(i), 1000 + static_cast<std::int64_t>(i % 60));
    EXPECT_FALSE(d.exact());
    const double e = relative_error(d.count(1059, 60), n, n == 10'000 ? "10 000" : "100 000");
    EXPECT_LT(std::fabs(e), 3 * standard_error);
    // Each value seen again, later, changes nothing but the seconds.
    for (std::uint64_t i = 0; i < n; i += 3) d.add(user(i), 1059);
    EXPECT_LT(std::fabs(relative_error(d.count(1059, 60), n, "resighted")), 3 * standard_error);
    std::printf("[ measured ] estimate mode, %llu values over 60 s: %zu bytes\n",
                static_cast<unsigned long long>(n), d.memory_bytes());
  }
}

TEST(SlidingDistinct, EstimateSlidesAndGoesBackToExact) {
  sliding_distinct d;
  // 5000 values in 100..109, 5000 others in 110..119.
  for (std::uint64_t i = 0; i < 5000; ++i) d.add(user(i), 100 + static_cast<std::int64_t>(i % 10));
  for (std::uint64_t i = 0; i < 5000; ++i) {
    d.add(value_hash("other-" + std::to_string(i)), 110 + static_cast<std::int64_t>(i % 10));
  }
  ASSERT_FALSE(d.exact());
  EXPECT_LT(std::fabs(relative_error(d.count(119, 20), 10'000, "both windows")),
            3 * standard_error);
  EXPECT_LT(std::fabs(relative_error(d.count(119, 10), 5000, "newer window")), 3 * standard_error);
  // Half of the older window: 100..104 drop out at now = 114.
  EXPECT_LT(std::fabs(relative_error(d.count(114, 10), 7500, "sliding")), 3 * standard_error);
  d.expire(119, 10);
  EXPECT_FALSE(d.exact());
  EXPECT_LT(std::fabs(relative_error(d.count(119, 10), 5000, "after expire")), 3 * standard_error);
  EXPECT_LT(std::fabs(relative_error(d.count(119, 20), 5000, "older gone")), 3 * standard_error);
  d.expire(129, 10);
  EXPECT_TRUE(d.empty());
  EXPECT_TRUE(d.exact());
  EXPECT_EQ(d.count(129, 10), 0U);
  d.add(user(1), 130);
  d.add(user(2), 130);
  d.add(user(1), 131);
  EXPECT_TRUE(d.exact());
  EXPECT_EQ(d.count(131, 10), 2U);
}

TEST(SlidingDistinct, AddRegisterEqualsAddOfTheSameHashes) {
  const auto all = sightings(20'000, 40'000, 11);
  sliding_distinct by_hash;
  sliding_distinct by_register;
  for (const auto& [hash, second] : all) {
    by_hash.add(hash, second);
    const auto [reg, rank] = sliding_distinct::register_of(hash);
    by_register.add_register(reg, rank, second);
  }
  ASSERT_FALSE(by_hash.exact());
  ASSERT_FALSE(by_register.exact());
  for (const std::int64_t window : {1, 7, 30, 60}) {
    for (std::int64_t now = 1000; now < 1070; now += 3) {
      EXPECT_EQ(by_register.count(now, window), by_hash.count(now, window)) << now << ' ' << window;
    }
  }
}

TEST(SlidingDistinct, EstimateIsTheSameInAnyOrder) {
  // The lists of possible future maxima are canonical: shuffled input gives the same state.
  auto all = sightings(20'000, 40'000, 13);
  sliding_distinct in_order;
  for (const auto& [hash, second] : all) in_order.add(hash, second);
  std::shuffle(all.begin(), all.end(), std::mt19937_64(5));
  sliding_distinct shuffled;
  for (const auto& [hash, second] : all) shuffled.add(hash, second);
  ASSERT_FALSE(shuffled.exact());
  for (const std::int64_t window : {1, 7, 30, 60}) {
    for (std::int64_t now = 1000; now < 1070; now += 3) {
      EXPECT_EQ(shuffled.count(now, window), in_order.count(now, window)) << now << ' ' << window;
    }
  }
  in_order.expire(1040, 10);
  shuffled.expire(1040, 10);
  EXPECT_EQ(shuffled.count(1045, 10), in_order.count(1045, 10));
  EXPECT_EQ(shuffled.memory_bytes() > 0, true);
}

// The HLL estimate straight from the definition: per register the highest rank of the sightings
// after now - window, then the same formula.
std::uint64_t brute_force_estimate(const std::vector<std::pair<std::uint64_t, std::int64_t>>& all,
                                   std::int64_t now, std::int64_t window) {
  std::vector<int> max_rank(sliding_distinct::registers, 0);
  for (const auto& [hash, second] : all) {
    if (second <= now - window) continue;
    const auto [reg, rank] = sliding_distinct::register_of(hash);
    max_rank[reg] = std::max<int>(max_rank[reg], rank);
  }
  double inverse_sum = 0;
  int zeros = 0;
  for (const int rank : max_rank) {
    inverse_sum += std::ldexp(1.0, -rank);
    zeros += rank == 0 ? 1 : 0;
  }
  constexpr double m = sliding_distinct::registers;
  double estimate = 0.7213 / (1 + 1.079 / m) * m * m / inverse_sum;
  if (estimate <= 2.5 * m && zeros != 0) estimate = m * std::log(m / zeros);
  return static_cast<std::uint64_t>(std::llround(estimate));
}

TEST(SlidingDistinct, LongSlideMatchesTheDefinition) {
  // 300 s of 2000 sightings a second from a million values, a third of them for seconds up to 5 s
  // late, expired every second with a 20 s window: the lists of maxima must give exactly the
  // estimate computed from every sighting, through every growth, move and compaction of the
  // arena. The load drops to 50 a second for the last 100 s so that the arena shrinks.
  constexpr std::int64_t window = 20;
  std::mt19937_64 rng(17);
  std::vector<std::pair<std::uint64_t, std::int64_t>> all;
  sliding_distinct d;
  std::size_t most_bytes = 0;
  for (std::int64_t now = 0; now < 300; ++now) {
    const int n = now < 200 ? 2000 : 50;
    for (int i = 0; i < n; ++i) {
      const std::int64_t late = i % 3 == 0 ? static_cast<std::int64_t>(rng() % 6) : 0;
      const std::uint64_t hash = user(rng() % 1'000'000);
      all.emplace_back(hash, now - late);  // 5 s late is never behind the last cutoff
      d.add(hash, now - late);
    }
    d.expire(now, window);
    most_bytes = std::max(most_bytes, d.memory_bytes());
    ASSERT_EQ(d.count(now, window), brute_force_estimate(all, now, window)) << now;
    if (now % 50 == 0) {
      std::erase_if(all, [&](const auto& hs) { return hs.second <= now - window; });
    }
  }
  std::printf(
      "[ measured ] ~40 000 values in a 20 s window: at most %zu bytes; "
      "~1000 values: %zu bytes\n",
      most_bytes, d.memory_bytes());
  EXPECT_LT(d.memory_bytes(), most_bytes / 2);
}

TEST(SlidingDistinct, AddRegisterRefusesNonsense) {
  sliding_distinct d;
  d.add_register(sliding_distinct::registers, 3, 100);  // no such register
  d.add_register(5, 0, 100);                            // rank 0 is "nothing seen"
  EXPECT_TRUE(d.exact());
  EXPECT_TRUE(d.empty());
  d.add_register(5, 200, 100);  // clamped to max_rank
  EXPECT_FALSE(d.exact());
  EXPECT_FALSE(d.empty());
  EXPECT_EQ(d.count(100, 10), 1U);  // linear counting: 1024 ln(1024/1023) ≈ 1
  d.expire(110, 10);
  EXPECT_TRUE(d.exact());
  EXPECT_TRUE(d.empty());
}

}  // namespace
}  // namespace tocsin::rules
