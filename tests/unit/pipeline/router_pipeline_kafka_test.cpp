// The router half on a Kafka bus (librdkafka's mock cluster): what it reads from the cluster
// topics (alerts, silences and route announcements, on-call escalations, hits, the notification
// log) and what it publishes there; records it cannot use are counted and skipped.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "kafka/state_publisher.hpp"
#include "oncall/ack_link.hpp"
#include "oncall/escalation.hpp"
#include "pipeline/router_pipeline.hpp"
#include "rules/hits.hpp"
#include "rules/rule.hpp"
#include "sinks/cluster.hpp"
#include "sinks/pager.hpp"
#include "sinks/silences.hpp"
#include "tests/support/kafka_mock.hpp"
#include "tests/support/metrics.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

namespace tocsin::pipeline {
namespace {

using namespace std::chrono_literals;
using std::chrono::system_clock;

constexpr auto patience = 60s;  // real time for the mock cluster; only waited out on failure

std::int64_t unix_seconds(system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::int64_t unix_ms(system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

class router_pipeline_kafka_test : public ::testing::Test {
 protected:
  router_pipeline_kafka_test() {
    cluster_.create_topic("tocsin.alerts", 3);
    cluster_.create_topic("tocsin.silences", 1);
    cluster_.create_topic("tocsin.nflog", 3);
    cluster_.create_topic("tocsin.hits", 3);
    cluster_.create_topic("tocsin.oncall", 3);
    cfg_ = config::load_string(
        "data_dir: " + (dir_ / "lib").string() +
            "\n"
            "node_name: router-1\n"
            "bus:\n"
            "  type: kafka\n"
            "  kafka:\n"
            "    brokers: \"" +
            cluster_.bootstraps() +
            "\"\n"
            "    topic: tocsin.alerts\n"
            "    group: tocsin-router\n"
            "    properties:\n"
            "      session.timeout.ms: \"6000\"\n"
            "      heartbeat.interval.ms: \"500\"\n"
            "      topic.metadata.refresh.interval.ms: \"1000\"\n"
            // The mock cluster never answers DescribeConfigs: let that time out soon.
            "      socket.timeout.ms: \"5000\"\n"
            "route: { receiver: audit, group_by: ['...'], group_wait: 1h }\n"
            "receivers:\n"
            "  - { name: audit, file: { path: alerts.jsonl } }\n",
        dir_ / "tocsin.yaml");
    router_ = std::make_unique<router_pipeline>(cfg_, logins_rule(), metrics_);
  }

  ~router_pipeline_kafka_test() override {
    publisher_.reset();
    router_->stop();
  }

  static std::shared_ptr<const rules::compiled_rules> logins_rule() {
    return std::make_shared<const rules::compiled_rules>(
        rules::load_rules_string("rules:\n"
                                 "  - name: cluster-logins\n"
                                 "    match: { message: 'Failed password' }\n"
                                 "    threshold: { count: 5, window: 1m }\n",
                                 "rules.yaml"));
  }

  // Starts the router and waits until it has read the cluster topics and owns its partitions.
  void start() {
    router_->start();
    ASSERT_TRUE(test::wait_until([&] { return router_->not_ready_reason().empty(); }, patience))
        << router_->not_ready_reason();
  }

  // Another node's records, to the topic `topic`.
  void publish(const std::string& topic, const std::string& key, const std::string& value) {
    if (!publisher_) {
      publisher_ = std::make_unique<kafka::state_publisher>(cfg_.bus.kafka, other_metrics_, "x");
    }
    publisher_->publish(topic, -1, key, value);
  }

  std::uint64_t refused(const std::string& topic) {
    return test::counter_value(metrics_, "tocsin_cluster_records_refused_total",
                               {{"topic", topic}});
  }
  bool wait_refused(const std::string& topic, std::uint64_t n) {
    return test::wait_until([&] { return refused(topic) == n; }, patience);
  }
  std::int64_t routes_differ(const std::string& node) {
    return test::gauge_value(metrics_, "tocsin_cluster_routes_differ", {{"node", node}});
  }
  bool has_alert(const std::string& name) const {
    for (const auto& a : router_->router().alerts()) {
      if (a.alert.labels.count("alertname") != 0 && a.alert.labels.at("alertname") == name) {
        return true;
      }
    }
    return false;
  }

  test::temp_dir dir_{"tocsin-router-kafka"};
  test::mock_kafka_cluster cluster_;
  metrics_registry metrics_, other_metrics_;
  config::config cfg_;
  std::unique_ptr<router_pipeline> router_;
  std::unique_ptr<kafka::state_publisher> publisher_;
};

TEST_F(router_pipeline_kafka_test, not_ready_until_it_has_read_the_cluster_topics) {
  EXPECT_EQ(router_->in_process_bus(), nullptr);
  EXPECT_EQ(router_->not_ready_reason(), "reading the cluster's alerts and silences");
  start();
  EXPECT_TRUE(router_->drain(std::chrono::steady_clock::now() + 10s));
}

TEST_F(router_pipeline_kafka_test, an_alert_posted_here_goes_through_the_alerts_topic) {
  start();
  const auto publish_alert = router_->alert_publisher();
  ASSERT_TRUE(publish_alert);
  rules::alert a;
  a.labels = {{"alertname", "posted"}};
  a.starts_at = system_clock::now();
  a.fingerprint = rules::fingerprint(a.labels);
  publish_alert(a);
  ASSERT_TRUE(test::wait_until([&] { return has_alert("posted"); }, patience));
  const auto records = test::kcat_read(cluster_.bootstraps(), "tocsin.alerts");
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].key, a.fingerprint);
}

TEST_F(router_pipeline_kafka_test, hits_fire_cluster_windows_and_bad_hits_are_skipped) {
  start();
  publish("tocsin.hits", "k", "not json");
  rules::hit_batch hits;
  hits.rule = "cluster-logins";
  hits.labels = {{"alertname", "cluster-logins"}};
  hits.message = "Failed password for root";
  hits.host = "web1";
  hits.collector = "collector-a";
  hits.counts = {{unix_seconds(system_clock::now() + 1h), 5}};
  publish("tocsin.hits", rules::hits_key(hits), rules::to_record(hits));
  ASSERT_TRUE(wait_refused("hits", 2)) << "garbage, then a second an hour ahead";
  EXPECT_FALSE(has_alert("cluster-logins"));

  hits.counts = {{unix_seconds(system_clock::now()), 5}};
  publish("tocsin.hits", rules::hits_key(hits), rules::to_record(hits));
  // Five matches within the window: the alert goes to the alerts topic and back into the router.
  ASSERT_TRUE(test::wait_until([&] { return has_alert("cluster-logins"); }, patience));
  EXPECT_EQ(refused("hits"), 2U);
}

TEST_F(router_pipeline_kafka_test, silences_from_the_cluster_are_applied_and_ours_published) {
  start();
  sinks::silence s;
  s.id = "6f1c0e0a-1111-4222-8333-444455556666";
  s.matchers = {*sinks::label_matcher::parse("alertname=\"disk-full\"")};
  s.starts_at = system_clock::now() - 1min;
  s.ends_at = system_clock::now() + 1h;
  s.updated_at = system_clock::now();
  s.created_by = "alice";
  publish("tocsin.silences", "gone", "");  // a tombstone: nothing to do
  publish("tocsin.silences", "bad", "{\"v\":1}");
  publish("tocsin.silences", s.id, sinks::to_record(s));
  ASSERT_TRUE(test::wait_until([&] { return router_->router().silences().get(s.id).has_value(); },
                               patience));
  EXPECT_EQ(refused("silences"), 1U);

  sinks::silence mine = s;
  mine.id.clear();
  mine.created_by = "bob";
  const auto id = router_->router().silences().upsert(mine);
  ASSERT_TRUE(id);
  ASSERT_TRUE(test::wait_until(
      [&] {
        for (const auto& r : test::kcat_read(cluster_.bootstraps(), "tocsin.silences")) {
          if (r.key == *id) return true;
        }
        return false;
      },
      patience));
}

TEST_F(router_pipeline_kafka_test, another_routers_route_tree_is_compared_with_ours) {
  start();
  const auto announce = [&](const std::string& node, const std::string& routes,
                            system_clock::time_point at) {
    publish("tocsin.silences", std::string(sinks::router_record_prefix) + node,
            sinks::to_record(sinks::router_record{node, routes, at}));
  };
  publish("tocsin.silences", "router:broken", "garbage");
  announce("router-2", "0000", system_clock::now());
  ASSERT_TRUE(test::wait_until([&] { return routes_differ("router-2") == 1; }, patience));
  EXPECT_EQ(refused("silences"), 1U);
  // An hour-old announcement is a router gone: not compared.
  announce("router-3", "0000", system_clock::now() - 2h);
  announce("router-2", "0000", system_clock::now());
  announce("router-2", router_->router().route_fingerprint(), system_clock::now());
  ASSERT_TRUE(test::wait_until([&] { return routes_differ("router-2") == 0; }, patience));
  EXPECT_EQ(metrics_.render().find("router-3"), std::string::npos);

  // Our own announcement, on the first tick: read back and not compared with ourselves.
  router_->tick(system_clock::now());
  ASSERT_TRUE(test::wait_until(
      [&] {
        for (const auto& r : test::kcat_read(cluster_.bootstraps(), "tocsin.silences")) {
          if (r.key == "router:router-1") return true;
        }
        return false;
      },
      patience));
  EXPECT_EQ(metrics_.render().find("node=\"router-1\""), std::string::npos);
  // A reload announces again.
  router_->reload(cfg_, logins_rule());
  ASSERT_TRUE(test::wait_until(
      [&] {
        int n = 0;
        for (const auto& r : test::kcat_read(cluster_.bootstraps(), "tocsin.silences")) {
          n += r.key == "router:router-1" ? 1 : 0;
        }
        return n == 2;
      },
      patience));
}

TEST_F(router_pipeline_kafka_test, escalations_from_the_cluster_are_applied_and_ended) {
  start();
  oncall::escalation e;
  e.group_key = "{}:{alertname=\"db-down\"}";
  e.page_id = oncall::page_id(e.group_key);
  e.policy = "ops";
  e.receiver = "audit";
  e.incident_ms = unix_ms(system_clock::now());
  e.updated_ms = e.incident_ms;
  const std::string key = sinks::escalation_record_key({"audit", e.group_key});
  publish("tocsin.oncall", "no receiver in this key", oncall::to_json(e).dump());
  publish("tocsin.oncall", key, "{\"v\":7}");
  publish("tocsin.oncall", key, oncall::to_json(e).dump());
  ASSERT_TRUE(test::wait_until([&] { return router_->router().oncall().escalations().size() == 1; },
                               patience));
  EXPECT_EQ(router_->router().oncall().escalations()[0].page_id, e.page_id);
  EXPECT_EQ(refused("oncall"), 2U);
  publish("tocsin.oncall", key, "");  // ended
  ASSERT_TRUE(
      test::wait_until([&] { return router_->router().oncall().escalations().empty(); }, patience));
}

TEST_F(router_pipeline_kafka_test, an_unreadable_notification_log_record_is_skipped) {
  start();
  publish("tocsin.nflog", "{}:{alertname=\"x\"}", "");  // a group forgotten
  publish("tocsin.nflog", "{}:{alertname=\"x\"}", "not a record");
  ASSERT_TRUE(wait_refused("nflog", 1));
}

}  // namespace
}  // namespace tocsin::pipeline
