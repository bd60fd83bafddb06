// Who is on call when (oncall/roster.hpp): rotations in local time across DST changes,
// restrictions, layer and override precedence, and the rota's merged shifts.

#include "oncall/roster.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/rfc3339.hpp"

namespace tocsin::oncall {

// gtest prints a failing shift readably.
void PrintTo(const shift& s, std::ostream* os) {
  *os << s.user << " [" << format_rfc3339_millis(s.start) << ", " << format_rfc3339_millis(s.end)
      << ")";
}

namespace {

using std::chrono::sys_seconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

sys_seconds utc(const char* text) {
  return std::chrono::floor<std::chrono::seconds>(parse_rfc3339(text).value());
}

shift on(const char* user, const char* start, const char* end) {
  return {user, utc(start), utc(end)};
}

// A roster of users alice, bob, carol, dave and `schedules` (YAML list items).
roster make_roster(const std::string& schedules) {
  const config::config cfg = config::load_string(
      "oncall:\n"
      "  users: [ {name: alice}, {name: bob}, {name: carol}, {name: dave} ]\n"
      "  schedules:\n" +
          schedules,
      "t.yaml");
  return roster(cfg.oncall, "t.yaml");
}

roster one_layer(const std::string& layer) {
  return make_roster("    - { name: ops, time_zone: Europe/Madrid, layers: [ " + layer + " ] }\n");
}

TEST(roster, daily_handoff_at_a_skipped_time_is_the_change) {
  // 2026-03-29 02:30 does not exist in Madrid: clocks go from 02:00 CET to 03:00 CEST (01:00Z).
  const roster r =
      one_layer("{ name: d, start: 2026-03-27T02:30, rotation: 1d, users: [alice, bob] }");
  EXPECT_THAT(r.rota("ops", utc("2026-03-28T00:00:00Z"), utc("2026-03-31T00:00:00Z")),
              ElementsAre(on("alice", "2026-03-28T00:00:00Z", "2026-03-28T01:30:00Z"),
                          on("bob", "2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z"),
                          on("alice", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"),
                          on("bob", "2026-03-30T00:30:00Z", "2026-03-31T00:00:00Z")));
  EXPECT_EQ(r.on_call("ops", utc("2026-03-29T00:59:59Z")),
            on("bob", "2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z"));
}

TEST(roster, daily_handoff_at_a_repeated_time_is_the_first) {
  // 2026-10-25 02:30 happens twice in Madrid: 00:30Z (CEST) and 01:30Z (CET).
  const roster r =
      one_layer("{ name: d, start: 2026-10-23T02:30, rotation: 1d, users: [alice, bob] }");
  EXPECT_EQ(r.on_call("ops", utc("2026-10-25T00:29:59Z")),
            on("bob", "2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z"));
  EXPECT_EQ(r.on_call("ops", utc("2026-10-25T00:30:00Z")),
            on("alice", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"));
}

TEST(roster, weekly_rotation_keeps_local_nine_across_spring_forward) {
  const roster r =
      one_layer("{ name: w, start: 2026-03-16T09:00, rotation: 1w, users: [alice, bob, carol] }");
  EXPECT_THAT(r.rota("ops", utc("2026-03-16T08:00:00Z"), utc("2026-04-06T07:00:00Z")),
              ElementsAre(on("alice", "2026-03-16T08:00:00Z", "2026-03-23T08:00:00Z"),
                          on("bob", "2026-03-23T08:00:00Z", "2026-03-30T07:00:00Z"),
                          on("carol", "2026-03-30T07:00:00Z", "2026-04-06T07:00:00Z")));
}

TEST(roster, weekly_rotation_keeps_local_nine_across_fall_back) {
  const roster r =
      one_layer("{ name: w, start: 2026-10-12T09:00, rotation: 1w, users: [alice, bob, carol] }");
  EXPECT_THAT(r.rota("ops", utc("2026-10-12T07:00:00Z"), utc("2026-11-02T08:00:00Z")),
              ElementsAre(on("alice", "2026-10-12T07:00:00Z", "2026-10-19T07:00:00Z"),
                          on("bob", "2026-10-19T07:00:00Z", "2026-10-26T08:00:00Z"),
                          on("carol", "2026-10-26T08:00:00Z", "2026-11-02T08:00:00Z")));
}

TEST(roster, hours_rotation_adds_local_clock_hours) {
  // 20:00 CET, then 08:00 CEST (the night is an hour short), then 20:00 CEST.
  const roster r =
      one_layer("{ name: h, start: 2026-03-28T20:00, rotation: 12h, users: [alice, bob] }");
  EXPECT_THAT(r.rota("ops", utc("2026-03-28T19:00:00Z"), utc("2026-03-30T06:00:00Z")),
              ElementsAre(on("alice", "2026-03-28T19:00:00Z", "2026-03-29T06:00:00Z"),
                          on("bob", "2026-03-29T06:00:00Z", "2026-03-29T18:00:00Z"),
                          on("alice", "2026-03-29T18:00:00Z", "2026-03-30T06:00:00Z")));
}

TEST(roster, before_start_nobody_is_on_call) {
  const roster r = one_layer("{ name: w, start: 2026-12-01T09:00, rotation: 1w, users: [alice] }");
  EXPECT_EQ(r.on_call("ops", utc("2026-12-01T07:59:59Z")), std::nullopt);
  EXPECT_THAT(r.rota("ops", utc("2026-12-01T00:00:00Z"), utc("2026-12-02T00:00:00Z")),
              ElementsAre(on("alice", "2026-12-01T08:00:00Z", "2026-12-02T00:00:00Z")));
}

constexpr const char* base_and_nights =
    "{ name: base, start: 2026-11-30T00:00, rotation: 1w, users: [alice] },"
    "{ name: nights, start: 2026-11-30T20:00, rotation: 1d, users: [bob, dave],"
    "  restrict: { times: ['20:00-08:00'] } }";

TEST(roster, a_range_crossing_midnight_runs_to_the_next_morning) {
  const roster r = one_layer(base_and_nights);
  EXPECT_THAT(r.rota("ops", utc("2026-11-30T12:00:00Z"), utc("2026-12-02T12:00:00Z")),
              ElementsAre(on("alice", "2026-11-30T12:00:00Z", "2026-11-30T19:00:00Z"),
                          on("bob", "2026-11-30T19:00:00Z", "2026-12-01T07:00:00Z"),
                          on("alice", "2026-12-01T07:00:00Z", "2026-12-01T19:00:00Z"),
                          on("dave", "2026-12-01T19:00:00Z", "2026-12-02T07:00:00Z"),
                          on("alice", "2026-12-02T07:00:00Z", "2026-12-02T12:00:00Z")));
}

TEST(roster, weekdays_pick_the_day_a_range_starts_on) {
  const roster r = one_layer(
      "{ name: base, start: 2026-11-30T00:00, rotation: 1w, users: [alice] },"
      "{ name: nights, start: 2026-11-30T00:00, rotation: 1w, users: [bob],"
      "  restrict: { times: ['20:00-08:00'], weekdays: ['monday:friday'] } }");
  // Friday 2026-12-04 20:00 runs into Saturday morning …
  EXPECT_EQ(r.on_call("ops", utc("2026-12-05T06:00:00Z")),
            on("bob", "2026-12-04T19:00:00Z", "2026-12-05T07:00:00Z"));
  // … no Saturday or Sunday night, so Monday 00:00-08:00 is not covered.
  EXPECT_EQ(r.on_call("ops", utc("2026-12-07T06:00:00Z")),
            on("alice", "2026-12-05T07:00:00Z", "2026-12-07T19:00:00Z"));
}

TEST(roster, a_later_layer_wins_where_it_is_active) {
  const roster r = one_layer(
      "{ name: a, start: 2026-11-30T00:00, rotation: 1w, users: [alice] },"
      "{ name: b, start: 2026-12-02T00:00, rotation: 1w, users: [bob] }");
  EXPECT_EQ(r.on_call("ops", utc("2026-12-01T22:59:59Z"))->user, "alice");
  EXPECT_EQ(r.on_call("ops", utc("2026-12-01T23:00:00Z"))->user, "bob");
}

TEST(roster, overrides_win_and_a_later_one_over_an_earlier_one) {
  const roster r = make_roster(
      "    - name: ops\n"
      "      time_zone: Europe/Madrid\n"
      "      layers: [ { name: w, start: 2026-11-30T00:00, rotation: 1w, users: [alice] } ]\n"
      "      overrides:\n"
      "        - { user: carol, start: 2026-12-24T00:00, end: 2026-12-27T00:00 }\n"
      "        - { user: dave, start: 2026-12-25T00:00, end: 2026-12-26T00:00 }\n");
  EXPECT_THAT(r.rota("ops", utc("2026-12-23T12:00:00Z"), utc("2026-12-27T12:00:00Z")),
              ElementsAre(on("alice", "2026-12-23T12:00:00Z", "2026-12-23T23:00:00Z"),
                          on("carol", "2026-12-23T23:00:00Z", "2026-12-24T23:00:00Z"),
                          on("dave", "2026-12-24T23:00:00Z", "2026-12-25T23:00:00Z"),
                          on("carol", "2026-12-25T23:00:00Z", "2026-12-26T23:00:00Z"),
                          on("alice", "2026-12-26T23:00:00Z", "2026-12-27T12:00:00Z")));
}

TEST(roster, rota_merges_a_user_continuing_across_layers_and_overrides) {
  const roster r = make_roster(
      "    - name: ops\n"
      "      time_zone: Europe/Madrid\n"
      "      layers:\n"
      "        - { name: a, start: 2026-11-30T00:00, rotation: 1w, users: [alice] }\n"
      "        - { name: b, start: 2026-12-01T00:00, rotation: 1d, users: [alice, bob] }\n"
      "      overrides: [ { user: alice, start: 2026-12-01T06:00, end: 2026-12-01T07:00 } ]\n");
  EXPECT_THAT(r.rota("ops", utc("2026-11-30T00:00:00Z"), utc("2026-12-03T00:00:00Z")),
              ElementsAre(on("alice", "2026-11-30T00:00:00Z", "2026-12-01T23:00:00Z"),
                          on("bob", "2026-12-01T23:00:00Z", "2026-12-02T23:00:00Z"),
                          on("alice", "2026-12-02T23:00:00Z", "2026-12-03T00:00:00Z")));
  // on_call() reports the whole merged shift.
  EXPECT_EQ(r.on_call("ops", utc("2026-12-01T12:00:00Z")),
            on("alice", "2026-11-29T23:00:00Z", "2026-12-01T23:00:00Z"));
}

TEST(roster, gaps_are_left_out_and_on_call_is_empty_there) {
  const roster r = one_layer(
      "{ name: days, start: 2026-11-30T08:00, rotation: 1d, users: [alice],"
      "  restrict: { times: ['08:00-20:00'] } }");
  EXPECT_THAT(r.rota("ops", utc("2026-11-30T00:00:00Z"), utc("2026-12-02T00:00:00Z")),
              ElementsAre(on("alice", "2026-11-30T07:00:00Z", "2026-11-30T19:00:00Z"),
                          on("alice", "2026-12-01T07:00:00Z", "2026-12-01T19:00:00Z")));
  EXPECT_EQ(r.on_call("ops", utc("2026-11-30T19:00:00Z")), std::nullopt);
}

TEST(roster, unknown_schedules_and_users) {
  const roster r = one_layer("{ name: w, start: 2026-11-30T00:00, rotation: 1w, users: [alice] }");
  EXPECT_EQ(r.on_call("nope", utc("2026-12-01T00:00:00Z")), std::nullopt);
  EXPECT_THAT(r.rota("nope", utc("2026-12-01T00:00:00Z"), utc("2026-12-02T00:00:00Z")), IsEmpty());
  ASSERT_NE(r.user("bob"), nullptr);
  EXPECT_EQ(r.user("bob")->name, "bob");
  EXPECT_EQ(r.user("mallory"), nullptr);
  ASSERT_EQ(r.schedules().size(), 1u);
  EXPECT_EQ(r.schedules()[0].name, "ops");
}

}  // namespace
}  // namespace tocsin::oncall
