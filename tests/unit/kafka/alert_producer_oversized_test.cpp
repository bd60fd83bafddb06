// An alert too large for message.max.bytes can never be delivered. It is dropped and counted
// (tocsin_bus_errors_total{reason="msg_size_too_large"}) rather than spooled, where it would hold
// up every alert published after it for ever: whether librdkafka refuses it at once, the brokers
// refuse it, or a spool from a run with a larger limit holds it.

#include <gtest/gtest.h>

#include <string>

#include "kafka/alert_producer.hpp"
#include "kafka/client_config.hpp"
#include "tests/support/kafka_mock.hpp"
#include "tests/support/metrics.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

namespace tocsin::kafka {
namespace {

using namespace std::chrono_literals;
using test::metric_sum;

rules::alert make_alert(const std::string& host, std::size_t summary_bytes = 10) {
  rules::alert a;
  a.labels = {{"alertname", "oversized"}, {"host", host}};
  a.annotations = {{"summary", std::string(summary_bytes, 's')}};
  a.starts_at = std::chrono::system_clock::time_point(std::chrono::seconds(1795666255));
  a.fingerprint = rules::fingerprint(a.labels);
  return a;
}

class alert_producer_oversized : public ::testing::Test {
 protected:
  alert_producer_oversized() { cluster_.create_topic("alerts", 1); }

  [[nodiscard]] config::kafka_config kafka() const {
    config::kafka_config k;
    k.brokers = cluster_.bootstraps();
    k.topic = "alerts";
    k.properties = {{"message.max.bytes", "2000"}, {"log_level", "3"}};
    return k;
  }

  test::mock_kafka_cluster cluster_;
  test::temp_dir dir_;
  metrics_registry metrics_;
};

TEST_F(alert_producer_oversized, an_alert_too_large_to_send_does_not_block_the_ones_after_it) {
  {
    alert_producer producer(
        kafka(), {.node_name = "node-a", .spool_dir = dir_ / "spool", .replay_interval = 100ms},
        metrics_);
    producer.publish({make_alert("big", 10000)});
    EXPECT_EQ(test::counter_value(metrics_, "tocsin_bus_errors_total",
                                  {{"reason", error_label(RdKafka::ERR_MSG_SIZE_TOO_LARGE)}}),
              1U);
    producer.publish({make_alert("web1"), make_alert("web2")});
    ASSERT_TRUE(test::wait_until(
        [&] { return metric_sum(metrics_, "tocsin_bus_published_total") == 2; }, 20s))
        << metrics_.render();
  }
  const auto records = test::kcat_read(cluster_.bootstraps(), "alerts");
  ASSERT_EQ(records.size(), 2U);
  EXPECT_EQ(records[0].key, make_alert("web1").fingerprint);
  EXPECT_EQ(records[1].key, make_alert("web2").fingerprint);
}

TEST_F(alert_producer_oversized, an_alert_the_brokers_refuse_as_too_large_is_dropped) {
  {
    alert_producer producer(
        kafka(), {.node_name = "node-a", .spool_dir = dir_ / "spool", .replay_interval = 100ms},
        metrics_);
    cluster_.fail_next_produce(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
    producer.publish({make_alert("refused")});
    ASSERT_TRUE(test::wait_until(
        [&] {
          return test::counter_value(metrics_, "tocsin_bus_errors_total",
                                     {{"reason", error_label(RdKafka::ERR_MSG_SIZE_TOO_LARGE)}}) ==
                 1;
        },
        20s));
    producer.publish({make_alert("web1")});
    ASSERT_TRUE(test::wait_until(
        [&] { return metric_sum(metrics_, "tocsin_bus_published_total") == 1; }, 20s))
        << metrics_.render();
  }
  EXPECT_EQ(metric_sum(metrics_, "tocsin_spool_records"), 0);
  const auto records = test::kcat_read(cluster_.bootstraps(), "alerts");
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].key, make_alert("web1").fingerprint);
}

TEST_F(alert_producer_oversized, an_oversized_alert_in_a_spool_from_an_earlier_run_is_dropped) {
  {
    // An earlier run with Kafka's default limit, while the broker was down: both spooled.
    auto earlier = kafka();
    earlier.properties.erase("message.max.bytes");
    earlier.properties["message.timeout.ms"] = "500";
    cluster_.set_down(1);
    alert_producer producer(earlier, {.node_name = "node-a", .spool_dir = dir_ / "spool"},
                            metrics_);
    producer.publish({make_alert("big", 10000), make_alert("web1")});
  }
  ASSERT_EQ(metric_sum(metrics_, "tocsin_spool_records"), 2) << metrics_.render();
  cluster_.set_up(1);
  metrics_registry metrics;
  {
    alert_producer producer(
        kafka(), {.node_name = "node-a", .spool_dir = dir_ / "spool", .replay_interval = 100ms},
        metrics);
    ASSERT_TRUE(test::wait_until(
        [&] { return metric_sum(metrics, "tocsin_bus_published_total") == 1; }, 20s))
        << metrics.render();
    EXPECT_EQ(test::counter_value(metrics, "tocsin_bus_errors_total",
                                  {{"reason", error_label(RdKafka::ERR_MSG_SIZE_TOO_LARGE)}}),
              1U);
  }
  EXPECT_EQ(metric_sum(metrics, "tocsin_spool_records"), 0);
  const auto records = test::kcat_read(cluster_.bootstraps(), "alerts");
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].key, make_alert("web1").fingerprint);
}

}  // namespace
}  // namespace tocsin::kafka
