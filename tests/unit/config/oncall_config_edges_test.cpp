// The `oncall:` section's less common mistakes: values of the wrong type at every level, time
// and rotation syntax corners, and the local times parse_local_time() refuses.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "config/oncall_config.hpp"
#include "tests/support/config_errors.hpp"

namespace tocsin::config {
namespace {

using ::testing::ElementsAre;
using ::testing::EndsWith;

std::vector<std::string> errors(const std::string& oncall) {
  return test::errors_of(load_string,
                         "receivers: [ { name: r } ]\nroute: { receiver: r }\noncall:\n" + oncall);
}

TEST(oncall_config_edges, oncall_is_a_mapping) {
  EXPECT_THAT(errors("  [1]\n"), ElementsAre(EndsWith("oncall: expected a mapping, got a list")));
}

TEST(oncall_config_edges, users_of_the_wrong_type) {
  EXPECT_THAT(errors("  users: [ x, { name: [1] }, { name: u, email: [1] } ]\n"),
              ElementsAre(EndsWith("oncall.users[0]: expected a mapping, got 'x'"),
                          EndsWith("oncall.users[1].name: expected a string, got a list"),
                          EndsWith("oncall.users[2].email: expected a string, got a list")));
}

TEST(oncall_config_edges, email_addresses_with_spaces_or_brackets) {
  EXPECT_THAT(
      errors("  users: [ { name: a, email: 'a b@c' }, { name: b, email: '<b@c' }, { name: c, "
             "email: 'c@d>' }, { name: d, email: 'd,e@f' } ]\n"),
      ElementsAre(EndsWith("oncall.users[0].email: expected an email address, got 'a b@c'"),
                  EndsWith("oncall.users[1].email: expected an email address, got '<b@c'"),
                  EndsWith("oncall.users[2].email: expected an email address, got 'c@d>'"),
                  EndsWith("oncall.users[3].email: expected an email address, got 'd,e@f'")));
}

TEST(oncall_config_edges, schedules_of_the_wrong_type) {
  EXPECT_THAT(
      errors(
          "  schedules: [ x, { name: [1], ics: a.ics }, { name: s, time_zone: [1], ics: [1] } ]\n"),
      ElementsAre(EndsWith("oncall.schedules[0]: expected a mapping, got 'x'"),
                  EndsWith("oncall.schedules[1].name: expected a string, got a list"),
                  EndsWith("oncall.schedules[2].time_zone: expected a string, got a list"),
                  EndsWith("oncall.schedules[2].ics: expected a string, got a list")));
}

TEST(oncall_config_edges, time_zones) {
  EXPECT_THAT(errors("  schedules: [ { name: s, time_zone: UTC, ics: a.ics }, { name: t, "
                     "time_zone: Europe/Nowhere, ics: b.ics } ]\n"),
              ElementsAre(EndsWith("oncall.schedules[1].time_zone: unknown time zone "
                                   "'Europe/Nowhere' (an IANA name like Europe/Madrid, or UTC)")));
}

TEST(oncall_config_edges, layers_of_the_wrong_type) {
  EXPECT_THAT(
      errors("  users: [ { name: a } ]\n  schedules: [ { name: s, layers: [ x, { name: [1], start: "
             "2026-01-01, rotation: 1w, users: [a] }, { start: 2026-01-01, rotation: 1w, users: x "
             "}, { start: 2026-01-01, rotation: 1w, users: [] } ] } ]\n"),
      ElementsAre(
          EndsWith("oncall.schedules[0].layers[0]: expected a mapping, got 'x'"),
          EndsWith("oncall.schedules[0].layers[1].name: expected a string, got a list"),
          EndsWith("oncall.schedules[0].layers[2].users: expected a list, got 'x'"),
          EndsWith("oncall.schedules[0].layers[3].users: a layer needs at least one user")));
}

TEST(oncall_config_edges, rotations) {
  EXPECT_THAT(
      errors("  users: [ { name: a } ]\n  schedules: [ { name: s, layers: [ { start: 2026-01-01, "
             "rotation: [1], users: [a] }, { start: 2026-01-01, rotation: '', users: [a] }, { "
             "start: 2026-01-01, rotation: 0w, users: [a] }, { start: 2026-01-01, rotation: "
             "12345d, users: [a] }, { start: 2026-01-01, rotation: 12h, users: [a] } ] } ]\n"),
      ElementsAre(EndsWith("oncall.schedules[0].layers[0].rotation: expected a string, got a list"),
                  EndsWith("oncall.schedules[0].layers[1].rotation: must not be empty"),
                  EndsWith("oncall.schedules[0].layers[2].rotation: expected a rotation like 1w, "
                           "1d or 12h (hours, days or weeks), got '0w'"),
                  EndsWith("oncall.schedules[0].layers[3].rotation: expected a rotation like 1w, "
                           "1d or 12h (hours, days or weeks), got '12345d'")));
}

TEST(oncall_config_edges, restrictions_of_the_wrong_type) {
  EXPECT_THAT(
      errors("  users: [ { name: a } ]\n  schedules: [ { name: s, layers: [ { start: 2026-01-01, "
             "rotation: 1d, users: [a], restrict: x }, { start: 2026-01-01, rotation: 1d, users: "
             "[a], restrict: { times: x, weekdays: [funday, 'monday:funday', sunday] } } ] } ]\n"),
      ElementsAre(
          EndsWith("oncall.schedules[0].layers[0].restrict: expected a mapping, got 'x'"),
          EndsWith("oncall.schedules[0].layers[1].restrict.times: expected a list, got 'x'"),
          EndsWith("oncall.schedules[0].layers[1].restrict.weekdays[0]: expected a weekday or a "
                   "range like monday:friday, got 'funday'"),
          EndsWith("oncall.schedules[0].layers[1].restrict.weekdays[1]: expected a weekday or a "
                   "range like monday:friday, got 'monday:funday'")));
}

TEST(oncall_config_edges, restriction_times) {
  EXPECT_THAT(errors("  users: [ { name: a } ]\n  schedules: [ { name: s, layers: [ { start: "
                     "2026-01-01, rotation: 1d, users: [a], restrict: { times: ['0800', "
                     "'20:00-24:00', '24:30-01:00', '2000-08:00', '20.00-08:00', '2x:00-08:00', "
                     "'20:x0-08:00', '20:60-08:00', '24:00-08:00'] } } ] } ]\n"),
              ElementsAre(EndsWith("oncall.schedules[0].layers[0].restrict.times[0]: expected a "
                                   "local time range like 20:00-08:00, got '0800'"),
                          EndsWith("oncall.schedules[0].layers[0].restrict.times[2]: expected a "
                                   "local time range like 20:00-08:00, got '24:30-01:00'"),
                          EndsWith("oncall.schedules[0].layers[0].restrict.times[3]: expected a "
                                   "local time range like 20:00-08:00, got '2000-08:00'"),
                          EndsWith("oncall.schedules[0].layers[0].restrict.times[4]: expected a "
                                   "local time range like 20:00-08:00, got '20.00-08:00'"),
                          EndsWith("oncall.schedules[0].layers[0].restrict.times[5]: expected a "
                                   "local time range like 20:00-08:00, got '2x:00-08:00'"),
                          EndsWith("oncall.schedules[0].layers[0].restrict.times[6]: expected a "
                                   "local time range like 20:00-08:00, got '20:x0-08:00'"),
                          EndsWith("oncall.schedules[0].layers[0].restrict.times[7]: expected a "
                                   "local time range like 20:00-08:00, got '20:60-08:00'"),
                          EndsWith("oncall.schedules[0].layers[0].restrict.times[8]: expected a "
                                   "local time range like 20:00-08:00, got '24:00-08:00'")));
}

TEST(oncall_config_edges, overrides) {
  EXPECT_THAT(
      errors("  users: [ { name: a } ]\n  schedules: [ { name: s, overrides: [ { user: [1], start: "
             "2026-12-01, end: 2026-12-02 }, { user: a, start: [1], end: 2026-12-02 }, { user: a, "
             "start: x, end: 2026-12-01 }, { user: a, start: 2026-12-01 } ] } ]\n"),
      ElementsAre(EndsWith("oncall.schedules[0].overrides[0].user: expected a string, got a list"),
                  EndsWith("oncall.schedules[0].overrides[1].start: expected a string, got a list"),
                  EndsWith("oncall.schedules[0].overrides[2].start: expected a local time like "
                           "2026-11-30T09:00, got 'x'"),
                  EndsWith("missing required key 'end' in oncall.schedules[0].overrides[3]")));
}

TEST(oncall_config_edges, policies_of_the_wrong_type) {
  EXPECT_THAT(
      errors("  escalation_policies: [ x, { name: [1], steps: x }, { name: p, steps: [], repeat: 1 "
             "}, { name: q, steps: [ { notify: [ { user: a } ] } ], repeat: x } ]\n"),
      ElementsAre(
          EndsWith("oncall.escalation_policies[0]: expected a mapping, got 'x'"),
          EndsWith("oncall.escalation_policies[1].name: expected a string, got a list"),
          EndsWith("oncall.escalation_policies[1].steps: expected a list, got 'x'"),
          EndsWith("oncall.escalation_policies[2]: repeat needs repeat_after (the last step's "
                   "after is 0)"),
          EndsWith("oncall.escalation_policies[2].steps: a policy needs at least one step"),
          EndsWith("oncall.escalation_policies[3].steps[0].notify[0].user: unknown user 'a'"),
          EndsWith(
              "oncall.escalation_policies[3].repeat: expected a non-negative integer, got 'x'")));
}

TEST(oncall_config_edges, steps_and_targets_of_the_wrong_type) {
  EXPECT_THAT(
      errors("  users: [ { name: a } ]\n  escalation_policies: [ { name: p, steps: [ x, { after: "
             "x, notify: [ { user: a } ] }, { notify: x }, { notify: [] }, { notify: [ x, { user: "
             "[1] } ] } ] } ]\n"),
      ElementsAre(
          EndsWith("oncall.escalation_policies[0].steps[0]: expected a mapping, got 'x'"),
          EndsWith("oncall.escalation_policies[0].steps[1].after: invalid duration 'x': expected a "
                   "number"),
          EndsWith("oncall.escalation_policies[0].steps[2].notify: expected a list, got 'x'"),
          EndsWith("oncall.escalation_policies[0].steps[3].notify: a step needs someone to notify"),
          EndsWith("oncall.escalation_policies[0].steps[4].notify[0]: expected a mapping, got 'x'"),
          EndsWith("oncall.escalation_policies[0].steps[4].notify[1].user: expected a string, got "
                   "a list")));
}

// What the corners above accept: UTC, hours, a range to midnight, a weekday range.
TEST(oncall_config_edges, accepted_corners_are_read) {
  const config cfg = load_string(
      "receivers: [ { name: r } ]\nroute: { receiver: r }\noncall:\n"
      "  users: [ { name: a } ]\n"
      "  schedules: [ { name: s, time_zone: UTC, layers: [ { start: '2026-01-01 08:00:30', "
      "rotation: 12h, users: [a], restrict: { times: ['20:00-24:00'], weekdays: "
      "['monday:wednesday'] } } ] } ]\n",
      "t.yaml");
  ASSERT_EQ(cfg.oncall.schedules.size(), 1U);
  const oncall_schedule& s = cfg.oncall.schedules[0];
  EXPECT_EQ(s.time_zone, "UTC");
  ASSERT_EQ(s.layers.size(), 1U);
  EXPECT_EQ(s.layers[0].rotation, rotation_unit::hours);
  EXPECT_EQ(s.layers[0].rotation_count, 12);
  const auto start = parse_local_time("2026-01-01T08:00:30");
  ASSERT_TRUE(start);
  EXPECT_TRUE(s.layers[0].start == *start);
  ASSERT_TRUE(s.layers[0].restrict.has_value());
  ASSERT_EQ(s.layers[0].restrict->times.size(), 1U);
  EXPECT_EQ(s.layers[0].restrict->times[0].begin_minute, 20 * 60);
  EXPECT_EQ(s.layers[0].restrict->times[0].end_minute, 0);  // midnight
  EXPECT_EQ(s.layers[0].restrict->weekdays, (std::vector<int>{1, 2, 3}));
}

TEST(oncall_config_edges, local_times_refused) {
  using std::chrono::local_days;
  using namespace std::chrono;
  const auto spaced = parse_local_time("2026-03-29 02:30");
  ASSERT_TRUE(spaced);
  EXPECT_TRUE(*spaced == local_days{year{2026} / 3 / 29} + hours(2) + minutes(30));
  for (const char* text : {"2026/03-29",          "2026-03/29",          "/026-03-29",
                           "2a26-03-29",          "20/6-03-29",          "202a-03-29",
                           "2026-a3-29",          "2026-0a-29",          "2026-03-a9",
                           "2026-03-2a",          "2026-03-29X02:30",    "2026-03-29T02-30",
                           "2026-03-29Tx2:30",    "2026-03-29T02:x0",    "2026-03-29T02:60",
                           "2026-03-29T24:30",    "2026-03-29T02:30.59", "2026-03-29T02:30:x9",
                           "2026-03-29T02:30:60", "2026-03-29T02:3",     ""}) {
    EXPECT_FALSE(parse_local_time(text)) << text;
  }
  EXPECT_TRUE(parse_local_time("2026-03-29T02:30:59"));
}

}  // namespace
}  // namespace tocsin::config
