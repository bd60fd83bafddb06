// The collector half on a Kafka bus (librdkafka's mock cluster): the matches of cluster-scoped
// windows go to the hits topic on each tick, not into a local window; readiness waits for the
// brokers. And the embedded bus needs a router half in the same process.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "pipeline/collector_pipeline.hpp"
#include "rules/rule.hpp"
#include "tests/support/kafka_mock.hpp"
#include "tests/support/net.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

namespace tocsin::pipeline {
namespace {

using namespace std::chrono_literals;

constexpr auto patience = 60s;  // real time for the mock cluster; only waited out on failure

class collector_pipeline_kafka_test : public ::testing::Test {
 protected:
  config::config config_on(const std::string& brokers) const {
    return config::load_string("data_dir: " + (dir_ / "lib").string() +
                                   "\n"
                                   "node_name: collector-a\n"
                                   "bus:\n"
                                   "  type: kafka\n"
                                   "  kafka:\n"
                                   "    brokers: \"" +
                                   brokers +
                                   "\"\n"
                                   "    topic: tocsin.alerts\n"
                                   "    properties:\n"
                                   "      socket.timeout.ms: \"5000\"\n"
                                   "      reconnect.backoff.max.ms: \"500\"\n",
                               dir_ / "tocsin.yaml");
  }

  static std::shared_ptr<const rules::compiled_rules> logins_rule() {
    return std::make_shared<const rules::compiled_rules>(
        rules::load_rules_string("rules:\n"
                                 "  - name: cluster-logins\n"
                                 "    match: { message: 'Failed password' }\n"
                                 "    threshold: { count: 5, window: 1m }\n",
                                 "rules.yaml"));
  }

  static collector::event event(const std::string& message) {
    collector::event ev;
    ev.host = "web1";
    ev.app = "sshd";
    ev.message = message;
    ev.received_at = std::chrono::system_clock::now();
    return ev;
  }

  test::temp_dir dir_{"tocsin-collector-kafka"};
  metrics_registry metrics_;
};

TEST_F(collector_pipeline_kafka_test, cluster_window_matches_are_published_as_hits_on_the_tick) {
  test::mock_kafka_cluster cluster;
  cluster.create_topic("tocsin.alerts", 3);
  cluster.create_topic("tocsin.hits", 3);
  const config::config cfg = config_on(cluster.bootstraps());
  collector_pipeline collector(cfg, logins_rule(), nullptr, metrics_, nullptr);
  collector.sink().consume(event("Failed password for root from 203.0.113.9"));
  collector.sink().consume(event("Failed password for root from 203.0.113.9"));
  collector.sink().consume(event("Accepted password for alice"));
  collector.tick(std::chrono::system_clock::now());
  ASSERT_TRUE(test::wait_until([&] { return collector.not_ready_reason().empty(); }, patience))
      << collector.not_ready_reason();
  collector.stop();  // delivers what the publisher holds

  const auto hits = test::kcat_read(cluster.bootstraps(), "tocsin.hits");
  ASSERT_EQ(hits.size(), 1U);
  EXPECT_EQ(hits[0].key.substr(0, hits[0].key.find('\n')), "cluster-logins");
  EXPECT_NE(hits[0].value.find("\"collector\":\"collector-a\""), std::string::npos)
      << hits[0].value;
  EXPECT_TRUE(test::kcat_read(cluster.bootstraps(), "tocsin.alerts").empty())
      << "two matches of five: the routers' window has not fired";
  // Stopped: a tick has no bus to publish on, and does nothing.
  collector.tick(std::chrono::system_clock::now() + 2min);
  EXPECT_EQ(test::kcat_read(cluster.bootstraps(), "tocsin.hits").size(), 1U);
}

TEST_F(collector_pipeline_kafka_test, not_ready_while_the_brokers_are_unreachable) {
  const std::uint16_t port = test::free_port();  // nothing listens there
  collector_pipeline collector(config_on("127.0.0.1:" + std::to_string(port)), logins_rule(),
                               nullptr, metrics_, nullptr);
  EXPECT_EQ(collector.not_ready_reason(),
            "not connected to Kafka yet (alerts are spooled meanwhile)");
}

TEST_F(collector_pipeline_kafka_test, the_embedded_bus_needs_a_router_half) {
  const config::config cfg =
      config::load_string("data_dir: " + (dir_ / "lib").string() + "\n", dir_ / "tocsin.yaml");
  EXPECT_THROW(collector_pipeline(cfg, logins_rule(), nullptr, metrics_, nullptr),
               std::logic_error);
}

}  // namespace
}  // namespace tocsin::pipeline
