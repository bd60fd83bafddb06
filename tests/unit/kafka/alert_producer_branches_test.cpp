// alert_producer while its spool writer is held up (the before_spool_write hook): alerts queue
// behind the writer's backlog even though nothing is on disk yet, the ones past its queue are
// written by the publishing thread (counted), and once the writer catches up the queue is used
// again and every alert reaches the spool.

#include <gtest/gtest.h>

#include <future>
#include <string>
#include <vector>

#include "kafka/alert_producer.hpp"
#include "tests/support/kafka_mock.hpp"
#include "tests/support/metrics.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

namespace tocsin::kafka {
namespace {

using namespace std::chrono_literals;
using test::metric_sum;

rules::alert make_alert(int n) {
  rules::alert a;
  a.labels = {{"alertname", "writer_behind"}, {"host", "web" + std::to_string(n)}};
  a.starts_at = std::chrono::system_clock::time_point(std::chrono::seconds(1795666255 + n));
  a.fingerprint = rules::fingerprint(a.labels);
  return a;
}

TEST(alert_producer_branches, a_held_up_spool_writer_is_overtaken_then_caught_up) {
  test::mock_kafka_cluster cluster;
  cluster.create_topic("alerts", 1);
  cluster.set_down(1);
  test::temp_dir dir;
  metrics_registry metrics;
  config::kafka_config kafka;
  kafka.brokers = cluster.bootstraps();
  kafka.topic = "alerts";
  kafka.properties = {
      // One record in librdkafka's queue: the next produce() fails with QUEUE_FULL.
      {"queue.buffering.max.messages", "1"},
      {"message.timeout.ms", "1000"},
  };
  std::promise<void> release;
  const std::shared_future<void> released = release.get_future().share();
  {
    alert_producer producer(kafka,
                            {.node_name = "node-a",
                             .spool_dir = dir / "spool",
                             .replay_interval = 60s,
                             .spool_queue_capacity = 1,
                             .before_spool_write = [released] { released.wait(); }},
                            metrics);
    std::vector<rules::alert> first;
    for (int n = 0; n < 7; ++n) first.push_back(make_alert(n));
    // Alert 0 is queued by librdkafka, 1 is refused and goes to the (held) writer; the rest
    // follow it because of the writer's backlog. At most two are with the writer (one being
    // written, one queued): the others are written by this thread.
    producer.publish(first);
    EXPECT_GE(test::counter_value(metrics, "tocsin_spool_writer_behind_total"), 4U);

    release.set_value();
    ASSERT_TRUE(test::wait_until(
        [&] {
          return test::gauge_value(metrics, "tocsin_queue_depth", {{"queue", "spool"}}) == 0;
        },
        10s));
    const auto behind = test::counter_value(metrics, "tocsin_spool_writer_behind_total");
    producer.publish({make_alert(7)});  // the writer's queue takes it again
    EXPECT_EQ(test::counter_value(metrics, "tocsin_spool_writer_behind_total"), behind);
    // Alerts 1..7 reach the disk; alert 0 too once librdkafka times it out.
    EXPECT_TRUE(
        test::wait_until([&] { return metric_sum(metrics, "tocsin_spool_records") == 8; }, 10s))
        << metrics.render();
  }
  EXPECT_EQ(metric_sum(metrics, "tocsin_bus_published_total"), 0);
}

}  // namespace
}  // namespace tocsin::kafka
