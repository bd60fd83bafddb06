// Metrics from logs end to end (DESIGN.md "Log-derived metrics"): nginx access lines over TCP →
// `tocsin run` → the exact counters and histograms on /metrics, kept or restarted by a SIGHUP
// reload; and `tocsin test-rules --metrics` replaying the same lines.

#include <gtest/gtest.h>

#include <sstream>

#include "tests/integration/tocsin_daemon.hpp"

namespace tocsin::test {
namespace {

// DESIGN.md's example.
const std::string nginx_metrics =
    "metrics:\n"
    "  - { name: nginx_responses_total, type: counter, match: { app: '^nginx$', message: '\" "
    "(?P<status>\\d{3}) ' }, labels: [host, status] }\n"
    "  - { name: nginx_request_seconds, type: histogram, value: rt, buckets: [0.05, 0.25, 1, 5],\n"
    "      match: { app: '^nginx$', message: 'rt=(?P<rt>[0-9.]+)' }, labels: [host] }\n";

struct access {
  const char* host;
  int status;
  const char* rt;  // binary fractions, so the sums are exact whatever the order
};

// Per host: web1 200×6 404×2 500×2, web2 200×6 301×2 404×1 503×1; boundaries 0.25, 1 and 5
// fall into their own bucket (le is inclusive).
constexpr access accesses[] = {
    {"web1", 200, "0.03125"}, {"web1", 200, "0.125"}, {"web1", 200, "0.125"},
    {"web1", 200, "0.5"},     {"web1", 200, "2"},     {"web1", 404, "0.03125"},
    {"web1", 404, "0.25"},    {"web1", 500, "8"},     {"web1", 500, "1"},
    {"web1", 200, "0.0625"},  {"web2", 200, "0.5"},   {"web2", 200, "0.5"},
    {"web2", 200, "0.03125"}, {"web2", 301, "0.125"}, {"web2", 301, "5"},
    {"web2", 503, "16"},      {"web2", 200, "0.25"},  {"web2", 200, "1.5"},
    {"web2", 404, "0.0625"},  {"web2", 200, "0.125"},
};

std::string access_line(const access& a, int n) {
  return syslog_line("nginx",
                     "203.0.113.7 - - [26/Nov/2026:10:00:00 +0000] \"GET /page/" +
                         std::to_string(n) + " HTTP/1.1\" " + std::to_string(a.status) +
                         " 512 \"-\" \"curl/8.5\" rt=" + a.rt,
                     {.pri = 182, .timestamp = "2026-11-26T10:00:00Z", .host = a.host});
}

std::string all_access_lines() {
  std::string log;
  int n = 0;
  for (const access& a : accesses) log += access_line(a, n++);
  // Lines the metrics do not match: another app, and nginx's own error log.
  log += syslog_line("haproxy", "\"GET / HTTP/1.1\" 200 0 rt=0.5",
                     {.timestamp = "2026-11-26T10:00:01Z", .host = "web1"});
  log += syslog_line("nginx", "worker process 7 exited on signal 9",
                     {.timestamp = "2026-11-26T10:00:01Z", .host = "web1"});
  return log;
}

// The log-derived families of a /metrics text: the lines naming nginx_.
std::string nginx_families(const std::string& metrics) {
  std::istringstream in(metrics);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("nginx_") || line.starts_with("# HELP nginx_") ||
        line.starts_with("# TYPE nginx_")) {
      out += line + '\n';
    }
  }
  return out;
}

std::string expected_counter(const std::string& file) {
  return "# HELP nginx_responses_total From log lines; defined in " + file +
         "\n"
         "# TYPE nginx_responses_total counter\n"
         "nginx_responses_total{host=\"web1\",status=\"200\"} 6\n"
         "nginx_responses_total{host=\"web1\",status=\"404\"} 2\n"
         "nginx_responses_total{host=\"web1\",status=\"500\"} 2\n"
         "nginx_responses_total{host=\"web2\",status=\"200\"} 6\n"
         "nginx_responses_total{host=\"web2\",status=\"301\"} 2\n"
         "nginx_responses_total{host=\"web2\",status=\"404\"} 1\n"
         "nginx_responses_total{host=\"web2\",status=\"503\"} 1\n";
}

std::string expected_histogram(const std::string& file) {
  return "# HELP nginx_request_seconds From log lines; defined in " + file +
         "\n"
         "# TYPE nginx_request_seconds histogram\n"
         "nginx_request_seconds_bucket{host=\"web1\",le=\"0.05\"} 2\n"
         "nginx_request_seconds_bucket{host=\"web1\",le=\"0.25\"} 6\n"
         "nginx_request_seconds_bucket{host=\"web1\",le=\"1\"} 8\n"
         "nginx_request_seconds_bucket{host=\"web1\",le=\"5\"} 9\n"
         "nginx_request_seconds_bucket{host=\"web1\",le=\"+Inf\"} 10\n"
         "nginx_request_seconds_sum{host=\"web1\"} 12.125\n"
         "nginx_request_seconds_count{host=\"web1\"} 10\n"
         "nginx_request_seconds_bucket{host=\"web2\",le=\"0.05\"} 1\n"
         "nginx_request_seconds_bucket{host=\"web2\",le=\"0.25\"} 5\n"
         "nginx_request_seconds_bucket{host=\"web2\",le=\"1\"} 7\n"
         "nginx_request_seconds_bucket{host=\"web2\",le=\"5\"} 9\n"
         "nginx_request_seconds_bucket{host=\"web2\",le=\"+Inf\"} 10\n"
         "nginx_request_seconds_sum{host=\"web2\"} 24.09375\n"
         "nginx_request_seconds_count{host=\"web2\"} 10\n";
}

TEST(metrics_from_logs, access_lines_over_tcp_become_exact_counters_and_histograms) {
  daemon_options options;
  options.files["rules/nginx.yaml"] = nginx_metrics;
  options.extra_config = "rules_files: [\"rules/*.yaml\"]\n";
  tocsin_daemon daemon(options);
  const std::string file = (daemon.dir() / "rules/nginx.yaml").string();
  const auto wait_for_responses = [&](double n) {
    return daemon.wait_for_metric("nginx_responses_total", {}, [n](double v) { return v == n; });
  };
  {
    tcp_client conn(daemon.syslog_port());
    ASSERT_TRUE(conn.send_all(all_access_lines()));
  }
  ASSERT_TRUE(wait_for_responses(20)) << daemon.metrics_text();
  // The histogram is observed in the same pass as the counter, just after it.
  ASSERT_TRUE(
      daemon.wait_for_metric("nginx_request_seconds_count", {}, [](double v) { return v == 20; }));
  EXPECT_EQ(nginx_families(daemon.metrics_text()),
            expected_counter(file) + expected_histogram(file));
  EXPECT_EQ(daemon.metric("tocsin_log_metric_value_errors_total"), 0);
  EXPECT_EQ(daemon.metric("tocsin_log_metric_series_dropped_total"), 0);

  // SIGHUP with both metrics unchanged (a rule added, the metrics moved down two lines): the
  // series keep their values.
  daemon.dir().write_file(
      "rules/nginx.yaml",
      "rules:\n  - { name: oom, match: { message: 'Out of memory' } }\n" + nginx_metrics);
  daemon.signal(SIGHUP);
  ASSERT_TRUE(daemon.wait_for_metric("tocsin_config_reloads_total", {{"result", "success"}},
                                     [](double v) { return v == 1; }));
  EXPECT_EQ(nginx_families(daemon.metrics_text()),
            expected_counter(file) + expected_histogram(file));

  // SIGHUP with the histogram's buckets changed: it restarts empty, the counter goes on.
  std::string changed = nginx_metrics;
  const std::string buckets = "buckets: [0.05, 0.25, 1, 5]";
  changed.replace(changed.find(buckets), buckets.size(), "buckets: [0.1, 10]");
  daemon.dir().write_file("rules/nginx.yaml", changed);
  daemon.signal(SIGHUP);
  ASSERT_TRUE(daemon.wait_for_metric("tocsin_config_reloads_total", {{"result", "success"}},
                                     [](double v) { return v == 2; }));
  const std::string empty_histogram = "# HELP nginx_request_seconds From log lines; defined in " +
                                      file + "\n# TYPE nginx_request_seconds histogram\n";
  EXPECT_EQ(nginx_families(daemon.metrics_text()), expected_counter(file) + empty_histogram);
  {
    tcp_client conn(daemon.syslog_port());
    ASSERT_TRUE(conn.send_all(access_line({"web3", 200, "0.5"}, 100)));
  }
  ASSERT_TRUE(wait_for_responses(21));
  ASSERT_TRUE(
      daemon.wait_for_metric("nginx_request_seconds_count", {}, [](double v) { return v == 1; }));
  EXPECT_EQ(nginx_families(daemon.metrics_text()),
            expected_counter(file) + "nginx_responses_total{host=\"web3\",status=\"200\"} 1\n" +
                empty_histogram +
                "nginx_request_seconds_bucket{host=\"web3\",le=\"0.1\"} 0\n"
                "nginx_request_seconds_bucket{host=\"web3\",le=\"10\"} 1\n"
                "nginx_request_seconds_bucket{host=\"web3\",le=\"+Inf\"} 1\n"
                "nginx_request_seconds_sum{host=\"web3\"} 0.5\n"
                "nginx_request_seconds_count{host=\"web3\"} 1\n");
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(metrics_from_logs, a_rules_file_with_only_metrics_still_sees_every_event_after_a_reload) {
  // Started without rules and metrics: no rules sink; a reload adds the metric.
  daemon_options options;
  options.extra_config = "rules_files: [\"rules/*.yaml\"]\n";
  tocsin_daemon daemon(options);
  daemon.dir().write_file("rules/nginx.yaml", nginx_metrics);
  daemon.signal(SIGHUP);
  ASSERT_TRUE(daemon.wait_for_metric("tocsin_config_reloads_total", {{"result", "success"}},
                                     [](double v) { return v == 1; }));
  {
    tcp_client conn(daemon.syslog_port());
    ASSERT_TRUE(conn.send_all(all_access_lines()));
  }
  ASSERT_TRUE(
      daemon.wait_for_metric("nginx_responses_total", {}, [](double v) { return v == 20; }));
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(metrics_from_logs, test_rules_metrics_prints_the_log_metrics_only) {
  temp_dir dir;
  const auto rules_file =
      dir.write_file("rules/nginx.yaml",
                     "rules:\n"
                     "  - { name: server-error, match: { message: '\" 5\\d\\d ' } }\n" +
                         nginx_metrics);
  const auto config = dir.write_file("tocsin.yaml", "rules_files: [\"rules/*.yaml\"]\n");
  const auto r =
      run_command({tocsin_binary().string(), "test-rules", "--metrics", "-c", config.string()},
                  all_access_lines());
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(r.stdout_text,
            expected_counter(rules_file.string()) + expected_histogram(rules_file.string()));

  // Without --metrics: the alerts, as before.
  const auto alerts = run_command({tocsin_binary().string(), "test-rules", "-c", config.string()},
                                  all_access_lines());
  EXPECT_EQ(alerts.exit_code, 0) << alerts.stderr_text;
  EXPECT_NE(alerts.stdout_text.find("\"alertname\":\"server-error\""), std::string::npos)
      << alerts.stdout_text;
}

}  // namespace
}  // namespace tocsin::test
