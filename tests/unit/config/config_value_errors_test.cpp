// Values of the wrong kind or out of range in each section of the config, one case each: every
// problem is reported at the offending value with its path, and the rest of the file still loads.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "tests/support/config_errors.hpp"
#include "tests/support/temp_dir.hpp"

namespace tocsin::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

struct bad_value {
  const char* name;
  std::string yaml;
  std::vector<std::string> errors;
};

void PrintTo(const bad_value& c, std::ostream* os) { *os << c.name; }

class config_value_errors : public ::testing::TestWithParam<bad_value> {};

TEST_P(config_value_errors, are_reported_at_the_value) {
  EXPECT_EQ(test::errors_of(load_string, GetParam().yaml), GetParam().errors);
}

const std::string syslog_tls_input =
    "inputs:\n"
    "  - name: s\n"
    "    type: syslog\n"
    "    transport: tls\n"
    "    listen: 127.0.0.1:0\n";

INSTANTIATE_TEST_SUITE_P(
    top_level, config_value_errors,
    ::testing::Values(
        bad_value{"node_name_list",
                  "node_name: [a]\n",
                  {"t.yaml:1:12: node_name: expected a string, got a list"}},
        bad_value{"data_dir_empty", "data_dir: ''\n", {"t.yaml:1:11: data_dir: must not be empty"}},
        bad_value{"shutdown_timeout_bad",
                  "shutdown_timeout: forever\n",
                  {"t.yaml:1:19: shutdown_timeout: invalid duration 'forever': expected a number"}},
        bad_value{"inputs_mapping",
                  "inputs: {a: b}\n",
                  {"t.yaml:1:9: inputs: expected a list, got a mapping"}},
        bad_value{"outputs_scalar",
                  "outputs: file\n",
                  {"t.yaml:1:10: outputs: expected a list, got 'file'"}},
        bad_value{"inhibit_rules_scalar",
                  "inhibit_rules: x\n",
                  {"t.yaml:1:16: inhibit_rules: expected a list, got 'x'"}},
        bad_value{"receivers_scalar",
                  "receivers: x\n",
                  {"t.yaml:1:12: receivers: expected a list, got 'x'"}},
        bad_value{"rules_files_item",
                  "rules_files: [[a]]\n",
                  {"t.yaml:1:15: rules_files[0]: expected a string, got a list"}},
        bad_value{"router_scalar",
                  "router: big\n",
                  {"t.yaml:1:9: router: expected a mapping, got 'big'"}},
        bad_value{"router_max_alerts_zero",
                  "router: {max_alerts: 0}\n",
                  {"t.yaml:1:22: router.max_alerts: expected a positive integer, got '0'"}},
        bad_value{
            "limits_list", "limits: [1]\n", {"t.yaml:1:9: limits: expected a mapping, got a list"}},
        bad_value{"limits_max_connections_text",
                  "limits: {max_connections: many}\n",
                  {"t.yaml:1:27: limits.max_connections: expected a positive integer, got "
                   "'many'"}},
        bad_value{"limits_idle_timeout_bad",
                  "limits: {idle_timeout: 5 minutes}\n",
                  {"t.yaml:1:24: limits.idle_timeout: invalid duration '5 minutes': expected a "
                   "unit (ms, s, m, h, d, w or y)"}},
        bad_value{"limits_max_message_bytes_huge",
                  "limits: {max_message_bytes: 2147483648}\n",
                  {"t.yaml:1:29: limits.max_message_bytes: '2147483648' is too large (at most "
                   "1073741824)"}},
        bad_value{"limits_gelf_chunk_bytes_zero",
                  "limits: {gelf_chunk_bytes_per_source: 0}\n",
                  {"t.yaml:1:39: limits.gelf_chunk_bytes_per_source: expected a positive "
                   "integer, got '0'"}},
        bad_value{"limits_per_source_text",
                  "limits: {per_source_rate: x, max_connections_per_source: -1}\n",
                  {"t.yaml:1:27: limits.per_source_rate: expected a non-negative integer, got "
                   "'x'",
                   "t.yaml:1:58: limits.max_connections_per_source: expected a non-negative "
                   "integer, got '-1'"}}),
    [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    inputs, config_value_errors,
    ::testing::Values(
        bad_value{"input_scalar",
                  "inputs: [x]\n",
                  {"t.yaml:1:10: inputs[0]: expected a mapping, got 'x'"}},
        bad_value{"input_name_list",
                  "inputs:\n  - {name: [a], type: syslog, transport: udp, listen: "
                  "127.0.0.1:0}\n",
                  {"t.yaml:2:12: inputs[0].name: expected a string, got a list"}},
        bad_value{"proxy_protocol_not_a_flag",
                  "inputs:\n  - {name: a, type: syslog, transport: tcp, listen: 127.0.0.1:0, "
                  "proxy_protocol: yes please}\n",
                  {"t.yaml:2:82: inputs[0].proxy_protocol: expected true or false, got 'yes "
                   "please'"}},
        bad_value{"timezone_list",
                  "inputs:\n  - {name: a, type: syslog, transport: udp, listen: 127.0.0.1:0, "
                  "timezone: [UTC]}\n",
                  {"t.yaml:2:76: inputs[0].timezone: expected a string, got a list"}},
        bad_value{"timezone_signed_minutes",
                  "inputs:\n  - {name: a, type: syslog, transport: udp, listen: 127.0.0.1:0, "
                  "timezone: '+01:-1'}\n",
                  {"t.yaml:2:76: inputs[0].timezone: unknown time zone '+01:-1'; expected local, "
                   "UTC, an offset such as +02:00 or an IANA name such as Europe/Berlin"}},
        bad_value{"tls_section_list",
                  syslog_tls_input + "    tls: [a]\n",
                  {"t.yaml:6:10: inputs[0].tls: expected a mapping, got a list"}},
        bad_value{"tls_values_of_the_wrong_kind",
                  syslog_tls_input + "    tls: {cert: [c], key: [k], ca: [a], client_auth: always, "
                                     "permitted_peers: x}\n",
                  {"t.yaml:6:17: inputs[0].tls.cert: expected a string, got a list",
                   "t.yaml:6:27: inputs[0].tls.key: expected a string, got a list",
                   "t.yaml:6:36: inputs[0].tls.ca: expected a string, got a list",
                   "t.yaml:6:54: inputs[0].tls.client_auth: invalid value 'always'; expected one "
                   "of none, optional, required",
                   "t.yaml:6:79: inputs[0].tls.permitted_peers: expected a list, got 'x'"}},
        bad_value{"tls_permitted_peers_without_client_auth",
                  syslog_tls_input + "    tls: {cert: c, key: k, permitted_peers: [a.example]}\n",
                  {"t.yaml:6:28: inputs[0].tls.permitted_peers: needs client_auth: optional or "
                   "required"}},
        bad_value{"listen_without_name_is_named_by_path",
                  "inputs:\n"
                  "  - {type: syslog, transport: udp, listen: 127.0.0.1:5514}\n"
                  "  - {name: b, type: syslog, transport: udp, listen: 127.0.0.1:5514}\n",
                  {"t.yaml:2:5: missing required key 'name' in inputs[0]",
                   "t.yaml:3:53: inputs[1].listen: 127.0.0.1:5514/udp is already used by input "
                   "'inputs[0]' (line 2)"}}),
    [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    outputs, config_value_errors,
    ::testing::Values(
        bad_value{"output_path_list",
                  "outputs:\n  - {type: file, path: [a]}\n",
                  {"t.yaml:2:24: outputs[0].path: expected a string, got a list"}},
        bad_value{"output_unclosed_placeholder",
                  "outputs:\n  - {type: file, path: 'logs/{host'}\n",
                  {"t.yaml:2:24: outputs[0].path: unknown placeholder '{host'; expected {host}, "
                   "{app} or {date}; did you mean 'host'?"}},
        bad_value{"file_output_with_topic",
                  "outputs:\n  - {type: file, path: a.log, topic: t}\n",
                  {"t.yaml:2:31: outputs[0].topic: only kafka outputs have a topic"}},
        bad_value{"kafka_output_bad_topic",
                  "bus: {type: kafka, kafka: {brokers: '127.0.0.1:9092'}}\n"
                  "outputs:\n  - {type: kafka, topic: 'logs/all'}\n",
                  {"t.yaml:3:26: outputs[0].topic: invalid Kafka topic 'logs/all' (letters, "
                   "digits, '.', '_', '-')"}},
        bad_value{"kafka_output_topic_dots",
                  "bus: {type: kafka, kafka: {brokers: '127.0.0.1:9092'}}\n"
                  "outputs:\n  - {type: kafka, topic: '..'}\n",
                  {"t.yaml:3:26: outputs[0].topic: invalid Kafka topic '..' (letters, digits, "
                   "'.', '_', '-')"}},
        bad_value{"kafka_output_with_file_keys",
                  "bus: {type: kafka, kafka: {brokers: '127.0.0.1:9092'}}\n"
                  "outputs:\n  - {type: kafka, topic: t, max_open_files: 5, "
                  "max_new_paths_per_minute: 5}\n",
                  {"t.yaml:3:29: outputs[0].max_open_files: only file outputs have "
                   "max_open_files",
                   "t.yaml:3:48: outputs[0].max_new_paths_per_minute: only file outputs have "
                   "max_new_paths_per_minute"}},
        bad_value{"file_output_limits_out_of_range",
                  "outputs:\n  - {type: file, path: a.log, max_open_files: 0, "
                  "max_new_paths_per_minute: 100000001}\n",
                  {"t.yaml:2:47: outputs[0].max_open_files: expected a positive integer, got "
                   "'0'",
                   "t.yaml:2:76: outputs[0].max_new_paths_per_minute: '100000001' is too large "
                   "(at most 100000000)"}}),
    [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    admin_and_bus, config_value_errors,
    ::testing::Values(
        bad_value{
            "admin_scalar", "admin: on\n", {"t.yaml:1:8: admin: expected a mapping, got 'on'"}},
        bad_value{"admin_values_of_the_wrong_kind",
                  "admin: {listen: nowhere, token_file: [t], insecure: maybe, max_connections: "
                  "0}\n",
                  {"t.yaml:1:17: admin.listen: invalid endpoint 'nowhere': missing port",
                   "t.yaml:1:38: admin.token_file: expected a string, got a list",
                   "t.yaml:1:53: admin.insecure: expected true or false, got 'maybe'",
                   "t.yaml:1:77: admin.max_connections: expected a positive integer, got '0'"}},
        bad_value{"admin_on_a_public_address_without_listen_key_is_reported_at_admin",
                  "admin: {max_connections: 5}\ninputs:\n  - {name: a, type: syslog, transport: "
                  "tcp, listen: '0.0.0.0:9095'}\n",
                  {"t.yaml:3:53: inputs[0].listen: 0.0.0.0:9095/tcp is already used by the "
                   "admin listener (line 1)"}},
        bad_value{
            "bus_scalar", "bus: kafka\n", {"t.yaml:1:6: bus: expected a mapping, got 'kafka'"}},
        bad_value{"bus_type_unknown",
                  "bus: {type: kafak}\n",
                  {"t.yaml:1:13: bus.type: invalid value 'kafak'; expected one of embedded, kafka; "
                   "did you mean 'kafka'?"}},
        bad_value{"bus_kafka_scalar",
                  "bus: {kafka: x}\n",
                  {"t.yaml:1:14: bus.kafka: expected a mapping, got 'x'"}},
        bad_value{"bus_kafka_scalar_with_type_kafka",
                  "bus: {type: kafka, kafka: x}\n",
                  {"t.yaml:1:27: bus.kafka: expected a mapping, got 'x'"}},
        bad_value{"bus_kafka_values_of_the_wrong_kind",
                  "bus:\n  kafka:\n    brokers: [b]\n    topic: 'a b'\n    group: ''\n"
                  "    properties: {[k]: v}\n    spool_max_bytes: 1024\n",
                  {"t.yaml:3:14: bus.kafka.brokers: expected a string, got a list",
                   "t.yaml:4:12: bus.kafka.topic: invalid Kafka topic 'a b' (letters, digits, "
                   "'.', '_', '-')",
                   "t.yaml:5:12: bus.kafka.group: must not be empty",
                   "t.yaml:6:18: bus.kafka.properties: expected a string key, got a list",
                   "t.yaml:7:22: bus.kafka.spool_max_bytes: '1024' is too small (at least "
                   "1048576)"}},
        bad_value{"bus_kafka_topic_list",
                  "bus: {kafka: {topic: [t]}}\n",
                  {"t.yaml:1:22: bus.kafka.topic: expected a string, got a list"}}),
    [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    routes_and_inhibit_rules, config_value_errors,
    ::testing::Values(
        bad_value{
            "route_list", "route: [a]\n", {"t.yaml:1:8: route: expected a mapping, got a list"}},
        bad_value{"route_receiver_list",
                  "route: {receiver: [a]}\n",
                  {"t.yaml:1:19: route.receiver: expected a string, got a list"}},
        bad_value{"child_route_null",
                  "receivers: [{name: r}]\nroute:\n  receiver: r\n  routes:\n    - \n",
                  {"t.yaml:5:5: route.routes[0]: expected a mapping, got nothing"}},
        bad_value{"group_by_scalar",
                  "receivers: [{name: r}]\nroute: {receiver: r, group_by: alertname}\n",
                  {"t.yaml:2:32: route.group_by: expected a list, got 'alertname'"}},
        bad_value{"match_keys_that_are_not_label_names",
                  "receivers: [{name: r}]\nroute:\n  receiver: r\n  routes:\n"
                  "    - receiver: r\n      match: {[a]: b, 0bad: c, ok: [x]}\n"
                  "      match_re: {ok: 'a.*', ok: 'b'}\n",
                  {"t.yaml:6:15: route.routes[0].match: expected a label name, got a list",
                   "t.yaml:6:23: route.routes[0].match: invalid label name '0bad'",
                   "t.yaml:6:36: route.routes[0].match.ok: expected a string, got a list",
                   "t.yaml:7:29: route.routes[0].match_re: duplicate label 'ok'"}},
        bad_value{"matchers_item_list",
                  "receivers: [{name: r}]\nroute:\n  receiver: r\n  routes:\n"
                  "    - receiver: r\n      matchers: [[a]]\n",
                  {"t.yaml:6:18: route.routes[0].matchers[0]: expected a string, got a list"}},
        bad_value{"matchers_scalar",
                  "receivers: [{name: r}]\nroute:\n  receiver: r\n  routes:\n"
                  "    - receiver: r\n      matchers: 'a=b'\n",
                  {"t.yaml:6:17: route.routes[0].matchers: expected a list, got 'a=b'"}},
        bad_value{"inhibit_rule_scalar",
                  "inhibit_rules: [x]\n",
                  {"t.yaml:1:17: inhibit_rules[0]: expected a mapping, got 'x'"}},
        bad_value{"inhibit_rule_equal_scalar",
                  "inhibit_rules:\n  - {source_match: {a: b}, target_match: {c: d}, equal: x}\n",
                  {"t.yaml:2:57: inhibit_rules[0].equal: expected a list, got 'x'"}},
        bad_value{"inhibit_rule_source_match_re_bad_key",
                  "inhibit_rules:\n  - {source_match_re: {'a-b': x}, target_match: {c: d}}\n",
                  {"t.yaml:2:24: inhibit_rules[0].source_match_re: invalid label name 'a-b'"}}),
    [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    receivers, config_value_errors,
    ::testing::Values(bad_value{"receiver_scalar",
                                "receivers: [x]\n",
                                {"t.yaml:1:13: receivers[0]: expected a mapping, got 'x'"}},
                      bad_value{"receiver_name_list",
                                "receivers: [{name: [r]}]\n",
                                {"t.yaml:1:20: receivers[0].name: expected a string, got a list"}},
                      bad_value{"receiver_with_a_merge_key",
                                "base: &b {webhook: {url: 'http://127.0.0.1/'}}\n"
                                "receivers:\n  - name: r\n    <<: *b\n",
                                {"t.yaml:1:1: unknown key 'base'",
                                 "t.yaml:4:5: receivers[0]: YAML merge keys ('<<') are not "
                                 "supported"}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(config_inhibit_rules, target_match_and_source_match_re_are_read_in_order) {
  const config cfg = load_string(
      "inhibit_rules:\n"
      "  - source_match_re: {severity: 'crit.*'}\n"
      "    target_match: {severity: warning}\n"
      "    equal: [alertname]\n",
      "t.yaml");
  ASSERT_EQ(cfg.inhibit_rules.size(), 1u);
  EXPECT_THAT(cfg.inhibit_rules[0].source_matchers, ElementsAre("severity=~\"^(?:crit.*)$\""));
  EXPECT_THAT(cfg.inhibit_rules[0].target_matchers, ElementsAre("severity=\"warning\""));
  EXPECT_THAT(cfg.inhibit_rules[0].equal, ElementsAre("alertname"));
}

TEST(config_values, shutdown_timeout_and_file_output_limits_are_read) {
  const config cfg = load_string(
      "shutdown_timeout: 1m\n"
      "outputs:\n  - {type: file, path: '{host}.log', max_open_files: 7, "
      "max_new_paths_per_minute: 9}\n",
      "t.yaml");
  EXPECT_EQ(cfg.shutdown_timeout, std::chrono::minutes(1));
  ASSERT_EQ(cfg.outputs.size(), 1u);
  EXPECT_EQ(cfg.outputs[0].max_open_files, 7u);
  EXPECT_EQ(cfg.outputs[0].max_new_paths_per_minute, 9u);
}

TEST(config_values, an_ipv4_wildcard_does_not_collide_with_an_ipv6_literal) {
  const config cfg = load_string(
      "inputs:\n"
      "  - {name: a, type: syslog, transport: udp, listen: '0.0.0.0:5514'}\n"
      "  - {name: b, type: syslog, transport: udp, listen: '[::1]:5514'}\n"
      "  - {name: c, type: gelf, transport: udp, listen: '[::1]:5515'}\n"
      "  - {name: d, type: gelf, transport: udp, listen: '0.0.0.0:5515'}\n",
      "t.yaml");
  EXPECT_EQ(cfg.inputs.size(), 4u);
  EXPECT_THAT(test::errors_of(load_string,
                              "inputs:\n"
                              "  - {name: a, type: syslog, transport: udp, listen: '[::]:5514'}\n"
                              "  - {name: b, type: syslog, transport: udp, listen: "
                              "'127.0.0.1:5514'}\n"),
              ElementsAre("t.yaml:3:53: inputs[1].listen: 127.0.0.1:5514/udp is already used by "
                          "input 'a' (line 2)"));
}

TEST(config_values, admin_on_loopback_forms_needs_no_token) {
  for (const char* host :
       {"'[::ffff:127.0.0.1]:9095'", "'[::1]:9095'", "'localhost:9095'", "'127.1.2.3:9095'"}) {
    EXPECT_THAT(test::errors_of(load_string, std::string("admin: {listen: ") + host + "}\n"),
                IsEmpty())
        << host;
  }
  for (const char* host : {"'[::ffff:10.0.0.1]:9095'", "'[::2]:9095'", "'[fe80::1]:9095'"}) {
    EXPECT_EQ(test::errors_of(load_string, std::string("admin: {listen: ") + host + "}\n").size(),
              1u)
        << host;
  }
}

TEST(location_prefix, is_empty_without_a_file) {
  EXPECT_EQ(location_prefix({"", 3, 4}), "");
  EXPECT_EQ(location_prefix({"a.yaml", 3, 4}), "a.yaml:3:4: ");
}

TEST(load_file_with_errors, reads_the_file_and_keeps_going_after_errors) {
  test::temp_dir dir;
  const auto file = dir.path() / "tocsin.yaml";
  std::ofstream(file) << "node_name: n1\nlimits: {burst: 5}\n";
  const loaded out = load_file_with_errors(file);
  EXPECT_EQ(out.cfg.node_name, "n1");
  EXPECT_EQ(out.cfg.file, file);
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_EQ(out.errors[0], file.string() +
                               ":2:10: limits.burst: needs per_source_rate (a bucket size without "
                               "a rate)");
  EXPECT_THROW(load_file_with_errors(dir.path() / "missing.yaml"), config_error);
}

}  // namespace
}  // namespace tocsin::config
