// input_timezone across DST changes: a local time that never happened (spring forward) and one
// that happened twice (fall back) are read with the offset in effect before the change, as
// timezone.hpp promises.

#include "core/timezone.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace tocsin {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

local_seconds local_time(year_month_day day, hours h, minutes m) { return local_days(day) + h + m; }

// The UTC instant a local time stands for, the way the RFC 3164 decoder computes it.
sys_seconds to_utc(const input_timezone& tz, local_seconds t) {
  return sys_seconds(t.time_since_epoch() - tz.offset_for_local(t));
}

TEST(input_timezone, a_time_inside_the_spring_forward_gap_takes_the_offset_before_it) {
  const auto madrid = input_timezone::from_name("Europe/Madrid");
  ASSERT_TRUE(madrid.has_value());
  // 2026-03-29 02:00 CET became 03:00 CEST: 02:30 never happened on a Madrid clock.
  const auto gap = local_time(2026y / March / 29, 2h, 30min);
  EXPECT_EQ(madrid->offset_for_local(gap), 1h);
  EXPECT_EQ(to_utc(*madrid, gap), sys_days(2026y / March / 29) + 1h + 30min);
  // Either side of the gap is unique and unaffected.
  EXPECT_EQ(madrid->offset_for_local(local_time(2026y / March / 29, 1h, 59min)), 1h);
  EXPECT_EQ(madrid->offset_for_local(local_time(2026y / March / 29, 3h, 0min)), 2h);
}

TEST(input_timezone, a_repeated_time_in_the_fall_back_hour_takes_the_earlier_instant) {
  const auto madrid = input_timezone::from_name("Europe/Madrid");
  ASSERT_TRUE(madrid.has_value());
  // 2026-10-25 03:00 CEST became 02:00 CET: 02:30 happened at 00:30Z and again at 01:30Z.
  const auto twice = local_time(2026y / October / 25, 2h, 30min);
  EXPECT_EQ(madrid->offset_for_local(twice), 2h);
  EXPECT_EQ(to_utc(*madrid, twice), sys_days(2026y / October / 25) + 30min);
  EXPECT_EQ(madrid->offset_for_local(local_time(2026y / October / 25, 3h, 0min)), 1h);
}

TEST(input_timezone, fixed_offsets_and_utc_have_no_dst) {
  const auto plus_two = input_timezone::from_name("+02:00");
  ASSERT_TRUE(plus_two.has_value());
  EXPECT_EQ(plus_two->offset_for_local(local_time(2026y / March / 29, 2h, 30min)), 2h);
  EXPECT_EQ(input_timezone::utc().offset_for_local(local_time(2026y / October / 25, 2h, 30min)),
            0s);
}

}  // namespace
}  // namespace tocsin
