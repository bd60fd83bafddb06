// kafka/consumer_support: the consumers' error counting (tocsin_bus_errors_total by reason, each
// error code counted on its own) and which consumer errors are quiet.

#include "kafka/consumer_support.hpp"

#include <gtest/gtest.h>

#include "kafka/client_config.hpp"
#include "tests/support/metrics.hpp"

namespace tocsin::kafka {
namespace {

TEST(client_errors, counts_every_error_under_its_reason_even_when_not_logged_again) {
  metrics_registry metrics;
  client_errors errors("test consumer", metrics);
  errors.count(RdKafka::ERR__TRANSPORT, "broker gone");
  errors.count(RdKafka::ERR__TRANSPORT, "broker gone again");  // within 10 s: not logged
  errors.count(RdKafka::ERR__TRANSPORT, "and again");
  errors.count(RdKafka::ERR_UNKNOWN_TOPIC_OR_PART, "no such topic");
  EXPECT_EQ(test::metric_sum(metrics, "tocsin_bus_errors_total"), 4);
  EXPECT_EQ(test::counter_value(metrics, "tocsin_bus_errors_total",
                                {{"reason", error_label(RdKafka::ERR__TRANSPORT)}}),
            3u);
  EXPECT_EQ(test::counter_value(metrics, "tocsin_bus_errors_total",
                                {{"reason", error_label(RdKafka::ERR_UNKNOWN_TOPIC_OR_PART)}}),
            1u);
}

TEST(client_errors, two_consumers_on_one_registry_add_up) {
  metrics_registry metrics;
  client_errors a("a", metrics);
  client_errors b("b", metrics);
  a.count(RdKafka::ERR__TRANSPORT, "x");
  b.count(RdKafka::ERR__TRANSPORT, "y");
  EXPECT_EQ(test::counter_value(metrics, "tocsin_bus_errors_total",
                                {{"reason", error_label(RdKafka::ERR__TRANSPORT)}}),
            2u);
}

TEST(is_quiet, nothing_yet_and_end_of_partition_are_quiet_real_errors_are_not) {
  EXPECT_TRUE(is_quiet(RdKafka::ERR_NO_ERROR));
  EXPECT_TRUE(is_quiet(RdKafka::ERR__TIMED_OUT));
  EXPECT_TRUE(is_quiet(RdKafka::ERR__PARTITION_EOF));
  EXPECT_FALSE(is_quiet(RdKafka::ERR__TRANSPORT));
  EXPECT_FALSE(is_quiet(RdKafka::ERR_UNKNOWN_TOPIC_OR_PART));
  EXPECT_FALSE(is_quiet(RdKafka::ERR__ALL_BROKERS_DOWN));
}

TEST(partition_list, owns_and_frees_what_it_holds) {
  partition_list list;
  list.add("t", 0, RdKafka::Topic::OFFSET_BEGINNING);
  list.add("t", 3, 42);
  ASSERT_EQ(list.items.size(), 2u);
  EXPECT_EQ(list.items[1]->topic(), "t");
  EXPECT_EQ(list.items[1]->partition(), 3);
  EXPECT_EQ(list.items[1]->offset(), 42);
}

}  // namespace
}  // namespace tocsin::kafka
