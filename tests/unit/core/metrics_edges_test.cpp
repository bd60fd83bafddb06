// metrics_registry at its edges: label values that need escaping and histogram buckets asked for
// beyond the last bound.

#include <gtest/gtest.h>

#include "core/metrics.hpp"

namespace tocsin {
namespace {

TEST(metrics_registry, escapes_backslashes_quotes_and_newlines_in_label_values) {
  metrics_registry m;
  m.get_counter("c_total", "C.", {{"path", "C:\\logs"}, {"text", "two\nlines \"q\""}}).inc(2);
  EXPECT_EQ(m.render(),
            "# HELP c_total C.\n"
            "# TYPE c_total counter\n"
            "c_total{path=\"C:\\\\logs\",text=\"two\\nlines \\\"q\\\"\"} 2\n");
}

TEST(histogram, cumulative_count_beyond_the_last_bound_counts_only_finite_buckets) {
  histogram h({1, 2});
  h.observe(0.5);
  h.observe(1.5);
  h.observe(10);  // +Inf only
  EXPECT_EQ(h.cumulative_count(0), 1u);
  EXPECT_EQ(h.cumulative_count(1), 2u);
  EXPECT_EQ(h.cumulative_count(2), 2u);
  EXPECT_EQ(h.cumulative_count(99), 2u);
  EXPECT_EQ(h.count(), 3u);
  EXPECT_DOUBLE_EQ(h.sum(), 12.0);
}

TEST(histogram, without_bounds_has_only_the_inf_bucket) {
  metrics_registry m;
  m.get_histogram("h", "H.", {{"k", "v"}}, {}).observe(4);
  EXPECT_EQ(m.render(),
            "# HELP h H.\n"
            "# TYPE h histogram\n"
            "h_bucket{k=\"v\",le=\"+Inf\"} 1\n"
            "h_sum{k=\"v\"} 4\n"
            "h_count{k=\"v\"} 1\n");
}

}  // namespace
}  // namespace tocsin
