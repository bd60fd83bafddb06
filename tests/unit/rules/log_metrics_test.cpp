// Tests for rules/log_metrics.hpp and the `metrics:` of rules files (DESIGN.md "Log-derived
// metrics"): the loader and its FILE:LINE:COL errors, matching in the rules' pass, counters,
// gauges and histograms, value errors, the series cap, the exact text and reloads.

#include "rules/log_metrics.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "rules/engine.hpp"
#include "rules/matcher.hpp"
#include "rules/rule.hpp"
#include "tests/support/config_errors.hpp"
#include "tests/support/temp_dir.hpp"

namespace tocsin::rules {
namespace {

using testing::ElementsAre;
using testing::HasSubstr;
using time_point = alert_engine::time_point;

// DESIGN.md's example, verbatim.
constexpr const char* kDesignExample = R"yaml(
metrics:
  - { name: nginx_responses_total, type: counter, match: { app: '^nginx$', message: '" (?P<status>\d{3}) ' }, labels: [host, status] }
  - { name: nginx_request_seconds, type: histogram, value: rt, buckets: [0.05, 0.25, 1, 5],
      match: { app: '^nginx$', message: 'rt=(?P<rt>[0-9.]+)' }, labels: [host] }
)yaml";

collector::event make_event(std::string_view host, std::string_view app, std::string_view message,
                            int severity = 6) {
  collector::event ev;
  ev.host = host;
  ev.app = app;
  ev.message = message;
  ev.severity = severity;
  return ev;
}

// An engine over one rules file's text, fed events by hand.
class log_metrics_test : public testing::Test {
 protected:
  void start(const std::string& yaml) {
    engine_ = std::make_unique<alert_engine>(
        std::make_shared<const compiled_rules>(load_rules_string(yaml, "m.yaml")), registry_);
  }
  void reload(const std::string& yaml) {
    engine_->replace_rules(
        std::make_shared<const compiled_rules>(load_rules_string(yaml, "m.yaml")));
  }
  std::vector<alert> feed(std::string_view host, std::string_view app, std::string_view message) {
    const collector::event ev = make_event(host, app, message);
    std::vector<alert> out;
    engine_->on_event(ev, time_point{} + std::chrono::hours(1), out);
    return out;
  }
  std::string text() const { return engine_->metrics_from_logs().render(); }
  double registry_value(const std::string& sample) const {
    const std::string all = registry_.render();
    const auto at = all.find(sample + ' ');
    if (at == std::string::npos) return -1;
    return std::stod(all.substr(at + sample.size() + 1));
  }

  metrics_registry registry_;
  std::unique_ptr<alert_engine> engine_;
};

// --- the loader ----------------------------------------------------------------------------------

TEST(metric_loader, design_example) {
  rule_files files;
  ASSERT_NO_THROW(files = load_rules_string(kDesignExample, "design.yaml"));
  EXPECT_TRUE(files.rules.empty());
  ASSERT_EQ(files.metrics.size(), 2U);
  const metric_definition& counter = files.metrics[0];
  EXPECT_EQ(counter.name, "nginx_responses_total");
  EXPECT_EQ(counter.type, metric_type::counter);
  ASSERT_EQ(counter.match.size(), 2U);
  EXPECT_EQ(counter.match[0].field, "app");
  EXPECT_EQ(counter.match[1].pattern, R"(" (?P<status>\d{3}) )");
  EXPECT_THAT(counter.labels, ElementsAre("host", "status"));
  EXPECT_EQ(counter.value, "");
  EXPECT_EQ(counter.max_series, 1000U);
  EXPECT_EQ(counter.help, "From log lines; defined in design.yaml");
  EXPECT_EQ(counter.where.line, 3);
  EXPECT_EQ(counter.where.column, 5);

  const metric_definition& hist = files.metrics[1];
  EXPECT_EQ(hist.type, metric_type::histogram);
  EXPECT_EQ(hist.value, "rt");
  EXPECT_THAT(hist.buckets, ElementsAre(0.05, 0.25, 1, 5));
  EXPECT_THAT(hist.labels, ElementsAre("host"));
}

TEST(metric_loader, every_key_and_defaults) {
  const auto files = load_rules_string(R"yaml(
rules:
  - { name: r, match: { message: x } }
metrics:
  - name: "job:queue_depth"
    type: gauge
    match: { app: '^worker$', message: 'depth=(?P<depth>\d+)' }
    min_severity: notice
    value: depth
    labels: [app, fields.queue, sd.origin@1.ip]
    help: "Queue depth as the worker logs it"
    max_series: 5
  - { name: latency, type: histogram, value: fields.ms, match: { app: api } }
  - { name: bytes_total, type: counter, value: fields.bytes, match: { app: api } }
)yaml",
                                       "r.yaml");
  ASSERT_EQ(files.rules.size(), 1U);
  ASSERT_EQ(files.metrics.size(), 3U);
  const metric_definition& g = files.metrics[0];
  EXPECT_EQ(g.name, "job:queue_depth");
  EXPECT_EQ(g.type, metric_type::gauge);
  EXPECT_EQ(g.min_severity, 5);
  EXPECT_EQ(g.value, "depth");
  EXPECT_THAT(g.labels, ElementsAre("app", "fields.queue", "sd.origin@1.ip"));
  EXPECT_EQ(g.help, "Queue depth as the worker logs it");
  EXPECT_EQ(g.max_series, 5U);
  EXPECT_EQ(files.metrics[1].buckets, default_metric_buckets());
  EXPECT_EQ(files.metrics[1].value, "fields.ms");
  EXPECT_EQ(files.metrics[2].value, "fields.bytes");
  EXPECT_TRUE(files.metrics[2].labels.empty());
}

struct error_case {
  const char* what;
  std::string yaml;
  std::vector<std::string> errors;
};

TEST(metric_loader, errors_name_file_line_and_column) {
  const std::string kFields =
      "expected a named group (?P<name>...) of the metric's patterns or an event field (message, "
      "host, app, procid, msgid, facility, severity, input, source, format, fields.NAME, "
      "sd.ID.PARAM)";
  const std::string head = "metrics:\n  - name: m\n";
  const std::vector<error_case> cases = {
      {"unknown key",
       head + "    type: counter\n    match: { message: x }\n    lables: [host]\n",
       {"r.yaml:5:5: unknown key 'lables' in metrics[0]; did you mean 'labels'?"}},
      {"required keys",
       "metrics:\n  - { name: m }\n",
       {"r.yaml:2:5: missing required key 'type' in metrics[0]",
        "r.yaml:2:5: missing required key 'match' in metrics[0]"}},
      {"unknown type",
       head + "    type: summary\n    match: { message: x }\n",
       {"r.yaml:3:11: metrics[0].type: invalid value 'summary'; expected one of counter, gauge, "
        "histogram"}},
      {"label neither field nor group",
       head + "    type: counter\n    match: { message: '(?P<status>\\d+)' }\n"
              "    labels: [host, stauts]\n",
       {"r.yaml:5:20: metrics[0].labels[1]: unknown field 'stauts'; " + kFields +
        "; did you mean 'status'?"}},
      {"value names a missing group",
       head + "    type: histogram\n    match: { message: 'rt=(?P<rt>[0-9.]+)' }\n"
              "    value: rtt\n",
       {"r.yaml:5:12: metrics[0].value: unknown field 'rtt'; " + kFields + "; did you mean 'rt'?"}},
      {"gauge without value",
       head + "    type: gauge\n    match: { message: x }\n",
       {"r.yaml:2:5: metrics[0]: a gauge needs 'value': the named group or event field holding "
        "the number"}},
      {"histogram without value",
       head + "    type: histogram\n    match: { message: x }\n",
       {"r.yaml:2:5: metrics[0]: a histogram needs 'value': the named group or event field "
        "holding the number"}},
      {"buckets on a counter",
       head + "    type: counter\n    match: { message: x }\n    buckets: [1, 2]\n",
       {"r.yaml:5:5: metrics[0].buckets: buckets are for histograms; this metric is a counter"}},
      {"buckets that do not increase",
       head + "    type: histogram\n    value: message\n    match: { message: x }\n"
              "    buckets: [0.5, 1, 1]\n",
       {"r.yaml:6:23: metrics[0].buckets[2]: buckets must increase: 1 follows 1"}},
      {"a bucket that is no number",
       head + "    type: histogram\n    value: message\n    match: { message: x }\n"
              "    buckets: [0.5, .inf]\n",
       {"r.yaml:6:20: metrics[0].buckets[1]: expected a finite number, got '.inf'"}},
      {"no buckets",
       head + "    type: histogram\n    value: message\n    match: { message: x }\n"
              "    buckets: []\n",
       {"r.yaml:6:14: metrics[0].buckets: must not be empty: give the buckets' upper bounds"}},
      {"le on a histogram",
       head + "    type: histogram\n    value: message\n"
              "    match: { message: '(?P<le>\\w+)' }\n    labels: [le]\n",
       {"r.yaml:6:14: metrics[0].labels[0]: label \"le\" is the histogram's bucket label"}},
      {"two fields, one label",
       head + "    type: counter\n    match: { message: x }\n"
              "    labels: [fields.a_b, fields.a.b]\n",
       {"r.yaml:5:26: metrics[0].labels[1]: duplicate label 'fields_a_b' (from fields.a.b)"}},
      {"invalid name",
       "metrics:\n  - { name: nginx-responses, type: counter, match: { app: x } }\n",
       {"r.yaml:2:13: metrics[0].name: invalid metric name 'nginx-responses' (a letter, '_' or "
        "':', then letters, digits, '_' or ':')"}},
      {"the daemon's prefix",
       "metrics:\n  - { name: tocsin_lines_total, type: counter, match: { app: x } }\n",
       {"r.yaml:2:13: metrics[0].name: metric name 'tocsin_lines_total' starts with tocsin_, "
        "which the daemon's own metrics use"}},
      {"duplicate name",
       "metrics:\n  - { name: m, type: counter, match: { app: x } }\n"
       "  - { name: m, type: counter, match: { app: y } }\n",
       {"r.yaml:3:13: metrics[1].name: duplicate metric name 'm' (first defined at r.yaml:2:13)"}},
      {"a histogram's series named like a counter",
       "metrics:\n  - { name: h_count, type: counter, match: { app: x } }\n"
       "  - { name: h, type: histogram, value: message, match: { app: y } }\n"
       "  - { name: h_sum, type: gauge, value: message, match: { app: y } }\n",
       {"r.yaml:3:13: metrics[1].name: histogram 'h' writes h_count, the name of the metric "
        "defined at r.yaml:2:13",
        "r.yaml:4:13: metrics[2].name: metric name 'h_sum' is a series of the histogram 'h' "
        "defined at r.yaml:3:13"}},
      {"bad regex",
       head + "    type: counter\n    match: { message: 'unclosed (' }\n",
       {"r.yaml:4:23: metrics[0].match.message: invalid regex: missing ): unclosed ("}},
      {"unknown match field",
       head + "    type: counter\n    match: { mesage: x }\n",
       {"r.yaml:4:14: metrics[0].match: unknown field 'mesage'; expected one of message, host, "
        "app, procid, msgid, facility, severity, input, source, format, fields.NAME or "
        "sd.ID.PARAM; did you mean 'message'?"}},
      {"max_series 0",
       head + "    type: counter\n    match: { message: x }\n    max_series: 0\n",
       {"r.yaml:5:17: metrics[0].max_series: expected a positive integer, got '0'"}},
  };
  for (const error_case& c : cases) {
    EXPECT_EQ(test::errors_of(load_rules_string, c.yaml, "r.yaml"), c.errors) << c.what << "\n"
                                                                              << c.yaml;
  }
}

TEST(metric_loader, names_are_unique_across_files) {
  test::temp_dir dir;
  dir.write_file("rules/a.yaml", "metrics:\n  - { name: m, type: counter, match: { app: x } }\n");
  dir.write_file("rules/b.yaml",
                 "rules:\n  - { name: m, match: { app: x } }\n"
                 "metrics:\n  - { name: m, type: counter, match: { app: y } }\n");
  std::vector<std::string> errors;
  try {
    load_rule_files({"rules/*.yaml"}, dir.path());
  } catch (const config::config_error& e) {
    errors = e.errors();
  }
  const std::string a = (dir / "rules/a.yaml").string();
  const std::string b = (dir / "rules/b.yaml").string();
  // A rule may share a metric's name: rule names are label values.
  EXPECT_THAT(errors, ElementsAre(b +
                                  ":4:13: metrics[0].name: duplicate metric name 'm' (first "
                                  "defined at " +
                                  a + ":2:13)"));
}

// --- matching
// --------------------------------------------------------------------------------------

TEST(metric_matching, metrics_join_the_rules_pass_and_come_last) {
  const compiled_rules compiled(load_rules_string(
      "rules:\n"
      "  - { name: r, match: { message: 'rt=(?P<rt>[0-9.]+)' } }\n"
      "metrics:\n"
      "  - { name: a_total, type: counter, match: { message: 'GET' } }\n"
      "  - { name: b_seconds, type: histogram, value: rt, match: { message: 'rt=(?P<rt>[0-9.]+)' }"
      " }\n"
      "  - { name: c_total, type: counter, min_severity: err, match: { message: 'GET' } }\n",
      "m.yaml"));
  ASSERT_EQ(compiled.metric_definitions().size(), 3U);
  std::vector<rule_match> out;
  compiled.match(make_event("h", "nginx", "GET / rt=0.5"), out);
  ASSERT_EQ(out.size(), 3U);
  EXPECT_FALSE(out[0].metric);
  EXPECT_EQ(out[0].rule, 0U);
  EXPECT_TRUE(out[1].metric);
  EXPECT_EQ(out[1].rule, 0U);
  EXPECT_TRUE(out[2].metric);
  EXPECT_EQ(out[2].rule, 1U);
  ASSERT_EQ(out[2].captures.size(), 1U);
  EXPECT_EQ(out[2].captures[0].second, "0.5");

  out.clear();
  compiled.match(make_event("h", "nginx", "GET /", 3), out);
  ASSERT_EQ(out.size(), 2U) << "min_severity: err lets severity 3 through";
  EXPECT_EQ(out[1].rule, 2U);
}

TEST(metric_matching, bad_patterns_name_the_metric) {
  metric_definition m;
  m.name = "m";
  m.match = {{"message", "(", {"m.yaml", 3, 7}}};
  try {
    compiled_rules compiled(rule_files{{}, {m}});
    FAIL() << "a bad pattern must throw";
  } catch (const config::config_error& e) {
    EXPECT_THAT(e.errors(), ElementsAre("m.yaml:3:7: metric m: match.message: missing ): ("));
  }
}

TEST_F(log_metrics_test, metric_matches_never_reach_the_rules) {
  start(
      "metrics:\n"
      "  - { name: errors_total, type: counter, match: { message: 'No space left' } }\n");
  EXPECT_TRUE(feed("db1", "pg", "No space left on device").empty());
  EXPECT_EQ(registry_.render().find("tocsin_rule_matches_total{"), std::string::npos);
  EXPECT_EQ(engine_->activity(time_point{}).size(), 0U);

  // With a rule on the same pattern: one alert, one rule match, one count.
  reload(
      "rules:\n"
      "  - { name: disk-full, match: { message: 'No space left' } }\n"
      "metrics:\n"
      "  - { name: errors_total, type: counter, match: { message: 'No space left' } }\n");
  const auto alerts = feed("db2", "pg", "No space left on device");
  ASSERT_EQ(alerts.size(), 1U);
  EXPECT_EQ(alerts[0].labels.at("alertname"), "disk-full");
  EXPECT_EQ(registry_value("tocsin_rule_matches_total{rule=\"disk-full\"}"), 1);
  EXPECT_THAT(text(), HasSubstr("\nerrors_total 2\n"));
}

// --- observing and the text ----------------------------------------------------------------------

TEST_F(log_metrics_test, design_example_renders_exactly) {
  start(kDesignExample);
  feed("web1", "nginx", R"(1.2.3.4 "GET / HTTP/1.1" 200 512 rt=0.125)");
  feed("web1", "nginx", R"(1.2.3.4 "GET /a HTTP/1.1" 200 512 rt=0.5)");
  feed("web1", "nginx", R"(1.2.3.4 "GET /b HTTP/1.1" 502 0 rt=7)");
  feed("web2", "nginx", R"(1.2.3.4 "GET / HTTP/1.1" 404 0 rt=0.03125)");
  feed("web2", "haproxy", R"(1.2.3.4 "GET / HTTP/1.1" 200 0 rt=1)");  // another app
  EXPECT_EQ(text(),
            "# HELP nginx_responses_total From log lines; defined in m.yaml\n"
            "# TYPE nginx_responses_total counter\n"
            "nginx_responses_total{host=\"web1\",status=\"200\"} 2\n"
            "nginx_responses_total{host=\"web1\",status=\"502\"} 1\n"
            "nginx_responses_total{host=\"web2\",status=\"404\"} 1\n"
            "# HELP nginx_request_seconds From log lines; defined in m.yaml\n"
            "# TYPE nginx_request_seconds histogram\n"
            "nginx_request_seconds_bucket{host=\"web1\",le=\"0.05\"} 0\n"
            "nginx_request_seconds_bucket{host=\"web1\",le=\"0.25\"} 1\n"
            "nginx_request_seconds_bucket{host=\"web1\",le=\"1\"} 2\n"
            "nginx_request_seconds_bucket{host=\"web1\",le=\"5\"} 2\n"
            "nginx_request_seconds_bucket{host=\"web1\",le=\"+Inf\"} 3\n"
            "nginx_request_seconds_sum{host=\"web1\"} 7.625\n"
            "nginx_request_seconds_count{host=\"web1\"} 3\n"
            "nginx_request_seconds_bucket{host=\"web2\",le=\"0.05\"} 1\n"
            "nginx_request_seconds_bucket{host=\"web2\",le=\"0.25\"} 1\n"
            "nginx_request_seconds_bucket{host=\"web2\",le=\"1\"} 1\n"
            "nginx_request_seconds_bucket{host=\"web2\",le=\"5\"} 1\n"
            "nginx_request_seconds_bucket{host=\"web2\",le=\"+Inf\"} 1\n"
            "nginx_request_seconds_sum{host=\"web2\"} 0.03125\n"
            "nginx_request_seconds_count{host=\"web2\"} 1\n");
  // The registry's /metrics text ends with the same families.
  const std::string all = registry_.render();
  EXPECT_EQ(all.substr(all.size() - text().size()), text());
}

TEST_F(log_metrics_test, counters_add_values_gauges_keep_the_last_labels_are_escaped) {
  start(
      "metrics:\n"
      "  - { name: bytes_total, type: counter, value: n, labels: [app],\n"
      "      match: { message: 'sent (?P<n>\\S+) bytes' } }\n"
      "  - { name: queue_depth, type: gauge, value: d, labels: [q], help: \"a\\\\b\\nc\",\n"
      "      match: { message: 'queue (?P<q>\\S+) depth (?P<d>\\S+)' } }\n");
  feed("h", "a\"b\\c", "sent 100 bytes");
  feed("h", "a\"b\\c", "sent 2.5 bytes");
  feed("h", "x", "sent 1e3 bytes");
  feed("h", "x", "queue mail depth 12");
  feed("h", "x", "queue mail depth 3");
  feed("h", "x", "queue web depth -1.5");
  EXPECT_EQ(text(),
            "# HELP bytes_total From log lines; defined in m.yaml\n"
            "# TYPE bytes_total counter\n"
            "bytes_total{app=\"a\\\"b\\\\c\"} 102.5\n"
            "bytes_total{app=\"x\"} 1000\n"
            "# HELP queue_depth a\\\\b\\nc\n"
            "# TYPE queue_depth gauge\n"
            "queue_depth{q=\"mail\"} 3\n"
            "queue_depth{q=\"web\"} -1.5\n");
}

TEST_F(log_metrics_test, values_that_are_no_finite_number_are_counted_not_observed) {
  start(
      "metrics:\n"
      "  - { name: bytes_total, type: counter, value: n,\n"
      "      match: { message: 'sent (?P<n>\\S*) bytes' } }\n"
      "  - { name: size, type: gauge, value: fields.size, match: { message: 'size' } }\n");
  for (const char* bad : {"sent abc bytes", "sent 12kB bytes", "sent  bytes", "sent inf bytes",
                          "sent nan bytes", "sent -3 bytes", "sent 1e999 bytes"}) {
    feed("h", "a", bad);
  }
  feed("h", "a", "size");  // no fields.size in the event
  feed("h", "a", "sent 7 bytes");
  EXPECT_EQ(registry_value("tocsin_log_metric_value_errors_total{metric=\"bytes_total\"}"), 7);
  EXPECT_EQ(registry_value("tocsin_log_metric_value_errors_total{metric=\"size\"}"), 1);
  EXPECT_THAT(text(), HasSubstr("\nbytes_total 7\n"));
  EXPECT_THAT(text(), HasSubstr("# TYPE size gauge\n"));
  EXPECT_EQ(text().find("\nsize "), std::string::npos);
}

TEST_F(log_metrics_test, the_series_cap_drops_new_label_sets_only) {
  start(
      "metrics:\n"
      "  - { name: by_user_total, type: counter, labels: [user], max_series: 2,\n"
      "      match: { message: 'login (?P<user>\\S+)' } }\n");
  for (const char* user : {"a", "b", "c", "a", "d", "b"}) {
    feed("h", "sshd", std::string("login ") + user);
  }
  EXPECT_EQ(text(),
            "# HELP by_user_total From log lines; defined in m.yaml\n"
            "# TYPE by_user_total counter\n"
            "by_user_total{user=\"a\"} 2\n"
            "by_user_total{user=\"b\"} 2\n");
  EXPECT_EQ(registry_value("tocsin_log_metric_series_dropped_total{metric=\"by_user_total\"}"), 2);
}

TEST_F(log_metrics_test, labels_from_event_fields_and_missing_ones_empty) {
  start(
      "metrics:\n"
      "  - { name: lines_total, type: counter, labels: [host, severity, fields.user],\n"
      "      match: { app: '.' } }\n");
  feed("web1", "x", "m");
  EXPECT_EQ(text(),
            "# HELP lines_total From log lines; defined in m.yaml\n"
            "# TYPE lines_total counter\n"
            "lines_total{host=\"web1\",severity=\"info\",fields_user=\"\"} 1\n");
}

// --- reloads -------------------------------------------------------------------------------------

TEST_F(log_metrics_test, reload_keeps_unchanged_metrics_and_restarts_changed_ones) {
  const std::string a = "  - { name: a_total, type: counter, match: { message: x } }\n";
  const std::string b =
      "  - { name: b_seconds, type: histogram, value: message, buckets: [1],\n"
      "      match: { message: '^[0-9]' } }\n";
  const std::string c = "  - { name: c_total, type: counter, match: { message: x } }\n";
  start("metrics:\n" + a + b + c);
  feed("h", "p", "x");
  feed("h", "p", "2");
  EXPECT_THAT(text(), HasSubstr("\na_total 1\n"));
  EXPECT_THAT(text(), HasSubstr("\nb_seconds_count 1\n"));
  EXPECT_THAT(text(), HasSubstr("\nc_total 1\n"));

  // a moved (other lines, other order: same definition), b's buckets changed, c removed, d new.
  const std::string b2 =
      "  - { name: b_seconds, type: histogram, value: message, buckets: [1, 5],\n"
      "      match: { message: '^[0-9]' } }\n";
  const std::string d = "  - { name: d_total, type: counter, match: { message: x } }\n";
  reload("rules:\n  - { name: r, match: { message: zzz } }\nmetrics:\n" + d + b2 + a);
  EXPECT_EQ(text(),
            "# HELP d_total From log lines; defined in m.yaml\n"
            "# TYPE d_total counter\n"
            "# HELP b_seconds From log lines; defined in m.yaml\n"
            "# TYPE b_seconds histogram\n"
            "# HELP a_total From log lines; defined in m.yaml\n"
            "# TYPE a_total counter\n"
            "a_total 1\n");
  feed("h", "p", "x");
  feed("h", "p", "3");
  EXPECT_EQ(text(),
            "# HELP d_total From log lines; defined in m.yaml\n"
            "# TYPE d_total counter\n"
            "d_total 1\n"
            "# HELP b_seconds From log lines; defined in m.yaml\n"
            "# TYPE b_seconds histogram\n"
            "b_seconds_bucket{le=\"1\"} 0\n"
            "b_seconds_bucket{le=\"5\"} 1\n"
            "b_seconds_bucket{le=\"+Inf\"} 1\n"
            "b_seconds_sum 3\n"
            "b_seconds_count 1\n"
            "# HELP a_total From log lines; defined in m.yaml\n"
            "# TYPE a_total counter\n"
            "a_total 2\n");
}

TEST(log_metrics, an_observation_with_an_older_set_counts_only_if_its_metric_is_unchanged) {
  metrics_registry registry;
  log_metrics series(registry);
  const auto old_set = load_rules_string(
                           "metrics:\n"
                           "  - { name: a_total, type: counter, match: { message: x } }\n"
                           "  - { name: b_total, type: counter, match: { message: x } }\n",
                           "m.yaml")
                           .metrics;
  const auto new_set = load_rules_string(
                           "metrics:\n"
                           "  - { name: b_total, type: counter, match: { message: x } }\n"
                           "  - { name: a_total, type: counter, match: { message: y } }\n",
                           "m.yaml")
                           .metrics;
  series.replace(new_set);
  const collector::event ev = make_event("h", "a", "x");
  series.observe(old_set, 0, {}, ev);  // a_total changed: dropped, not counted as new b_total
  series.observe(old_set, 1, {}, ev);  // b_total unchanged, now index 0
  series.observe(new_set, 0, {}, ev);
  EXPECT_EQ(series.render(),
            "# HELP b_total From log lines; defined in m.yaml\n"
            "# TYPE b_total counter\n"
            "b_total 2\n"
            "# HELP a_total From log lines; defined in m.yaml\n"
            "# TYPE a_total counter\n");
}

TEST(log_metrics, threads_adding_label_sets_lose_nothing) {
  metrics_registry registry;
  log_metrics series(registry);
  const auto defs = load_rules_string(
                        "metrics:\n"
                        "  - { name: n_total, type: counter, labels: [k], max_series: 64,\n"
                        "      match: { message: '(?P<k>.)' } }\n",
                        "m.yaml")
                        .metrics;
  series.replace(defs);
  constexpr int threads = 4;
  constexpr int per_thread = 2000;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      const collector::event ev = make_event("h", "a", "x");
      for (int i = 0; i < per_thread; ++i) {
        series.observe(defs, 0, {{"k", std::to_string(i % 50)}}, ev);
      }
    });
  }
  for (auto& w : workers) w.join();
  const std::string text = series.render();
  EXPECT_THAT(text, HasSubstr("n_total{k=\"0\"} 160\n"));
  EXPECT_THAT(text, HasSubstr("n_total{k=\"49\"} 160\n"));
}

TEST(metrics_registry_renderers, removed_renderers_render_no_more) {
  metrics_registry registry;
  registry.get_counter("tocsin_x_total", "X.").inc();
  const auto id = registry.add_renderer([](std::string& out) { out += "# TYPE y gauge\ny 1\n"; });
  EXPECT_EQ(registry.render(),
            "# HELP tocsin_x_total X.\n# TYPE tocsin_x_total counter\ntocsin_x_total 1\n"
            "# TYPE y gauge\ny 1\n");
  registry.remove_renderer(id);
  EXPECT_EQ(registry.render(),
            "# HELP tocsin_x_total X.\n# TYPE tocsin_x_total counter\ntocsin_x_total 1\n");
}

}  // namespace
}  // namespace tocsin::rules
