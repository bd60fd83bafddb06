#include "core/metrics.hpp"

#include <gtest/gtest.h>

namespace tocsin {
namespace {

TEST(metrics_registry, renders_prometheus_text) {
  metrics_registry m;
  m.get_counter("tocsin_input_messages_total", "Messages.", {{"input", "syslog-udp"}}).inc(3);
  m.get_counter("tocsin_input_messages_total", "Messages.", {{"input", "a\"b"}}).inc();
  m.get_gauge("tocsin_queue_depth", "Depth.", {{"queue", "archive"}}).set(-2);
  EXPECT_EQ(m.render(),
            "# HELP tocsin_input_messages_total Messages.\n"
            "# TYPE tocsin_input_messages_total counter\n"
            "tocsin_input_messages_total{input=\"a\\\"b\"} 1\n"
            "tocsin_input_messages_total{input=\"syslog-udp\"} 3\n"
            "# HELP tocsin_queue_depth Depth.\n"
            "# TYPE tocsin_queue_depth gauge\n"
            "tocsin_queue_depth{queue=\"archive\"} -2\n");
}

TEST(metrics_registry, a_declared_family_is_listed_before_its_first_series) {
  metrics_registry m;
  m.declare("x_errors_total", "Errors.", metrics_registry::kind::counter);
  EXPECT_EQ(m.render(), "# HELP x_errors_total Errors.\n# TYPE x_errors_total counter\n");
  m.get_counter("x_errors_total", "Errors.", {{"reason", "bad"}}).inc();
  EXPECT_EQ(m.render(),
            "# HELP x_errors_total Errors.\n# TYPE x_errors_total counter\n"
            "x_errors_total{reason=\"bad\"} 1\n");
  EXPECT_THROW(m.declare("x_errors_total", "Errors.", metrics_registry::kind::gauge),
               std::logic_error);
}

TEST(metrics_registry, same_series_same_object) {
  metrics_registry m;
  auto& a = m.get_counter("c", "h", {{"k", "v"}});
  auto& b = m.get_counter("c", "h", {{"k", "v"}});
  EXPECT_EQ(&a, &b);
  EXPECT_THROW(m.get_gauge("c", "h"), std::logic_error);
}

TEST(metrics_registry, renders_histogram_buckets_sum_and_count) {
  metrics_registry m;
  auto& h = m.get_histogram("tocsin_notification_latency_seconds", "Latency.",
                            {{"receiver", "ops"}}, {1, 0.5, 2.5, 0.5});
  EXPECT_EQ(h.upper_bounds(), (std::vector<double>{0.5, 1, 2.5}));  // sorted, deduplicated
  h.observe(0.5);                                                   // le is inclusive
  h.observe(0.75);
  h.observe(3);
  EXPECT_EQ(&h, &m.get_histogram("tocsin_notification_latency_seconds", "Latency.",
                                 {{"receiver", "ops"}}, {}));
  m.get_histogram("plain", "No labels.", {}, {0.005}).observe(0.001);
  EXPECT_EQ(m.render(),
            "# HELP plain No labels.\n"
            "# TYPE plain histogram\n"
            "plain_bucket{le=\"0.005\"} 1\n"
            "plain_bucket{le=\"+Inf\"} 1\n"
            "plain_sum 0.001\n"
            "plain_count 1\n"
            "# HELP tocsin_notification_latency_seconds Latency.\n"
            "# TYPE tocsin_notification_latency_seconds histogram\n"
            "tocsin_notification_latency_seconds_bucket{receiver=\"ops\",le=\"0.5\"} 1\n"
            "tocsin_notification_latency_seconds_bucket{receiver=\"ops\",le=\"1\"} 2\n"
            "tocsin_notification_latency_seconds_bucket{receiver=\"ops\",le=\"2.5\"} 2\n"
            "tocsin_notification_latency_seconds_bucket{receiver=\"ops\",le=\"+Inf\"} 3\n"
            "tocsin_notification_latency_seconds_sum{receiver=\"ops\"} 4.25\n"
            "tocsin_notification_latency_seconds_count{receiver=\"ops\"} 3\n");
  EXPECT_THROW(m.get_counter("plain", "h"), std::logic_error);
}

}  // namespace
}  // namespace tocsin
