// The real clock's monotonic face (clock_test covers its wall face and the manual clock).

#include <gtest/gtest.h>

#include <chrono>

#include "core/clock.hpp"

namespace tocsin {
namespace {

TEST(real_clock, its_monotonic_face_is_the_steady_clock) {
  clock& c = real_clock();
  const auto wall_before = std::chrono::system_clock::now();
  const auto steady_before = std::chrono::steady_clock::now();
  const auto wall = c.now();
  const auto steady = c.steady_now();
  EXPECT_GE(wall, wall_before);
  EXPECT_GE(steady, steady_before);
  EXPECT_LE(steady, std::chrono::steady_clock::now());
  EXPECT_EQ(&real_clock(), &c);
}

}  // namespace
}  // namespace tocsin
