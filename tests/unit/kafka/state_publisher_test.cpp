// kafka::state_publisher against librdkafka's mock cluster: silence and notification-log records
// land on the topic and partition asked for, with their key, and deliveries are counted. Read
// back with kcat, as any Kafka client sees them.

#include "kafka/state_publisher.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "kafka/topics.hpp"
#include "tests/support/kafka_mock.hpp"
#include "tests/support/metrics.hpp"
#include "tests/support/wait.hpp"

namespace tocsin::kafka {
namespace {

using namespace std::chrono_literals;

constexpr const char* silences_topic = "tocsin.silences";
constexpr const char* nflog_topic = "tocsin.nflog";
constexpr int nflog_partitions = 6;
constexpr auto patience = 20s;  // real time for the mock cluster; only ever waited out on failure

class state_publisher_test : public ::testing::Test {
 protected:
  state_publisher_test() {
    cluster_.create_topic(silences_topic, 1);
    cluster_.create_topic(nflog_topic, nflog_partitions);
  }

  [[nodiscard]] config::kafka_config kafka() const {
    config::kafka_config k;
    k.brokers = cluster_.bootstraps();
    k.silences_topic.name = silences_topic;
    k.nflog_topic.name = nflog_topic;
    k.properties = {{"log_level", "4"}};
    return k;
  }

  std::uint64_t published() {
    return test::counter_value(metrics_, "tocsin_cluster_records_published_total");
  }

  test::mock_kafka_cluster cluster_;
  metrics_registry metrics_;
};

TEST_F(state_publisher_test, records_land_on_their_topic_and_partition_with_their_key) {
  const std::vector<std::string> groups = {R"({}:{alertname="disk-full"})",
                                           R"({}:{alertname="cpu"})", R"({}:{alertname="mem"})",
                                           R"({}/{team="db"}:{alertname="replication"})"};
  {
    state_publisher publisher(kafka(), metrics_);
    publisher.publish(silences_topic, -1, "silence-1", R"({"v":1,"id":"silence-1"})");
    publisher.publish(silences_topic, -1, "silence-2", R"({"v":1,"id":"silence-2"})");
    for (const auto& g : groups) {
      publisher.publish(nflog_topic, nflog_partition(g, nflog_partitions), g, "sent " + g);
    }
    ASSERT_TRUE(test::wait_until([&] { return published() == 2 + groups.size(); }, patience))
        << published();
  }
  EXPECT_EQ(published(), 2 + groups.size()) << "counted more than was delivered";
  EXPECT_EQ(test::metric_sum(metrics_, "tocsin_bus_errors_total"), 0);

  const auto silences = test::kcat_read(cluster_.bootstraps(), silences_topic);
  ASSERT_EQ(silences.size(), 2u);
  EXPECT_EQ(silences[0].key, "silence-1");
  EXPECT_EQ(silences[0].value, R"({"v":1,"id":"silence-1"})");
  EXPECT_EQ(silences[1].key, "silence-2");
  EXPECT_EQ(silences[1].value, R"({"v":1,"id":"silence-2"})");

  const auto nflog = test::kcat_read(cluster_.bootstraps(), nflog_topic);
  ASSERT_EQ(nflog.size(), groups.size());
  for (const auto& g : groups) {
    const auto it = std::find_if(nflog.begin(), nflog.end(),
                                 [&](const test::kafka_record& r) { return r.key == g; });
    ASSERT_NE(it, nflog.end()) << g;
    EXPECT_EQ(it->partition, nflog_partition(g, nflog_partitions)) << g;
    EXPECT_EQ(it->value, "sent " + g);
  }
}

TEST_F(state_publisher_test, records_of_one_key_keep_their_order) {
  const std::string group = R"({}:{alertname="disk-full"})";
  const int partition = nflog_partition(group, nflog_partitions);
  {
    state_publisher publisher(kafka(), metrics_);
    for (int i = 0; i < 20; ++i)
      publisher.publish(nflog_topic, partition, group, std::to_string(i));
    ASSERT_TRUE(test::wait_until([&] { return published() == 20; }, patience)) << published();
  }
  const auto nflog = test::kcat_read(cluster_.bootstraps(), nflog_topic);
  ASSERT_EQ(nflog.size(), 20u);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(nflog[i].partition, partition);
    EXPECT_EQ(nflog[i].value, std::to_string(i));
  }
}

TEST_F(state_publisher_test, destruction_delivers_what_was_published) {
  {
    state_publisher publisher(kafka(), metrics_);
    for (int i = 0; i < 10; ++i) {
      publisher.publish(silences_topic, -1, "s" + std::to_string(i), "v");
    }
  }  // flushed here
  EXPECT_EQ(test::kcat_read(cluster_.bootstraps(), silences_topic).size(), 10u);
  EXPECT_EQ(published(), 10u);
}

TEST_F(state_publisher_test, a_record_for_a_partition_that_does_not_exist_is_counted_as_an_error) {
  {
    state_publisher publisher(kafka(), metrics_);
    publisher.publish(nflog_topic, nflog_partitions + 3, "g", "v");  // no such partition
    publisher.publish(nflog_topic, 0, "g", "v");
    ASSERT_TRUE(test::wait_until(
        [&] {
          return published() == 1 && test::metric_sum(metrics_, "tocsin_bus_errors_total") == 1;
        },
        patience))
        << metrics_.render();
  }
  EXPECT_EQ(published(), 1u);
  EXPECT_EQ(
      test::counter_value(metrics_, "tocsin_bus_errors_total", {{"reason", "unknown_partition"}}),
      1u)
      << metrics_.render();
  EXPECT_EQ(test::kcat_read(cluster_.bootstraps(), nflog_topic).size(), 1u);
}

}  // namespace
}  // namespace tocsin::kafka
