// bus.kafka.rebuild_window and bus.kafka.topics.* (DESIGN.md "Scale-out"): defaults, values, and
// the errors check-config reports for them.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "config/config.hpp"
#include "tests/support/config_errors.hpp"

namespace tocsin::config {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;

TEST(kafka_topics_config, defaults) {
  const config cfg = load_string("bus: { type: kafka, kafka: { brokers: k:9092 } }\n", "t.yaml");
  const kafka_config& k = cfg.bus.kafka;
  EXPECT_EQ(k.rebuild_window, 10min);
  EXPECT_EQ(k.topic, "tocsin.alerts");
  EXPECT_EQ(k.alerts_topic.partitions, 6);
  EXPECT_EQ(k.alerts_topic.retention, 24h);
  EXPECT_EQ(k.silences_topic.name, "tocsin.silences");
  EXPECT_EQ(k.silences_topic.partitions, 1);
  EXPECT_EQ(k.nflog_topic.name, "tocsin.nflog");
  EXPECT_EQ(k.nflog_topic.partitions, 6);
  EXPECT_EQ(k.hits_topic.name, "tocsin.hits");
  EXPECT_EQ(k.hits_topic.retention, 1h);
  EXPECT_EQ(k.nflog_topic.replication_factor, -1);
}

TEST(kafka_topics_config, every_setting_is_read) {
  const config cfg = load_string(
      "bus:\n"
      "  type: kafka\n"
      "  kafka:\n"
      "    brokers: k:9092\n"
      "    rebuild_window: 30m\n"
      "    topics:\n"
      "      alerts: { name: prod.alerts, partitions: 12, replication_factor: 3, retention: 2d }\n"
      "      silences: { name: prod.silences, replication_factor: 3 }\n"
      "      nflog: { name: prod.nflog, partitions: 24 }\n"
      "      hits: { name: prod.hits, retention: 2h }\n",
      "t.yaml");
  const kafka_config& k = cfg.bus.kafka;
  EXPECT_EQ(k.rebuild_window, 30min);
  EXPECT_EQ(k.topic, "prod.alerts");  // topics.alerts.name is bus.kafka.topic
  EXPECT_EQ(k.alerts_topic.partitions, 12);
  EXPECT_EQ(k.alerts_topic.replication_factor, 3);
  EXPECT_EQ(k.alerts_topic.retention, 48h);
  EXPECT_EQ(k.silences_topic.name, "prod.silences");
  EXPECT_EQ(k.silences_topic.replication_factor, 3);
  EXPECT_EQ(k.nflog_topic.name, "prod.nflog");
  EXPECT_EQ(k.nflog_topic.partitions, 24);
  EXPECT_EQ(k.hits_topic.name, "prod.hits");
  EXPECT_EQ(k.hits_topic.retention, 2h);
}

TEST(kafka_topics_config, errors_name_the_key) {
  const auto errors = test::errors_of(load_string,
                                      "bus:\n"
                                      "  kafka:\n"
                                      "    brokers: k:9092\n"
                                      "    topics:\n"
                                      "      nflog: { name: 'bad name', partitions: 0 }\n"
                                      "      silences: { retention: 1d }\n"
                                      "      logs: { partitions: 3 }\n");
  ASSERT_EQ(errors.size(), 4U) << ::testing::PrintToString(errors);
  EXPECT_THAT(errors[0], ::testing::HasSubstr("invalid Kafka topic 'bad name'"));
  EXPECT_THAT(errors[1], ::testing::HasSubstr("bus.kafka.topics.nflog.partitions"));
  EXPECT_THAT(errors[2],
              ::testing::HasSubstr("the silences topic is compacted: it has no retention"));
  EXPECT_THAT(errors[3], ::testing::HasSubstr("logs"));
}

}  // namespace
}  // namespace tocsin::config
