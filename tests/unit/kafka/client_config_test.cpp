#include "kafka/client_config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kafka/alert_producer.hpp"
#include "tests/support/temp_dir.hpp"

namespace tocsin::kafka {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

config::kafka_config sample_config() {
  config::kafka_config kafka;
  kafka.brokers = "127.0.0.1:1";
  kafka.group = "routers";
  kafka.where = {"tocsin.yaml", 30, 3};
  return kafka;
}

std::string get(RdKafka::Conf& conf, const std::string& name) {
  std::string value;
  EXPECT_EQ(conf.get(name, value), RdKafka::Conf::CONF_OK) << name;
  return value;
}

TEST(client_settings, defaults_then_brokers_then_properties) {
  auto kafka = sample_config();
  kafka.properties = {{"linger.ms", "50"}, {"security.protocol", "plaintext"}};
  const auto settings = client_settings(kafka, client_role::alert_producer);
  ASSERT_GE(settings.size(), 3U);
  EXPECT_EQ(settings[settings.size() - 3],
            (std::pair<std::string, std::string>("bootstrap.servers", "127.0.0.1:1")));
  EXPECT_EQ(settings[settings.size() - 2].first, "linger.ms");
  EXPECT_EQ(settings.back().first, "security.protocol");

  // The operator's word wins.
  auto conf = make_conf(kafka, client_role::alert_producer);
  EXPECT_EQ(get(*conf, "linger.ms"), "50");
  EXPECT_EQ(get(*conf, "enable.idempotence"), "true");
  EXPECT_EQ(get(*conf, "acks"), "-1");  // "all"
  EXPECT_EQ(get(*conf, "compression.type"), "zstd");
  EXPECT_EQ(get(*conf, "bootstrap.servers"), "127.0.0.1:1");
}

TEST(client_settings, per_role_defaults) {
  const auto kafka = sample_config();
  auto log = make_conf(kafka, client_role::log_producer);
  EXPECT_EQ(get(*log, "linger.ms"), "20");
  EXPECT_EQ(get(*log, "queue.buffering.max.messages"), "100000");
  EXPECT_EQ(get(*log, "compression.type"), "zstd");

  auto consumer = make_conf(kafka, client_role::group_member);
  EXPECT_EQ(get(*consumer, "group.id"), "routers");
  EXPECT_EQ(get(*consumer, "session.timeout.ms"), "10000");
  EXPECT_EQ(get(*consumer, "enable.auto.commit"), "false");
  EXPECT_EQ(get(*consumer, "enable.auto.offset.store"), "false");
  EXPECT_EQ(get(*consumer, "auto.offset.reset"), "smallest");  // librdkafka for "earliest"
}

TEST(make_conf, a_producer_property_does_not_fail_the_consumer) {
  auto kafka = sample_config();
  kafka.properties = {{"message.timeout.ms", "1000"}};
  auto conf = make_conf(kafka, client_role::group_member);
  EXPECT_EQ(get(*conf, "message.timeout.ms"), "1000");
  EXPECT_TRUE(validate(kafka).empty());
}

TEST(make_conf, names_every_rejected_property_where_it_was_written) {
  auto kafka = sample_config();
  kafka.properties = {{"acks", "bogus"}, {"no.such.property", "1"}, {"linger.ms", "7"}};
  kafka.property_where = {{"acks", {"tocsin.yaml", 12, 7}}};  // no.such.property: kafka.where
  try {
    make_conf(kafka, client_role::alert_producer);
    FAIL() << "no client_config_error";
  } catch (const client_config_error& e) {
    ASSERT_EQ(e.errors().size(), 2U);
    EXPECT_THAT(e.errors()[0], StartsWith("tocsin.yaml:12:7: bus.kafka.properties.acks: "));
    EXPECT_THAT(e.errors()[0], HasSubstr("Invalid value"));
    EXPECT_THAT(e.errors()[1],
                StartsWith("tocsin.yaml:30:3: bus.kafka.properties.no.such.property: "));
    EXPECT_THAT(e.errors()[1], HasSubstr("No such configuration property"));
    EXPECT_THAT(e.what(), HasSubstr("tocsin.yaml:12:7"));
  }
}

TEST(make_conf, no_location_no_prefix) {
  config::kafka_config kafka;
  kafka.properties = {{"no.such.property", "1"}};
  EXPECT_THAT(validate(kafka), ElementsAre(StartsWith("bus.kafka.properties.no.such.property: ")));
}

TEST(validate, reports_each_problem_once_for_all_roles) {
  auto kafka = sample_config();
  kafka.properties = {{"no.such.property", "1"}, {"linger.ms", "-5"}};
  kafka.property_where = {{"no.such.property", {"t.yaml", 4, 5}}, {"linger.ms", {"t.yaml", 5, 5}}};
  EXPECT_THAT(validate(kafka),
              ElementsAre(StartsWith("t.yaml:5:5: bus.kafka.properties.linger.ms: "),
                          StartsWith("t.yaml:4:5: bus.kafka.properties.no.such.property: ")));
  EXPECT_TRUE(validate(sample_config()).empty());
}

TEST(validate, reports_what_librdkafka_refuses_only_when_a_client_is_created) {
  auto kafka = sample_config();
  kafka.properties = {{"acks", "1"}};  // valid alone, not with the alert producer's idempotence
  EXPECT_THAT(validate(kafka), ElementsAre(StartsWith("tocsin.yaml:30:3: bus.kafka.properties: ")));

  kafka.properties = {{"security.protocol", "ssl"}, {"ssl.ca.location", "/nonexistent/ca.pem"}};
  const auto errors = validate(kafka);
  ASSERT_FALSE(errors.empty());
  EXPECT_THAT(errors[0], HasSubstr("ssl.ca.location"));
}

TEST(error_label, lower_case_without_leading_underscores) {
  EXPECT_EQ(error_label(RdKafka::ERR__QUEUE_FULL), "queue_full");
  EXPECT_EQ(error_label(RdKafka::ERR__MSG_TIMED_OUT), "msg_timed_out");
  EXPECT_EQ(error_label(RdKafka::ERR__PURGE_QUEUE), "purge_queue");
  EXPECT_EQ(error_label(RdKafka::ERR_UNKNOWN_TOPIC_OR_PART), "unknown_topic_or_part");
}

TEST(alert_producer, rejects_bad_properties) {
  test::temp_dir dir;
  metrics_registry metrics;
  auto kafka = sample_config();
  kafka.properties = {{"no.such.property", "1"}};
  kafka.property_where = {{"no.such.property", {"tocsin.yaml", 9, 5}}};
  try {
    alert_producer producer(kafka, {"node", dir / "spool"}, metrics);
    FAIL() << "no client_config_error";
  } catch (const client_config_error& e) {
    EXPECT_THAT(e.errors(),
                ElementsAre(StartsWith("tocsin.yaml:9:5: bus.kafka.properties.no.such.property")));
  }

  // Each valid alone, not together: librdkafka refuses them when the client is created.
  kafka.properties = {{"acks", "1"}};
  EXPECT_THROW(alert_producer(kafka, {"node", dir / "spool"}, metrics), client_config_error);
}

}  // namespace
}  // namespace tocsin::kafka
