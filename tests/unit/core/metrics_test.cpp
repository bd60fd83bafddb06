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

TEST(metrics_registry, same_series_same_object) {
  metrics_registry m;
  auto& a = m.get_counter("c", "h", {{"k", "v"}});
  auto& b = m.get_counter("c", "h", {{"k", "v"}});
  EXPECT_EQ(&a, &b);
  EXPECT_THROW(m.get_gauge("c", "h"), std::logic_error);
}

}  // namespace
}  // namespace tocsin
