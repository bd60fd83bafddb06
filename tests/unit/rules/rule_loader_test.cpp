// Tests for rules/rule.hpp: the rules file loader and its FILE:LINE:COL errors.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config.hpp"
#include "rules/rule.hpp"
#include "tests/support/config_errors.hpp"
#include "tests/support/temp_dir.hpp"

namespace tocsin::rules {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using testing::ElementsAre;
using testing::HasSubstr;
using testing::Pair;

// DESIGN.md's "Rules file" example, verbatim.
constexpr const char* kDesignExample = R"yaml(
rules:
  - name: ssh-bruteforce
    match: { app: '^sshd$', message: 'Failed password for (invalid user )?(?P<user>\S+) from (?P<src_ip>[0-9.]+)' }
    threshold: { count: 5, window: 1m, group_by: [host, src_ip] }
    severity: warning
    labels: { team: security }
    annotations: { summary: "{{count}} failed SSH logins for {{user}} from {{src_ip}} on {{host}}" }
  - name: disk-full
    match: { message: 'No space left on device' }
    severity: critical
  - name: nginx-silent
    match: { app: '^nginx$' }
    absent: { for: 5m, group_by: [host] }
    severity: critical
)yaml";

TEST(rule_loader, design_example_loads) {
  std::vector<rule_definition> rules;
  ASSERT_NO_THROW(rules = load_rules_string(kDesignExample, "design.yaml").rules);
  ASSERT_EQ(rules.size(), 3u);

  const rule_definition& ssh = rules[0];
  EXPECT_EQ(ssh.name, "ssh-bruteforce");
  EXPECT_EQ(ssh.kind, rule_kind::threshold);
  ASSERT_EQ(ssh.match.size(), 2u);
  EXPECT_EQ(ssh.match[0].field, "app");
  EXPECT_EQ(ssh.match[0].pattern, "^sshd$");
  EXPECT_EQ(ssh.match[0].where.file, "design.yaml");
  EXPECT_EQ(ssh.match[0].where.line, 4);
  EXPECT_EQ(ssh.match[0].where.column, 19);
  EXPECT_EQ(ssh.match[1].field, "message");
  EXPECT_EQ(ssh.match[1].pattern,
            R"(Failed password for (invalid user )?(?P<user>\S+) from (?P<src_ip>[0-9.]+))");
  EXPECT_EQ(ssh.count, 5u);
  EXPECT_EQ(ssh.window, minutes(1));
  EXPECT_THAT(ssh.group_by, ElementsAre("host", "src_ip"));
  EXPECT_EQ(ssh.severity, "warning");
  EXPECT_THAT(ssh.labels, ElementsAre(Pair("team", "security")));
  EXPECT_THAT(ssh.annotations,
              ElementsAre(Pair("summary",
                               "{{count}} failed SSH logins for {{user}} from {{src_ip}} on "
                               "{{host}}")));
  EXPECT_EQ(ssh.min_severity, -1);
  EXPECT_EQ(ssh.where.line, 3);
  EXPECT_EQ(ssh.where.column, 5);

  const rule_definition& disk = rules[1];
  EXPECT_EQ(disk.name, "disk-full");
  EXPECT_EQ(disk.kind, rule_kind::plain);
  EXPECT_EQ(disk.severity, "critical");
  EXPECT_EQ(disk.resolve_after, minutes(5));
  EXPECT_THAT(disk.group_by, ElementsAre("host"));  // a plain rule's default

  const rule_definition& nginx = rules[2];
  EXPECT_EQ(nginx.name, "nginx-silent");
  EXPECT_EQ(nginx.kind, rule_kind::absent);
  EXPECT_EQ(nginx.for_duration, minutes(5));
  EXPECT_THAT(nginx.group_by, ElementsAre("host"));
}

TEST(rule_loader, group_by_is_a_key_of_the_rule_for_every_kind) {
  const auto rules =
      load_rules_string(
          "rules:\n"
          "  - { name: plain-default, match: { message: a } }\n"
          "  - { name: plain-none, match: { message: a }, group_by: [] }\n"
          "  - { name: plain-app, match: { message: 'a (?P<u>x)' }, group_by: [app, u] }\n"
          "  - { name: thr, match: { message: a }, group_by: [host],\n"
          "      threshold: { count: 2, window: 1m } }\n"
          "  - { name: thr-v1, match: { message: a }, threshold: { count: 2, window: 1m,\n"
          "      group_by: [app] } }\n"
          "  - { name: thr-none, match: { message: a }, threshold: { count: 2, window: 1m } }\n",
          "r.yaml")
          .rules;
  ASSERT_EQ(rules.size(), 6U);
  EXPECT_THAT(rules[0].group_by, ElementsAre("host"));
  EXPECT_TRUE(rules[1].group_by.empty());
  EXPECT_THAT(rules[2].group_by, ElementsAre("app", "u"));
  EXPECT_THAT(rules[3].group_by, ElementsAre("host"));
  EXPECT_THAT(rules[4].group_by, ElementsAre("app"));
  EXPECT_TRUE(rules[5].group_by.empty());

  try {
    load_rules_string(
        "rules:\n"
        "  - { name: twice, match: { message: a }, group_by: [host],\n"
        "      threshold: { count: 2, window: 1m, group_by: [app] } }\n",
        "r.yaml");
    FAIL() << "group_by twice must be an error";
  } catch (const config::config_error& e) {
    ASSERT_EQ(e.errors().size(), 1U);
    EXPECT_THAT(e.errors()[0], HasSubstr("group_by is given twice"));
  }
}

TEST(rule_loader, every_key) {
  const auto rules = load_rules_string(R"yaml(
rules:
  - name: "kernel:io_error-1"
    match:
      message: 'I/O error, dev (?P<dev>\w+)'
      facility: '^kern$'
      fields.user_id: '^9001$'
      sd.origin@32473.x.ip: '^10\.'
    min_severity: err
    severity: page
    labels: { team: storage, tier: "1" }
    annotations: { summary: "{{dev}} on {{host}}", runbook: "" }
    resolve_after: 1h30m
)yaml",
                                       "r.yaml")
                         .rules;
  ASSERT_EQ(rules.size(), 1u);
  const rule_definition& r = rules[0];
  EXPECT_EQ(r.name, "kernel:io_error-1");
  EXPECT_EQ(r.kind, rule_kind::plain);
  ASSERT_EQ(r.match.size(), 4u);
  EXPECT_EQ(r.match[2].field, "fields.user_id");
  EXPECT_EQ(r.match[3].field, "sd.origin@32473.x.ip");
  EXPECT_EQ(r.match[3].where.line, 8);
  EXPECT_EQ(r.min_severity, 3);
  EXPECT_EQ(r.severity, "page");
  EXPECT_THAT(r.labels, ElementsAre(Pair("team", "storage"), Pair("tier", "1")));
  EXPECT_THAT(r.annotations,
              ElementsAre(Pair("runbook", ""), Pair("summary", "{{dev}} on {{host}}")));
  EXPECT_EQ(r.resolve_after, minutes(90));
}

TEST(rule_loader, empty_files_hold_no_rules) {
  for (const char* yaml : {"", "# nothing\n", "rules:\n", "rules: []\n"}) {
    std::vector<rule_definition> rules;
    EXPECT_NO_THROW(rules = load_rules_string(yaml, "r.yaml").rules) << yaml;
    EXPECT_TRUE(rules.empty()) << yaml;
  }
}

TEST(rule_loader, event_fields) {
  struct test_case {
    const char* name;
    bool valid;
  };
  const std::vector<test_case> cases = {
      {"message", true},     {"host", true},       {"app", true},      {"procid", true},
      {"msgid", true},       {"facility", true},   {"severity", true}, {"input", true},
      {"source", true},      {"format", true},     {"fields.x", true}, {"fields.a.b", true},
      {"sd.id.param", true}, {"sd.a@1.2.p", true}, {"fields", false},  {"fields.", false},
      {"sd", false},         {"sd.id", false},     {"sd.id.", false},  {"sd..param", false},
      {"timestamp", false},  {"Message", false},   {"", false},        {"field.x", false},
  };
  for (const test_case& c : cases) EXPECT_EQ(is_event_field(c.name), c.valid) << c.name;
}

struct error_case {
  const char* what;
  std::string yaml;
  std::vector<std::string> errors;
};

TEST(rule_loader, errors_name_file_line_and_column) {
  const std::string kFields =
      "expected one of message, host, app, procid, msgid, facility, severity, input, source, "
      "format, fields.NAME or sd.ID.PARAM";
  const std::string kGroupBy =
      "expected a named group (?P<name>...) of the rule's patterns or an event field (message, "
      "host, app, procid, msgid, facility, severity, input, source, format, fields.NAME, "
      "sd.ID.PARAM)";
  const std::vector<error_case> cases = {
      {"unknown rule key",
       "rules:\n"
       "  - name: a\n"
       "    match: { message: x }\n"
       "    severty: critical\n",
       {"r.yaml:4:5: unknown key 'severty' in rules[0]; did you mean 'severity'?"}},
      {"unknown top-level key",
       "rule:\n"
       "  - name: a\n",
       {"r.yaml:1:1: unknown key 'rule'; did you mean 'rules'?"}},
      {"unknown field with suggestion",
       "rules:\n"
       "  - name: a\n"
       "    match: { mesage: x }\n",
       {"r.yaml:3:14: rules[0].match: unknown field 'mesage'; " + kFields +
        "; did you mean 'message'?"}},
      {"misspelt fields prefix",
       "rules:\n"
       "  - name: a\n"
       "    match: { field.user: x }\n",
       {"r.yaml:3:14: rules[0].match: unknown field 'field.user'; " + kFields +
        "; did you mean 'fields.user'?"}},
      {"sd field without param",
       "rules:\n"
       "  - name: a\n"
       "    match: { sd.origin: x }\n",
       {"r.yaml:3:14: rules[0].match: invalid field 'sd.origin'; expected sd.ID.PARAM"}},
      {"bad regex carries RE2's message",
       "rules:\n"
       "  - name: a\n"
       "    match: { message: 'a(b' }\n",
       {"r.yaml:3:23: rules[0].match.message: invalid regex: missing ): a(b"}},
      {"bad regex, block style",
       "rules:\n"
       "  - name: a\n"
       "    match:\n"
       "      app: '^ok$'\n"
       "      host: 'x{2,1}'\n",
       {"r.yaml:5:13: rules[0].match.host: invalid regex: invalid repetition size: {2,1}"}},
      {"backreference is no RE2",
       "rules:\n"
       "  - name: a\n"
       "    match: { message: '(a)\\1' }\n",
       {"r.yaml:3:23: rules[0].match.message: invalid regex: invalid escape sequence: \\1"}},
      {"duplicate match field",
       "rules:\n"
       "  - name: a\n"
       "    match: { message: x, message: y }\n",
       {"r.yaml:3:26: duplicate key 'message' in rules[0].match"}},
      {"rule not a mapping",
       "rules:\n"
       "  - disk-full\n",
       {"r.yaml:2:5: rules[0]: expected a mapping, got 'disk-full'"}},
      {"empty match",
       "rules:\n"
       "  - name: a\n"
       "    match: {}\n",
       {"r.yaml:3:12: rules[0].match: must not be empty: give at least one field: regex"}},
      {"match not a mapping",
       "rules:\n"
       "  - name: a\n"
       "    match: 'error'\n",
       {"r.yaml:3:12: rules[0].match: expected a mapping of event field to regex, got 'error'"}},
      {"empty pattern",
       "rules:\n"
       "  - name: a\n"
       "    match: { message: '' }\n",
       {"r.yaml:3:23: rules[0].match.message: must not be empty"}},
      {"missing name and match",
       "rules:\n"
       "  - severity: critical\n",
       {"r.yaml:2:5: missing required key 'name' in rules[0]",
        "r.yaml:2:5: missing required key 'match' in rules[0]"}},
      {"invalid rule name",
       "rules:\n"
       "  - name: 'disk full'\n"
       "    match: { message: x }\n",
       {"r.yaml:2:11: rules[0].name: invalid rule name 'disk full' (it becomes the alertname "
        "label: a letter, digit or '_', then letters, digits, '_', ':' or '-')"}},
      {"rule name starting with '-'",
       "rules:\n"
       "  - name: '-x'\n"
       "    match: { message: x }\n",
       {"r.yaml:2:11: rules[0].name: invalid rule name '-x' (it becomes the alertname label: a "
        "letter, digit or '_', then letters, digits, '_', ':' or '-')"}},
      {"duplicate name in one file",
       "rules:\n"
       "  - name: a\n"
       "    match: { message: x }\n"
       "  - name: a\n"
       "    match: { message: y }\n",
       {"r.yaml:4:11: rules[1].name: duplicate rule name 'a' (first defined at r.yaml:2:11)"}},
      {"threshold and absent together",
       "rules:\n"
       "  - name: a\n"
       "    match: { app: x }\n"
       "    threshold: { count: 2, window: 1m }\n"
       "    absent: { for: 5m }\n",
       {"r.yaml:5:5: rules[0].absent: threshold and absent are mutually exclusive: a rule has one "
        "kind"}},
      {"count 0",
       "rules:\n"
       "  - name: a\n"
       "    match: { app: x }\n"
       "    threshold: { count: 0, window: 1m }\n",
       {"r.yaml:4:25: rules[0].threshold.count: expected a positive integer, got '0'"}},
      {"count missing",
       "rules:\n"
       "  - name: a\n"
       "    match: { app: x }\n"
       "    threshold: { window: 1m }\n",
       {"r.yaml:4:16: missing required key 'count' in rules[0].threshold"}},
      {"bad duration",
       "rules:\n"
       "  - name: a\n"
       "    match: { app: x }\n"
       "    threshold: { count: 3, window: 5x }\n",
       {"r.yaml:4:36: rules[0].threshold.window: invalid duration '5x': unknown unit 'x' (use "
        "ms, s, m, h, d, w or y)"}},
      {"zero window",
       "rules:\n"
       "  - name: a\n"
       "    match: { app: x }\n"
       "    threshold: { count: 3, window: 0s }\n",
       {"r.yaml:4:36: rules[0].threshold.window: must be greater than 0"}},
      {"bad absent duration",
       "rules:\n"
       "  - name: a\n"
       "    match: { app: x }\n"
       "    absent: { for: 1.5m }\n",
       {"r.yaml:4:20: rules[0].absent.for: invalid duration '1.5m': fractions are not supported "
        "(write 1m30s, not 1.5m)"}},
      {"group_by unknown field",
       "rules:\n"
       "  - name: a\n"
       "    match: { app: x, message: 'from (?P<src_ip>\\S+)' }\n"
       "    threshold: { count: 3, window: 1m, group_by: [host, hots, src_ip, srcip, user] }\n",
       {"r.yaml:4:57: rules[0].threshold.group_by[1]: unknown field 'hots'; " + kGroupBy +
            "; did you mean 'host'?",
        "r.yaml:4:71: rules[0].threshold.group_by[3]: unknown field 'srcip'; " + kGroupBy +
            "; did you mean 'src_ip'?",
        "r.yaml:4:78: rules[0].threshold.group_by[4]: unknown field 'user'; " + kGroupBy}},
      {"group_by names a group of another rule",
       "rules:\n"
       "  - name: a\n"
       "    match: { message: '(?P<user>\\S+)' }\n"
       "  - name: b\n"
       "    absent: { for: 1m, group_by: [user] }\n"
       "    match: { app: x }\n",
       {"r.yaml:5:35: rules[1].absent.group_by[0]: unknown field 'user'; " + kGroupBy}},
      {"group_by duplicate",
       "rules:\n"
       "  - name: a\n"
       "    match: { app: x }\n"
       "    absent: { for: 1m, group_by: [host, host] }\n",
       {"r.yaml:4:41: rules[0].absent.group_by[1]: duplicate entry 'host'"}},
      {"resolve_after on a threshold rule",
       "rules:\n"
       "  - name: a\n"
       "    match: { app: x }\n"
       "    threshold: { count: 3, window: 1m }\n"
       "    resolve_after: 10m\n",
       {"r.yaml:5:5: rules[0].resolve_after: only plain and new_term rules resolve after a quiet "
        "time; "
        "threshold rules resolve when below count for a window"}},
      {"unknown min_severity",
       "rules:\n"
       "  - name: a\n"
       "    match: { app: x }\n"
       "    min_severity: warn\n",
       {"r.yaml:4:19: rules[0].min_severity: invalid value 'warn'; expected one of emerg, alert, "
        "crit, err, warning, notice, info, debug"}},
      {"reserved and invalid label names",
       "rules:\n"
       "  - name: a\n"
       "    match: { app: x }\n"
       "    labels: { alertname: b, severity: c, bad-name: d }\n",
       {"r.yaml:4:15: rules[0].labels: label 'alertname' is set by the rule itself; it is the "
        "rule name",
        "r.yaml:4:29: rules[0].labels: label 'severity' is set by the rule itself; use the rule's "
        "'severity' key",
        "r.yaml:4:42: rules[0].labels: invalid label name 'bad-name' (a letter or '_', then "
        "letters, digits or '_')"}},
      {"label value not a string",
       "rules:\n"
       "  - name: a\n"
       "    match: { app: x }\n"
       "    labels: { team: [a, b] }\n",
       {"r.yaml:4:21: rules[0].labels.team: expected a string, got a list"}},
      {"rules not a list",
       "rules: { name: a }\n",
       {"r.yaml:1:8: rules: expected a list, got a mapping"}},
      {"top level not a mapping",
       "- name: a\n",
       {"r.yaml:1:1: expected a mapping with a 'rules' and/or 'metrics' list, got a list"}},
      {"YAML syntax error",
       "rules:\n"
       "  - name: a\n"
       "    match: { app: x\n",
       {"r.yaml:4:1: end of map flow not found"}},
      {"two documents",
       "rules: []\n"
       "---\n"
       "rules: []\n",
       {"r.yaml:2:1: a rules file holds one YAML document, found a second"}},
      {"every error at once, in file order",
       "rules:\n"
       "  - name: a\n"
       "    match: { message: '[', hots: x }\n"
       "  - name: b\n"
       "    match: { app: y }\n"
       "    threshold: { count: -1, window: 1m }\n",
       {"r.yaml:3:23: rules[0].match.message: invalid regex: missing ]: [",
        "r.yaml:3:28: rules[0].match: unknown field 'hots'; " + kFields + "; did you mean 'host'?",
        "r.yaml:6:25: rules[1].threshold.count: expected a positive integer, got '-1'"}},
  };
  for (const error_case& c : cases) {
    EXPECT_EQ(test::errors_of(load_rules_string, c.yaml, "r.yaml"), c.errors) << c.what << "\n"
                                                                              << c.yaml;
  }
}

// DESIGN.md's "More kinds" example, verbatim.
TEST(rule_loader, design_more_kinds_example_loads) {
  const auto rules = load_rules_string(R"yaml(
rules:
  - name: 5xx-spike              # this window against the previous one
    match: { app: '^nginx$', message: '" 5\d\d ' }
    spike: { window: 5m, ratio: 3, min_count: 20, group_by: [host] }    # ratio < 1: a drop; a group needs a whole previous window of history
  - name: new-sudo-user          # a value never seen before (per group) within `lookback`
    match: { app: '^sudo$', message: 'USER=(?P<target>\S+)' }
    new_term: { field: target, lookback: 30d, warmup: 1h, group_by: [host] }  # terms persist in data_dir; terms seen during warmup (after the rule appears) only teach
  - name: many-users-one-ip      # distinct values of a field in a window
    match: { app: '^sshd$', message: 'for (?P<user>\S+) from (?P<ip>[0-9.]+)' }
    cardinality: { field: user, max: 10, window: 10m, group_by: [ip] }
  - name: slow-requests          # a number captured from the line, aggregated over a window
    match: { app: '^nginx$', message: 'rt=(?P<rt>[0-9.]+)' }
    aggregate: { value: rt, function: p99, window: 5m, above: 2.5, group_by: [host] }   # avg min max sum pNN; above/below
  - name: error-ratio            # share of matching events among a base selection
    match: { app: '^api$', severity: '^(err|crit)$' }
    ratio: { of: { app: '^api$' }, window: 5m, above: 0.05, min_base: 100 }
)yaml",
                                       "r.yaml")
                         .rules;
  ASSERT_EQ(rules.size(), 5U);
  EXPECT_EQ(rules[0].kind, rule_kind::spike);
  EXPECT_EQ(rules[0].window, minutes(5));
  EXPECT_EQ(rules[0].spike_ratio, 3);
  EXPECT_EQ(rules[0].min_count, 20U);
  EXPECT_THAT(rules[0].group_by, ElementsAre("host"));
  EXPECT_EQ(rules[1].kind, rule_kind::new_term);
  EXPECT_EQ(rules[1].field, "target");
  EXPECT_EQ(rules[1].lookback, std::chrono::hours(24 * 30));
  EXPECT_EQ(rules[1].warmup, std::chrono::hours(1));
  EXPECT_EQ(rules[1].resolve_after, minutes(5));
  EXPECT_EQ(rules[2].kind, rule_kind::cardinality);
  EXPECT_EQ(rules[2].field, "user");
  EXPECT_EQ(rules[2].above, 10);
  EXPECT_FALSE(rules[2].below);
  EXPECT_THAT(rules[2].group_by, ElementsAre("ip"));
  EXPECT_EQ(rules[3].kind, rule_kind::aggregate);
  EXPECT_EQ(rules[3].field, "rt");
  EXPECT_EQ(rules[3].function, aggregate_function::quantile);
  EXPECT_DOUBLE_EQ(rules[3].quantile, 0.99);
  EXPECT_EQ(rules[3].above, 2.5);
  EXPECT_EQ(rules[4].kind, rule_kind::ratio);
  ASSERT_EQ(rules[4].of.size(), 1U);
  EXPECT_EQ(rules[4].of[0].field, "app");
  EXPECT_EQ(rules[4].above, 0.05);
  EXPECT_EQ(rules[4].min_base, 100U);
  EXPECT_TRUE(rules[4].group_by.empty());
  for (const rule_definition& r : rules) EXPECT_EQ(r.scope, rule_scope::cluster) << r.name;
}

// The kinds of DESIGN.md's "More kinds": what check-config says about each of them.
TEST(rule_loader, errors_of_the_windowed_and_new_term_kinds) {
  const std::string whole_seconds =
      "windows slide in 1 s buckets: give whole seconds (30s, 5m, 1h30m), got ";
  const std::string spike_ratio =
      "ratio must be above 1 (a rise: 3 = three times the previous window) or between 0 and 1 (a "
      "drop: 0.2 = a fifth of it)";
  const std::string named_group =
      "a named group (?P<name>...) of the rule's patterns or an event field";
  const std::vector<error_case> cases = {
      {"spike without ratio",
       "rules:\n"
       "  - name: a\n"
       "    match: { app: x }\n"
       "    spike: { window: 5m }\n",
       {"r.yaml:4:12: missing required key 'ratio' in rules[0].spike"}},
      {"new_term without field",
       "rules:\n"
       "  - name: a\n"
       "    match: { app: x }\n"
       "    new_term: { lookback: 30d }\n",
       {"r.yaml:4:15: missing required key 'field' in rules[0].new_term"}},
      {"cardinality without field and window",
       "rules:\n"
       "  - name: a\n"
       "    match: { app: x }\n"
       "    cardinality: { max: 10 }\n",
       {"r.yaml:4:18: missing required key 'field' in rules[0].cardinality",
        "r.yaml:4:18: missing required key 'window' in rules[0].cardinality"}},
      {"aggregate without value, function and window",
       "rules:\n"
       "  - name: a\n"
       "    match: { app: x }\n"
       "    aggregate: { above: 2 }\n",
       {"r.yaml:4:16: missing required key 'value' in rules[0].aggregate",
        "r.yaml:4:16: missing required key 'function' in rules[0].aggregate",
        "r.yaml:4:16: missing required key 'window' in rules[0].aggregate"}},
      {"ratio without of and window",
       "rules:\n"
       "  - name: a\n"
       "    match: { app: x }\n"
       "    ratio: { above: 0.1 }\n",
       {"r.yaml:4:12: missing required key 'of' in rules[0].ratio",
        "r.yaml:4:12: missing required key 'window' in rules[0].ratio"}},
      {"two kinds in one rule",
       "rules:\n"
       "  - name: a\n"
       "    match: { app: x }\n"
       "    spike: { window: 5m, ratio: 3 }\n"
       "    ratio: { of: { app: y }, window: 5m, above: 0.1 }\n",
       {"r.yaml:5:5: rules[0].ratio: spike and ratio are mutually exclusive: a rule has one kind"}},
      {"a kind after threshold",
       "rules:\n"
       "  - name: a\n"
       "    match: { app: x, message: '(?P<u>\\S+)' }\n"
       "    threshold: { count: 2, window: 1m }\n"
       "    cardinality: { field: u, window: 1m, max: 3 }\n",
       {"r.yaml:5:5: rules[0].cardinality: threshold and cardinality are mutually exclusive: a "
        "rule "
        "has one kind"}},
      {"sub-second windows",
       "rules:\n"
       "  - name: a\n"
       "    match: { app: x, message: '(?P<u>\\S+) (?P<rt>[0-9.]+)' }\n"
       "    spike: { window: 1500ms, ratio: 3 }\n"
       "  - name: b\n"
       "    match: { app: x, message: '(?P<u>\\S+) (?P<rt>[0-9.]+)' }\n"
       "    cardinality: { field: u, window: 500ms, max: 3 }\n"
       "  - name: c\n"
       "    match: { app: x, message: '(?P<u>\\S+) (?P<rt>[0-9.]+)' }\n"
       "    aggregate: { value: rt, function: avg, window: 1m500ms, above: 1 }\n"
       "  - name: d\n"
       "    match: { app: x }\n"
       "    ratio: { of: { app: '.' }, window: 0s, above: 0.5 }\n",
       {"r.yaml:4:22: rules[0].spike.window: " + whole_seconds + "'1500ms'",
        "r.yaml:7:38: rules[1].cardinality.window: " + whole_seconds + "'500ms'",
        "r.yaml:10:52: rules[2].aggregate.window: " + whole_seconds + "'1m500ms'",
        "r.yaml:13:40: rules[3].ratio.window: must be greater than 0"}},
      {"spike ratio 1 and 0",
       "rules:\n"
       "  - name: a\n"
       "    match: { app: x }\n"
       "    spike: { window: 5m, ratio: 1 }\n"
       "  - name: b\n"
       "    match: { app: x }\n"
       "    spike: { window: 5m, ratio: 0 }\n"
       "  - name: c\n"
       "    match: { app: x }\n"
       "    spike: { window: 5m, ratio: -2 }\n",
       {"r.yaml:4:33: rules[0].spike.ratio: " + spike_ratio,
        "r.yaml:7:33: rules[1].spike.ratio: " + spike_ratio,
        "r.yaml:10:33: rules[2].spike.ratio: " + spike_ratio}},
      {"bad aggregate functions",
       "rules:\n"
       "  - name: a\n"
       "    match: { app: x, message: 'rt=(?P<rt>[0-9.]+)' }\n"
       "    aggregate: { value: rt, function: p0, window: 5m, above: 1 }\n"
       "  - name: b\n"
       "    match: { app: x, message: 'rt=(?P<rt>[0-9.]+)' }\n"
       "    aggregate: { value: rt, function: p101, window: 5m, above: 1 }\n"
       "  - name: c\n"
       "    match: { app: x, message: 'rt=(?P<rt>[0-9.]+)' }\n"
       "    aggregate: { value: rt, function: median, window: 5m, above: 1 }\n",
       {"r.yaml:4:39: rules[0].aggregate.function: percentile 'p0' out of range: pNN takes 0 < NN "
        "<= 100 (p50, p99, p99.9, p100 = max)",
        "r.yaml:7:39: rules[1].aggregate.function: percentile 'p101' out of range: pNN takes 0 < "
        "NN <= 100 (p50, p99, p99.9, p100 = max)",
        "r.yaml:10:39: rules[2].aggregate.function: unknown function 'median'; expected avg, min, "
        "max, sum or pNN (p50, p99, p99.9)"}},
      {"unknown field and value with a suggestion",
       "rules:\n"
       "  - name: a\n"
       "    match: { app: x, message: 'for (?P<user>\\S+) from (?P<ip>[0-9.]+)' }\n"
       "    cardinality: { field: usr, window: 10m, max: 10, group_by: [ip] }\n"
       "  - name: b\n"
       "    match: { app: x, message: 'rt=(?P<rt>[0-9.]+)' }\n"
       "    aggregate: { value: rtt, function: p99, window: 5m, above: 2.5 }\n"
       "  - name: c\n"
       "    match: { app: x, message: 'USER=(?P<target>\\S+)' }\n"
       "    new_term: { field: targt }\n",
       {"r.yaml:4:27: rules[0].cardinality.field: unknown field 'usr'; the field is " +
            named_group + "; did you mean 'user'?",
        "r.yaml:7:25: rules[1].aggregate.value: unknown field 'rtt'; the value is " + named_group +
            "; did you mean 'rt'?",
        "r.yaml:10:24: rules[2].new_term.field: unknown field 'targt'; the field is " +
            named_group + "; did you mean 'target'?"}},
      {"ratio group_by names a group of match, not of",
       "rules:\n"
       "  - name: a\n"
       "    match: { app: '^api$', message: 'status=(?P<status>5\\d\\d)' }\n"
       "    ratio: { of: { app: '^api$', message: 'path=(?P<path>\\S+)' }, window: 5m,\n"
       "             above: 0.05, group_by: [status] }\n",
       {"r.yaml:5:38: rules[0].ratio.group_by[0]: 'status' is a named group of `match`; a ratio "
        "groups its base events too, so group_by names groups of the patterns in `of` or event "
        "fields"}},
      {"cardinality with neither max nor min",
       "rules:\n"
       "  - name: a\n"
       "    match: { app: x, message: 'for (?P<user>\\S+)' }\n"
       "    cardinality: { field: user, window: 10m }\n",
       {"r.yaml:4:18: rules[0].cardinality: give max (fire above it), min (fire below it) or "
        "both"}},
      {"cardinality min 1 never holds",
       "rules:\n"
       "  - name: a\n"
       "    match: { app: x, message: 'for (?P<user>\\S+)' }\n"
       "    cardinality: { field: user, window: 10m, min: 1 }\n",
       {"r.yaml:4:51: rules[0].cardinality.min: '1' is too small (at least 2)"}},
      {"aggregate with neither above nor below",
       "rules:\n"
       "  - name: a\n"
       "    match: { app: x, message: 'rt=(?P<rt>[0-9.]+)' }\n"
       "    aggregate: { value: rt, function: max, window: 5m }\n",
       {"r.yaml:4:16: rules[0].aggregate: give above, below or both"}},
      {"ratio above and below beyond 1",
       "rules:\n"
       "  - name: a\n"
       "    match: { app: x }\n"
       "    ratio: { of: { app: '.' }, window: 5m, above: 1.5 }\n"
       "  - name: b\n"
       "    match: { app: x }\n"
       "    ratio: { of: { app: '.' }, window: 5m, below: 5 }\n"
       "  - name: c\n"
       "    match: { app: x }\n"
       "    ratio: { of: { app: '.' }, window: 5m }\n",
       {"r.yaml:4:51: rules[0].ratio.above: a share is at most 1 (0.05 = 5 %)",
        "r.yaml:7:51: rules[1].ratio.below: a share is at most 1 (0.05 = 5 %)",
        "r.yaml:10:12: rules[2].ratio: give above, below or both (a share between 0 and 1)"}},
      {"resolve_after on the windowed kinds",
       "rules:\n"
       "  - name: a\n"
       "    match: { app: x }\n"
       "    spike: { window: 5m, ratio: 3 }\n"
       "    resolve_after: 10m\n"
       "  - name: b\n"
       "    resolve_after: 10m\n"
       "    match: { app: x }\n"
       "    ratio: { of: { app: '.' }, window: 5m, above: 0.5 }\n",
       {"r.yaml:5:5: rules[0].resolve_after: only plain and new_term rules resolve after a quiet "
        "time; spike rules resolve when their condition has been false for a window",
        "r.yaml:7:5: rules[1].resolve_after: only plain and new_term rules resolve after a quiet "
        "time; ratio rules resolve when their condition has been false for a window"}},
      {"ratio's of: an unknown field, a bad regex, min_base 0",
       "rules:\n"
       "  - name: a\n"
       "    match: { app: x }\n"
       "    ratio: { of: { ap: y, message: '(' }, window: 5m, above: 0.1, min_base: 0 }\n",
       {"r.yaml:4:20: rules[0].ratio.of: unknown field 'ap'; expected one of message, host, app, "
        "procid, msgid, facility, severity, input, source, format, fields.NAME or sd.ID.PARAM; "
        "did you mean 'app'?",
        "r.yaml:4:36: rules[0].ratio.of.message: invalid regex: missing ): (",
        "r.yaml:4:77: rules[0].ratio.min_base: expected a positive integer, got '0'"}},
      {"unknown keys in the kinds' blocks",
       "rules:\n"
       "  - name: a\n"
       "    match: { app: x }\n"
       "    spike: { window: 5m, ratio: 3, min_cont: 2 }\n"
       "  - name: b\n"
       "    match: { app: x, message: 'USER=(?P<target>\\S+)' }\n"
       "    new_term: { field: target, look_back: 1d }\n",
       {"r.yaml:4:36: unknown key 'min_cont' in rules[0].spike; did you mean 'min_count'?",
        "r.yaml:7:32: unknown key 'look_back' in rules[1].new_term; did you mean 'lookback'?"}},
  };
  for (const error_case& c : cases) {
    EXPECT_EQ(test::errors_of(load_rules_string, c.yaml, "r.yaml"), c.errors) << c.what << "\n"
                                                                              << c.yaml;
  }
}

// rules_files globs resolve against the config file's directory; every matched file loads.
TEST(rule_loader_files, globs_resolve_against_base_dir) {
  test::temp_dir dir("tocsin-rules");
  dir.write_file("conf/rules/a.yaml", "rules:\n  - name: a\n    match: { message: x }\n");
  dir.write_file("conf/rules/b.yaml", "rules:\n  - name: b\n    match: { message: y }\n");
  dir.write_file("conf/rules/c.yml", "rules:\n  - name: c\n    match: { message: z }\n");
  dir.write_file("conf/extra/d.yaml", "rules:\n  - name: d\n    match: { message: w }\n");
  const auto base = dir / "conf";

  struct test_case {
    std::vector<std::string> globs;
    std::vector<std::string> names;
  };
  const std::vector<test_case> cases = {
      {{"rules/*.yaml"}, {"a", "b"}},
      {{"rules/*.yaml", "rules/*.yml"}, {"a", "b", "c"}},
      {{"rules/*"}, {"a", "b", "c"}},
      {{"rules/b.yaml", "rules/*.yaml"}, {"b", "a"}},   // b is loaded once
      {{(dir / "conf/extra/*.yaml").string()}, {"d"}},  // absolute
      {{"nothing/*.yaml", "rules/none-*.yaml"}, {}},    // matching nothing is fine
      {{}, {}},
  };
  for (const test_case& c : cases) {
    std::vector<std::string> names;
    try {
      for (const rule_definition& r : load_rule_files(c.globs, base).rules) names.push_back(r.name);
    } catch (const config::config_error& e) {
      ADD_FAILURE() << e.what();
    }
    EXPECT_EQ(names, c.names) << testing::PrintToString(c.globs);
  }
}

TEST(rule_loader_files, where_names_the_matched_file) {
  test::temp_dir dir("tocsin-rules");
  dir.write_file("rules/a.yaml", "rules:\n  - name: a\n    match: { message: x }\n");
  const auto rules = load_rule_files({"rules/*.yaml"}, dir.path()).rules;
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].where.file, (dir / "rules/a.yaml").string());
  EXPECT_EQ(rules[0].match[0].where.file, (dir / "rules/a.yaml").string());
}

TEST(rule_loader_files, errors_from_every_file_at_once) {
  test::temp_dir dir("tocsin-rules");
  const auto a = dir.write_file("rules/a.yaml",
                                "rules:\n"
                                "  - name: dup\n"
                                "    match: { message: x }\n"
                                "  - name: only-a\n"
                                "    match: { message: '(' }\n");
  const auto b = dir.write_file("rules/b.yaml",
                                "rules:\n"
                                "  - name: ok\n"
                                "    match: { app: x }\n"
                                "  - name: dup\n"
                                "    match: { message: y }\n");
  const auto c = dir.write_file("rules/c.yaml", "rules: [\n");
  std::filesystem::create_directories(dir / "rules/d.yaml");  // matched, but not readable
  std::vector<std::string> errors;
  try {
    load_rule_files({"rules/*.yaml"}, dir.path());
  } catch (const config::config_error& e) {
    errors = e.errors();
  }
  EXPECT_THAT(errors,
              ElementsAre(a.string() + ":5:23: rules[1].match.message: invalid regex: missing ): (",
                          b.string() +
                              ":4:11: rules[1].name: duplicate rule name 'dup' (first "
                              "defined at " +
                              a.string() + ":2:11)",
                          c.string() + ":2:1: end of sequence flow not found",
                          (dir / "rules/d.yaml").string() + ": cannot read: Is a directory"));
}

TEST(rule_loader_files, base_dir_is_taken_literally) {
  test::temp_dir dir("tocsin-rules");
  dir.write_file("we[ir]d*/rules/a.yaml", "rules:\n  - name: a\n    match: { message: x }\n");
  const auto rules = load_rule_files({"rules/*.yaml"}, dir / "we[ir]d*").rules;
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].name, "a");
}

TEST(rule_loader_files, shipped_examples_load) {
  std::vector<rule_definition> rules;
  ASSERT_NO_THROW(
      rules = load_rule_files({"rules/*.yaml"}, std::string(TOCSIN_SOURCE_DIR) + "/config/examples")
                  .rules);
  EXPECT_FALSE(rules.empty());
}

}  // namespace
}  // namespace tocsin::rules
