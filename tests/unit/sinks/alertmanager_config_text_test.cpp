#include "sinks/alertmanager_config_text.hpp"

#include <gtest/gtest.h>

#include <string>

#include "sinks/route_tree.hpp"

namespace tocsin::sinks {
namespace {

// Every routing feature the text carries: match/match_re/matchers, group_by '...', timers,
// continue, escalation (tocsin's own, left out), time intervals of every field, inhibit rules,
// and a receiver with a secret in its integration.
constexpr const char* full_config = R"yaml(
route:
  receiver: default
  group_by: [alertname, host]
  group_wait: 45s
  group_interval: 2m
  repeat_interval: 3h30m
  routes:
    - match: { team: db }
      match_re: { host: 'db-.*' }
      receiver: db
      group_by: ['...']
      continue: true
      mute_time_intervals: [nights]
    - matchers: ['{severity="critical",env!~"dev|test"}']
      receiver: pager
      group_wait: 500ms
      active_time_intervals: [office]
      routes:
        - { matchers: ['service="web"'], receiver: default }
inhibit_rules:
  - source_match: { severity: critical }
    target_matchers: ['severity=~"warning|info"']
    equal: [host]
receivers:
  - name: default
  - name: db
  - name: pager
    webhook: { url: 'https://user:hunter2@pager.example.com/hook' }
time_intervals:
  - name: office
    time_intervals:
      - weekdays: ['monday:friday']
        times: [ { start_time: '09:00', end_time: '17:30' } ]
        location: Europe/Berlin
      - days_of_month: ['1:5', '-1']
        months: ['january:march', 'december']
        years: ['2026:2027']
  - name: nights
    time_intervals: [ { times: [ { start_time: '22:00', end_time: '24:00' } ] } ]
)yaml";

config::config load(const std::string& text) { return config::load_string(text, "t.yaml"); }

TEST(alertmanager_config_text, loads_back_to_the_same_routes_intervals_and_inhibit_rules) {
  const auto cfg = load(full_config);
  const std::string text = alertmanager_config_text(cfg);
  const auto back = load(text);

  ASSERT_TRUE(back.route);
  const route_tree before(*cfg.route, cfg.receivers, cfg.time_intervals);
  const route_tree after(*back.route, back.receivers, back.time_intervals);
  EXPECT_EQ(after.fingerprint(), before.fingerprint()) << text;
  ASSERT_EQ(back.inhibit_rules.size(), 1U);
  EXPECT_EQ(back.inhibit_rules[0].source_matchers, cfg.inhibit_rules[0].source_matchers);
  EXPECT_EQ(back.inhibit_rules[0].target_matchers, cfg.inhibit_rules[0].target_matchers);
  EXPECT_EQ(back.inhibit_rules[0].equal, cfg.inhibit_rules[0].equal);
  ASSERT_EQ(back.receivers.size(), 3U);
  EXPECT_EQ(back.receivers[2].name, "pager");
  EXPECT_EQ(back.receivers[2].integration, "");
}

TEST(alertmanager_config_text, names_receivers_but_keeps_their_secrets) {
  const std::string text = alertmanager_config_text(load(full_config));
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
  EXPECT_EQ(text.find("webhook"), std::string::npos) << text;
  EXPECT_NE(text.find("- name: \"pager\""), std::string::npos) << text;
}

TEST(alertmanager_config_text, is_alertmanagers_yaml) {
  const std::string text = alertmanager_config_text(load(R"yaml(
route:
  receiver: default
  group_by: [alertname]
  routes:
    - { matchers: ['team="night"'], receiver: night, mute_time_intervals: [always],
        group_interval: 1h30m }
receivers: [ { name: default }, { name: night } ]
time_intervals:
  - name: always
    time_intervals: [ { times: [ { start_time: '00:00', end_time: '24:00' } ],
                        weekdays: [sunday, 'tuesday:thursday'] } ]
)yaml"));
  EXPECT_EQ(text,
            "route:\n"
            "  group_by:\n"
            "  - \"alertname\"\n"
            "  receiver: \"default\"\n"
            "  routes:\n"
            "  - group_interval: \"1h30m\"\n"
            "    matchers:\n"
            "    - \"team=\\\"night\\\"\"\n"
            "    mute_time_intervals:\n"
            "    - \"always\"\n"
            "    receiver: \"night\"\n"
            "receivers:\n"
            "- name: \"default\"\n"
            "- name: \"night\"\n"
            "time_intervals:\n"
            "- name: \"always\"\n"
            "  time_intervals:\n"
            "  - times:\n"
            "    - end_time: \"24:00\"\n"
            "      start_time: \"00:00\"\n"
            "    weekdays:\n"
            "    - \"sunday\"\n"
            "    - \"tuesday:thursday\"\n");
}

TEST(alertmanager_config_text, empty_without_a_route) {
  EXPECT_EQ(alertmanager_config_text(config::config{}), "");
}

}  // namespace
}  // namespace tocsin::sinks
