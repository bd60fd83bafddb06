// kafka::alert_consumer against librdkafka's mock cluster: every router reads every partition of
// the alerts topic (from bus.kafka.rebuild_window ago) and of the silences topic (from the
// beginning), with no group (DESIGN.md "Scale-out").
//
// The mock cluster of librdkafka 2.0.2 answers a ListOffsets request by timestamp with offset -1
// ("no such record"; its handler says "FIXME: by timestamp"), so against it the consumer starts
// every alerts partition at its end and records produced before start() are never read. Tests
// that need the lookup by time check for it first and are skipped without it.

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
#include <utility>
#include <vector>

#include "tests/support/kafka_mock.hpp"
#include "tests/support/metrics.hpp"
#include "tests/support/wait.hpp"

namespace tocsin::kafka {
namespace {

using namespace std::chrono_literals;

constexpr const char* alerts_topic = "tocsin.alerts";
constexpr const char* silences_topic = "tocsin.silences";
constexpr int alert_partitions = 3;
constexpr auto patience = 20s;  // real time for the mock cluster; only ever waited out on failure

rules::alert make_alert(int n) {
  rules::alert a;
  a.labels = {{"alertname", "disk-full"}, {"host", "web" + std::to_string(n)}};
  a.annotations = {{"summary", "disk full on web" + std::to_string(n)}};
  a.starts_at = std::chrono::system_clock::time_point(1795666255120ms);
  a.fingerprint = rules::fingerprint(a.labels);
  return a;
}

std::int64_t unix_ms(std::chrono::system_clock::time_point tp) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count();
}

// A plain producer writing records the way the collectors and routers do.
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
  test_producer(const test_producer&) = delete;
  test_producer& operator=(const test_producer&) = delete;

  // `partition` -1 = chosen from the key; `timestamp_ms` 0 = now.
  void send(const std::string& topic, const std::string& value, const std::string& key,
            int partition = -1, std::int64_t timestamp_ms = 0) {
    const RdKafka::ErrorCode err =
        producer_->produce(topic, partition < 0 ? RdKafka::Topic::PARTITION_UA : partition,
                           RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(value.data()),
                           value.size(), key.data(), key.size(), timestamp_ms, nullptr);
    if (err != RdKafka::ERR_NO_ERROR) throw std::runtime_error(RdKafka::err2str(err));
  }
  void send(const rules::alert& a, int partition = -1, std::int64_t timestamp_ms = 0) {
    send(alerts_topic, rules::to_json(a), a.fingerprint, partition, timestamp_ms);
  }
  void flush() { ASSERT_EQ(producer_->flush(10000), RdKafka::ERR_NO_ERROR); }

 private:
  std::unique_ptr<RdKafka::Producer> producer_;
};

// What the handlers were given, in order, duplicates included.
class received {
 public:
  void alert(const rules::alert& a) {
    std::lock_guard lock(mutex_);
    alerts_.push_back(a.fingerprint);
  }
  void silence(std::string_view key, std::string_view value) {
    std::lock_guard lock(mutex_);
    silences_.emplace_back(key, value);
  }
  [[nodiscard]] std::vector<std::string> alerts() const {
    std::lock_guard lock(mutex_);
    return alerts_;
  }
  [[nodiscard]] std::set<std::string> distinct_alerts() const {
    std::lock_guard lock(mutex_);
    return {alerts_.begin(), alerts_.end()};
  }
  [[nodiscard]] std::size_t alert_count() const {
    std::lock_guard lock(mutex_);
    return alerts_.size();
  }
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> silences() const {
    std::lock_guard lock(mutex_);
    return silences_;
  }
  [[nodiscard]] std::size_t silence_count() const {
    std::lock_guard lock(mutex_);
    return silences_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> alerts_;
  std::vector<std::pair<std::string, std::string>> silences_;
};

class alert_consumer_test : public ::testing::Test {
 protected:
  alert_consumer_test() {
    cluster_.create_topic(alerts_topic, alert_partitions);
    cluster_.create_topic(silences_topic, 1);
  }

  [[nodiscard]] config::kafka_config kafka() const {
    config::kafka_config k;
    k.brokers = cluster_.bootstraps();
    k.topic = alerts_topic;
    k.silences_topic.name = silences_topic;
    k.group = "routers";
    k.rebuild_window = std::chrono::minutes(10);
    k.properties = {{"topic.metadata.refresh.interval.ms", "1000"},
                    {"fetch.wait.max.ms", "50"},
                    {"log_level", "4"}};
    return k;
  }

  alert_consumer::handlers handlers() {
    return {[this](const rules::alert& a) { got_.alert(a); },
            [this](std::string_view key, std::string_view value) { got_.silence(key, value); }};
  }

  // Starts `consumer` and waits until it has read everything there was.
  static void start_and_catch_up(alert_consumer& consumer) {
    consumer.start();
    ASSERT_TRUE(test::wait_until([&] { return consumer.caught_up(); }, patience))
        << "never caught up";
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

  std::uint64_t errors(const std::string& reason) {
    return test::counter_value(metrics_, "tocsin_bus_errors_total", {{"reason", reason}});
  }
  std::int64_t lag(int partition) {
    return test::gauge_value(metrics_, "tocsin_bus_consumer_lag",
                             {{"topic", alerts_topic}, {"partition", std::to_string(partition)}});
  }

  // Whether the cluster finds an offset by time (ListOffsets with a timestamp): asks for the
  // first record at or after `since` in partition 0, where the caller produced one.
  bool finds_offsets_by_time(std::chrono::system_clock::time_point since) {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    std::string errstr;
    conf->set("bootstrap.servers", cluster_.bootstraps(), errstr);
    conf->set("group.id", "probe", errstr);
    std::unique_ptr<RdKafka::KafkaConsumer> probe(
        RdKafka::KafkaConsumer::create(conf.get(), errstr));
    if (!probe) throw std::runtime_error("probe: " + errstr);
    std::vector<RdKafka::TopicPartition*> parts = {
        RdKafka::TopicPartition::create(alerts_topic, 0, unix_ms(since))};
    const RdKafka::ErrorCode err = probe->offsetsForTimes(parts, 10000);
    const std::int64_t offset = parts[0]->offset();
    RdKafka::TopicPartition::destroy(parts);
    probe->close();
    return err == RdKafka::ERR_NO_ERROR && offset >= 0;
  }

  test::mock_kafka_cluster cluster_;
  metrics_registry metrics_;
  received got_;
};

TEST_F(alert_consumer_test, catches_up_on_empty_topics) {
  alert_consumer consumer(kafka(), handlers(), metrics_);
  EXPECT_FALSE(consumer.caught_up());
  start_and_catch_up(consumer);
  EXPECT_EQ(got_.alert_count(), 0u);
  EXPECT_EQ(got_.silence_count(), 0u);
  consumer.stop();
  consumer.stop();  // twice is harmless
}

TEST_F(alert_consumer_test, not_caught_up_without_start) {
  alert_consumer consumer(kafka(), handlers(), metrics_);
  std::this_thread::sleep_for(300ms);  // nothing runs: nothing could make it true
  EXPECT_FALSE(consumer.caught_up());
}

TEST_F(alert_consumer_test, every_alert_record_reaches_on_alert) {
  alert_consumer consumer(kafka(), handlers(), metrics_);
  start_and_catch_up(consumer);
  const auto sent = send_alerts(30);
  ASSERT_TRUE(test::wait_until([&] { return got_.distinct_alerts() == sent; }, patience))
      << got_.alert_count() << " of " << sent.size();
  EXPECT_EQ(got_.alert_count(), sent.size());  // none twice
  EXPECT_EQ(test::counter_value(metrics_, "tocsin_bus_consumed_total"), sent.size());
  EXPECT_EQ(got_.silence_count(), 0u) << "an alert went to on_silence";
}

TEST_F(alert_consumer_test, alerts_of_one_partition_arrive_in_order) {
  alert_consumer consumer(kafka(), handlers(), metrics_);
  start_and_catch_up(consumer);
  send_alerts(20, 0, /*partition=*/2);
  ASSERT_TRUE(test::wait_until([&] { return got_.alert_count() == 20; }, patience));
  const auto all = got_.alerts();
  for (int i = 0; i < 20; ++i) EXPECT_EQ(all[i], make_alert(i).fingerprint) << i;
}

TEST_F(alert_consumer_test, silences_are_read_from_the_beginning_before_caught_up) {
  {
    test_producer producer(cluster_.bootstraps());
    for (int i = 0; i < 25; ++i) {
      producer.send(silences_topic, R"({"v":1,"n":)" + std::to_string(i) + "}",
                    "silence-" + std::to_string(i));
    }
    producer.flush();
  }
  alert_consumer consumer(kafka(), handlers(), metrics_);
  start_and_catch_up(consumer);
  // Caught up means every silence there was at start() was handed over already.
  const auto silences = got_.silences();
  ASSERT_EQ(silences.size(), 25u);
  for (int i = 0; i < 25; ++i) {
    EXPECT_EQ(silences[i].first, "silence-" + std::to_string(i));
    EXPECT_EQ(silences[i].second, R"({"v":1,"n":)" + std::to_string(i) + "}");
  }
  EXPECT_EQ(got_.alert_count(), 0u);
  EXPECT_EQ(errors("bad_alert"), 0u) << "a silence record was read as an alert";

  // And the ones published later.
  {
    test_producer producer(cluster_.bootstraps());
    producer.send(silences_topic, "later", "silence-later");
    producer.send(silences_topic, "", "silence-deleted");  // a tombstone-like empty value
    producer.flush();
  }
  ASSERT_TRUE(test::wait_until([&] { return got_.silence_count() == 27; }, patience));
  EXPECT_EQ(got_.silences()[25], (std::pair<std::string, std::string>{"silence-later", "later"}));
  EXPECT_EQ(got_.silences()[26], (std::pair<std::string, std::string>{"silence-deleted", ""}));
}

TEST_F(alert_consumer_test, catching_up_waits_for_a_slow_silence_handler) {
  {
    test_producer producer(cluster_.bootstraps());
    for (int i = 0; i < 10; ++i) producer.send(silences_topic, "s", "id-" + std::to_string(i));
    producer.flush();
  }
  std::atomic<int> handled{0};
  std::atomic<bool> caught_up_early{false};
  std::unique_ptr<alert_consumer> consumer;
  consumer = std::make_unique<alert_consumer>(
      kafka(),
      alert_consumer::handlers{[](const rules::alert&) {},
                               [&](std::string_view, std::string_view) {
                                 if (consumer->caught_up()) caught_up_early = true;
                                 std::this_thread::sleep_for(30ms);
                                 ++handled;
                               }},
      metrics_);
  start_and_catch_up(*consumer);
  EXPECT_EQ(handled.load(), 10);
  EXPECT_FALSE(caught_up_early.load()) << "caught_up() while silences were still being read";
}

TEST_F(alert_consumer_test, a_record_that_is_not_alert_json_is_counted_and_skipped) {
  alert_consumer consumer(kafka(), handlers(), metrics_);
  start_and_catch_up(consumer);
  {
    test_producer producer(cluster_.bootstraps());
    producer.send(alerts_topic, "this is not JSON", "k", 0);
    producer.send(alerts_topic, R"({"labels":{}})", "k", 0);  // JSON, not an alert
    producer.send(alerts_topic, "", "k", 0);                  // empty
    producer.send(make_alert(1), 0);
    producer.flush();
  }
  ASSERT_TRUE(test::wait_until([&] { return got_.alert_count() == 1; }, patience));
  EXPECT_EQ(got_.alerts().front(), make_alert(1).fingerprint);
  EXPECT_EQ(errors("bad_alert"), 3u);
  EXPECT_EQ(errors("handler_failed"), 0u);
  EXPECT_EQ(test::counter_value(metrics_, "tocsin_bus_consumed_total"), 1u);
  // Skipped, not retried: a later alert arrives and nothing is counted again.
  send_alerts(1, 2, 0);
  ASSERT_TRUE(test::wait_until([&] { return got_.alert_count() == 2; }, patience));
  EXPECT_EQ(errors("bad_alert"), 3u);
}

TEST_F(alert_consumer_test, a_handler_that_throws_is_counted_and_the_next_record_arrives) {
  const std::string failing = make_alert(4).fingerprint;
  std::atomic<int> failures{0};
  alert_consumer consumer(kafka(),
                          {[&](const rules::alert& a) {
                             if (a.fingerprint == failing) {
                               ++failures;
                               throw std::runtime_error("router state unavailable");
                             }
                             got_.alert(a);
                           },
                           [&](std::string_view key, std::string_view value) {
                             if (key == "bad") throw std::runtime_error("cannot store the silence");
                             got_.silence(key, value);
                           }},
                          metrics_);
  start_and_catch_up(consumer);
  const auto sent = send_alerts(9, 0, /*partition=*/0);  // in order: 4 is followed by 5..8
  ASSERT_TRUE(test::wait_until([&] { return got_.alert_count() == 8; }, patience))
      << got_.alert_count();
  auto expected = sent;
  expected.erase(failing);
  EXPECT_EQ(got_.distinct_alerts(), expected);
  EXPECT_EQ(failures.load(), 1) << "the failed record was handed over again";
  EXPECT_EQ(errors("handler_failed"), 1u);
  EXPECT_EQ(errors("bad_alert"), 0u);

  {
    test_producer producer(cluster_.bootstraps());
    producer.send(silences_topic, "x", "bad");
    producer.send(silences_topic, "y", "good");
    producer.flush();
  }
  ASSERT_TRUE(test::wait_until([&] { return got_.silence_count() == 1; }, patience));
  EXPECT_EQ(got_.silences()[0].first, "good");
  EXPECT_EQ(errors("handler_failed"), 2u);
}

TEST_F(alert_consumer_test, lag_counts_records_not_yet_handled) {
  alert_consumer consumer(kafka(),
                          {[&](const rules::alert& a) {
                             std::this_thread::sleep_for(150ms);  // a slow router
                             got_.alert(a);
                           },
                           [](std::string_view, std::string_view) {}},
                          metrics_);
  start_and_catch_up(consumer);
  send_alerts(20, 0, /*partition=*/1);
  EXPECT_TRUE(test::wait_until([&] { return lag(1) > 0; }, patience));
  EXPECT_TRUE(test::wait_until([&] { return got_.alert_count() == 20 && lag(1) == 0; }, patience))
      << got_.alert_count() << " handled, lag " << lag(1);
  EXPECT_NE(metrics_.render().find("tocsin_bus_consumer_lag{"), std::string::npos)
      << metrics_.render();
}

// With a cluster that finds offsets by time: alerts from within bus.kafka.rebuild_window before
// start() are read again, older ones are not.
TEST_F(alert_consumer_test, rebuilds_from_the_window_and_not_before) {
  const auto now = std::chrono::system_clock::now();
  {
    test_producer producer(cluster_.bootstraps());
    producer.send(make_alert(1), 0, unix_ms(now - 30min));  // outside the window
    producer.send(make_alert(2), 0, unix_ms(now - 1min));   // inside
    producer.flush();
  }
  if (!finds_offsets_by_time(now - 10min)) {
    GTEST_SKIP() << "this Kafka (librdkafka's mock cluster) does not find offsets by time "
                    "(ListOffsets with a timestamp answers -1)";
  }
  alert_consumer consumer(kafka(), handlers(), metrics_);
  start_and_catch_up(consumer);
  EXPECT_EQ(got_.alerts(), std::vector<std::string>{make_alert(2).fingerprint});
}

// What the mock can show: alerts that were on the topic before start() are not handed over again
// when no record is found from within the window (here: none is, the mock finds none by time).
TEST_F(alert_consumer_test, without_a_record_in_the_window_it_starts_at_the_end) {
  send_alerts(5, 0, 0);
  if (finds_offsets_by_time(std::chrono::system_clock::now() - 10min)) {
    GTEST_SKIP()
        << "this cluster finds offsets by time: see rebuilds_from_the_window_and_not_before";
  }
  alert_consumer consumer(kafka(), handlers(), metrics_);
  start_and_catch_up(consumer);
  const auto later = send_alerts(1, 10, 0);
  // All in partition 0: the old alerts, were they read, would come first.
  ASSERT_TRUE(test::wait_until([&] { return got_.alert_count() >= 1; }, patience));
  EXPECT_EQ(got_.alerts().front(), *later.begin());
  EXPECT_EQ(got_.alert_count(), 1u);
}

TEST_F(alert_consumer_test, start_twice_reads_each_record_once) {
  alert_consumer consumer(kafka(), handlers(), metrics_);
  start_and_catch_up(consumer);
  consumer.start();  // already started: nothing changes
  send_alerts(5, 0, 0);
  ASSERT_TRUE(test::wait_until([&] { return got_.alert_count() >= 5; }, patience));
  send_alerts(1, 5, 0);  // a marker after them: anything doubled would come before it
  ASSERT_TRUE(test::wait_until([&] { return got_.alert_count() >= 6; }, patience));
  EXPECT_EQ(got_.alerts().back(), make_alert(5).fingerprint);
  EXPECT_EQ(got_.alert_count(), 6u);
}

TEST_F(alert_consumer_test, stop_before_start_and_start_after_stop_do_nothing) {
  alert_consumer consumer(kafka(), handlers(), metrics_);
  consumer.stop();
  consumer.start();
  send_alerts(1, 0, 0);
  std::this_thread::sleep_for(500ms);  // would a stopped consumer read, it would have by now
  EXPECT_EQ(got_.alert_count(), 0u);
  EXPECT_FALSE(consumer.caught_up());
}

}  // namespace
}  // namespace tocsin::kafka
