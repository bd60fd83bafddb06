// Alertmanager's `time_intervals` (and the deprecated top-level `mute_time_intervals`) and the
// routes' `mute_time_intervals` / `active_time_intervals`: every field read, and the errors
// check-config reports at their items.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "tests/support/config_errors.hpp"

namespace tocsin::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> errors(const std::string& text) {
  return test::errors_of(load_string, "receivers: [ { name: r } ]\n" + text);
}

// A route tree whose child uses `intervals` (line 3), then the time_intervals from line 4.
std::vector<std::string> interval_errors(const std::string& intervals) {
  return errors(
      "route: { receiver: r, routes: [ { receiver: r, mute_time_intervals: [x] } ] }\n"
      "time_intervals:\n" +
      intervals);
}

TEST(time_intervals_config, every_field_is_read) {
  const config cfg = load_string(R"(
receivers: [ { name: r } ]
route:
  receiver: r
  routes:
    - receiver: r
      mute_time_intervals: [weekends, holidays]
      active_time_intervals: [business-hours]
      routes: [ { receiver: r } ]
time_intervals:
  - name: business-hours
    time_intervals:
      - times: [ { start_time: "09:00", end_time: "17:00" }, { start_time: "18:00", end_time: "24:00" } ]
        weekdays: ["Monday:FRIDAY", saturday]
        days_of_month: ["1:5", -1, "-7:-3", 15]
        months: ["january:March", 12, "5:6", june]
        years: ["2026:2028", 2030]
        location: Europe/Berlin
      - {}
mute_time_intervals:
  - name: weekends
    time_intervals: [ { weekdays: [saturday, sunday] } ]
  - name: holidays
    time_intervals: [ { days_of_month: ["24:26"], months: [december], location: Local } ]
)",
                                 "t.yaml");
  ASSERT_EQ(cfg.time_intervals.size(), 3u);
  const time_interval_config& bh = cfg.time_intervals[0];
  EXPECT_EQ(bh.name, "business-hours");
  EXPECT_EQ(bh.where.line, 11);
  ASSERT_EQ(bh.entries.size(), 2u);
  const time_interval_entry& e = bh.entries[0];
  ASSERT_TRUE(e.times);
  EXPECT_THAT(*e.times, ElementsAre(minute_range{540, 1020}, minute_range{1080, 1440}));
  ASSERT_TRUE(e.weekdays);
  EXPECT_THAT(*e.weekdays, ElementsAre(inclusive_range{1, 5}, inclusive_range{6, 6}));
  ASSERT_TRUE(e.days_of_month);
  EXPECT_THAT(*e.days_of_month, ElementsAre(inclusive_range{1, 5}, inclusive_range{-1, -1},
                                            inclusive_range{-7, -3}, inclusive_range{15, 15}));
  ASSERT_TRUE(e.months);
  EXPECT_THAT(*e.months, ElementsAre(inclusive_range{1, 3}, inclusive_range{12, 12},
                                     inclusive_range{5, 6}, inclusive_range{6, 6}));
  ASSERT_TRUE(e.years);
  EXPECT_THAT(*e.years, ElementsAre(inclusive_range{2026, 2028}, inclusive_range{2030, 2030}));
  EXPECT_EQ(e.location, "Europe/Berlin");
  // An empty entry gives no field: it holds every time.
  const time_interval_entry& any = bh.entries[1];
  EXPECT_FALSE(any.times || any.weekdays || any.days_of_month || any.months || any.years);
  EXPECT_EQ(any.location, "UTC");

  EXPECT_EQ(cfg.time_intervals[1].name, "weekends");
  EXPECT_EQ(cfg.time_intervals[2].entries[0].location, "local");

  const route_config& child = cfg.route->routes[0];
  EXPECT_THAT(child.mute_time_intervals, ElementsAre("weekends", "holidays"));
  EXPECT_THAT(child.active_time_intervals, ElementsAre("business-hours"));
  ASSERT_EQ(child.mute_time_interval_where.size(), 2u);
  EXPECT_EQ(child.mute_time_interval_where[1].line, 7);
  // Not inherited: a grandchild has none of its own.
  EXPECT_THAT(child.routes[0].mute_time_intervals, IsEmpty());
}

TEST(time_intervals_config, an_empty_list_field_is_kept_as_given) {
  // Alertmanager: a field given as [] holds no time (it is not "any").
  const config cfg = load_string(
      "receivers: [ { name: r } ]\nroute: { receiver: r }\n"
      "time_intervals: [ { name: never, time_intervals: [ { weekdays: [] } ] } ]\n",
      "t.yaml");
  ASSERT_TRUE(cfg.time_intervals[0].entries[0].weekdays);
  EXPECT_THAT(*cfg.time_intervals[0].entries[0].weekdays, IsEmpty());
}

TEST(time_intervals_config, a_route_naming_an_unknown_interval_is_an_error_at_the_name) {
  EXPECT_THAT(errors("route: { receiver: r, routes: [ { receiver: r, mute_time_intervals: "
                     "[weekend] }, { receiver: r, active_time_intervals: [office] } ] }\n"
                     "time_intervals: [ { name: weekends, time_intervals: [ {} ] } ]\n"),
              ElementsAre("t.yaml:2:70: route.routes[0].mute_time_intervals[0]: unknown time "
                          "interval 'weekend'; did you mean 'weekends'?",
                          "t.yaml:2:121: route.routes[1].active_time_intervals[0]: unknown time "
                          "interval 'office'"));
}

TEST(time_intervals_config, the_root_route_takes_neither) {
  EXPECT_THAT(errors("route: { receiver: r, mute_time_intervals: [w], active_time_intervals: [w] "
                     "}\ntime_intervals: [ { name: w, time_intervals: [ {} ] } ]\n"),
              ElementsAre("t.yaml:2:23: route.mute_time_intervals: the root route cannot have "
                          "mute_time_intervals",
                          "t.yaml:2:49: route.active_time_intervals: the root route cannot have "
                          "active_time_intervals"));
}

TEST(time_intervals_config, names_are_unique_across_both_sections) {
  EXPECT_THAT(errors("route: { receiver: r }\n"
                     "time_intervals: [ { name: w, time_intervals: [] } ]\n"
                     "mute_time_intervals: [ { name: w, time_intervals: [] }, { time_intervals: "
                     "[] } ]\n"),
              ElementsAre("t.yaml:4:32: mute_time_intervals[0].name: duplicate time interval 'w' "
                          "(first on line 3)",
                          "t.yaml:4:57: missing required key 'name' in mute_time_intervals[1]"));
}

TEST(time_intervals_config, times) {
  EXPECT_THAT(
      interval_errors(
          "  - name: x\n    time_intervals:\n"
          "      - times: [ { start_time: '17:00', end_time: '09:00' } ]\n"
          "      - times: [ { start_time: '9:00', end_time: '24:01' } ]\n"
          "      - times: [ { start_time: '00:00' }, { start_time: '00:00', end_time: '00:00' } ]\n"
          "      - times: [ { start_time: '00:00', end_time: '24:00', end: x } ]\n"),
      ElementsAre(
          "t.yaml:6:18: time_intervals[0].time_intervals[0].times[0]: start_time must be before "
          "end_time (a range across midnight is two: 22:00-24:00 and 00:00-06:00)",
          "t.yaml:7:32: time_intervals[0].time_intervals[1].times[0].start_time: expected a time "
          "HH:MM from 00:00 to 24:00, got '9:00'",
          "t.yaml:7:50: time_intervals[0].time_intervals[1].times[0].end_time: expected a time "
          "HH:MM from 00:00 to 24:00, got '24:01'",
          "t.yaml:8:18: missing required key 'end_time' in "
          "time_intervals[0].time_intervals[2].times[0]",
          "t.yaml:8:43: time_intervals[0].time_intervals[2].times[1]: start_time must be before "
          "end_time (a range across midnight is two: 22:00-24:00 and 00:00-06:00)",
          "t.yaml:9:60: unknown key 'end' in time_intervals[0].time_intervals[3].times[0]"));
}

TEST(time_intervals_config, ranges) {
  EXPECT_THAT(
      interval_errors("  - name: x\n    time_intervals:\n"
                      "      - weekdays: [saturday:sunday, funday, 'monday:tuesday:friday']\n"
                      "      - days_of_month: [0, 32, '-1:5', '-3:-5', '20:-12', a]\n"
                      "      - months: [13, 'june:may', janury]\n"
                      "      - years: ['2027:2026', '20x']\n"
                      "        location: Mars/Olympus\n"
                      "        weeks: [1]\n"),
      ElementsAre(
          "t.yaml:6:20: time_intervals[0].time_intervals[0].weekdays[0]: weekday range "
          "'saturday:sunday' ends before it starts: a range cannot wrap around the week (sunday "
          "is its first day); write it as two items",
          "t.yaml:6:37: time_intervals[0].time_intervals[0].weekdays[1]: 'funday' is not a "
          "weekday; did you mean 'sunday'?",
          "t.yaml:6:45: time_intervals[0].time_intervals[0].weekdays[2]: expected a value or a "
          "range like a:b, got 'monday:tuesday:friday'",
          "t.yaml:7:25: time_intervals[0].time_intervals[1].days_of_month[0]: 0 is not a day of "
          "the month: 1 to 31, or -1 (the last day) to -31",
          "t.yaml:7:28: time_intervals[0].time_intervals[1].days_of_month[1]: 32 is not a day of "
          "the month: 1 to 31, or -1 (the last day) to -31",
          "t.yaml:7:32: time_intervals[0].time_intervals[1].days_of_month[2]: day range '-1:5': "
          "the end day must be negative if the start day is",
          "t.yaml:7:40: time_intervals[0].time_intervals[1].days_of_month[3]: day range "
          "'-3:-5': end day -5 is always before start day -3",
          "t.yaml:7:49: time_intervals[0].time_intervals[1].days_of_month[4]: day range "
          "'20:-12': end day -12 is always before start day 20",
          "t.yaml:7:59: time_intervals[0].time_intervals[1].days_of_month[5]: expected a day of "
          "the month, got 'a'",
          "t.yaml:8:18: time_intervals[0].time_intervals[2].months[0]: month 13 is out of range "
          "1-12",
          "t.yaml:8:22: time_intervals[0].time_intervals[2].months[1]: month range 'june:may' "
          "ends before it starts",
          "t.yaml:8:34: time_intervals[0].time_intervals[2].months[2]: 'janury' is not a month; "
          "did you mean 'january'?",
          "t.yaml:9:17: time_intervals[0].time_intervals[3].years[0]: year range '2027:2026' "
          "ends before it starts",
          "t.yaml:9:30: time_intervals[0].time_intervals[3].years[1]: expected a year, got "
          "'20x'",
          "t.yaml:10:19: time_intervals[0].time_intervals[3].location: unknown time zone "
          "'Mars/Olympus'; expected an IANA name such as Europe/Berlin, UTC or Local",
          "t.yaml:11:9: unknown key 'weeks' in time_intervals[0].time_intervals[3]"));
}

TEST(time_intervals_config, alertmanagers_valid_ranges_load) {
  // From Alertmanager's timeinterval_test.go validTimeStrings: each loads.
  EXPECT_THAT(interval_errors("  - name: x\n    time_intervals:\n"
                              "      - weekdays: ['monday:friday', 'saturday', 'sunday:sunday']\n"
                              "        days_of_month: ['1:31', '-1', '-31:-1', '1:-1', '-3:-1']\n"
                              "        months: ['january:march', '1:12', 'DECEMBER']\n"
                              "        years: ['2020:2025', '1970']\n"
                              "        times: [ { start_time: '00:00', end_time: '24:00' } ]\n"
                              "        location: 'America/New_York'\n"),
              IsEmpty());
}

}  // namespace
}  // namespace tocsin::config
