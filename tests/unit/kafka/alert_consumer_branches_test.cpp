// alert_consumer branches the main tests do not reach: a consumer librdkafka will not create, a
// tombstone (null payload) and an over-long non-JSON payload on the topic, start() twice, and the
// cooperative rebalance protocol (incremental assign and unassign).

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>

#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "kafka/alert_consumer.hpp"
#include "tests/support/kafka_mock.hpp"
#include "tests/support/metrics.hpp"
#include "tests/support/wait.hpp"

namespace tocsin::kafka {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr const char* topic = "tocsin.alerts";

rules::alert make_alert(int n) {
  rules::alert a;
  a.labels = {{"alertname", "disk-full"}, {"host", "web" + std::to_string(n)}};
  a.starts_at = std::chrono::system_clock::time_point(1795666255120ms);
  a.fingerprint = rules::fingerprint(a.labels);
  return a;
}

// Writes records to partition 0; a null `value` is a tombstone.
void send(const std::string& bootstraps, const std::vector<const std::string*>& values) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string errstr;
  conf->set("bootstrap.servers", bootstraps, errstr);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), errstr));
  ASSERT_TRUE(producer) << errstr;
  const std::string key = "k";
  for (const std::string* value : values) {
    ASSERT_EQ(producer->produce(topic, 0, RdKafka::Producer::RK_MSG_COPY,
                                value ? const_cast<char*>(value->data()) : nullptr,
                                value ? value->size() : 0, key.data(), key.size(), 0, nullptr),
              RdKafka::ERR_NO_ERROR);
  }
  ASSERT_EQ(producer->flush(10000), RdKafka::ERR_NO_ERROR);
}

class received {
 public:
  void add(const rules::alert& a) {
    std::lock_guard lock(mutex_);
    all_.push_back(a.fingerprint);
  }
  [[nodiscard]] std::vector<std::string> all() const {
    std::lock_guard lock(mutex_);
    return all_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> all_;
};

class alert_consumer_branches : public ::testing::Test {
 protected:
  alert_consumer_branches() { cluster_.create_topic(topic, 1); }

  [[nodiscard]] config::kafka_config kafka() const {
    config::kafka_config k;
    k.brokers = cluster_.bootstraps();
    k.topic = topic;
    k.group = "routers";
    // As in alert_consumer_test: quick mock-cluster rebalances.
    k.properties = {{"session.timeout.ms", "4000"},
                    {"heartbeat.interval.ms", "200"},
                    {"topic.metadata.refresh.interval.ms", "1000"},
                    {"fetch.wait.max.ms", "50"},
                    {"log_level", "4"}};
    return k;
  }

  std::uint64_t bad_alerts() {
    return test::counter_value(metrics_, "tocsin_bus_errors_total", {{"reason", "bad_alert"}});
  }

  test::mock_kafka_cluster cluster_;
  metrics_registry metrics_;
};

TEST_F(alert_consumer_branches, a_consumer_librdkafka_will_not_create_is_a_config_error) {
  auto k = kafka();
  k.properties.emplace("partition.assignment.strategy", "nosuchassignor");
  try {
    alert_consumer consumer(
        k, [](const rules::alert&) {}, metrics_);
    FAIL() << "no client_config_error";
  } catch (const client_config_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("bus.kafka: cannot create the consumer: "));
  }
}

TEST_F(alert_consumer_branches, tombstones_and_long_garbage_are_skipped_as_bad_alerts) {
  const std::string garbage(500, 'x');  // longer than the logged part of a payload
  const std::string good = rules::to_json(make_alert(1));
  send(cluster_.bootstraps(), {nullptr, &garbage, &good});

  received got;
  alert_consumer consumer(
      kafka(), [&](const rules::alert& a) { got.add(a); }, metrics_);
  consumer.start();
  consumer.start();  // a second start() is a no-op: one subscription, one thread
  ASSERT_TRUE(test::wait_until([&] { return !got.all().empty(); }, 20s));
  consumer.stop();
  EXPECT_EQ(got.all(), std::vector<std::string>{make_alert(1).fingerprint});
  EXPECT_EQ(bad_alerts(), 2U);
  EXPECT_EQ(test::counter_value(metrics_, "tocsin_bus_consumed_total"), 1U);
  consumer.start();  // after stop(): nothing happens
  EXPECT_EQ(got.all().size(), 1U);
}

TEST_F(alert_consumer_branches, cooperative_rebalancing_assigns_and_revokes_incrementally) {
  const std::string first = rules::to_json(make_alert(1));
  const std::string second = rules::to_json(make_alert(2));
  send(cluster_.bootstraps(), {&first, &second});

  auto k = kafka();
  k.properties.emplace("partition.assignment.strategy", "cooperative-sticky");
  received got;
  alert_consumer consumer(
      k, [&](const rules::alert& a) { got.add(a); }, metrics_);
  consumer.start();
  ASSERT_TRUE(test::wait_until([&] { return got.all().size() == 2; }, 20s));
  EXPECT_TRUE(consumer.assigned());
  consumer.stop();
  EXPECT_EQ(got.all(),
            (std::vector<std::string>{make_alert(1).fingerprint, make_alert(2).fingerprint}));
  EXPECT_EQ(bad_alerts(), 0U);
  EXPECT_EQ(test::metric_sum(metrics_, "tocsin_bus_errors_total"), 0);
}

}  // namespace
}  // namespace tocsin::kafka
