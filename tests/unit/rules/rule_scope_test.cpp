// Tests for the `scope` key of rules files (rules/rule.hpp, DESIGN.md "Scale-out").

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config.hpp"
#include "rules/rule.hpp"
#include "tests/support/config_errors.hpp"

namespace tocsin::rules {
namespace {

using testing::ElementsAre;

TEST(rule_scope, node_and_cluster_are_read_and_cluster_is_the_default) {
  const std::string yaml = R"yaml(
rules:
  - name: local-logins
    match: { message: 'Failed password' }
    threshold: { count: 5, window: 1m }
    scope: node
  - name: cluster-logins
    match: { message: 'Failed password' }
    threshold: { count: 5, window: 1m }
    scope: cluster
  - name: default-logins
    match: { message: 'Failed password' }
    threshold: { count: 5, window: 1m }
  - name: nginx-silent
    match: { app: '^nginx$' }
    absent: { for: 5m, group_by: [host] }
    scope: node
  - name: disk-full
    match: { message: 'No space left on device' }
)yaml";
  std::vector<rule_definition> rules;
  ASSERT_NO_THROW(rules = load_rules_string(yaml, "scope.yaml").rules);
  ASSERT_EQ(rules.size(), 5u);
  EXPECT_EQ(rules[0].scope, rule_scope::node);
  EXPECT_EQ(rules[1].scope, rule_scope::cluster);
  EXPECT_EQ(rules[2].scope, rule_scope::cluster);
  EXPECT_EQ(rules[3].scope, rule_scope::node);
  EXPECT_EQ(rules[3].kind, rule_kind::absent);
  EXPECT_EQ(rules[4].scope, rule_scope::cluster);
  EXPECT_EQ(rule_definition{}.scope, rule_scope::cluster);
}

TEST(rule_scope, a_bad_value_is_an_error_at_its_place) {
  const std::string yaml = R"yaml(
rules:
  - name: logins
    match: { message: 'Failed password' }
    threshold: { count: 5, window: 1m }
    scope: global
  - name: other
    match: { message: 'x' }
    scope: Node
)yaml";
  EXPECT_THAT(
      test::errors_of(load_rules_string, yaml, "r.yaml"),
      ElementsAre(
          "r.yaml:6:12: rules[0].scope: invalid value 'global'; expected one of cluster, node",
          "r.yaml:9:12: rules[1].scope: invalid value 'Node'; expected one of cluster, node; did "
          "you "
          "mean 'node'?"));
}

TEST(rule_scope, a_scope_that_is_not_a_string_is_an_error) {
  const std::string yaml = R"yaml(
rules:
  - name: logins
    match: { message: 'Failed password' }
    scope: [node]
)yaml";
  const auto errors = test::errors_of(load_rules_string, yaml, "r.yaml");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], testing::StartsWith("r.yaml:5:"));
  EXPECT_THAT(errors[0], testing::HasSubstr("scope"));
}

}  // namespace
}  // namespace tocsin::rules
