#include "rules/second_counts.hpp"

#include <gtest/gtest.h>

namespace tocsin::rules {
namespace {

TEST(second_counts, a_second_counts_while_it_is_inside_the_window) {
  second_counts c(10, 1);
  c.add(100, 2);
  c.advance(109);
  EXPECT_EQ(c.current(), 2U);  // 100 > 109 - 10
  c.advance(110);
  EXPECT_EQ(c.current(), 0U);  // 100 is not > 110 - 10
  EXPECT_TRUE(c.empty());
}

TEST(second_counts, the_previous_window_keeps_what_left_the_current_one) {
  second_counts c(10, 2);
  c.add(100, 1);
  c.add(105, 2);
  c.advance(112);
  EXPECT_EQ(c.current(), 2U);
  EXPECT_EQ(c.previous(), 1U);
  c.advance(116);
  EXPECT_EQ(c.current(), 0U);
  EXPECT_EQ(c.previous(), 3U);  // (96, 106]
  c.advance(120);
  EXPECT_EQ(c.previous(), 2U);  // 100 is not > 120 - 20; 105 is
  c.advance(125);
  EXPECT_EQ(c.previous(), 0U);
  EXPECT_TRUE(c.empty());
}

TEST(second_counts, late_seconds_land_in_their_own_window_or_nowhere) {
  second_counts c(10, 2);
  c.add(130, 1);
  c.add(125, 4);   // current window (120, 130]
  c.add(115, 8);   // previous window (110, 120]
  c.add(110, 16);  // too old: dropped
  c.add(125, 1);   // an existing second
  EXPECT_EQ(c.current(), 6U);
  EXPECT_EQ(c.previous(), 8U);
  c.advance(135);  // 125 moves to the previous window, 115 goes
  EXPECT_EQ(c.current(), 1U);
  EXPECT_EQ(c.previous(), 5U);
  c.advance(145);
  EXPECT_EQ(c.current(), 0U);
  EXPECT_EQ(c.previous(), 1U);
}

TEST(second_counts, time_never_goes_back_and_zero_adds_nothing) {
  second_counts c(5, 1);
  c.add(50, 0);
  EXPECT_TRUE(c.empty());
  c.advance(60);
  c.advance(40);
  c.add(56, 3);
  EXPECT_EQ(c.current(), 3U);
  c.add(55, 3);  // 55 is not > 60 - 5
  EXPECT_EQ(c.current(), 3U);
}

}  // namespace
}  // namespace tocsin::rules
