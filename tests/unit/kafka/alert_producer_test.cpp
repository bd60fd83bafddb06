#include "kafka/alert_producer.hpp"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <sstream>

#include "collector/event.hpp"
#include "kafka/log_output.hpp"
#include "tests/support/kafka_mock.hpp"
#include "tests/support/metrics.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

namespace tocsin::kafka {
namespace {

using namespace std::chrono_literals;

// Short timeouts so a broker outage is noticed (and spooled) within a second or two.
config::kafka_config test_kafka(const test::mock_kafka_cluster& cluster, const std::string& topic) {
  config::kafka_config kafka;
  kafka.brokers = cluster.bootstraps();
  kafka.topic = topic;
  kafka.properties = {
      {"message.timeout.ms", "1000"},
      {"reconnect.backoff.ms", "20"},
      {"reconnect.backoff.max.ms", "100"},
      {"retry.backoff.ms", "20"},
      {"socket.connection.setup.timeout.ms", "1000"},
  };
  return kafka;
}

alert_producer_options test_options(const std::filesystem::path& spool_dir) {
  return {.node_name = "node-a", .spool_dir = spool_dir, .replay_interval = 200ms};
}

rules::alert make_alert(int n) {
  rules::alert a;
  a.labels = {{"alertname", "disk_full"}, {"host", "web" + std::to_string(n)}};
  a.annotations = {{"summary", "disk " + std::to_string(n) + " is full"}};
  a.starts_at = std::chrono::system_clock::time_point(std::chrono::seconds(1795666255 + n));
  a.ends_at = a.starts_at + std::chrono::minutes(5);
  a.fingerprint = rules::fingerprint(a.labels);
  return a;
}

std::vector<rules::alert> make_alerts(int first, int count) {
  std::vector<rules::alert> out;
  for (int n = first; n < first + count; ++n) out.push_back(make_alert(n));
  return out;
}

using test::metric_sum;

std::size_t segment_files(const std::filesystem::path& dir) {
  std::size_t n = 0;
  if (!std::filesystem::exists(dir)) return 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".seg") ++n;
  }
  return n;
}

// Every alert of `expected` is on the topic exactly as the producer must write it.
void expect_on_topic(const test::mock_kafka_cluster& cluster, const std::string& topic,
                     const std::vector<rules::alert>& expected) {
  const auto records = test::kcat_read(cluster.bootstraps(), topic, 10s);
  std::map<std::string, test::kafka_record> by_key;
  for (const auto& r : records) by_key[r.key] = r;
  EXPECT_EQ(by_key.size(), expected.size());
  for (const auto& a : expected) {
    const auto it = by_key.find(a.fingerprint);
    ASSERT_NE(it, by_key.end()) << a.fingerprint;
    EXPECT_EQ(it->second.value, rules::to_json(a));
    EXPECT_EQ(it->second.headers["tocsin-node"], "node-a");
  }
}

TEST(alert_producer, publishes_alert_json_keyed_by_fingerprint) {
  test::mock_kafka_cluster cluster;
  cluster.create_topic("alerts", 3);
  test::temp_dir dir;
  metrics_registry metrics;
  alert_producer producer(test_kafka(cluster, "alerts"), test_options(dir / "spool"), metrics);
  const auto alerts = make_alerts(0, 20);
  producer.publish(alerts);
  ASSERT_TRUE(test::wait_until(
      [&] { return metric_sum(metrics, "tocsin_bus_published_total") == 20; }, 10s));
  EXPECT_TRUE(producer.connected());
  expect_on_topic(cluster, "alerts", alerts);
  EXPECT_EQ(metric_sum(metrics, "tocsin_bus_errors_total"), 0);

  const auto records = test::kcat_read(cluster.bootstraps(), "alerts");
  std::set<int> partitions;
  for (const auto& r : records) partitions.insert(r.partition);
  EXPECT_GT(partitions.size(), 1U);  // keyed, so spread over the partitions
}

TEST(alert_producer, spools_while_the_broker_is_down_and_replays_when_it_is_back) {
  test::mock_kafka_cluster cluster;
  cluster.create_topic("alerts", 3);
  test::temp_dir dir;
  metrics_registry metrics;
  alert_producer producer(test_kafka(cluster, "alerts"), test_options(dir / "spool"), metrics);
  auto alerts = make_alerts(0, 1);
  producer.publish(alerts);
  // Delivered, not only connected: else it may still be in flight when the broker goes down and
  // be spooled with the others.
  ASSERT_TRUE(test::wait_until(
      [&] { return metric_sum(metrics, "tocsin_bus_published_total") == 1; }, 10s));
  ASSERT_TRUE(producer.connected());

  cluster.set_down(1);
  const auto while_down = make_alerts(1, 10);
  producer.publish(while_down);
  // message.timeout.ms passes: the delivery reports put them in the spool.
  ASSERT_TRUE(
      test::wait_until([&] { return metric_sum(metrics, "tocsin_spool_records") == 10; }, 8s))
      << metrics.render();
  EXPECT_GE(metrics
                .get_counter("tocsin_bus_errors_total", "Alerts the bus failed to carry.",
                             {{"reason", "msg_timed_out"}})
                .value(),
            10U);
  EXPECT_GT(segment_files(dir / "spool"), 0U);
  // New alerts queue up behind the spooled ones (written by the spool's worker, soon).
  const auto behind = make_alerts(11, 5);
  producer.publish(behind);
  EXPECT_TRUE(
      test::wait_until([&] { return metric_sum(metrics, "tocsin_spool_records") == 15; }, 5s))
      << metrics.render();

  cluster.set_up(1);
  ASSERT_TRUE(test::wait_until(
      [&] {
        return metric_sum(metrics, "tocsin_spool_records") == 0 &&
               segment_files(dir / "spool") == 0;
      },
      8s))
      << metrics.render();
  EXPECT_EQ(metric_sum(metrics, "tocsin_bus_published_total"), 16);
  alerts.insert(alerts.end(), while_down.begin(), while_down.end());
  alerts.insert(alerts.end(), behind.begin(), behind.end());
  expect_on_topic(cluster, "alerts", alerts);

  // Back to direct publishing.
  const auto after = make_alerts(16, 1);
  producer.publish(after);
  EXPECT_EQ(metric_sum(metrics, "tocsin_spool_records"), 0);
  ASSERT_TRUE(test::wait_until(
      [&] { return metric_sum(metrics, "tocsin_bus_published_total") == 17; }, 5s));
}

TEST(alert_producer, a_new_producer_delivers_what_the_last_one_spooled) {
  test::mock_kafka_cluster cluster;
  cluster.create_topic("alerts", 3);
  test::temp_dir dir;
  auto kafka = test_kafka(cluster, "alerts");
  // Long enough that nothing times out: the alerts are still queued when the producer goes,
  // so it is the shutdown purge that spools them.
  kafka.properties["message.timeout.ms"] = "60000";
  const auto alerts = make_alerts(0, 8);
  cluster.set_down(1);
  {
    metrics_registry metrics;
    alert_producer producer(kafka, test_options(dir / "spool"), metrics);
    producer.publish(alerts);
  }
  EXPECT_GT(segment_files(dir / "spool"), 0U);

  cluster.set_up(1);
  metrics_registry metrics;
  alert_producer producer(kafka, test_options(dir / "spool"), metrics);
  ASSERT_TRUE(test::wait_until(
      [&] {
        return metric_sum(metrics, "tocsin_bus_published_total") == 8 &&
               segment_files(dir / "spool") == 0;
      },
      8s))
      << metrics.render();
  expect_on_topic(cluster, "alerts", alerts);
}

// Holds the spool writer up (before_spool_write) until the test lets it go.
class spool_gate {
 public:
  std::function<void()> hook() {
    return [this] {
      std::unique_lock lock(mutex_);
      ++arrived_;
      changed_.notify_all();
      changed_.wait(lock, [&] { return open_; });
    };
  }
  [[nodiscard]] bool wait_arrived() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 10s, [&] { return arrived_ > 0; });
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int arrived_ = 0;
  bool open_ = false;
};

// A spool left by an earlier run holding `alerts`: the new producer spools behind it.
void seed_spool(const std::filesystem::path& dir, const std::vector<rules::alert>& alerts) {
  metrics_registry metrics;
  spool s(dir, {}, metrics);
  for (const auto& a : alerts) ASSERT_TRUE(s.append(a.fingerprint, rules::to_json(a)));
}

TEST(alert_producer, publish_does_not_wait_for_the_spool_writer) {
  test::mock_kafka_cluster cluster;
  cluster.create_topic("alerts", 3);
  cluster.set_down(1);  // the seed stays in the spool: publish() has to go behind it
  test::temp_dir dir;
  const auto seed = make_alerts(0, 1);
  ASSERT_NO_FATAL_FAILURE(seed_spool(dir / "spool", seed));
  spool_gate gate;
  metrics_registry metrics;
  auto options = test_options(dir / "spool");
  options.before_spool_write = gate.hook();
  alert_producer producer(test_kafka(cluster, "alerts"), options, metrics);
  struct open_at_exit {
    spool_gate& gate;
    ~open_at_exit() { gate.open(); }  // a failed assertion must not leave the writer stuck
  } guard{gate};

  const auto first = make_alerts(1, 1);
  producer.publish(first);
  ASSERT_TRUE(gate.wait_arrived());  // the writer is stuck on `first`
  // Each of these returns although the writer cannot write a thing.
  const auto more = make_alerts(2, 5);
  for (const auto& a : more) producer.publish({a});
  auto& depth = metrics.get_gauge("tocsin_queue_depth", "", {{"queue", "spool"}});
  EXPECT_EQ(depth.value(), 5);
  EXPECT_EQ(metric_sum(metrics, "tocsin_spool_records"), 1);  // only the seed so far

  gate.open();
  EXPECT_TRUE(
      test::wait_until([&] { return metric_sum(metrics, "tocsin_spool_records") == 7; }, 5s))
      << metrics.render();
  EXPECT_EQ(depth.value(), 0);

  cluster.set_up(1);
  ASSERT_TRUE(test::wait_until(
      [&] {
        return metric_sum(metrics, "tocsin_bus_published_total") == 7 &&
               segment_files(dir / "spool") == 0;
      },
      10s))
      << metrics.render();
  auto all = seed;
  all.insert(all.end(), first.begin(), first.end());
  all.insert(all.end(), more.begin(), more.end());
  expect_on_topic(cluster, "alerts", all);
}

TEST(alert_producer, alerts_waiting_for_the_spool_writer_at_shutdown_are_written) {
  test::mock_kafka_cluster cluster;
  cluster.create_topic("alerts", 3);
  cluster.set_down(1);
  test::temp_dir dir;
  const auto seed = make_alerts(0, 1);
  ASSERT_NO_FATAL_FAILURE(seed_spool(dir / "spool", seed));
  const auto alerts = make_alerts(1, 20);
  {
    spool_gate gate;
    metrics_registry metrics;
    auto options = test_options(dir / "spool");
    options.before_spool_write = gate.hook();
    alert_producer producer(test_kafka(cluster, "alerts"), options, metrics);
    struct open_at_exit {  // a failed assertion must not leave the destructor waiting on it
      spool_gate& gate;
      ~open_at_exit() { gate.open(); }
    } guard{gate};
    producer.publish(alerts);
    ASSERT_TRUE(gate.wait_arrived());
    EXPECT_EQ(metrics.get_gauge("tocsin_queue_depth", "", {{"queue", "spool"}}).value(), 19);
    gate.open();  // the destructor begins with (all but certainly) most of them still queued
  }
  metrics_registry metrics;
  spool reopened(dir / "spool", {}, metrics);
  EXPECT_EQ(reopened.records(), 21U);
}

TEST(alert_producer, a_full_spool_queue_is_written_by_the_publisher_and_counted) {
  test::mock_kafka_cluster cluster;
  cluster.create_topic("alerts", 3);
  cluster.set_down(1);
  test::temp_dir dir;
  ASSERT_NO_FATAL_FAILURE(seed_spool(dir / "spool", make_alerts(0, 1)));
  spool_gate gate;
  metrics_registry metrics;
  auto options = test_options(dir / "spool");
  options.before_spool_write = gate.hook();
  options.spool_queue_capacity = 3;
  alert_producer producer(test_kafka(cluster, "alerts"), options, metrics);
  struct open_at_exit {
    spool_gate& gate;
    ~open_at_exit() { gate.open(); }
  } guard{gate};

  producer.publish(make_alerts(1, 1));
  ASSERT_TRUE(gate.wait_arrived());
  // 3 fit behind the one being written; the 2 after them are written by publish() itself.
  producer.publish(make_alerts(2, 5));
  EXPECT_EQ(metric_sum(metrics, "tocsin_spool_writer_behind_total"), 2);
  EXPECT_EQ(metric_sum(metrics, "tocsin_spool_records"), 3);  // the seed and those 2
  gate.open();
  EXPECT_TRUE(
      test::wait_until([&] { return metric_sum(metrics, "tocsin_spool_records") == 7; }, 5s))
      << metrics.render();  // nothing lost: the seed, 1 + 5
}

TEST(alert_producer, replaces_a_producer_that_hit_a_fatal_error) {
  test::mock_kafka_cluster cluster;
  cluster.create_topic("alerts", 3);
  test::temp_dir dir;
  metrics_registry metrics;
  config::kafka_config kafka;
  kafka.brokers = cluster.bootstraps();
  kafka.topic = "alerts";
  kafka.properties = {{"message.timeout.ms", "2000"}, {"retry.backoff.ms", "20"}};
  alert_producer producer(kafka, test_options(dir / "spool"), metrics);
  auto alerts = make_alerts(0, 20);  // every partition has a sequence number past 0 now
  producer.publish(alerts);
  ASSERT_TRUE(test::wait_until(
      [&] { return metric_sum(metrics, "tocsin_bus_published_total") == 20; }, 10s));

  // A sequence desynchronization is fatal for an idempotent producer.
  cluster.fail_next_produce(RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
  const auto more = make_alerts(20, 10);
  producer.publish(more);
  ASSERT_TRUE(
      test::wait_until([&] { return metric_sum(metrics, "tocsin_bus_errors_total") > 0; }, 5s));
  const auto later = make_alerts(30, 5);
  producer.publish(later);
  ASSERT_TRUE(test::wait_until(
      [&] {
        return metric_sum(metrics, "tocsin_spool_records") == 0 &&
               segment_files(dir / "spool") == 0 &&
               metric_sum(metrics, "tocsin_bus_published_total") >= 35;
      },
      10s))
      << metrics.render();
  alerts.insert(alerts.end(), more.begin(), more.end());
  alerts.insert(alerts.end(), later.begin(), later.end());
  const auto records = test::kcat_read(cluster.bootstraps(), "alerts", 10s);
  std::set<std::string> keys;
  for (const auto& r : records) keys.insert(r.key);
  for (const auto& a : alerts) EXPECT_EQ(keys.count(a.fingerprint), 1U) << a.fingerprint;
}

TEST(log_output, puts_event_json_keyed_by_host) {
  test::mock_kafka_cluster cluster;
  cluster.create_topic("logs", 3);
  metrics_registry metrics;
  log_output output(test_kafka(cluster, "alerts"), "logs", metrics);
  EXPECT_TRUE(output.accepting());
  collector::event ev;
  ev.host = "web1";
  ev.app = "nginx";
  ev.message = "hello kafka";
  ev.severity = 3;
  output.consume(ev);
  output.flush(5s);
  EXPECT_EQ(metrics
                .get_counter("tocsin_output_lines_total", "Lines written by outputs.",
                             {{"output", "kafka:logs"}})
                .value(),
            1U);

  const auto records = test::kcat_read(cluster.bootstraps(), "logs", 10s);
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].key, "web1");
  std::string expected;
  collector::append_event_json(ev, expected);
  EXPECT_EQ(records[0].value, expected);
}

TEST(log_output, stops_accepting_when_its_queue_is_nearly_full) {
  test::mock_kafka_cluster cluster;
  cluster.create_topic("logs", 1);
  cluster.set_down(1);
  auto kafka = test_kafka(cluster, "alerts");
  kafka.properties["queue.buffering.max.messages"] = "100";
  kafka.properties["message.timeout.ms"] = "500";
  metrics_registry metrics;
  log_output output(kafka, "logs", metrics);
  collector::event ev;
  ev.host = "web1";
  ev.message = "x";
  // outq_len() also counts librdkafka's pending error events, so leave some room below 90.
  for (int i = 0; i < 80; ++i) output.consume(ev);
  EXPECT_TRUE(output.accepting());
  for (int i = 80; i < 100; ++i) output.consume(ev);
  EXPECT_FALSE(output.accepting());
  output.consume(ev);  // the 101st does not fit
  EXPECT_EQ(metrics
                .get_counter("tocsin_output_errors_total", "Lines outputs failed to write.",
                             {{"output", "kafka:logs"}, {"reason", "queue_full"}})
                .value(),
            1U);
  output.flush(3s);  // they time out
  EXPECT_TRUE(test::wait_until([&] { return output.accepting(); }, 3s));
  EXPECT_EQ(metrics
                .get_counter("tocsin_output_errors_total", "Lines outputs failed to write.",
                             {{"output", "kafka:logs"}, {"reason", "msg_timed_out"}})
                .value(),
            100U);
}

}  // namespace
}  // namespace tocsin::kafka
