// The text helpers the notifiers share (truncation, HTML escaping, time format, the webhook v4
// body) at their edges: empty and exact-length input, both quote modes, the zero time.

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "sinks/notifier_factories.hpp"

namespace tocsin::sinks {
namespace {

using namespace std::chrono_literals;

const auto t0 = std::chrono::system_clock::time_point(1795666255120ms);  // 2026-11-26T04:10:55.120Z

TEST(truncate_utf8_branches, zero_exact_and_over) {
  EXPECT_EQ(truncate_utf8("abc", 0), "");
  EXPECT_EQ(truncate_utf8("", 3), "");
  EXPECT_EQ(truncate_utf8("abc", 3), "abc");  // exactly the limit: unchanged
  EXPECT_EQ(truncate_utf8("abcd", 3), "ab…");
  EXPECT_EQ(truncate_utf8("éé", 2), "éé");  // counted in code points, not bytes
  EXPECT_EQ(truncate_utf8("ééé", 2), "é…");
  EXPECT_EQ(truncate_utf8("abc", 1), "…");
}

TEST(html_escaped_branches, quotes_escaped_or_kept) {
  EXPECT_EQ(html_escaped(R"(a&b<c>"d'e)"), "a&amp;b&lt;c&gt;&quot;d&#39;e");
  EXPECT_EQ(html_escaped(R"(a&b<c>"d'e)", html_quotes::keep), R"(a&amp;b&lt;c&gt;"d'e)");
  std::string out = "x";
  append_html_escaped("", out);
  EXPECT_EQ(out, "x");
}

TEST(format_time_branches, zero_time_is_gos_zero_time) {
  EXPECT_EQ(format_time(std::chrono::system_clock::time_point{}), "0001-01-01T00:00:00Z");
  EXPECT_EQ(format_time(t0), "2026-11-26T04:10:55.120Z");
}

TEST(webhook_v4_body_branches, limit_above_the_count_and_resolved_alerts) {
  notification n;
  n.receiver = "ops";
  n.group_key = "g";
  rules::alert a;
  a.labels = {{"alertname", "x"}};
  a.starts_at = t0;
  a.ends_at = t0 + 1min;
  a.firing = false;
  n.alerts = {a, a};
  const auto body = webhook_v4_body(n, 5);
  EXPECT_EQ(body["status"], "resolved");
  ASSERT_EQ(body["alerts"].size(), 2u);
  EXPECT_EQ(body["truncatedAlerts"], 0);
  EXPECT_EQ(body["alerts"][0]["status"], "resolved");
  EXPECT_EQ(body["alerts"][0]["endsAt"], "2026-11-26T04:11:55.120Z");
  EXPECT_EQ(body["commonLabels"]["alertname"], "x");

  n.alerts[1].firing = true;
  const auto one = webhook_v4_body(n, 1);
  EXPECT_EQ(one["status"], "firing");
  EXPECT_EQ(one["alerts"].size(), 1u);
  EXPECT_EQ(one["truncatedAlerts"], 1);
  // A firing alert's end is hidden as the zero time.
  EXPECT_EQ(webhook_v4_body(n)["alerts"][1]["endsAt"], "0001-01-01T00:00:00Z");

  const auto empty = webhook_v4_body(notification{});
  EXPECT_EQ(empty["status"], "resolved");
  EXPECT_TRUE(empty["alerts"].empty());
  EXPECT_TRUE(empty["commonLabels"].empty());
}

}  // namespace
}  // namespace tocsin::sinks
