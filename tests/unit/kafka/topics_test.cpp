// kafka::ensure_topics() against what librdkafka's mock cluster can answer: metadata (partition
// counts) yes, CreateTopics and DescribeConfigs no (the mock has no controller; the requests time
// out). So: the layout of topics that exist, the warning path when the cleanup policies cannot be
// read, and every error the daemon turns into "cannot start" (unreachable brokers, a creation
// that gets no answer, a topic librdkafka refuses to describe).

#include "kafka/topics.hpp"

#include <gtest/gtest.h>

#include <string>

#include "kafka/client_config.hpp"
#include "tests/support/kafka_mock.hpp"
#include "tests/support/net.hpp"

namespace tocsin::kafka {
namespace {

// The message of the topic_error `f` throws ("" when it throws none).
template <typename F>
std::string topic_error_of(F&& f) {
  try {
    f();
  } catch (const topic_error& e) {
    return e.what();
  }
  return "";
}

config::kafka_config kafka_on(const std::string& brokers) {
  config::kafka_config k;
  k.brokers = brokers;
  k.topic = "t.alerts";
  k.silences_topic.name = "t.silences";
  k.nflog_topic.name = "t.nflog";
  k.hits_topic.name = "t.hits";
  k.oncall_topic.name = "t.oncall";
  // Admin requests without options time out after socket.timeout.ms: keep the mock's
  // unanswered ones short.
  k.properties = {{"socket.timeout.ms", "1500"}, {"log_level", "3"}};
  return k;
}

TEST(ensure_topics, unreachable_brokers_are_a_topic_error_naming_the_metadata) {
  const std::uint16_t port = test::free_port();  // nothing listens there
  const auto kafka = kafka_on("127.0.0.1:" + std::to_string(port));
  const std::string what = topic_error_of([&] { ensure_topics(kafka, 1500); });
  EXPECT_NE(what, "") << "no topic_error";
  EXPECT_NE(what.find("cannot read the brokers' metadata"), std::string::npos) << what;
}

TEST(ensure_topics, existing_topics_give_their_partition_counts_when_policies_cannot_be_read) {
  test::mock_kafka_cluster cluster;
  cluster.create_topic("t.alerts", 3);
  cluster.create_topic("t.silences", 1);
  cluster.create_topic("t.nflog", 5);
  cluster.create_topic("t.hits", 2);
  cluster.create_topic("t.oncall", 4);
  // DescribeConfigs times out on the mock: warned about, not fatal.
  const topic_layout layout = ensure_topics(kafka_on(cluster.bootstraps()), 20000);
  EXPECT_EQ(layout.alerts_partitions, 3);
  EXPECT_EQ(layout.silences_partitions, 1);
  EXPECT_EQ(layout.nflog_partitions, 5);
  EXPECT_EQ(layout.hits_partitions, 2);
  EXPECT_EQ(layout.oncall_partitions, 4);
}

TEST(ensure_topics, a_missing_topic_whose_creation_times_out_is_a_topic_error) {
  test::mock_kafka_cluster cluster;
  cluster.create_topic("t.alerts", 3);
  cluster.create_topic("t.silences", 1);
  cluster.create_topic("t.nflog", 5);
  // t.hits missing: CreateTopics is sent and the mock never answers it.
  const std::string what =
      topic_error_of([&] { ensure_topics(kafka_on(cluster.bootstraps()), 20000); });
  EXPECT_NE(what.find("bus.kafka: creating topics"), std::string::npos) << what;
}

TEST(ensure_topics, no_answer_within_the_wait_is_a_topic_error_naming_the_wait) {
  test::mock_kafka_cluster cluster;
  auto kafka = kafka_on(cluster.bootstraps());
  kafka.properties["socket.timeout.ms"] = "60000";  // the request outlives the wait
  const std::string what = topic_error_of([&] { ensure_topics(kafka, 1000); });
  EXPECT_NE(what.find("creating topics: no answer from the brokers within 1 s"), std::string::npos)
      << what;
}

TEST(ensure_topics, a_partition_count_librdkafka_refuses_names_the_topic) {
  test::mock_kafka_cluster cluster;
  cluster.create_topic("t.alerts", 3);
  auto kafka = kafka_on(cluster.bootstraps());
  kafka.nflog_topic.partitions = -5;  // refused by rd_kafka_NewTopic_new, after t.silences
  const std::string what = topic_error_of([&] { ensure_topics(kafka, 20000); });
  EXPECT_NE(what.find("bus.kafka: topic t.nflog: "), std::string::npos) << what;
}

TEST(ensure_topics, invalid_operator_properties_are_refused_before_any_request) {
  auto kafka = kafka_on("127.0.0.1:1");
  kafka.properties["no.such.property"] = "1";
  EXPECT_THROW(ensure_topics(kafka, 1000), client_config_error);
}

}  // namespace
}  // namespace tocsin::kafka
