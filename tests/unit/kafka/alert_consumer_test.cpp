#include "kafka/alert_consumer.hpp"

#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/kafka_mock.hpp"
#include "tests/support/wait.hpp"

namespace tocsin::kafka {
namespace {

using namespace std::chrono_literals;

constexpr const char* topic = "tocsin.alerts";
constexpr int partitions = 3;

rules::alert make_alert(int n) {
  rules::alert a;
  a.labels = {{"alertname", "disk-full"}, {"host", "web" + std::to_string(n)}};
  a.annotations = {{"summary", "disk full on web" + std::to_string(n)}};
  a.starts_at = std::chrono::system_clock::time_point(1795666255120ms);
  a.fingerprint = rules::fingerprint(a.labels);
  return a;
}

// A plain producer writing records the way the collector does (key = fingerprint).
class test_producer {
 public:
  explicit test_producer(const std::string& bootstraps) {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    std::string errstr;
    conf->set("bootstrap.servers", bootstraps, errstr);
    conf->set("linger.ms", "1", errstr);
    producer_.reset(RdKafka::Producer::create(conf.get(), errstr));
    if (!producer_) throw std::runtime_error("producer: " + errstr);
  }
  ~test_producer() { producer_->flush(5000); }

  // `partition` -1 = chosen from the key.
  void send(const std::string& value, const std::string& key, int partition = -1) {
    const RdKafka::ErrorCode err =
        producer_->produce(topic, partition < 0 ? RdKafka::Topic::PARTITION_UA : partition,
                           RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(value.data()),
                           value.size(), key.data(), key.size(), 0, nullptr);
    if (err != RdKafka::ERR_NO_ERROR) throw std::runtime_error(RdKafka::err2str(err));
  }
  void send(const rules::alert& a, int partition = -1) {
    send(rules::to_json(a), a.fingerprint, partition);
  }
  void flush() { ASSERT_EQ(producer_->flush(10000), RdKafka::ERR_NO_ERROR); }

 private:
  std::unique_ptr<RdKafka::Producer> producer_;
};

// The fingerprints a handler has seen, in order, duplicates included.
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
  [[nodiscard]] std::set<std::string> distinct() const {
    std::lock_guard lock(mutex_);
    return {all_.begin(), all_.end()};
  }
  [[nodiscard]] std::size_t count() const {
    std::lock_guard lock(mutex_);
    return all_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> all_;
};

class alert_consumer_test : public ::testing::Test {
 protected:
  alert_consumer_test() { cluster_.create_topic(topic, partitions); }

  [[nodiscard]] config::kafka_config kafka() const {
    config::kafka_config k;
    k.brokers = cluster_.bootstraps();
    k.topic = topic;
    k.group = "routers";
    // Short group timings keep the mock-cluster rebalances quick: its coordinator waits 3 s for
    // the first members of a group, then session.timeout.ms - 1 s for members to rejoin. Below
    // 3.5 s the member times out during that first wait.
    k.properties = {{"session.timeout.ms", "4000"},
                    {"heartbeat.interval.ms", "200"},
                    {"topic.metadata.refresh.interval.ms", "1000"},
                    {"fetch.wait.max.ms", "50"},
                    {"log_level", "4"}};
    return k;
  }

  std::set<std::string> send_alerts(int count, int first = 0, int partition = -1) {
    test_producer producer(cluster_.bootstraps());
    std::set<std::string> fingerprints;
    for (int i = first; i < first + count; ++i) {
      const auto a = make_alert(i);
      producer.send(a, partition);
      fingerprints.insert(a.fingerprint);
    }
    producer.flush();
    return fingerprints;
  }

  std::uint64_t counter_value(const std::string& name, const std::string& help,
                              const metric_labels& labels = {}) {
    return metrics_.get_counter(name, help, labels).value();
  }
  std::uint64_t bad_alerts() {
    return counter_value("tocsin_bus_errors_total", "Alerts the bus failed to carry.",
                         {{"reason", "bad_alert"}});
  }
  std::int64_t lag(int partition) {
    return metrics_
        .get_gauge("tocsin_bus_consumer_lag", "Records on the bus not yet handled by this router.",
                   {{"topic", topic}, {"partition", std::to_string(partition)}})
        .value();
  }

  test::mock_kafka_cluster cluster_;
  metrics_registry metrics_;
};

TEST_F(alert_consumer_test, every_record_reaches_the_handler) {
  const auto sent = send_alerts(30);
  received got;
  alert_consumer consumer(
      kafka(), [&](const rules::alert& a) { got.add(a); }, metrics_);
  EXPECT_FALSE(consumer.assigned());
  consumer.start();
  ASSERT_TRUE(test::wait_until([&] { return got.distinct() == sent; }, 20s))
      << got.count() << " of " << sent.size();
  EXPECT_TRUE(consumer.assigned());
  EXPECT_EQ(got.count(), sent.size());  // no redelivery without a reason
  EXPECT_EQ(counter_value("tocsin_bus_consumed_total", "Alerts read off the bus."), sent.size());
  consumer.stop();
}

TEST_F(alert_consumer_test, lag_counts_unhandled_records) {
  send_alerts(10, 0, /*partition=*/1);
  received got;
  alert_consumer consumer(
      kafka(),
      [&](const rules::alert& a) {
        std::this_thread::sleep_for(150ms);  // a slow router
        got.add(a);
      },
      metrics_);
  consumer.start();
  EXPECT_TRUE(test::wait_until([&] { return lag(1) > 0; }, 15s));
  EXPECT_TRUE(test::wait_until([&] { return got.count() == 10 && lag(1) == 0; }, 15s))
      << got.count() << " handled, lag " << lag(1);
  EXPECT_NE(metrics_.render().find("tocsin_bus_consumer_lag{"), std::string::npos);
}

TEST_F(alert_consumer_test, non_alert_record_is_counted_and_skipped) {
  {
    test_producer producer(cluster_.bootstraps());
    producer.send("this is not JSON", "k", 0);
    producer.send(R"({"labels":{}})", "k", 0);
    producer.send(make_alert(1), 0);
    producer.flush();
  }
  received got;
  {
    alert_consumer consumer(
        kafka(), [&](const rules::alert& a) { got.add(a); }, metrics_);
    consumer.start();
    ASSERT_TRUE(test::wait_until([&] { return got.count() == 1; }, 20s));
    EXPECT_EQ(got.all().front(), make_alert(1).fingerprint);
    EXPECT_EQ(bad_alerts(), 2u);
  }
  // Skipped for good: committed, so the group does not read them again.
  const auto more = send_alerts(1, 2, 0);
  alert_consumer again(
      kafka(), [&](const rules::alert& a) { got.add(a); }, metrics_);
  again.start();
  ASSERT_TRUE(test::wait_until([&] { return got.count() == 2; }, 20s));
  EXPECT_EQ(got.all().back(), *more.begin());
  EXPECT_EQ(bad_alerts(), 2u);
}

TEST_F(alert_consumer_test, next_consumer_in_the_group_resumes_where_the_last_stopped) {
  constexpr int total = 60;
  const auto sent = send_alerts(total);
  received first;
  {
    alert_consumer consumer(
        kafka(),
        [&](const rules::alert& a) {
          std::this_thread::sleep_for(25ms);  // slow enough to be stopped half way
          first.add(a);
        },
        metrics_);
    consumer.start();
    ASSERT_TRUE(test::wait_until([&] { return first.count() >= 20; }, 20s));
    consumer.stop();  // commits what was handled
  }
  ASSERT_LT(first.count(), static_cast<std::size_t>(total)) << "stopped too late to tell";

  received second;
  alert_consumer consumer(
      kafka(), [&](const rules::alert& a) { second.add(a); }, metrics_);
  consumer.start();
  const auto union_of_both = [&] {
    auto all = first.distinct();
    const auto more = second.distinct();
    all.insert(more.begin(), more.end());
    return all;
  };
  ASSERT_TRUE(test::wait_until([&] { return union_of_both() == sent; }, 20s))
      << first.count() << " + " << second.count() << " of " << total;
  // The second consumer started from the committed offsets, not from the beginning.
  EXPECT_LT(second.count(), static_cast<std::size_t>(total));
}

TEST_F(alert_consumer_test, alert_whose_handler_threw_is_redelivered) {
  const auto sent = send_alerts(9);
  const std::string failing = make_alert(4).fingerprint;
  received got;
  std::atomic<int> failures{0};
  alert_consumer consumer(
      kafka(),
      [&](const rules::alert& a) {
        if (a.fingerprint == failing && failures.fetch_add(1) == 0) {
          throw std::runtime_error("router state unavailable");
        }
        got.add(a);
      },
      metrics_);
  consumer.start();
  ASSERT_TRUE(test::wait_until([&] { return got.distinct() == sent; }, 20s))
      << got.count() << " of " << sent.size();
  EXPECT_EQ(failures.load(), 2);  // failed once, then handled
  EXPECT_EQ(got.count(), sent.size());
  EXPECT_EQ(counter_value("tocsin_bus_errors_total", "Alerts the bus failed to carry.",
                          {{"reason", "handler_failed"}}),
            1u);
}

}  // namespace
}  // namespace tocsin::kafka
