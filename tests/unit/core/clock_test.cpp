#include "core/clock.hpp"

#include <gtest/gtest.h>

namespace tocsin {
namespace {

using namespace std::chrono_literals;

TEST(manual_clock, moves_only_when_advanced_and_both_faces_together) {
  manual_clock c;
  const auto wall = c.now();
  const auto steady = c.steady_now();
  EXPECT_EQ(c.now(), wall);
  c.advance(90s);
  EXPECT_EQ(c.now() - wall, 90s);
  EXPECT_EQ(c.steady_now() - steady, 90s);
}

TEST(real_clock, follows_the_system_clock) {
  const auto before = std::chrono::system_clock::now();
  const auto seen = real_clock().now();
  EXPECT_GE(seen, before);
  EXPECT_LE(seen - before, 5s);
}

}  // namespace
}  // namespace tocsin
