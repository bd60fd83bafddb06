#include "sinks/inhibitor.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tocsin::sinks {
namespace {

config::inhibit_rule_config rule(std::vector<std::string> source, std::vector<std::string> target,
                                 std::vector<std::string> equal) {
  return config::inhibit_rule_config{std::move(source), std::move(target), std::move(equal), {}};
}

rules::alert alert(rules::label_set labels, bool firing = true) {
  rules::alert a;
  a.labels = std::move(labels);
  a.firing = firing;
  a.fingerprint = rules::fingerprint(a.labels);
  return a;
}

// The classic: a critical alert mutes the warnings of the same alertname on the same host.
const config::inhibit_rule_config critical_mutes_warning =
    rule({R"(severity="critical")"}, {R"(severity="warning")"}, {"alertname", "host"});

TEST(inhibitor, firing_source_mutes_target_with_equal_labels) {
  const inhibitor inh({critical_mutes_warning});
  const auto critical = alert({{"alertname", "disk"}, {"host", "web1"}, {"severity", "critical"}});
  const auto warning = alert({{"alertname", "disk"}, {"host", "web1"}, {"severity", "warning"}});
  const auto other_host = alert({{"alertname", "disk"}, {"host", "web2"}, {"severity", "warning"}});
  const auto info = alert({{"alertname", "disk"}, {"host", "web1"}, {"severity", "info"}});

  const std::vector<const rules::alert*> firing = {&critical, &warning, &other_host, &info};
  EXPECT_TRUE(inh.inhibited(warning, firing));
  EXPECT_FALSE(inh.inhibited(other_host, firing));                // `host` differs
  EXPECT_FALSE(inh.inhibited(info, firing));                      // not a target
  EXPECT_FALSE(inh.inhibited(critical, firing));                  // not a target
  EXPECT_FALSE(inh.inhibited(warning, {&warning, &other_host}));  // no source
}

TEST(inhibitor, only_firing_sources_count) {
  const inhibitor inh({critical_mutes_warning});
  const auto resolved =
      alert({{"alertname", "disk"}, {"host", "web1"}, {"severity", "critical"}}, false);
  const auto warning = alert({{"alertname", "disk"}, {"host", "web1"}, {"severity", "warning"}});
  EXPECT_FALSE(inh.inhibited(warning, {&resolved, &warning}));
}

TEST(inhibitor, equal_labels_missing_on_both_sides_are_equal) {
  const inhibitor inh({critical_mutes_warning});
  const auto critical = alert({{"alertname", "disk"}, {"severity", "critical"}});
  const auto warning = alert({{"alertname", "disk"}, {"severity", "warning"}});
  const auto warning_with_host =
      alert({{"alertname", "disk"}, {"host", "web1"}, {"severity", "warning"}});
  EXPECT_TRUE(inh.inhibited(warning, {&critical}));
  EXPECT_FALSE(inh.inhibited(warning_with_host, {&critical}));  // "" vs "web1"
  const auto empty_host = alert({{"alertname", "disk"}, {"host", ""}, {"severity", "warning"}});
  EXPECT_TRUE(inh.inhibited(empty_host, {&critical}));  // an empty label is a missing one
}

TEST(inhibitor, no_equal_labels_mutes_every_target) {
  const inhibitor inh({rule({R"(alertname="datacenter-down")"}, {R"(dc="ams1")"}, {})});
  const auto down = alert({{"alertname", "datacenter-down"}});
  const auto any = alert({{"alertname", "disk"}, {"dc", "ams1"}});
  EXPECT_TRUE(inh.inhibited(any, {&down}));
}

TEST(inhibitor, an_alert_matching_both_sides_is_not_muted_by_itself_or_its_peers) {
  // Every `outage` alert is both a source and a target of this rule.
  const inhibitor inh(
      {rule({R"(alertname="outage")"}, {R"(severity=~"critical|warning")"}, {"cluster"})});
  const auto a = alert({{"alertname", "outage"}, {"cluster", "c1"}, {"severity", "critical"}});
  const auto b = alert({{"alertname", "outage"}, {"cluster", "c1"}, {"severity", "warning"}});
  EXPECT_FALSE(inh.inhibited(a, {&a}));
  EXPECT_FALSE(inh.inhibited(a, {&a, &b}));
  EXPECT_FALSE(inh.inhibited(b, {&a, &b}));
  // A source that is not a target itself still mutes it (Alertmanager's hasEqual).
  const auto pure_source =
      alert({{"alertname", "outage"}, {"cluster", "c1"}, {"severity", "info"}});
  EXPECT_TRUE(inh.inhibited(a, {&a, &b, &pure_source}));
  // And a target that is not a source is muted by the two-sided ones.
  const auto plain = alert({{"alertname", "disk"}, {"cluster", "c1"}, {"severity", "warning"}});
  EXPECT_TRUE(inh.inhibited(plain, {&a}));
}

TEST(inhibitor, any_rule_can_mute) {
  const inhibitor inh({rule({R"(a="1")"}, {R"(b="1")"}, {}), critical_mutes_warning});
  const auto critical = alert({{"alertname", "disk"}, {"severity", "critical"}});
  const auto warning = alert({{"alertname", "disk"}, {"severity", "warning"}});
  EXPECT_TRUE(inh.inhibited(warning, {&critical}));
  EXPECT_FALSE(inhibitor({}).inhibited(warning, {&critical}));
}

TEST(inhibitor, bad_matchers_are_config_errors_with_locations) {
  auto bad = rule({R"(a=~"(")"}, {"b"}, {});
  bad.where = {"tocsin.yaml", 40, 5};
  try {
    inhibitor inh({bad});
    FAIL() << "expected config_error";
  } catch (const config::config_error& e) {
    ASSERT_EQ(e.errors().size(), 2u);
    EXPECT_TRUE(e.errors()[0].starts_with("tocsin.yaml:40:5: invalid source matcher"))
        << e.errors()[0];
    EXPECT_TRUE(e.errors()[1].starts_with("tocsin.yaml:40:5: invalid target matcher"))
        << e.errors()[1];
  }
}

// Alertmanager's inhibit syntax: source_match / target_match_re and brace items, all loaded
// from YAML, mean the same as the matchers form.
TEST(inhibitor, alertmanager_match_syntax_means_the_same_as_matchers) {
  const auto cfg = config::load_string(R"yaml(
inhibit_rules:
  - source_match: { severity: critical }
    target_match_re: { severity: 'warn.*|info' }
    equal: [alertname, host]
  - source_matchers: ['{severity="critical"}']
    target_matchers: ['severity=~"warn.*|info"']
    equal: [alertname, host]
)yaml",
                                       "am.yml");
  ASSERT_EQ(cfg.inhibit_rules.size(), 2u);
  const inhibitor with_match({cfg.inhibit_rules[0]});
  const inhibitor with_matchers({cfg.inhibit_rules[1]});
  const auto critical = alert({{"alertname", "disk"}, {"host", "web1"}, {"severity", "critical"}});
  const auto warning = alert({{"alertname", "disk"}, {"host", "web1"}, {"severity", "warning"}});
  const auto info = alert({{"alertname", "disk"}, {"host", "web1"}, {"severity", "info"}});
  // Anchored: "xinfo" is not a target, nor is "warning" on another host.
  const auto xinfo = alert({{"alertname", "disk"}, {"host", "web1"}, {"severity", "xinfo"}});
  const auto elsewhere = alert({{"alertname", "disk"}, {"host", "web2"}, {"severity", "warning"}});
  const std::vector<const rules::alert*> firing = {&critical, &warning, &info, &xinfo, &elsewhere};
  for (const rules::alert* a : firing) {
    const bool want = a == &warning || a == &info;
    EXPECT_EQ(with_match.inhibited(*a, firing), want) << a->labels.at("severity");
    EXPECT_EQ(with_matchers.inhibited(*a, firing), want) << a->labels.at("severity");
  }
}

TEST(inhibitor, a_bad_regex_is_reported_at_its_item) {
  const auto cfg = config::load_string(R"yaml(inhibit_rules:
  - source_matchers: [a=b]
    target_match_re:
      severity: '(warn'
)yaml",
                                       "am.yml");
  try {
    inhibitor inh(cfg.inhibit_rules);
    FAIL() << "expected config_error";
  } catch (const config::config_error& e) {
    ASSERT_EQ(e.errors().size(), 1u);
    EXPECT_TRUE(e.errors()[0].starts_with("am.yml:4:7: invalid target matcher")) << e.errors()[0];
  }
}

}  // namespace
}  // namespace tocsin::sinks
