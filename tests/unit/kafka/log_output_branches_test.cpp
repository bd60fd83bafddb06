// The raw-log Kafka output against librdkafka's mock cluster: delivery counts lines and bytes, a
// refused produce (QUEUE_FULL with the broker down) and a failed delivery are counted by reason,
// accepting() turns false near the queue limit, and a producer librdkafka will not create is a
// client_config_error.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "collector/event.hpp"
#include "kafka/log_output.hpp"
#include "tests/support/kafka_mock.hpp"
#include "tests/support/metrics.hpp"
#include "tests/support/wait.hpp"

namespace tocsin::kafka {
namespace {

using namespace std::chrono_literals;
using test::counter_value;
using test::metric_sum;
using ::testing::HasSubstr;

collector::event make_event(const std::string& message) {
  collector::event ev;
  ev.host = "web1";
  ev.app = "nginx";
  ev.message = message;  // views the caller's string
  ev.format = "rfc5424";
  return ev;
}

std::uint64_t errors(metrics_registry& metrics, const std::string& reason) {
  return counter_value(metrics, "tocsin_output_errors_total",
                       {{"output", "kafka:logs"}, {"reason", reason}});
}

TEST(log_output_branches, delivered_events_are_counted) {
  test::mock_kafka_cluster cluster;
  cluster.create_topic("logs", 1);
  metrics_registry metrics;
  config::kafka_config kafka;
  kafka.brokers = cluster.bootstraps();
  {
    log_output output(kafka, "logs", metrics);
    EXPECT_TRUE(output.accepting());
    const std::string message = "GET /index.html 200";
    auto ev = make_event(message);
    output.consume(ev);
    ev.host = "";  // a null key
    output.consume(ev);
    output.flush(5s);
    EXPECT_TRUE(test::wait_until(
        [&] {
          return counter_value(metrics, "tocsin_output_lines_total", {{"output", "kafka:logs"}}) ==
                 2;
        },
        10s));
  }
  EXPECT_GT(counter_value(metrics, "tocsin_output_bytes_total", {{"output", "kafka:logs"}}), 0U);
  EXPECT_EQ(metric_sum(metrics, "tocsin_output_errors_total"), 0);
}

TEST(log_output_branches, a_failed_delivery_is_counted_then_delivery_resumes) {
  test::mock_kafka_cluster cluster;
  cluster.create_topic("logs", 1);
  metrics_registry metrics;
  config::kafka_config kafka;
  kafka.brokers = cluster.bootstraps();
  kafka.properties = {{"retries", "0"}, {"linger.ms", "0"}};
  log_output output(kafka, "logs", metrics);

  cluster.fail_next_produce(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
  const std::string message = "first";
  output.consume(make_event(message));
  ASSERT_TRUE(test::wait_until([&] { return errors(metrics, "msg_size_too_large") == 1; }, 10s));
  EXPECT_EQ(counter_value(metrics, "tocsin_output_lines_total", {{"output", "kafka:logs"}}), 0U);

  const std::string second = "second";
  output.consume(make_event(second));
  output.consume(make_event(second));
  EXPECT_TRUE(test::wait_until(
      [&] {
        return counter_value(metrics, "tocsin_output_lines_total", {{"output", "kafka:logs"}}) == 2;
      },
      10s));
  EXPECT_EQ(metric_sum(metrics, "tocsin_output_errors_total"), 1);
}

TEST(log_output_branches, a_full_queue_refuses_events_and_stops_accepting) {
  test::mock_kafka_cluster cluster;
  cluster.create_topic("logs", 1);
  cluster.set_down(1);
  metrics_registry metrics;
  config::kafka_config kafka;
  kafka.brokers = cluster.bootstraps();
  kafka.properties = {{"queue.buffering.max.messages", "10"}, {"message.timeout.ms", "1000"}};
  {
    log_output output(kafka, "logs", metrics);
    const std::string message = "queued";
    for (int i = 0; i < 9; ++i) output.consume(make_event(message));
    EXPECT_FALSE(output.accepting());     // 9 queued: accepting only below 90 % of 10
    output.consume(make_event(message));  // the 10th still fits
    EXPECT_EQ(errors(metrics, "queue_full"), 0U);
    output.consume(make_event(message));
    output.consume(make_event(message));
    EXPECT_EQ(errors(metrics, "queue_full"), 2U);
  }
  // The 10 queued ones time out (or are purged) while the output shuts down: each counted.
  EXPECT_EQ(metric_sum(metrics, "tocsin_output_errors_total"), 12);
  EXPECT_EQ(counter_value(metrics, "tocsin_output_lines_total", {{"output", "kafka:logs"}}), 0U);
}

TEST(log_output_branches, a_producer_librdkafka_will_not_create_is_a_config_error) {
  metrics_registry metrics;
  config::kafka_config kafka;
  kafka.brokers = "127.0.0.1:1";
  kafka.properties = {{"enable.idempotence", "true"}, {"acks", "1"}};
  try {
    log_output output(kafka, "logs", metrics);
    FAIL() << "no client_config_error";
  } catch (const client_config_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("outputs: kafka: cannot create the producer: "));
  }
}

TEST(log_output_branches, rejected_properties_are_a_config_error) {
  metrics_registry metrics;
  config::kafka_config kafka;
  kafka.brokers = "127.0.0.1:1";
  kafka.properties = {{"no.such.property", "1"}};
  EXPECT_THROW(log_output(kafka, "logs", metrics), client_config_error);
}

}  // namespace
}  // namespace tocsin::kafka
