// The Kafka bus end to end: `tocsin collector` → a real Kafka-protocol broker (librdkafka's mock
// cluster on loopback) → `tocsin router` → the file receiver, read back with kcat and from the
// router's alert file. Broker outages, the disk spool, kill -9 of either side, the raw-log output
// and check-config's property errors.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/integration/tocsin_daemon.hpp"

namespace tocsin::test {
namespace {

// Outages, rebalances and spool replays take seconds; a test fails only after this long.
constexpr auto bus_patience = 60s;
constexpr int broker = 1;  // the mock cluster's only broker
constexpr int burst_size = 200;

// One alert (one fingerprint) per distinct n.
const std::string burst_rule =
    "rules:\n"
    "  - name: burst\n"
    "    match: { message: 'burst (?P<n>[0-9]+)' }\n";

// Each test's own broker with tocsin's topics (the mock cluster cannot create them on request).
std::unique_ptr<mock_kafka_cluster> start_kafka() {
  auto kafka = std::make_unique<mock_kafka_cluster>();
  kafka->create_topic("tocsin.alerts", 3);
  kafka->create_topic("tocsin.silences", 1);
  kafka->create_topic("tocsin.nflog", 3);
  kafka->create_topic("tocsin.hits", 3);
  kafka->create_topic("tocsin.oncall", 3);
  return kafka;
}

// The `bus:` section; short client timeouts so outages and rebalances resolve in seconds.
std::string bus_yaml(const mock_kafka_cluster& kafka, int message_timeout_ms) {
  return "bus:\n"
         "  type: kafka\n"
         "  kafka:\n"
         "    brokers: \"" +
         kafka.bootstraps() +
         "\"\n"
         "    topic: tocsin.alerts\n"
         "    group: tocsin-router\n"
         "    properties:\n"
         "      message.timeout.ms: \"" +
         std::to_string(message_timeout_ms) +
         "\"\n"
         "      session.timeout.ms: \"6000\"\n"
         // The rebalance timeout: how long a rejoin waits for a member killed with -9.
         "      max.poll.interval.ms: \"10000\"\n"
         "      heartbeat.interval.ms: \"500\"\n"
         "      reconnect.backoff.ms: \"100\"\n"
         "      reconnect.backoff.max.ms: \"500\"\n"
         "      topic.metadata.refresh.interval.ms: \"1000\"\n"
         "      socket.timeout.ms: \"5000\"\n";
}

daemon_options collector_options(const mock_kafka_cluster& kafka, int message_timeout_ms = 30000) {
  daemon_options o;
  o.command = "collector";
  o.files["rules/burst.yaml"] = burst_rule;
  o.extra_config = "node_name: collector-a\n" + bus_yaml(kafka, message_timeout_ms) +
                   "rules_files: [\"rules/*.yaml\"]\n";
  return o;
}

daemon_options router_options(const mock_kafka_cluster& kafka) {
  daemon_options o;
  o.command = "router";
  o.inputs = false;
  o.extra_config = "node_name: router-1\n" + bus_yaml(kafka, 30000) +
                   // One group per alert, flushed at once: one line per alert in the file.
                   "route: { receiver: audit, group_by: ['...'], group_wait: 0s }\n"
                   "receivers:\n"
                   "  - { name: audit, file: { path: alerts.jsonl } }\n";
  return o;
}

std::string burst_line(int n) {
  return syslog_line("app", "burst " + std::to_string(n), {.host = "web1"});
}

// "burst first" .. "burst first+count-1" over one TCP syslog connection, `gap` between lines.
bool send_bursts(const tocsin_daemon& collector, int first, int count,
                 std::chrono::milliseconds gap = 0ms) {
  tcp_client conn(collector.syslog_port());
  if (gap == 0ms) {
    std::string all;
    for (int n = first; n < first + count; ++n) all += burst_line(n);
    return conn.send_all(all);
  }
  for (int n = first; n < first + count; ++n) {
    if (!conn.send_all(burst_line(n))) return false;
    std::this_thread::sleep_for(gap);  // the scenario: a sender that trickles
  }
  return true;
}

// How often each fingerprint is in the router's alert file.
std::map<std::string, int> notified(const tocsin_daemon& router) {
  std::map<std::string, int> counts;
  for (const auto& a : read_json_lines(router.dir() / "alerts.jsonl")) {
    ++counts[a["fingerprint"].get<std::string>()];
  }
  return counts;
}

std::size_t notified_lines(const tocsin_daemon& router) {
  return read_json_lines(router.dir() / "alerts.jsonl").size();
}

bool wait_for_distinct(const tocsin_daemon& router, std::size_t n) {
  return wait_until([&] { return notified(router).size() >= n; }, bus_patience);
}

// Alert "burst 0" end to end, so both sides are connected and the router has joined its group
// before a test takes the broker away (an outage of a running system, not of one starting up).
void warm_up(const tocsin_daemon& collector, const tocsin_daemon& router) {
  ASSERT_TRUE(send_bursts(collector, 0, 1));
  ASSERT_TRUE(wait_for_distinct(router, 1)) << "the first alert did not reach the router";
}

TEST(kafka_bus, collector_publishes_to_the_topic_and_the_router_writes_the_alert) {
  const auto kafka = start_kafka();
  tocsin_daemon router(router_options(*kafka));
  tocsin_daemon collector(collector_options(*kafka));

  const auto r = run_command({find_program("logger").string(), "-n", "127.0.0.1", "-P",
                              std::to_string(collector.syslog_port()), "-T", "--rfc5424", "-t",
                              "app", "burst 7"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  ASSERT_TRUE(wait_for_distinct(router, 1));
  const auto alerts = read_json_lines(router.dir() / "alerts.jsonl");
  ASSERT_EQ(alerts.size(), 1U);
  EXPECT_EQ(alerts[0]["labels"]["alertname"], "burst");
  EXPECT_EQ(alerts[0]["labels"]["n"], "7");
  EXPECT_EQ(alerts[0]["status"], "firing");
  const std::string fingerprint = alerts[0]["fingerprint"];

  // What any Kafka consumer sees on the topic.
  const auto records = kcat_read(kafka->bootstraps(), "tocsin.alerts");
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].key, fingerprint);
  const auto value = json::parse(records[0].value);
  EXPECT_EQ(value["labels"]["alertname"], "burst");
  EXPECT_EQ(value["labels"]["n"], "7");
  EXPECT_EQ(value["fingerprint"], fingerprint);
  EXPECT_EQ(value["status"], "firing");
  const auto node = records[0].headers.find("tocsin-node");
  ASSERT_NE(node, records[0].headers.end());
  EXPECT_EQ(node->second, "collector-a");
  const auto schema = records[0].headers.find("tocsin-schema");
  ASSERT_NE(schema, records[0].headers.end());
  EXPECT_EQ(schema->second, "1");

  EXPECT_GE(collector.metric("tocsin_bus_published_total"), 1);
  EXPECT_GE(router.metric("tocsin_bus_consumed_total"), 1);
  EXPECT_EQ(collector.stop(), 0);
  EXPECT_EQ(router.stop(), 0);
}

TEST(kafka_bus, a_short_broker_outage_during_a_burst_loses_nothing) {
  const auto kafka = start_kafka();
  tocsin_daemon router(router_options(*kafka));
  tocsin_daemon collector(collector_options(*kafka, 30000));
  ASSERT_NO_FATAL_FAILURE(warm_up(collector, router));

  ASSERT_TRUE(send_bursts(collector, 1, burst_size / 2 - 1));
  kafka->set_down(broker);
  ASSERT_TRUE(send_bursts(collector, burst_size / 2, burst_size / 2));
  std::this_thread::sleep_for(2s);  // the outage, well inside message.timeout.ms
  kafka->set_up(broker);

  ASSERT_TRUE(wait_for_distinct(router, burst_size))
      << notified(router).size() << " of " << burst_size;
  EXPECT_EQ(notified(router).size(), static_cast<std::size_t>(burst_size));
  EXPECT_EQ(notified_lines(router), static_cast<std::size_t>(burst_size)) << "duplicates";
}

TEST(kafka_bus, an_outage_past_the_message_timeout_spools_to_disk_and_drains) {
  const auto kafka = start_kafka();
  tocsin_daemon router(router_options(*kafka));
  tocsin_daemon collector(collector_options(*kafka, 1500));
  const auto spool_dir = collector.dir() / "lib/spool";
  ASSERT_NO_FATAL_FAILURE(warm_up(collector, router));

  kafka->set_down(broker);
  ASSERT_TRUE(send_bursts(collector, 1, burst_size - 1));
  ASSERT_TRUE(collector.wait_for_metric(
      "tocsin_spool_records", {}, [](double v) { return v > 0; }, bus_patience));
  EXPECT_FALSE(find_files(spool_dir, ".seg").empty());
  EXPECT_GT(collector.metric("tocsin_spool_bytes"), 0);

  kafka->set_up(broker);
  ASSERT_TRUE(wait_for_distinct(router, burst_size))
      << notified(router).size() << " of " << burst_size;
  EXPECT_EQ(notified_lines(router), static_cast<std::size_t>(burst_size)) << "duplicates";
  EXPECT_TRUE(collector.wait_for_metric(
      "tocsin_spool_records", {}, [](double v) { return v == 0; }, bus_patience))
      << collector.metric("tocsin_spool_records") << " records left in the spool";
}

TEST(kafka_bus, the_spool_survives_kill_9_of_the_collector) {
  const auto kafka = start_kafka();
  tocsin_daemon router(router_options(*kafka));
  tocsin_daemon collector(collector_options(*kafka, 1500));
  ASSERT_NO_FATAL_FAILURE(warm_up(collector, router));

  kafka->set_down(broker);
  ASSERT_TRUE(send_bursts(collector, 1, burst_size - 1));
  // Every alert has timed out of librdkafka's memory into the spool: from here on the spool is
  // the only copy (the restarted rules engine knows nothing).
  ASSERT_TRUE(collector.wait_for_metric(
      "tocsin_spool_records", {}, [](double v) { return v >= burst_size - 1; }, bus_patience))
      << collector.metric("tocsin_spool_records") << " records in the spool";

  EXPECT_EQ(collector.kill9(), 137);
  collector.restart();  // the broker is still down
  EXPECT_TRUE(collector.wait_for_metric(
      "tocsin_spool_records", {}, [](double v) { return v >= burst_size - 1; }, bus_patience))
      << "after the restart the spool holds " << collector.metric("tocsin_spool_records");

  kafka->set_up(broker);
  ASSERT_TRUE(wait_for_distinct(router, burst_size))
      << notified(router).size() << " of " << burst_size;
  EXPECT_EQ(notified_lines(router), static_cast<std::size_t>(burst_size)) << "duplicates";
  EXPECT_TRUE(collector.wait_for_metric(
      "tocsin_spool_records", {}, [](double v) { return v == 0; }, bus_patience))
      << collector.metric("tocsin_spool_records") << " records left in the spool";
}

TEST(kafka_bus, router_killed_mid_stream_resumes_without_repeating_alerts) {
  const auto kafka = start_kafka();
  tocsin_daemon router(router_options(*kafka));
  tocsin_daemon collector(collector_options(*kafka));
  ASSERT_NO_FATAL_FAILURE(warm_up(collector, router));

  // ~3 s of alerts, so the router is killed while they flow.
  std::atomic<bool> sent{false};
  std::thread sender([&] { sent = send_bursts(collector, 1, burst_size - 1, 15ms); });
  const bool some = wait_until([&] { return notified_lines(router) >= 60; }, bus_patience);
  EXPECT_EQ(router.kill9(), 137);
  sender.join();
  ASSERT_TRUE(sent);
  ASSERT_TRUE(some) << "the router wrote " << notified_lines(router) << " alerts";
  EXPECT_LT(notified_lines(router), static_cast<std::size_t>(burst_size)) << "not mid-stream";

  // The mock cluster cannot look offsets up by time, so the restarted router starts at the end
  // of the alerts topic here (a real broker rebuilds from rebuild_window ago, see
  // kafka_real.a_router_started_later_rebuilds_the_alerts_of_its_rebuild_window): what it missed
  // arrives with the collector's once-a-minute re-send of firing alerts.
  router.restart();
  ASSERT_TRUE(wait_for_distinct(router, burst_size))
      << notified(router).size() << " of " << burst_size;
  // Kafka redelivers what was consumed but not committed; the notification log drops all of it
  // except, at most, the one alert written at the instant of the kill.
  const auto counts = notified(router);
  int duplicates = 0;
  for (const auto& [fingerprint, count] : counts) {
    EXPECT_LE(count, 2) << fingerprint;
    duplicates += count - 1;
  }
  EXPECT_LE(duplicates, 1);
  EXPECT_GT(router.metric("tocsin_bus_consumed_total"), 0);
}

TEST(kafka_bus, raw_logs_go_to_their_topic_keyed_by_host) {
  const auto kafka = start_kafka();
  kafka->create_topic("tocsin.logs", 1);
  daemon_options options;
  options.command = "collector";
  options.extra_outputs = "  - { type: kafka, topic: tocsin.logs }\n";
  options.extra_config = "node_name: collector-a\n" + bus_yaml(*kafka, 30000);
  tocsin_daemon collector(options);

  const std::string text = "raw log to kafka " + std::to_string(::getpid());
  const auto r = run_command({find_program("logger").string(), "-n", "127.0.0.1", "-P",
                              std::to_string(collector.syslog_port()), "-T", "--rfc5424", "-t",
                              "rawapp", text});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;

  std::optional<kafka_record> found;
  wait_until(
      [&] {
        for (auto& rec : kcat_read(kafka->bootstraps(), "tocsin.logs")) {
          const auto ev = json::parse(rec.value, nullptr, false);
          if (ev.is_object() && text_field(ev, "message") == text) found = std::move(rec);
        }
        return found.has_value();
      },
      bus_patience);
  ASSERT_TRUE(found) << "no event with message '" << text << "' on tocsin.logs";
  const auto ev = json::parse(found->value);
  EXPECT_EQ(text_field(ev, "app"), "rawapp");
  EXPECT_FALSE(text_field(ev, "host").empty());
  EXPECT_EQ(text_field(ev, "host").rfind(short_hostname(), 0), 0U) << ev.dump();
  EXPECT_EQ(found->key, text_field(ev, "host"));
  EXPECT_EQ(collector.stop(), 0);
}

TEST(kafka_bus, check_config_names_a_bad_kafka_property_with_its_position) {
  temp_dir dir("tocsin-it");
  const std::string good =
      "node_name: n1\n"
      "data_dir: " +
      (dir / "lib").string() +
      "\n"
      "bus:\n"
      "  type: kafka\n"
      "  kafka:\n"
      "    brokers: \"127.0.0.1:9092\"\n"
      "    properties:\n"
      "      message.timeout.ms: \"2000\"\n";
  const auto check = [&](const std::string& yaml) {
    const auto path = dir.write_file("tocsin.yaml", yaml);
    return run_command({tocsin_binary().string(), "check-config", "-c", path.string()});
  };

  const auto ok = check(good);
  EXPECT_EQ(ok.exit_code, 0) << ok.stderr_text;

  // Line 9, column 7: the key of the bad property.
  const auto bad = check(good + "      \"no.such.property\": \"1\"\n");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.stderr_text.find("tocsin.yaml:9:7: bus.kafka.properties.no.such.property"),
            std::string::npos)
      << bad.stderr_text;
  EXPECT_EQ(bad.stderr_text.find("message.timeout.ms"), std::string::npos) << bad.stderr_text;
}

}  // namespace
}  // namespace tocsin::test
