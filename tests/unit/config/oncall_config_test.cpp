// The `oncall:` section and route `escalation` (DESIGN.md, "On-call"): every setting read, and
// the errors check-config reports at their keys.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "config/config.hpp"
#include "config/oncall_config.hpp"
#include "tests/support/config_errors.hpp"

namespace tocsin::config {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> errors(const std::string& text) {
  return test::errors_of(load_string,
                         "receivers: [ { name: r } ]\nroute: { receiver: r }\n" + text);
}

constexpr const char* full = R"(
receivers: [ { name: slack-ops } ]
route:
  receiver: slack-ops
  routes: [ { matchers: ['severity="critical"'], receiver: slack-ops, escalation: ops-critical } ]
oncall:
  signing_key_file: /etc/tocsin/ack.key
  users:
    - { name: alice, email: alice@example.com, slack: U0ALICE, telegram: "12345" }
    - { name: bob, email: bob@example.com, token_file: /etc/tocsin/bob.token }
    - { name: carol }
  schedules:
    - name: ops
      time_zone: Europe/Madrid
      layers:
        - { name: weekly, start: 2026-11-30T09:00, rotation: 1w, users: [alice, bob, carol] }
        - { name: nights, start: 2026-11-30T20:00, rotation: 1d, users: [bob, carol],
            restrict: { times: ["20:00-08:00"], weekdays: ["monday:friday", sunday] } }
      overrides: [ { user: bob, start: 2026-12-24T00:00, end: 2026-12-27 } ]
    - { name: dba, ics: dba.ics }
  escalation_policies:
    - name: ops-critical
      steps:
        - { after: 0s,  notify: [ { schedule: ops } ] }
        - { after: 15m, notify: [ { schedule: dba }, { user: carol } ] }
      repeat: 2
      repeat_after: 30m
)";

TEST(oncall_config, every_setting_is_read) {
  const config cfg = load_string(full, "t.yaml");
  const oncall_config& o = cfg.oncall;
  EXPECT_EQ(o.signing_key_file, "/etc/tocsin/ack.key");
  ASSERT_EQ(o.users.size(), 3u);
  EXPECT_EQ(o.users[0].email, "alice@example.com");
  EXPECT_EQ(o.users[0].slack, "U0ALICE");
  EXPECT_EQ(o.users[0].telegram, "12345");
  EXPECT_EQ(o.users[1].token_file, "/etc/tocsin/bob.token");
  ASSERT_EQ(o.schedules.size(), 2u);
  const oncall_schedule& ops = o.schedules[0];
  EXPECT_EQ(ops.time_zone, "Europe/Madrid");
  ASSERT_EQ(ops.layers.size(), 2u);
  EXPECT_EQ(ops.layers[0].start, *parse_local_time("2026-11-30T09:00"));
  EXPECT_EQ(ops.layers[0].rotation, rotation_unit::weeks);
  EXPECT_EQ(ops.layers[1].rotation, rotation_unit::days);
  EXPECT_THAT(ops.layers[0].users, ElementsAre("alice", "bob", "carol"));
  ASSERT_TRUE(ops.layers[1].restrict.has_value());
  ASSERT_EQ(ops.layers[1].restrict->times.size(), 1u);
  EXPECT_EQ(ops.layers[1].restrict->times[0].begin_minute, 20 * 60);
  EXPECT_EQ(ops.layers[1].restrict->times[0].end_minute, 8 * 60);
  EXPECT_THAT(ops.layers[1].restrict->weekdays, ElementsAre(1, 2, 3, 4, 5, 0));
  ASSERT_EQ(ops.overrides.size(), 1u);
  EXPECT_EQ(ops.overrides[0].end, *parse_local_time("2026-12-27T00:00"));
  EXPECT_EQ(o.schedules[1].ics, "dba.ics");
  EXPECT_EQ(o.schedules[1].time_zone, "UTC");
  ASSERT_EQ(o.escalation_policies.size(), 1u);
  const escalation_policy& p = o.escalation_policies[0];
  ASSERT_EQ(p.steps.size(), 2u);
  EXPECT_EQ(p.steps[1].after, 15min);
  EXPECT_EQ(p.steps[1].notify[0].schedule, "dba");
  EXPECT_EQ(p.steps[1].notify[1].user, "carol");
  EXPECT_EQ(p.repeat, 2);
  EXPECT_EQ(p.repeat_after, 30min);
  ASSERT_EQ(cfg.route->routes.size(), 1u);
  EXPECT_EQ(cfg.route->routes[0].escalation, "ops-critical");
}

TEST(oncall_config, local_times) {
  EXPECT_TRUE(parse_local_time("2026-03-29T02:30"));
  EXPECT_TRUE(parse_local_time("2026-03-29T02:30:59"));
  EXPECT_TRUE(parse_local_time("2026-03-29"));
  EXPECT_FALSE(parse_local_time("2026-02-30"));
  EXPECT_FALSE(parse_local_time("2026-03-29T24:00"));
  EXPECT_FALSE(parse_local_time("2026-03-29T02:30Z"));
  EXPECT_FALSE(parse_local_time("29/03/2026"));
}

TEST(oncall_config, names_must_exist) {
  EXPECT_THAT(errors("oncall:\n"
                     "  users: [ { name: alice } ]\n"
                     "  schedules: [ { name: ops, layers: [ { start: 2026-11-30, rotation: 1w, "
                     "users: [alise] } ] } ]\n"
                     "  escalation_policies: [ { name: p, steps: [ { notify: [ { schedule: opz "
                     "} ] } ] } ]\n"),
              ElementsAre(testing::HasSubstr("unknown user 'alise'; did you mean 'alice'?"),
                          testing::HasSubstr("unknown schedule 'opz'; did you mean 'ops'?")));
  EXPECT_THAT(
      test::errors_of(load_string,
                      "receivers: [ { name: r } ]\n"
                      "route: { receiver: r, routes: [ { receiver: r, escalation: x } ] }\n"),
      ElementsAre("t.yaml:2:60: route.routes[0].escalation: unknown escalation policy 'x'"));
}

TEST(oncall_config, bad_values_are_reported_at_their_keys) {
  const auto e = errors(
      "oncall:\n"
      "  users: [ { name: a }, { name: a }, { name: b, slack: '@bob', email: 'b at example' } ]\n"
      "  schedules:\n"
      "    - { name: s, time_zone: Mars/Olympus, layers: [ { start: 2026-13-01, rotation: 2x, "
      "users: [a], restrict: { times: ['25:00-08:00'], weekdays: [friday:monday] } } ] }\n"
      "    - { name: t, overrides: [ { user: a, start: 2026-12-02, end: 2026-12-01 } ] }\n"
      "    - { name: v }\n"
      "    - { name: u, ics: x.ics, layers: [] }\n"
      "  escalation_policies: [ { name: p, steps: [ { notify: [ { user: a, schedule: s } ] } ] },\n"
      "                         { name: q, repeat: 1, steps: [ { notify: [ { user: a } ] } ] } "
      "]\n");
  EXPECT_THAT(e, ElementsAre(testing::HasSubstr("duplicate user name 'a'"),
                             testing::HasSubstr("expected a Slack member id"),
                             testing::HasSubstr("expected an email address, got 'b at example'"),
                             testing::HasSubstr("unknown time zone 'Mars/Olympus'"),
                             testing::HasSubstr("expected a local time like"),
                             testing::HasSubstr("expected a rotation like"),
                             testing::HasSubstr("expected a local time range"),
                             testing::HasSubstr("expected a weekday or a range"),
                             testing::HasSubstr("an override must end after it starts"),
                             testing::HasSubstr("needs layers, overrides or an ics file"),
                             testing::HasSubstr("either layers or an ics file"),
                             testing::HasSubstr("one schedule or one user"),
                             testing::HasSubstr("repeat needs repeat_after")));
}

TEST(oncall_config, no_oncall_section_is_empty) {
  const config cfg = load_string("receivers: [ { name: r } ]\nroute: { receiver: r }\n", "t.yaml");
  EXPECT_THAT(cfg.oncall.users, IsEmpty());
  EXPECT_FALSE(cfg.route->escalation.has_value());
}

}  // namespace
}  // namespace tocsin::config
