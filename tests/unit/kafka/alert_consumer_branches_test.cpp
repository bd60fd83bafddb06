// kafka::alert_consumer's error paths against librdkafka's mock cluster: brokers that cannot be
// reached at start, ListOffsets requests that fail before one succeeds, and a record on the alerts
// topic that is long garbage rather than Alert JSON.

#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "kafka/alert_consumer.hpp"
#include "tests/support/kafka_mock.hpp"
#include "tests/support/metrics.hpp"
#include "tests/support/net.hpp"
#include "tests/support/wait.hpp"

namespace tocsin::kafka {
namespace {

using namespace std::chrono_literals;

constexpr const char* alerts_topic = "tocsin.alerts";
constexpr const char* silences_topic = "tocsin.silences";
constexpr auto patience = 20s;  // real time for the mock cluster; only ever waited out on failure
constexpr int list_offsets_api = 2;

config::kafka_config kafka_on(const std::string& brokers) {
  config::kafka_config k;
  k.brokers = brokers;
  k.topic = alerts_topic;
  k.silences_topic.name = silences_topic;
  k.properties = {{"topic.metadata.refresh.interval.ms", "1000"},
                  {"fetch.wait.max.ms", "50"},
                  {"log_level", "3"}};
  return k;
}

alert_consumer::handlers ignore_all() {
  return {[](const rules::alert&) {}, [](std::string_view, std::string_view) {}};
}

TEST(alert_consumer_branches, unreachable_brokers_make_start_throw) {
  metrics_registry metrics;
  alert_consumer consumer(kafka_on("127.0.0.1:" + std::to_string(test::free_port())), ignore_all(),
                          metrics);
  EXPECT_THROW(consumer.start(), std::runtime_error);
  EXPECT_FALSE(consumer.caught_up());
}

class alert_consumer_branches_mock : public ::testing::Test {
 protected:
  alert_consumer_branches_mock() {
    cluster_.create_topic(alerts_topic, 2);
    cluster_.create_topic(silences_topic, 1);
  }

  void send(const std::string& topic, const std::string& value) {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    std::string errstr;
    conf->set("bootstrap.servers", cluster_.bootstraps(), errstr);
    std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), errstr));
    ASSERT_TRUE(producer) << errstr;
    ASSERT_EQ(
        producer->produce(topic, 0, RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(value.data()),
                          value.size(), nullptr, 0, 0, nullptr),
        RdKafka::ERR_NO_ERROR);
    ASSERT_EQ(producer->flush(10000), RdKafka::ERR_NO_ERROR);
  }

  std::uint64_t bad_alerts() {
    return test::counter_value(metrics_, "tocsin_bus_errors_total", {{"reason", "bad_alert"}});
  }

  test::mock_kafka_cluster cluster_;
  metrics_registry metrics_;
};

TEST_F(alert_consumer_branches_mock, failed_offset_lookups_are_retried_until_one_succeeds) {
  cluster_.push_request_errors(list_offsets_api, {RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
                                                  RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED});
  alert_consumer consumer(kafka_on(cluster_.bootstraps()), ignore_all(), metrics_);
  consumer.start();
  EXPECT_TRUE(test::wait_until([&] { return consumer.caught_up(); }, patience));
}

TEST_F(alert_consumer_branches_mock, a_long_record_that_is_not_alert_json_is_counted_and_skipped) {
  std::size_t alerts = 0;
  alert_consumer consumer(
      kafka_on(cluster_.bootstraps()),
      {[&](const rules::alert&) { ++alerts; }, [](std::string_view, std::string_view) {}},
      metrics_);
  consumer.start();
  ASSERT_TRUE(test::wait_until([&] { return consumer.caught_up(); }, patience));
  send(alerts_topic, std::string(1000, 'x'));  // longer than what is logged of it
  ASSERT_TRUE(test::wait_until([&] { return bad_alerts() == 1; }, patience));
  consumer.stop();
  EXPECT_EQ(alerts, 0u);
}

}  // namespace
}  // namespace tocsin::kafka
