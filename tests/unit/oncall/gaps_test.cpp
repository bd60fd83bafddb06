// The times a rota names nobody (oncall/gaps.hpp), and local times as shown beside them.

#include "oncall/gaps.hpp"

#include <date/tz.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/rfc3339.hpp"
#include "oncall/local_time.hpp"

namespace tocsin::oncall {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::chrono::sys_seconds utc(const char* text) {
  return std::chrono::floor<std::chrono::seconds>(parse_rfc3339(text).value());
}

TEST(gaps_in, before_between_and_after_the_shifts) {
  const std::vector<shift> rota{
      {"alice", utc("2026-12-01T08:00:00Z"), utc("2026-12-01T20:00:00Z")},
      {"bob", utc("2026-12-01T20:00:00Z"), utc("2026-12-02T08:00:00Z")},
      {"alice", utc("2026-12-02T09:00:00Z"), utc("2026-12-02T10:00:00Z")}};
  EXPECT_THAT(gaps_in(rota, utc("2026-12-01T00:00:00Z"), utc("2026-12-03T00:00:00Z")),
              ElementsAre(gap{utc("2026-12-01T00:00:00Z"), utc("2026-12-01T08:00:00Z")},
                          gap{utc("2026-12-02T08:00:00Z"), utc("2026-12-02T09:00:00Z")},
                          gap{utc("2026-12-02T10:00:00Z"), utc("2026-12-03T00:00:00Z")}));
  EXPECT_THAT(gaps_in(rota, utc("2026-12-01T08:00:00Z"), utc("2026-12-02T08:00:00Z")), IsEmpty());
  EXPECT_THAT(gaps_in({}, utc("2026-12-01T00:00:00Z"), utc("2026-12-02T00:00:00Z")),
              ElementsAre(gap{utc("2026-12-01T00:00:00Z"), utc("2026-12-02T00:00:00Z")}));
}

TEST(format_local_time, shows_the_offset_in_effect) {
  const auto* madrid = date::locate_zone("Europe/Madrid");
  EXPECT_EQ(format_local_time(*madrid, utc("2026-03-29T01:00:00Z")), "2026-03-29T03:00:00+02:00");
  EXPECT_EQ(format_local_time(*madrid, utc("2026-03-29T00:59:59Z")), "2026-03-29T01:59:59+01:00");
  EXPECT_EQ(format_local_time(*date::locate_zone("America/St_Johns"), utc("2026-12-01T12:00:00Z")),
            "2026-12-01T08:30:00-03:30");
}

}  // namespace
}  // namespace tocsin::oncall
