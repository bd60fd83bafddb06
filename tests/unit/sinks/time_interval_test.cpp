// Alertmanager's time intervals evaluated (its timeinterval.ContainsTime): the boundaries of
// every field, negative days of the month, locations, and the cases of Alertmanager's own
// timeinterval_test.go.

#include "sinks/time_interval.hpp"

#include <gtest/gtest.h>

#include <string>

#include "config/config.hpp"
#include "core/rfc3339.hpp"
#include "sinks/route_tree.hpp"

namespace tocsin::sinks {
namespace {

// The interval "t" with the given entries (a YAML flow list).
time_interval_set interval(const std::string& entries) {
  const config::config cfg = config::load_string(
      "receivers: [ { name: r } ]\nroute: { receiver: r }\n"
      "time_intervals: [ { name: t, time_intervals: " +
          entries + " } ]\n",
      "t.yaml");
  return time_interval_set(cfg.time_intervals);
}

::testing::AssertionResult holds(const time_interval_set& set, const std::string& when) {
  const auto t = parse_rfc3339(when);
  if (!t) return ::testing::AssertionFailure() << when << " is not RFC 3339";
  if (set.contains("t", *t)) return ::testing::AssertionSuccess() << when << " is in";
  return ::testing::AssertionFailure() << when << " is not in";
}

TEST(time_interval, times_start_inclusive_end_exclusive_by_the_minute) {
  const auto office = interval("[ { times: [ { start_time: '09:00', end_time: '17:00' } ] } ]");
  EXPECT_FALSE(holds(office, "2026-12-04T08:59:59Z"));
  EXPECT_TRUE(holds(office, "2026-12-04T09:00:00Z"));
  EXPECT_TRUE(holds(office, "2026-12-04T16:59:59.999Z"));
  EXPECT_FALSE(holds(office, "2026-12-04T17:00:00Z"));
  const auto evening = interval(
      "[ { times: [ { start_time: '22:00', end_time: '24:00' }, "
      "{ start_time: '00:00', end_time: '06:00' } ] } ]");
  EXPECT_TRUE(holds(evening, "2026-12-04T23:59:59Z"));
  EXPECT_TRUE(holds(evening, "2026-12-05T00:00:00Z"));
  EXPECT_TRUE(holds(evening, "2026-12-05T05:59:00Z"));
  EXPECT_FALSE(holds(evening, "2026-12-05T06:00:00Z"));
  EXPECT_FALSE(holds(evening, "2026-12-05T21:59:00Z"));
}

TEST(time_interval, weekday_ranges) {
  // 2026-11-29 is a Sunday.
  const auto workweek = interval("[ { weekdays: ['monday:friday'] } ]");
  const auto weekend = interval("[ { weekdays: [Saturday, SUNDAY] } ]");
  const char* days[] = {"2026-11-29", "2026-11-30", "2026-12-01", "2026-12-02",
                        "2026-12-03", "2026-12-04", "2026-12-05"};
  for (int d = 0; d < 7; ++d) {
    const std::string noon = std::string(days[d]) + "T12:00:00Z";
    EXPECT_EQ(holds(workweek, noon), d >= 1 && d <= 5) << noon;
    EXPECT_EQ(holds(weekend, noon), d == 0 || d == 6) << noon;
  }
  // sunday:saturday is the whole week.
  const auto all = interval("[ { weekdays: ['sunday:saturday'] } ]");
  for (const char* day : days) EXPECT_TRUE(holds(all, std::string(day) + "T00:00:00Z"));
}

TEST(time_interval, minus_one_is_the_last_day_of_the_month) {
  const auto last = interval("[ { days_of_month: [-1] } ]");
  EXPECT_TRUE(holds(last, "2024-02-29T10:00:00Z"));  // leap year
  EXPECT_FALSE(holds(last, "2024-02-28T10:00:00Z"));
  EXPECT_TRUE(holds(last, "2026-02-28T10:00:00Z"));  // not a leap year
  EXPECT_FALSE(holds(last, "2026-02-27T10:00:00Z"));
  EXPECT_TRUE(holds(last, "2026-04-30T00:00:00Z"));
  EXPECT_TRUE(holds(last, "2026-12-31T23:59:00Z"));
  EXPECT_FALSE(holds(last, "2026-12-30T23:59:00Z"));
  EXPECT_FALSE(holds(last, "2026-03-01T00:00:00Z"));
  // 2100 is not a leap year, 2000 was.
  EXPECT_TRUE(holds(last, "2100-02-28T00:00:00Z"));
  EXPECT_TRUE(holds(last, "2000-02-29T00:00:00Z"));
}

TEST(time_interval, days_beyond_the_month_are_clamped_or_skipped) {
  // 30:31 never holds in February (Alertmanager: no clamping a start past the month's end).
  const auto late = interval("[ { days_of_month: ['30:31'] } ]");
  EXPECT_FALSE(holds(late, "2024-02-29T00:00:00Z"));
  EXPECT_TRUE(holds(late, "2026-04-30T00:00:00Z"));
  // 29:31 holds the 29th of a leap February (the end is clamped to the month).
  const auto end = interval("[ { days_of_month: ['29:31'] } ]");
  EXPECT_TRUE(holds(end, "2024-02-29T00:00:00Z"));
  EXPECT_FALSE(holds(end, "2026-02-28T00:00:00Z"));
  // 1:-1 is every day.
  const auto every = interval("[ { days_of_month: ['1:-1'] } ]");
  EXPECT_TRUE(holds(every, "2026-02-01T00:00:00Z"));
  EXPECT_TRUE(holds(every, "2026-02-28T00:00:00Z"));
}

TEST(time_interval, months_and_years) {
  const auto q1 = interval("[ { months: ['january:march', 12], years: ['2026:2027'] } ]");
  EXPECT_TRUE(holds(q1, "2026-01-01T00:00:00Z"));
  EXPECT_TRUE(holds(q1, "2026-03-31T23:59:00Z"));
  EXPECT_FALSE(holds(q1, "2026-04-01T00:00:00Z"));
  EXPECT_TRUE(holds(q1, "2027-12-15T00:00:00Z"));
  EXPECT_FALSE(holds(q1, "2028-01-15T00:00:00Z"));
  EXPECT_FALSE(holds(q1, "2025-12-31T23:59:00Z"));
}

TEST(time_interval, the_location_shifts_the_day_and_the_hour) {
  // 2026-12-04T23:30Z is Saturday 00:30 in Berlin (UTC+1 in winter) and still Friday in UTC.
  const auto berlin_saturday = interval("[ { weekdays: [saturday], location: Europe/Berlin } ]");
  EXPECT_TRUE(holds(berlin_saturday, "2026-12-04T23:30:00Z"));
  EXPECT_FALSE(holds(berlin_saturday, "2026-12-04T22:59:00Z"));
  const auto utc_saturday = interval("[ { weekdays: [saturday] } ]");
  EXPECT_FALSE(holds(utc_saturday, "2026-12-04T23:30:00Z"));
  // Summer time: 09:00 in Berlin is 07:00Z.
  const auto office = interval(
      "[ { times: [ { start_time: '09:00', end_time: '17:00' } ], "
      "location: Europe/Berlin } ]");
  EXPECT_TRUE(holds(office, "2026-07-01T07:00:00Z"));
  EXPECT_FALSE(holds(office, "2026-07-01T06:59:00Z"));
  EXPECT_TRUE(holds(office, "2026-12-01T08:00:00Z"));
  EXPECT_FALSE(holds(office, "2026-12-01T07:59:00Z"));
  // The last day of the month, by the location's calendar.
  const auto last = interval("[ { days_of_month: [-1], location: America/New_York } ]");
  EXPECT_TRUE(holds(last, "2026-03-01T03:00:00Z"));  // 22:00 on 28 February in New York
  EXPECT_FALSE(holds(last, "2026-03-01T06:00:00Z"));
  // A month with a DST change is as long as the calendar says. (Alertmanager divides the
  // month's hours by 24 and rounds down, so its -1 is the 30th of March in Berlin; tocsin's is
  // the 31st.)
  const auto berlin_last = interval("[ { days_of_month: [-1], location: Europe/Berlin } ]");
  EXPECT_TRUE(holds(berlin_last, "2026-03-31T10:00:00Z"));
  EXPECT_FALSE(holds(berlin_last, "2026-03-30T10:00:00Z"));
  EXPECT_TRUE(holds(berlin_last, "2026-10-31T10:00:00Z"));
}

TEST(time_interval, any_entry_holds_and_all_fields_of_an_entry_must) {
  const auto t = interval(
      "[ { weekdays: [saturday], times: [ { start_time: '10:00', end_time: '12:00' } ] }, "
      "{ days_of_month: [1] } ]");
  EXPECT_TRUE(holds(t, "2026-12-05T11:00:00Z"));   // Saturday, in the hours
  EXPECT_FALSE(holds(t, "2026-12-05T12:00:00Z"));  // Saturday, after them
  EXPECT_FALSE(holds(t, "2026-12-02T11:00:00Z"));  // Wednesday 2nd
  EXPECT_TRUE(holds(t, "2026-12-01T23:00:00Z"));   // the 1st: the other entry
  // An empty entry holds every time; a field given as [] none.
  EXPECT_TRUE(holds(interval("[ {} ]"), "2026-12-05T11:00:00Z"));
  EXPECT_FALSE(holds(interval("[ { weekdays: [] } ]"), "2026-12-05T11:00:00Z"));
  EXPECT_FALSE(holds(interval("[]"), "2026-12-05T11:00:00Z"));
}

TEST(time_interval, an_unknown_name_holds_nothing) {
  const auto t = interval("[ {} ]");
  EXPECT_TRUE(t.has("t"));
  EXPECT_FALSE(t.has("u"));
  EXPECT_FALSE(t.contains("u", *parse_rfc3339("2026-12-05T11:00:00Z")));
}

// Alertmanager's timeinterval_test.go, TestContainsTime and TestTimeIntervalComplete: the same
// intervals and instants (written as RFC 3339).
TEST(time_interval, alertmanagers_cases) {
  const auto business = interval(
      "[ { times: [ { start_time: '09:00', end_time: '17:00' } ], weekdays: ['monday:friday'] } ]");
  EXPECT_TRUE(holds(business, "2020-05-04T15:04:00Z"));
  EXPECT_TRUE(holds(business, "2020-05-05T10:04:00Z"));
  EXPECT_TRUE(holds(business, "2020-06-09T09:04:00Z"));
  EXPECT_FALSE(holds(business, "2020-05-03T15:04:00Z"));
  EXPECT_FALSE(holds(business, "2020-05-04T08:59:00Z"));
  EXPECT_FALSE(holds(business, "2020-05-05T05:00:00Z"));

  const auto easter = interval("[ { days_of_month: ['4:6'], months: [4], years: [2020] } ]");
  EXPECT_TRUE(holds(easter, "2020-04-04T15:04:00Z"));
  EXPECT_TRUE(holds(easter, "2020-04-05T00:00:00Z"));
  EXPECT_TRUE(holds(easter, "2020-04-06T23:05:00Z"));
  EXPECT_FALSE(holds(easter, "2018-05-03T15:04:00Z"));
  EXPECT_FALSE(holds(easter, "2020-04-03T23:59:00Z"));
  EXPECT_FALSE(holds(easter, "2020-06-04T23:59:00Z"));
  EXPECT_FALSE(holds(easter, "2019-04-06T23:59:00Z"));
  EXPECT_FALSE(holds(easter, "2020-04-07T00:00:00Z"));

  const auto last3 = interval("[ { days_of_month: ['-3:-1'] } ]");
  for (const char* in : {"2020-01-31T15:04:00Z", "2020-01-30T15:04:00Z", "2020-01-29T15:04:00Z",
                         "2020-06-30T00:00:00Z", "2020-02-29T23:05:00Z"}) {
    EXPECT_TRUE(holds(last3, in));
  }
  for (const char* out : {"2018-05-03T15:04:00Z", "2020-01-27T15:04:00Z", "2020-04-03T23:59:00Z",
                          "2020-06-04T23:59:00Z", "2019-04-06T23:59:00Z", "2020-04-07T00:00:00Z",
                          "2020-03-01T00:00:00Z"}) {
    EXPECT_FALSE(holds(last3, out));
  }

  // Alertmanager's case is -31:31, built in Go without the YAML checks (which refuse it: the end
  // must be negative when the start is); 1:31 clamps the same way.
  const auto june = interval("[ { months: [6], days_of_month: ['1:31'] } ]");
  EXPECT_TRUE(holds(june, "2020-06-30T00:00:00Z"));
  EXPECT_TRUE(holds(june, "2020-06-01T00:00:00Z"));
  EXPECT_FALSE(holds(june, "2020-05-31T00:00:00Z"));
  EXPECT_FALSE(holds(june, "2020-07-01T00:00:00Z"));

  const auto sydney = interval(
      "[ { times: [ { start_time: '09:00', end_time: '17:00' } ], weekdays: ['monday:friday'], "
      "location: Australia/Sydney } ]");
  EXPECT_TRUE(holds(sydney, "2021-04-06T13:00:00+10:00"));
  EXPECT_FALSE(holds(sydney, "2021-04-06T13:00:00Z"));

  const auto sydney_dst = interval(
      "[ { times: [ { start_time: '09:00', end_time: '17:00' } ], weekdays: ['monday:friday'], "
      "months: [11], location: Australia/Sydney } ]");
  EXPECT_TRUE(holds(sydney_dst, "2021-11-01T09:00:00+11:00"));
  EXPECT_TRUE(holds(sydney_dst, "2021-10-31T22:00:00Z"));
  EXPECT_FALSE(holds(sydney_dst, "2021-10-31T21:00:00Z"));

  const auto quarter = interval(
      "[ { weekdays: ['monday:friday', sunday], months: ['january:march'], "
      "days_of_month: ['-7:-1'], years: ['2020:2025', '2030:2035'], "
      "times: [ { start_time: '09:00', end_time: '17:00' } ] } ]");
  for (const char* in : {"2021-01-27T09:00:00Z", "2021-01-28T16:59:00Z", "2021-01-29T13:00:00Z",
                         "2025-03-31T13:00:00Z", "2035-01-31T13:00:00Z"}) {
    EXPECT_TRUE(holds(quarter, in));
  }
  for (const char* out : {"2021-01-30T13:00:00Z", "2021-04-01T13:00:00Z", "2026-01-30T13:00:00Z",
                          "2035-01-31T17:01:00Z"}) {
    EXPECT_FALSE(holds(quarter, out));
  }

  const auto complete = interval(
      "[ { weekdays: ['monday:wednesday', saturday, sunday], "
      "times: [ { start_time: '13:00', end_time: '15:00' } ], days_of_month: ['1', '10', '20:-1'], "
      "years: ['2020:2023'], months: ['january:march'] } ]");
  EXPECT_TRUE(holds(complete, "2021-01-10T13:00:00Z"));
  EXPECT_TRUE(holds(complete, "2021-01-30T14:24:00Z"));
  EXPECT_FALSE(holds(complete, "2021-01-09T13:00:00Z"));
  EXPECT_FALSE(holds(complete, "2021-01-20T12:59:00Z"));
  EXPECT_FALSE(holds(complete, "2021-02-02T13:00:00Z"));

  const auto feb =
      interval("[ { days_of_month: ['30:31'], years: ['2020:2023'], months: [february] } ]");
  EXPECT_FALSE(holds(feb, "2021-02-28T13:00:00Z"));
}

// Routers of a cluster compare route fingerprints: they must mute alike.
TEST(time_interval, the_route_fingerprint_covers_the_intervals) {
  const auto tree_of = [](const std::string& route_extra, const std::string& lunch_end) {
    const config::config cfg = config::load_string(
        "receivers: [ { name: r } ]\n"
        "route: { receiver: r, routes: [ { receiver: r" +
            route_extra +
            " } ] }\n"
            "time_intervals: [ { name: lunch, time_intervals: [ { times: [ { start_time: '12:00', "
            "end_time: '" +
            lunch_end + "' } ] } ] } ]\n",
        "t.yaml");
    return route_tree(*cfg.route, cfg.receivers, cfg.time_intervals).fingerprint();
  };
  const std::string plain = tree_of("", "13:00");
  EXPECT_EQ(plain, tree_of("", "13:00"));
  EXPECT_NE(plain, tree_of(", mute_time_intervals: [lunch]", "13:00"));
  EXPECT_NE(plain, tree_of(", active_time_intervals: [lunch]", "13:00"));
  EXPECT_NE(tree_of(", mute_time_intervals: [lunch]", "13:00"),
            tree_of(", mute_time_intervals: [lunch]", "14:00"));
  // A tree without intervals keeps the fingerprint it had before they existed.
  const config::config cfg = config::load_string(
      "receivers: [ { name: r } ]\nroute: { receiver: r, routes: [ { receiver: r } ] }\n",
      "t.yaml");
  EXPECT_EQ(route_tree(*cfg.route, cfg.receivers).fingerprint(),
            route_tree(*cfg.route, cfg.receivers, {}).fingerprint());
}

}  // namespace
}  // namespace tocsin::sinks
