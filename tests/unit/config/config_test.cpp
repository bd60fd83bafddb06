#include "config/config.hpp"
#include "config/section_reader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/config_errors.hpp"

namespace tocsin::config {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

std::string hostname() {
  char buffer[256] = {};
  ::gethostname(buffer, sizeof(buffer) - 1);
  return buffer;
}

TEST(config_example, shipped_example_loads) {
  const std::filesystem::path file =
      std::filesystem::path(TOCSIN_SOURCE_DIR) / "config/examples/tocsin.yaml";
  config cfg;
  ASSERT_NO_THROW(cfg = load_file(file)) << [&] {
    try {
      load_file(file);
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string();
  }();
  EXPECT_EQ(cfg.file, file);
  EXPECT_EQ(cfg.node_name, hostname());
  EXPECT_EQ(cfg.data_dir, "./var/lib");
  ASSERT_TRUE(cfg.admin.has_value());
  EXPECT_EQ(to_string(cfg.admin->listen), "127.0.0.1:9095");

  struct expected_input {
    std::string name;
    input_type type;
    transport transport_kind;
    std::string listen;
  };
  const std::vector<expected_input> inputs = {
      {"syslog-udp", input_type::syslog, transport::udp, "0.0.0.0:5514"},
      {"syslog-tcp", input_type::syslog, transport::tcp, "0.0.0.0:5514"},
      {"gelf-udp", input_type::gelf, transport::udp, "0.0.0.0:12201"},
      {"gelf-tcp", input_type::gelf, transport::tcp, "0.0.0.0:12201"},
  };
  ASSERT_EQ(cfg.inputs.size(), inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    SCOPED_TRACE(inputs[i].name);
    EXPECT_EQ(cfg.inputs[i].name, inputs[i].name);
    EXPECT_EQ(cfg.inputs[i].type, inputs[i].type);
    EXPECT_EQ(cfg.inputs[i].transport_kind, inputs[i].transport_kind);
    EXPECT_EQ(to_string(cfg.inputs[i].listen), inputs[i].listen);
    EXPECT_EQ(cfg.inputs[i].format, syslog_format::auto_detect);
    EXPECT_EQ(cfg.inputs[i].timezone, "local");
    EXPECT_FALSE(cfg.inputs[i].tls.has_value());
  }
  EXPECT_EQ(cfg.limits.max_message_bytes, 65536u);
  EXPECT_EQ(cfg.limits.max_connections, 1024u);
  EXPECT_EQ(cfg.limits.idle_timeout, std::chrono::minutes(5));
  ASSERT_EQ(cfg.outputs.size(), 1u);
  EXPECT_EQ(cfg.outputs[0].type, output_type::file);
  EXPECT_EQ(cfg.outputs[0].path, "./var/log/{host}/{app}.log");
  EXPECT_EQ(cfg.bus.type, "embedded");
  EXPECT_THAT(cfg.rules_files, ElementsAre("rules/*.yaml"));
  ASSERT_TRUE(cfg.route.has_value());
  EXPECT_EQ(cfg.route->receiver, "audit");
  ASSERT_EQ(cfg.receivers.size(), 1u);
  EXPECT_EQ(cfg.receivers[0].name, "audit");
  EXPECT_EQ(cfg.receivers[0].integration, "file");
  EXPECT_NE(cfg.receivers[0].section, nullptr);

  // The rules file the example points at holds DESIGN.md's three rules and two more.
  const YAML::Node rules =
      YAML::LoadFile(std::string(TOCSIN_SOURCE_DIR) + "/config/examples/rules/example.yaml");
  ASSERT_TRUE(rules["rules"].IsSequence());
  std::vector<std::string> names;
  for (const auto& rule : rules["rules"]) names.push_back(rule["name"].as<std::string>());
  EXPECT_THAT(names, ElementsAre("ssh-bruteforce", "disk-full", "nginx-silent", "oom-kill",
                                 "kernel-io-error"));
}

// DESIGN.md's "Config (YAML, v1 schema)" example, verbatim.
constexpr const char* kDesignExample = R"yaml(
node_name: tocsin-1
data_dir: ./var/lib                 # router state (SQLite), Kafka spool
admin: { listen: 127.0.0.1:9095 }  # /metrics /healthz /readyz /-/reload /api/v2/*
inputs:
  - { name: syslog-udp, type: syslog, transport: udp, listen: 0.0.0.0:5514 }
  - { name: syslog-tcp, type: syslog, transport: tcp, listen: 0.0.0.0:5514 }   # LF and octet-counted, per frame
  - { name: syslog-tls, type: syslog, transport: tls, listen: 0.0.0.0:6514,
      tls: { cert: ..., key: ..., ca: ..., client_auth: required, permitted_peers: ["*.example.com"] } }
  - { name: syslog-relp, type: syslog, transport: relp, listen: 0.0.0.0:2514 } # rsyslog omrelp; acked once written
  - { name: gelf-udp, type: gelf, transport: udp, listen: 0.0.0.0:12201 }      # chunked, zlib, gzip
  - { name: gelf-tcp, type: gelf, transport: tcp, listen: 0.0.0.0:12201 }      # NUL-delimited
  - { name: gelf-http, type: gelf, transport: http, listen: 0.0.0.0:12202 }    # POST /gelf
limits: { max_message_bytes: 65536, max_connections: 1024, idle_timeout: 5m }
outputs:
  - { type: file, path: "./var/log/{host}/{app}.log" }   # JSON lines; reopened on SIGHUP
  - { type: kafka, topic: tocsin.logs }
bus:
  type: embedded                     # or kafka
  kafka: { brokers: "k1:9092,k2:9092", topic: tocsin.alerts, group: tocsin-router,
           properties: { security.protocol: SASL_SSL } }   # passed through to librdkafka
rules_files: ["rules/*.yaml"]        # relative to this file
route:
  receiver: oncall-email
  group_by: [alertname, host]
  group_wait: 10s
  group_interval: 1m
  repeat_interval: 4h
  routes:
    - { matchers: ['severity="critical"'], receiver: slack-ops, continue: true }
inhibit_rules:
  - { source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: [host] }
receivers:
  - name: slack-ops
    slack: { webhook_url: "https://hooks.slack.com/services/...", channel: "#ops", send_resolved: true }
  - name: oncall-email
    email: { smarthost: "smtp.example.com:587", from: "tocsin@example.com", to: ["oncall@example.com"],
             require_tls: true, auth: { username: tocsin, password_file: /etc/tocsin/smtp.pass } }
  - name: hook
    webhook: { url: "http://127.0.0.1:8080/alerts", max_alerts: 0 }   # Alertmanager webhook v4 body
  - name: pd
    pagerduty: { routing_key_file: /etc/tocsin/pd.key }                 # Events API v2, dedup_key = group key
  - name: audit
    file: { path: ./var/alerts.jsonl }     # one Alert JSON per line for each alert in each notification
  - name: drop                             # a receiver with no integration discards
)yaml";

TEST(config_example, design_example_loads) {
  config cfg;
  try {
    cfg = load_string(kDesignExample, "design.yaml");
  } catch (const config_error& e) {
    FAIL() << e.what();
  }
  EXPECT_EQ(cfg.file, "design.yaml");
  EXPECT_EQ(cfg.node_name, "tocsin-1");
  ASSERT_TRUE(cfg.admin.has_value());
  EXPECT_EQ(cfg.admin->listen.host, "127.0.0.1");
  EXPECT_EQ(cfg.admin->listen.port, 9095);

  ASSERT_EQ(cfg.inputs.size(), 7u);
  EXPECT_EQ(cfg.inputs[2].name, "syslog-tls");
  EXPECT_EQ(cfg.inputs[2].transport_kind, transport::tls);
  ASSERT_TRUE(cfg.inputs[2].tls.has_value());
  EXPECT_EQ(cfg.inputs[2].tls->cert, "...");
  EXPECT_EQ(cfg.inputs[2].tls->client_auth, "required");
  EXPECT_THAT(cfg.inputs[2].tls->permitted_peers, ElementsAre("*.example.com"));
  EXPECT_EQ(cfg.inputs[2].where.line, 8);
  EXPECT_EQ(cfg.inputs[2].where.column, 5);
  EXPECT_EQ(cfg.inputs[2].where.file, "design.yaml");
  EXPECT_EQ(cfg.inputs[3].name, "syslog-relp");
  EXPECT_EQ(cfg.inputs[3].transport_kind, transport::relp);
  EXPECT_FALSE(cfg.inputs[3].tls.has_value());
  EXPECT_EQ(cfg.inputs[6].transport_kind, transport::http);
  EXPECT_EQ(cfg.inputs[6].type, input_type::gelf);

  EXPECT_EQ(cfg.limits.idle_timeout, std::chrono::minutes(5));
  ASSERT_EQ(cfg.outputs.size(), 2u);
  EXPECT_EQ(cfg.outputs[1].type, output_type::kafka);
  EXPECT_EQ(cfg.outputs[1].topic, "tocsin.logs");
  EXPECT_EQ(cfg.bus.type, "embedded");
  EXPECT_EQ(cfg.bus.kafka.brokers, "k1:9092,k2:9092");
  EXPECT_EQ(cfg.bus.kafka.properties.at("security.protocol"), "SASL_SSL");

  ASSERT_TRUE(cfg.route.has_value());
  EXPECT_EQ(cfg.route->receiver, "oncall-email");
  EXPECT_EQ(cfg.route->group_by, (std::vector<std::string>{"alertname", "host"}));
  EXPECT_EQ(cfg.route->group_wait, std::chrono::seconds(10));
  EXPECT_EQ(cfg.route->group_interval, std::chrono::minutes(1));
  EXPECT_EQ(cfg.route->repeat_interval, std::chrono::hours(4));
  ASSERT_EQ(cfg.route->routes.size(), 1u);
  EXPECT_THAT(cfg.route->routes[0].matchers, ElementsAre("severity=\"critical\""));
  EXPECT_EQ(cfg.route->routes[0].receiver, "slack-ops");
  EXPECT_TRUE(cfg.route->routes[0].continue_matching);
  EXPECT_FALSE(cfg.route->routes[0].group_wait.has_value());  // inherited

  ASSERT_EQ(cfg.inhibit_rules.size(), 1u);
  EXPECT_THAT(cfg.inhibit_rules[0].equal, ElementsAre("host"));

  // Each integration's section is kept as written for its notifier factory (sinks/), which
  // reads and checks it; tests/unit/sinks/notifier_settings_test.cpp reads these.
  struct expected_receiver {
    std::string name, integration;
    int integration_line = 0;
  };
  const std::vector<expected_receiver> receivers = {
      {"slack-ops", "slack", 35}, {"oncall-email", "email", 37}, {"hook", "webhook", 40},
      {"pd", "pagerduty", 42},    {"audit", "file", 44},         {"drop", "", 0},
  };
  ASSERT_EQ(cfg.receivers.size(), receivers.size());
  for (std::size_t i = 0; i < receivers.size(); ++i) {
    SCOPED_TRACE(receivers[i].name);
    EXPECT_EQ(cfg.receivers[i].name, receivers[i].name);
    EXPECT_EQ(cfg.receivers[i].integration, receivers[i].integration);
    EXPECT_EQ(cfg.receivers[i].section != nullptr, !receivers[i].integration.empty());
    if (cfg.receivers[i].section) {
      EXPECT_EQ(integration_where(cfg.receivers[i]).line, receivers[i].integration_line);
    }
  }
}

struct error_case {
  std::string name;
  std::string yaml;
  std::vector<std::string> errors;
};

// A syslog UDP input, as lines 2-5 of a file, that later lines can extend.
const std::string kInput =
    "inputs:\n"
    "  - name: a\n"
    "    type: syslog\n"
    "    transport: udp\n"
    "    listen: 0.0.0.0:1514\n";

const std::vector<error_case> kErrorCases = {
    // Syntax.
    {"yaml_syntax", "inputs: [a, b\n", {"t.yaml:2:1: end of sequence flow not found"}},
    {"yaml_syntax_mid_line", "a: b: c\n", {"t.yaml:1:5: illegal map value"}},
    {"second_document",
     "node_name: a\n---\nnode_name: b\n",
     {"t.yaml:2:1: a config file holds one YAML document, found a second"}},
    // yaml-cpp's LoadAll() never returns on this input; the loader must.
    {"stray_comma", "# comment\n,\nnode_name: a\n", {"t.yaml:2:1: unexpected ','"}},
    {"stray_comma_after_document", "\"a\"\n,\n", {"t.yaml:2:1: unexpected ','"}},
    {"top_level_list", "- a\n", {"t.yaml:1:1: expected a mapping at the top level, got a list"}},

    // Unknown and duplicate keys.
    {"unknown_top_level_key_suggested",
     "inptus: []\n",
     {"t.yaml:1:1: unknown key 'inptus'; did you mean 'inputs'?"}},
    {"unknown_top_level_key", "colour: red\n", {"t.yaml:1:1: unknown key 'colour'"}},
    {"unknown_input_key_suggested",
     "inputs:\n"
     "  - name: a\n"
     "    type: syslog\n"
     "    transport: udp\n"
     "    lisen: 0.0.0.0:1514\n",
     {"t.yaml:2:5: missing required key 'listen' in inputs[0]",
      "t.yaml:5:5: unknown key 'lisen' in inputs[0]; did you mean 'listen'?"}},
    {"transposed_letters_suggested",
     "limits: { max_conenctions: 5 }\n",
     {"t.yaml:1:11: unknown key 'max_conenctions' in limits; did you mean 'max_connections'?"}},
    {"duplicate_key", "data_dir: a\ndata_dir: b\n", {"t.yaml:2:1: duplicate key 'data_dir'"}},
    {"merge_key", "<<: {}\n", {"t.yaml:1:1: YAML merge keys ('<<') are not supported"}},

    // Wrong types.
    {"expected_mapping", "limits: [1]\n", {"t.yaml:1:9: limits: expected a mapping, got a list"}},
    {"expected_string",
     "node_name: [a]\n",
     {"t.yaml:1:12: node_name: expected a string, got a list"}},
    {"expected_list",
     "rules_files: rules.yaml\n",
     {"t.yaml:1:14: rules_files: expected a list, got 'rules.yaml'"}},
    {"expected_list_item_string",
     "rules_files: [a, {b: c}]\n",
     {"t.yaml:1:18: rules_files[1]: expected a string, got a mapping"}},
    {"empty_value_reported_at_key",
     "node_name:\n",
     {"t.yaml:1:1: node_name: expected a string, got nothing"}},
    {"empty_string", "data_dir: ''\n", {"t.yaml:1:11: data_dir: must not be empty"}},
    {"expected_bool",
     "route:\n  receiver: r\n  routes:\n    - { receiver: r, continue: maybe }\n"
     "receivers: [{ name: r }]\n",
     {"t.yaml:4:32: route.routes[0].continue: expected true or false, got 'maybe'"}},

    // Limits and durations.
    {"duration_unknown_unit",
     "limits:\n  idle_timeout: 5x\n",
     {"t.yaml:2:17: limits.idle_timeout: invalid duration '5x': unknown unit 'x' (use ms, s, m, "
      "h, d, w or y)"}},
    {"duration_without_unit",
     "limits: { idle_timeout: 300 }\n",
     {"t.yaml:1:25: limits.idle_timeout: invalid duration '300': a unit is required, e.g. "
      "'300s'"}},
    {"duration_negative",
     "limits: { idle_timeout: -1s }\n",
     {"t.yaml:1:25: limits.idle_timeout: invalid duration '-1s': must not be negative"}},
    {"max_message_bytes_zero",
     "limits: { max_message_bytes: 0 }\n",
     {"t.yaml:1:30: limits.max_message_bytes: expected a positive integer, got '0'"}},
    {"max_connections_suffix",
     "limits: { max_connections: 1k }\n",
     {"t.yaml:1:28: limits.max_connections: expected a positive integer, got '1k'"}},
    {"max_message_bytes_huge",
     "limits: { max_message_bytes: 99999999999999999999999 }\n",
     {"t.yaml:1:30: limits.max_message_bytes: '99999999999999999999999' is too large (at most "
      "1073741824)"}},

    // Inputs.
    {"input_missing_everything",
     "inputs:\n  - {}\n",
     {"t.yaml:2:5: missing required key 'name' in inputs[0]",
      "t.yaml:2:5: missing required key 'type' in inputs[0]",
      "t.yaml:2:5: missing required key 'transport' in inputs[0]",
      "t.yaml:2:5: missing required key 'listen' in inputs[0]"}},
    {"input_not_a_mapping",
     "inputs:\n  - syslog\n",
     {"t.yaml:2:5: inputs[0]: expected a mapping, got 'syslog'"}},
    {"endpoint_missing_port",
     "inputs:\n  - name: a\n    type: syslog\n    transport: udp\n    listen: 0.0.0.0\n",
     {"t.yaml:5:13: inputs[0].listen: invalid endpoint '0.0.0.0': missing port"}},
    {"endpoint_port_too_large",
     "inputs:\n  - name: a\n    type: syslog\n    transport: udp\n    listen: 0.0.0.0:65536\n",
     {"t.yaml:5:13: inputs[0].listen: invalid endpoint '0.0.0.0:65536': port 65536 is out of "
      "range (0-65535)"}},
    {"endpoint_ipv6_without_brackets",
     "inputs:\n  - name: a\n    type: syslog\n    transport: udp\n    listen: ::1:514\n",
     {"t.yaml:5:13: inputs[0].listen: invalid endpoint '::1:514': an IPv6 address needs "
      "brackets, e.g. [::1]:9095"}},
    {"duplicate_input_key",
     kInput + "    type: journald\n",
     {"t.yaml:6:5: duplicate key 'type' in inputs[0]"}},
    {"invalid_type",
     "inputs:\n  - name: a\n    type: sislog\n    transport: udp\n    listen: 0.0.0.0:1\n",
     {"t.yaml:3:11: inputs[0].type: invalid value 'sislog'; expected one of syslog, gelf; did "
      "you mean 'syslog'?"}},
    {"gelf_over_tls",
     "inputs:\n  - name: a\n    type: gelf\n    transport: tls\n    listen: 0.0.0.0:1\n",
     {"t.yaml:4:16: inputs[0].transport: gelf inputs support udp, tcp, http, not 'tls'"}},
    {"syslog_over_http",
     "inputs:\n  - name: a\n    type: syslog\n    transport: http\n    listen: 0.0.0.0:1\n",
     {"t.yaml:4:16: inputs[0].transport: syslog inputs support udp, tcp, tls, relp, not 'http'"}},
    {"gelf_over_relp",
     "inputs:\n  - name: a\n    type: gelf\n    transport: relp\n    listen: 0.0.0.0:1\n",
     {"t.yaml:4:16: inputs[0].transport: gelf inputs support udp, tcp, http, not 'relp'"}},
    // RELP over TLS is not implemented: a tls section on a relp input is refused, not ignored.
    {"tls_section_on_relp",
     "inputs:\n  - name: a\n    type: syslog\n    transport: relp\n    listen: 0.0.0.0:1\n"
     "    tls: { cert: c, key: k }\n",
     {"t.yaml:6:5: inputs[0].tls: only valid with transport: tls"}},
    {"relp_and_tcp_on_one_port",
     "inputs:\n  - { name: a, type: syslog, transport: tcp, listen: 127.0.0.1:2514 }\n"
     "  - { name: b, type: syslog, transport: relp, listen: 127.0.0.1:2514 }\n",
     {"t.yaml:3:55: inputs[1].listen: 127.0.0.1:2514/tcp is already used by input 'a' (line 2)"}},
    {"tls_transport_without_tls",
     "inputs:\n  - name: a\n    type: syslog\n    transport: tls\n    listen: 0.0.0.0:1\n",
     {"t.yaml:2:5: missing required key 'tls' in inputs[0] (transport is tls)"}},
    {"tls_section_on_udp",
     kInput + "    tls: { cert: c, key: k }\n",
     {"t.yaml:6:5: inputs[0].tls: only valid with transport: tls"}},
    {"tls_client_auth_without_ca",
     "inputs:\n  - name: a\n    type: syslog\n    transport: tls\n    listen: 0.0.0.0:1\n"
     "    tls: { cert: c, key: k, client_auth: required }\n",
     {"t.yaml:6:10: missing required key 'ca' in inputs[0].tls (client_auth is required)"}},
    {"tls_missing_cert_and_bad_client_auth",
     "inputs:\n  - name: a\n    type: syslog\n    transport: tls\n    listen: 0.0.0.0:1\n"
     "    tls:\n      key: k\n      client_auth: always\n",
     {"t.yaml:7:7: missing required key 'cert' in inputs[0].tls",
      "t.yaml:8:20: inputs[0].tls.client_auth: invalid value 'always'; expected one of none, "
      "optional, required"}},
    {"format_on_gelf",
     "inputs:\n  - name: a\n    type: gelf\n    transport: udp\n    listen: 0.0.0.0:1\n"
     "    format: rfc5424\n",
     {"t.yaml:6:5: inputs[0].format: only syslog inputs have a format"}},
    {"unknown_format",
     kInput + "    format: rfc5425\n",
     {"t.yaml:6:13: inputs[0].format: invalid value 'rfc5425'; expected one of auto, rfc5424, "
      "rfc3164; did you mean 'rfc5424'?"}},
    {"unknown_timezone",
     kInput + "    timezone: Mars/Olympus_Mons\n",
     {"t.yaml:6:15: inputs[0].timezone: unknown time zone 'Mars/Olympus_Mons'; expected local, "
      "UTC, an offset such as +02:00 or an IANA name such as Europe/Berlin"}},
    {"duplicate_input_name",
     kInput + "  - { name: a, type: gelf, transport: udp, listen: 0.0.0.0:12201 }\n",
     {"t.yaml:6:13: inputs[1].name: duplicate input name 'a' (first on line 2)"}},
    {"same_port_same_family",
     kInput + "  - { name: b, type: gelf, transport: udp, listen: 127.0.0.1:1514 }\n",
     {"t.yaml:6:52: inputs[1].listen: 127.0.0.1:1514/udp is already used by input 'a' (line 5)"}},
    {"same_port_tcp_family",
     "inputs:\n"
     "  - { name: a, type: syslog, transport: tls, listen: '[::]:6514', tls: { cert: c, key: k } "
     "}\n"
     "  - { name: b, type: gelf, transport: http, listen: 10.0.0.1:6514 }\n",
     {"t.yaml:3:53: inputs[1].listen: 10.0.0.1:6514/tcp is already used by input 'a' (line 2)"}},
    // Issue 11: an unguarded admin port reachable from other hosts.
    {"admin_on_any_address_without_token",
     "admin: { listen: 0.0.0.0:9095 }\n",
     {"t.yaml:1:18: admin.listen: the admin listener on '0.0.0.0:9095' is reachable from other "
      "hosts without a token: set admin.token_file, listen on 127.0.0.1, or set admin.insecure: "
      "true"}},
    {"admin_on_a_lan_v6_address_without_token",
     "admin:\n  listen: '[fd00::5]:9095'\n  insecure: false\n",
     {"t.yaml:2:11: admin.listen: the admin listener on '[fd00::5]:9095' is reachable from other "
      "hosts without a token: set admin.token_file, listen on 127.0.0.1, or set admin.insecure: "
      "true"}},
    {"admin_max_connections_zero",
     "admin: { max_connections: 0 }\n",
     {"t.yaml:1:27: admin.max_connections: expected a positive integer, got '0'"}},
    {"router_max_alerts_zero",
     "router: { max_alerts: 0 }\n",
     {"t.yaml:1:23: router.max_alerts: expected a positive integer, got '0'"}},
    {"router_unknown_key",
     "router: { max_alert: 5 }\n",
     {"t.yaml:1:11: unknown key 'max_alert' in router; did you mean 'max_alerts'?"}},
    {"admin_port_taken_by_input",
     "admin: { listen: 127.0.0.1:9095 }\n"
     "inputs: [{ name: a, type: gelf, transport: http, listen: 0.0.0.0:9095 }]\n",
     {"t.yaml:2:58: inputs[0].listen: 0.0.0.0:9095/tcp is already used by the admin listener "
      "(line 1)"}},

    // Outputs and bus.
    {"output_path_escapes",
     "outputs:\n  - type: file\n    path: ./var/log/../../etc/{host}.log\n",
     {"t.yaml:3:11: outputs[0].path: must not contain a '..' component: "
      "'./var/log/../../etc/{host}.log'"}},
    {"output_path_dotdot_prefix_is_fine_but_placeholder_typo",
     "outputs:\n  - type: file\n    path: ./var/..log/{hots}.log\n",
     {"t.yaml:3:11: outputs[0].path: unknown placeholder '{hots}'; expected {host}, {app} or "
      "{date}; did you mean 'host'?"}},
    {"output_missing_path",
     "outputs:\n  - type: file\n",
     {"t.yaml:2:5: missing required key 'path' in outputs[0]"}},
    {"kafka_output_needs_topic_and_brokers",
     "outputs:\n  - type: kafka\n    path: x\n",
     {"t.yaml:2:5: missing required key 'topic' in outputs[0]",
      "t.yaml:2:5: outputs[0]: a kafka output needs bus.kafka.brokers",
      "t.yaml:3:5: outputs[0].path: only file outputs have a path"}},
    {"kafka_bus_without_brokers",
     "bus:\n  type: kafka\n  kafka: { topic: alerts }\n",
     {"t.yaml:3:10: missing required key 'brokers' in bus.kafka (bus type is kafka)"}},
    {"kafka_bus_without_section",
     "bus: { type: kafka }\n",
     {"t.yaml:1:6: missing required key 'kafka' in bus (bus type is kafka)"}},
    {"kafka_spool_cap_too_small",
     "bus: { kafka: { brokers: k:9092, spool_max_bytes: 1000 } }\n",
     {"t.yaml:1:51: bus.kafka.spool_max_bytes: '1000' is too small (at least 1048576)"}},
    {"kafka_properties_not_scalar",
     "bus: { kafka: { brokers: k:9092, properties: { a: [1] } } }\n",
     {"t.yaml:1:51: bus.kafka.properties.a: expected a string, got a list"}},

    // Routes, inhibit rules, receivers.
    {"route_without_receiver",
     "route: { group_by: [host] }\n",
     {"t.yaml:1:8: missing required key 'receiver' in route"}},
    {"route_unknown_receiver",
     "route:\n  receiver: slack-opz\nreceivers:\n  - name: slack-ops\n",
     {"t.yaml:2:3: route.receiver: unknown receiver 'slack-opz'; did you mean 'slack-ops'?"}},
    {"nested_route_unknown_receiver",
     "route:\n  receiver: a\n  routes:\n    - receiver: a\n      routes:\n"
     "        - { receiver: nope, matchers: ['x=\"1\"'] }\nreceivers: [{ name: a }]\n",
     {"t.yaml:6:13: route.routes[0].routes[0].receiver: unknown receiver 'nope'"}},
    {"route_zero_interval_and_bad_group_by",
     "route:\n  receiver: a\n  group_interval: 0s\n  group_by: [host, host, '...']\n"
     "receivers: [{ name: a }]\n",
     {"t.yaml:3:19: route.group_interval: must be greater than 0",
      "t.yaml:4:20: route.group_by[1]: duplicate label 'host'",
      "t.yaml:4:26: route.group_by[2]: '...' (every label) must be used alone"}},
    {"root_route_matchers",
     "route: { receiver: a, matchers: ['a=\"b\"'] }\nreceivers: [{ name: a }]\n",
     {"t.yaml:1:23: route.matchers: the root route matches every alert; it takes no matchers"}},
    {"invalid_matcher",
     "inhibit_rules:\n  - source_matchers: ['severity']\n    target_matchers: ['x=\"a\"b\"']\n"
     "    equal: [host-name]\n",
     {"t.yaml:2:23: inhibit_rules[0].source_matchers[0]: invalid matcher 'severity': expected "
      "label=\"value\", label!=\"value\", label=~\"regex\" or label!~\"regex\"",
      "t.yaml:3:23: inhibit_rules[0].target_matchers[0]: invalid matcher 'x=\"a\"b\"': "
      "unescaped double quote in the value (write \\\")",
      "t.yaml:4:13: inhibit_rules[0].equal[0]: invalid label name 'host-name'"}},
    {"root_route_continue",
     "route: { receiver: a, continue: true }\nreceivers: [{ name: a }]\n",
     {"t.yaml:1:23: route.continue: the root route cannot have continue: true"}},
    {"root_route_match",
     "route:\n  receiver: a\n  match: { a: b }\n  match_re: { c: d }\nreceivers: [{ name: a }]\n",
     {"t.yaml:3:3: route.match: the root route matches every alert; it takes no matchers",
      "t.yaml:4:3: route.match_re: the root route matches every alert; it takes no matchers"}},
    {"match_label_names_and_shapes",
     "route:\n  receiver: a\n  routes:\n"
     "    - match: { host-name: x, ok: y }\n"  // 4
     "      match_re: [a]\n"                   // 5
     "      receiver: a\n"                     // 6
     "inhibit_rules:\n"                        // 7
     "  - source_match: { 'a b': c }\n"        // 8
     "    target_match_re: { x: [y] }\n"       // 9
     "receivers: [{ name: a }]\n",
     {"t.yaml:4:16: route.routes[0].match: invalid label name 'host-name'",
      "t.yaml:5:17: route.routes[0].match_re: expected a mapping of label names to values, got "
      "a list",
      "t.yaml:8:21: inhibit_rules[0].source_match: invalid label name 'a b'",
      "t.yaml:9:27: inhibit_rules[0].target_match_re.x: expected a string, got a list"}},
    {"brace_matcher_with_a_bad_piece",
     "route:\n  receiver: a\n  routes:\n"
     "    - matchers: ['{a=\"b\", c}', '{d=\"e\"', 'f=\"g']\n"
     "receivers: [{ name: a }]\n",
     {"t.yaml:4:18: route.routes[0].matchers[0]: invalid matcher '{a=\"b\", c}': 'c': expected "
      "label=\"value\", label!=\"value\", label=~\"regex\" or label!~\"regex\"",
      "t.yaml:4:42: route.routes[0].matchers[2]: invalid matcher 'f=\"g': missing closing double "
      "quote"}},
    {"duplicate_receiver_name",
     "receivers:\n  - name: a\n  - name: a\n",
     {"t.yaml:3:11: receivers[1].name: duplicate receiver name 'a' (first on line 2)"}},
    {"receiver_configs_not_a_list",
     "receivers:\n  - name: a\n    slack_configs: { api_url: 'http://h/' }\n",
     {"t.yaml:3:20: receivers[0].slack_configs: expected a list, got a mapping"}},
    {"receiver_without_name",
     "receivers:\n  - file: { path: x }\n",
     {"t.yaml:2:5: missing required key 'name' in receivers[0]"}},
    // What an integration's section holds is checked by its notifier factory
    // (tests/unit/sinks/notifier_settings_test.cpp); the config only keeps it.
    {"receiver_settings_are_not_read_here",
     "receivers:\n  - name: a\n    pagerduty2: {}\n  - name: b\n    webhook: { url: ftp://x }\n",
     {}},
};

class config_errors : public ::testing::TestWithParam<error_case> {};

TEST_P(config_errors, reports_file_line_column) {
  const error_case& c = GetParam();
  EXPECT_THAT(test::errors_of(load_string, c.yaml), ElementsAreArray(c.errors)) << c.yaml;
}

INSTANTIATE_TEST_SUITE_P(table, config_errors, ::testing::ValuesIn(kErrorCases),
                         [](const auto& info) { return info.param.name; });

TEST(config_kafka, properties_keep_where_they_were_written) {
  const config cfg = load_string(
      "bus:\n"
      "  kafka:\n"
      "    brokers: k:9092\n"
      "    spool_max_bytes: 2097152\n"
      "    properties:\n"
      "      message.timeout.ms: \"1000\"\n"
      "      security.protocol: SASL_SSL\n",
      "t.yaml");
  EXPECT_EQ(cfg.bus.kafka.spool_max_bytes, 2097152U);
  ASSERT_EQ(cfg.bus.kafka.property_where.size(), 2U);
  const source_location& timeout = cfg.bus.kafka.property_where.at("message.timeout.ms");
  EXPECT_EQ(timeout.file, "t.yaml");
  EXPECT_EQ(timeout.line, 6);
  EXPECT_EQ(timeout.column, 7);
  EXPECT_EQ(cfg.bus.kafka.property_where.at("security.protocol").line, 7);
  EXPECT_EQ(cfg.bus.kafka.where.line, 3);
}

TEST(config_errors_all, every_error_in_a_file_is_reported_in_order) {
  const std::string yaml =
      "node_name: [x]\n"                                                      // 1
      "admin: { lisen: 127.0.0.1:9095 }\n"                                    // 2
      "inputs:\n"                                                             // 3
      "  - { name: a, type: syslog, transport: udp, listen: 0.0.0.0 }\n"      // 4
      "  - { name: b, type: gelf, transport: udp, listen: 0.0.0.0:99999 }\n"  // 5
      "limits: { idle_timeout: 1.5m }\n"                                      // 6
      "route: { receiver: nobody }\n"                                         // 7
      "extra: 1\n";                                                           // 8
  EXPECT_THAT(
      test::errors_of(load_string, yaml),
      ElementsAre("t.yaml:1:12: node_name: expected a string, got a list",
                  "t.yaml:2:10: unknown key 'lisen' in admin; did you mean 'listen'?",
                  "t.yaml:4:54: inputs[0].listen: invalid endpoint '0.0.0.0': missing port",
                  "t.yaml:5:52: inputs[1].listen: invalid endpoint '0.0.0.0:99999': port 99999 "
                  "is out of range (0-65535)",
                  "t.yaml:6:25: limits.idle_timeout: invalid duration '1.5m': fractions are not "
                  "supported (write 1m30s, not 1.5m)",
                  "t.yaml:7:10: route.receiver: unknown receiver 'nobody'",
                  "t.yaml:8:1: unknown key 'extra'"));
}

TEST(config_errors_all, what_lists_every_error) {
  try {
    load_string("a: 1\nb: 2\n", "x.yaml");
    FAIL() << "expected a config_error";
  } catch (const config_error& e) {
    EXPECT_STREQ(e.what(), "x.yaml:1:1: unknown key 'a'\nx.yaml:2:1: unknown key 'b'");
  }
}

TEST(config_file, missing_file) {
  try {
    load_file("/nonexistent/tocsin.yaml");
    FAIL() << "expected a config_error";
  } catch (const config_error& e) {
    EXPECT_THAT(e.errors(),
                ElementsAre("/nonexistent/tocsin.yaml: cannot read: No such file or directory"));
  }
}

TEST(config_file, directory) {
  const auto dir = std::filesystem::temp_directory_path();
  try {
    load_file(dir);
    FAIL() << "expected a config_error";
  } catch (const config_error& e) {
    EXPECT_THAT(e.errors(), ElementsAre(dir.string() + ": cannot read: Is a directory"));
  }
}

TEST(config_file, loads_from_disk_and_reports_its_name) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("tocsin_config_test_" + std::to_string(::getpid()) + ".yaml");
  {
    std::ofstream out(path);
    out << "node_name: n1\nbogus: 1\n";
  }
  try {
    load_file(path);
    ADD_FAILURE() << "expected a config_error";
  } catch (const config_error& e) {
    EXPECT_THAT(e.errors(), ElementsAre(path.string() + ":2:1: unknown key 'bogus'"));
  }
  {
    std::ofstream out(path);
    out << "node_name: n1\n";
  }
  EXPECT_EQ(load_file(path).node_name, "n1");
  std::filesystem::remove(path);
}

TEST(config_defaults, empty_file_is_a_valid_config) {
  for (const std::string yaml : {"", "# only a comment\n", "---\n", "{}\n"}) {
    SCOPED_TRACE(yaml);
    const config cfg = load_string(yaml, "empty.yaml");
    EXPECT_EQ(cfg.file, "empty.yaml");
    EXPECT_EQ(cfg.node_name, hostname());
    EXPECT_FALSE(cfg.node_name.empty());
    EXPECT_EQ(cfg.data_dir, "./var/lib");
    EXPECT_FALSE(cfg.admin.has_value());
    EXPECT_TRUE(cfg.inputs.empty());
    EXPECT_EQ(cfg.limits.max_message_bytes, 65536u);
    EXPECT_EQ(cfg.limits.max_connections, 1024u);
    EXPECT_EQ(cfg.limits.idle_timeout, std::chrono::minutes(5));
    EXPECT_TRUE(cfg.outputs.empty());
    EXPECT_EQ(cfg.bus.type, "embedded");
    EXPECT_EQ(cfg.bus.kafka.topic, "tocsin.alerts");
    EXPECT_EQ(cfg.bus.kafka.group, "tocsin-router");
    EXPECT_TRUE(cfg.rules_files.empty());
    EXPECT_FALSE(cfg.route.has_value());
    EXPECT_TRUE(cfg.inhibit_rules.empty());
    EXPECT_TRUE(cfg.receivers.empty());
  }
}

TEST(config_defaults, admin_without_listen_uses_loopback_9095) {
  for (const std::string yaml : {"admin:\n", "admin: {}\n", "admin: { token_file: /t }\n"}) {
    SCOPED_TRACE(yaml);
    const config cfg = load_string(yaml, "t.yaml");
    ASSERT_TRUE(cfg.admin.has_value());
    EXPECT_EQ(to_string(cfg.admin->listen), "127.0.0.1:9095");
  }
}

TEST(config_defaults, admin_and_router_limits) {
  const config plain = load_string("admin:\n", "t.yaml");
  EXPECT_FALSE(plain.admin->insecure);
  EXPECT_EQ(plain.admin->max_connections, 64u);
  EXPECT_EQ(plain.router.max_alerts, 100'000u);

  const config set = load_string(
      "admin: { listen: 0.0.0.0:9095, insecure: true, max_connections: 8 }\n"
      "router: { max_alerts: 500 }\n",
      "t.yaml");
  EXPECT_TRUE(set.admin->insecure);
  EXPECT_EQ(set.admin->max_connections, 8u);
  EXPECT_EQ(set.router.max_alerts, 500u);
}

// Loopback addresses need no token; any other address needs token_file or insecure: true.
TEST(config_defaults, admin_off_loopback_needs_a_token_or_insecure) {
  for (const std::string listen : {"127.0.0.1:9095", "127.8.9.10:0", "localhost:9095",
                                   "'[::1]:9095'", "'[::ffff:127.0.0.1]:9095'"}) {
    SCOPED_TRACE(listen);
    EXPECT_NO_THROW(load_string("admin: { listen: " + listen + " }\n", "t.yaml"));
  }
  for (const std::string listen : {"0.0.0.0:9095", "'[::]:9095'", "10.1.2.3:9095", "128.0.0.1:9095",
                                   "'[::2]:9095'", "admin.example.com:9095"}) {
    SCOPED_TRACE(listen);
    EXPECT_THROW(load_string("admin: { listen: " + listen + " }\n", "t.yaml"), config_error);
    EXPECT_NO_THROW(load_string("admin: { listen: " + listen + ", token_file: /t }\n", "t.yaml"));
    EXPECT_NO_THROW(load_string("admin: { listen: " + listen + ", insecure: true }\n", "t.yaml"));
  }
}

TEST(config_defaults, input_options) {
  const config cfg = load_string(
      "inputs:\n"
      "  - { name: a, type: syslog, transport: udp, listen: '[::1]:0', format: rfc3164,\n"
      "      timezone: Europe/Berlin }\n"
      "  - { name: b, type: syslog, transport: tcp, listen: '[::1]:0', timezone: '+02:00' }\n"
      "  - { name: c, type: syslog, transport: tls, listen: 127.0.0.1:6514,\n"
      "      tls: { cert: c.pem, key: k.pem } }\n",
      "t.yaml");
  ASSERT_EQ(cfg.inputs.size(), 3u);
  EXPECT_EQ(cfg.inputs[0].format, syslog_format::rfc3164);
  EXPECT_EQ(cfg.inputs[0].timezone, "Europe/Berlin");
  EXPECT_EQ(cfg.inputs[0].listen.host, "::1");
  EXPECT_EQ(cfg.inputs[0].listen.port, 0);  // port 0: both ask the OS, no conflict
  EXPECT_EQ(cfg.inputs[1].timezone, "+02:00");
  ASSERT_TRUE(cfg.inputs[2].tls.has_value());
  EXPECT_EQ(cfg.inputs[2].tls->client_auth, "none");
  EXPECT_EQ(cfg.inputs[2].where.line, 5);
}

TEST(config_defaults, route_values) {
  const config cfg = load_string(
      "route:\n"
      "  receiver: a\n"
      "  group_by: ['...']\n"
      "  group_wait: 0\n"
      "  routes:\n"
      "    - matchers: ['team=~\"ops|infra\"', 'env != \"dev\"', 'x!~y']\n"
      "      receiver: b\n"
      "      routes: [{ matchers: ['a=\"quo\\\"ted\"'], repeat_interval: 1d }]\n"
      "receivers: [{ name: a }, { name: b, webhook: { url: 'https://h/x', timeout: 10s,\n"
      "  headers: { X-Team: ops }, basic_auth: { username: u, password_file: /p } } }]\n",
      "t.yaml");
  ASSERT_TRUE(cfg.route.has_value());
  EXPECT_THAT(*cfg.route->group_by, ElementsAre("..."));
  EXPECT_EQ(cfg.route->group_wait, std::chrono::milliseconds(0));
  EXPECT_FALSE(cfg.route->continue_matching);
  ASSERT_EQ(cfg.route->routes.size(), 1u);
  EXPECT_EQ(cfg.route->routes[0].matchers.size(), 3u);
  EXPECT_EQ(cfg.route->routes[0].where.line, 6);
  ASSERT_EQ(cfg.route->routes[0].routes.size(), 1u);
  EXPECT_EQ(cfg.route->routes[0].routes[0].repeat_interval, std::chrono::hours(24));
  EXPECT_EQ(cfg.route->routes[0].routes[0].receiver, "");  // inherits b
  EXPECT_EQ(cfg.receivers[1].integration, "webhook");
}

struct duration_case {
  std::string text;
  std::optional<long long> ms;  // nullopt: invalid
};

TEST(config_values, durations) {
  const std::vector<duration_case> cases = {
      {"0", 0},
      {"0s", 0},
      {"0ms", 0},
      {"500ms", 500},
      {"10s", 10'000},
      {"5m", 300'000},
      {"4h", 14'400'000},
      {"1h30m", 5'400'000},
      {"1d", 86'400'000},
      {"1w", 604'800'000},
      {"1y", 31'536'000'000},
      {"1h1m1s1ms", 3'661'001},
      {"2w3d", 1'468'800'000},
      {"90s", 90'000},
      {"1m30s500ms", 90'500},
      {"", std::nullopt},
      {"5", std::nullopt},
      {"-1s", std::nullopt},
      {"1.5h", std::nullopt},
      {"1m1h", std::nullopt},  // units largest first
      {"1s1s", std::nullopt},
      {"10x", std::nullopt},
      {"1H", std::nullopt},
      {"ms", std::nullopt},
      {"1 s", std::nullopt},
      {" 1s", std::nullopt},
      {"1s ", std::nullopt},
      {"1us", std::nullopt},
      {"+1s", std::nullopt},
      {"99999999999999999999y", std::nullopt},
      {"9999999999y", std::nullopt},  // overflows 64-bit milliseconds
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("'" + c.text + "'");
    const auto parsed = parse_duration(c.text);
    ASSERT_EQ(parsed.has_value(), c.ms.has_value());
    if (parsed) {
      EXPECT_EQ(parsed->count(), *c.ms);
    }
  }
}

struct endpoint_case {
  std::string text;
  bool valid;
  std::string host;
  std::uint16_t port;
};

TEST(config_values, endpoints) {
  const std::vector<endpoint_case> cases = {
      {"0.0.0.0:5514", true, "0.0.0.0", 5514},
      {"127.0.0.1:9095", true, "127.0.0.1", 9095},
      {"localhost:80", true, "localhost", 80},
      {"smtp.example.com:587", true, "smtp.example.com", 587},
      {"my_host-1:1", true, "my_host-1", 1},
      {"[::1]:9095", true, "::1", 9095},
      {"[::]:0", true, "::", 0},
      {"[2001:db8::1]:65535", true, "2001:db8::1", 65535},
      {"[fe80::1%eth0]:514", true, "fe80::1%eth0", 514},
      {"[::ffff:127.0.0.1]:514", true, "::ffff:127.0.0.1", 514},
      {"", false, "", 0},
      {"0.0.0.0", false, "", 0},
      {"0.0.0.0:", false, "", 0},
      {":80", false, "", 0},
      {"host:65536", false, "", 0},
      {"host:99999999999", false, "", 0},
      {"host:-1", false, "", 0},
      {"host:8o", false, "", 0},
      {"host: 80", false, "", 0},
      {"::1:80", false, "", 0},
      {"[::1]", false, "", 0},
      {"[::1]80", false, "", 0},
      {"[::1:80", false, "", 0},
      {"[]:80", false, "", 0},
      {"[127.0.0.1]:80", false, "", 0},
      {"[::1%]:80", false, "", 0},
      {"a b:80", false, "", 0},
      {"http://h:80", false, "", 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("'" + c.text + "'");
    const auto parsed = parse_endpoint(c.text);
    ASSERT_EQ(parsed.has_value(), c.valid);
    if (!parsed) continue;
    EXPECT_EQ(parsed->host, c.host);
    EXPECT_EQ(parsed->port, c.port);
    EXPECT_EQ(to_string(*parsed), c.text);  // round trip
  }
}

// Alertmanager's route and inhibit syntax: `match`, `match_re`, brace items, each matcher kept
// as Alertmanager prints it, with the line and column of what it came from.
TEST(config_routes, match_match_re_and_brace_items_become_one_matcher_each) {
  const config cfg = load_string(
      "route:\n"                                                                    // 1
      "  receiver: a\n"                                                             // 2
      "  routes:\n"                                                                 // 3
      "    - receiver: a\n"                                                         // 4
      "      match: { owner: team-A, empty: '' }\n"                                 // 5
      "      match_re:\n"                                                           // 6
      "        env: 'produ.*'\n"                                                    // 7
      "      matchers:\n"                                                           // 8
      "        - '{owner=\"team-A\",env=~\"prod|stage\", msg=\"a, \\\"b\\\"\"}'\n"  // 9
      "        - severity=critical\n"                                               // 10
      "        - '  job  !~  \"db.*\"  '\n"                                         // 11
      "        - '\"service name\"=\"api\"'\n"                                      // 12
      "        - '{}'\n"                                                            // 13
      "inhibit_rules:\n"                                                            // 14
      "  - source_match: { severity: critical }\n"                                  // 15
      "    source_matchers: ['{a=\"1\",b=\"2\"}']\n"                                // 16
      "    target_match_re: { severity: 'warn.*' }\n"                               // 17
      "    target_matchers: [c=3]\n"                                                // 18
      "    equal: [host]\n"
      "receivers: [{ name: a }]\n",
      "t.yaml");
  ASSERT_EQ(cfg.route->routes.size(), 1u);
  const route_config& r = cfg.route->routes[0];
  // match first, then match_re (anchored as Alertmanager keeps it), then the matchers items.
  EXPECT_THAT(r.matchers,
              ElementsAre(R"(owner="team-A")", R"(empty="")", R"(env=~"^(?:produ.*)$")",
                          R"(owner="team-A")", R"(env=~"prod|stage")", R"(msg="a, \"b\"")",
                          R"(severity="critical")", R"(job!~"db.*")", R"("service name"="api")"));
  std::vector<std::pair<int, int>> at;
  for (const source_location& w : r.matcher_where) at.emplace_back(w.line, w.column);
  EXPECT_THAT(at, ElementsAre(std::pair(5, 16), std::pair(5, 31), std::pair(7, 9), std::pair(9, 11),
                              std::pair(9, 11), std::pair(9, 11), std::pair(10, 11),
                              std::pair(11, 11), std::pair(12, 11)));
  EXPECT_EQ(r.matcher_where[0].file, "t.yaml");

  ASSERT_EQ(cfg.inhibit_rules.size(), 1u);
  const inhibit_rule_config& rule = cfg.inhibit_rules[0];
  EXPECT_THAT(rule.source_matchers, ElementsAre(R"(severity="critical")", R"(a="1")", R"(b="2")"));
  EXPECT_THAT(rule.target_matchers, ElementsAre(R"(severity=~"^(?:warn.*)$")", R"(c="3")"));
  ASSERT_EQ(rule.source_matcher_where.size(), 3u);
  EXPECT_EQ(rule.source_matcher_where[0].line, 15);
  EXPECT_EQ(rule.source_matcher_where[2].line, 16);
  ASSERT_EQ(rule.target_matcher_where.size(), 2u);
  EXPECT_EQ(rule.target_matcher_where[0].line, 17);
  EXPECT_EQ(rule.target_matcher_where[1].line, 18);
}

TEST(config_routes, continue_false_on_the_root_is_fine) {
  const config cfg =
      load_string("route: { receiver: a, continue: false }\nreceivers: [{ name: a }]\n", "t.yaml");
  EXPECT_FALSE(cfg.route->continue_matching);
}

}  // namespace
}  // namespace tocsin::config
