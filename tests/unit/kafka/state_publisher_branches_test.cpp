// kafka::state_publisher's failures against librdkafka's mock cluster: a record librdkafka refuses
// at once is counted as a bus error, and records a dead cluster never took are given up at
// shutdown (after the 5 s flush), not waited for.

#include <gtest/gtest.h>

#include <string>

#include "kafka/client_config.hpp"
#include "kafka/state_publisher.hpp"
#include "tests/support/kafka_mock.hpp"
#include "tests/support/metrics.hpp"
#include "tests/support/wait.hpp"

namespace tocsin::kafka {
namespace {

using namespace std::chrono_literals;

constexpr const char* silences_topic = "tocsin.silences";

class state_publisher_branches : public ::testing::Test {
 protected:
  state_publisher_branches() { cluster_.create_topic(silences_topic, 1); }

  [[nodiscard]] config::kafka_config kafka() const {
    config::kafka_config k;
    k.brokers = cluster_.bootstraps();
    k.silences_topic.name = silences_topic;
    k.properties = {{"log_level", "3"}, {"message.max.bytes", "2000"}};
    return k;
  }

  std::uint64_t published() {
    return test::counter_value(metrics_, "tocsin_cluster_records_published_total");
  }

  test::mock_kafka_cluster cluster_;
  metrics_registry metrics_;
};

TEST_F(state_publisher_branches, a_record_too_large_to_send_is_a_bus_error_at_once) {
  {
    state_publisher publisher(kafka(), metrics_);
    publisher.publish(silences_topic, -1, "silence-1", std::string(10000, 's'));
    EXPECT_EQ(test::counter_value(metrics_, "tocsin_bus_errors_total",
                                  {{"reason", error_label(RdKafka::ERR_MSG_SIZE_TOO_LARGE)}}),
              1u);
    publisher.publish(silences_topic, -1, "silence-2", "small");
    ASSERT_TRUE(test::wait_until([&] { return published() == 1; }, 20s));
  }
  EXPECT_EQ(published(), 1u);
  EXPECT_EQ(test::metric_sum(metrics_, "tocsin_bus_errors_total"), 1);
}

TEST_F(state_publisher_branches, records_a_dead_cluster_never_took_are_given_up_at_shutdown) {
  {
    state_publisher publisher(kafka(), metrics_);
    cluster_.set_down(1);
    publisher.publish(silences_topic, -1, "silence-1", "lost");
  }  // the flush in the destructor times out
  EXPECT_EQ(published(), 0u);
}

TEST_F(state_publisher_branches, rejected_properties_are_a_client_config_error) {
  auto k = kafka();
  k.properties["no.such.property"] = "1";
  EXPECT_THROW(state_publisher(k, metrics_), client_config_error);
}

}  // namespace
}  // namespace tocsin::kafka
