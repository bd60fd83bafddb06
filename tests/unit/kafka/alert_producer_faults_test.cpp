// The alert producer when librdkafka refuses a record at once: produce() returns an error
// (here QUEUE_FULL, with a one-message local queue and the broker down) and the alert goes
// straight to the disk spool, counted, with the alerts after it queued behind it. The spool
// replay meets the same refusal and waits for the next round instead of losing the rest.

#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "kafka/alert_producer.hpp"
#include "tests/support/kafka_mock.hpp"
#include "tests/support/metrics.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

namespace tocsin::kafka {
namespace {

using namespace std::chrono_literals;

rules::alert make_alert(int n) {
  rules::alert a;
  a.labels = {{"alertname", "queue_full"}, {"host", "web" + std::to_string(n)}};
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

TEST(alert_producer_faults, a_record_refused_at_once_is_spooled_and_delivered_later) {
  test::mock_kafka_cluster cluster;
  cluster.create_topic("alerts", 1);
  cluster.set_down(1);
  test::temp_dir dir;
  metrics_registry metrics;
  config::kafka_config kafka;
  kafka.brokers = cluster.bootstraps();
  kafka.topic = "alerts";
  kafka.properties = {
      // One record in librdkafka's queue at a time: the next produce() fails with QUEUE_FULL.
      {"queue.buffering.max.messages", "1"},
      {"message.timeout.ms", "1000"},
      {"reconnect.backoff.ms", "20"},
      {"reconnect.backoff.max.ms", "100"},
      {"retry.backoff.ms", "20"},
  };
  alert_producer producer(
      kafka, {.node_name = "node-a", .spool_dir = dir / "spool", .replay_interval = 200ms},
      metrics);

  const auto alerts = make_alerts(0, 4);
  producer.publish(alerts);
  // The first alert waits in librdkafka's queue for the broker, the second was refused at once
  // and handed to the spool writer, and the two after it went behind it to keep the order.
  ASSERT_TRUE(
      test::wait_until([&] { return metric_sum(metrics, "tocsin_spool_records") == 3; }, 10s))
      << metrics.render();
  EXPECT_EQ(metrics
                .get_counter("tocsin_bus_errors_total", "Alerts the bus failed to carry.",
                             {{"reason", "queue_full"}})
                .value(),
            1U);

  // The replay also meets the one-message queue; it takes the spool one record per round.
  cluster.set_up(1);
  ASSERT_TRUE(test::wait_until(
      [&] {
        return metric_sum(metrics, "tocsin_spool_records") == 0 &&
               metric_sum(metrics, "tocsin_bus_published_total") == 4;
      },
      20s))
      << metrics.render();

  std::map<std::string, int> on_topic;
  for (const auto& r : test::kcat_read(cluster.bootstraps(), "alerts", 10s)) ++on_topic[r.key];
  EXPECT_EQ(on_topic.size(), alerts.size());
  for (const auto& a : alerts) EXPECT_GE(on_topic[a.fingerprint], 1) << a.fingerprint;
}

}  // namespace
}  // namespace tocsin::kafka
