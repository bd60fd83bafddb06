// opsgenie against a capture server: Alert API v2 create and close requests as Alertmanager
// sends them, the alias, priorities from severity, update_alerts, Opsgenie's limits, how
// answers map to results, and its settings.

#include <gtest/gtest.h>

#include "tests/support/http_capture.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/sinks/notifier_fixtures.hpp"

namespace tocsin::sinks {
namespace {

using namespace fixtures;
using outcome = delivery_result::outcome;

// sha256sum of the group key {}:{alertname="disk_full"}, as Alertmanager's Key.Hash().
const std::string alias = "60ad4a390c2dadf76a9a77d6d2fc630d36c307ec434ae4a11864d926bcb2bc96";

TEST(opsgenie_notifier, firing_group_creates_an_alert) {
  test::http_capture server;
  server.set_default_response({.status = 202, .body = R"({"result":"Request will be processed"})"});
  const auto n = make(receiver("opsgenie", {{"api_key", "k3y"}, {"api_url", server.url("/")}}));
  EXPECT_TRUE(n->send_resolved());
  EXPECT_EQ(n->send(disk_full_group()).result, outcome::delivered);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/v2/alerts");
  EXPECT_EQ(requests[0].headers.at("authorization"), "GenieKey k3y");
  EXPECT_EQ(requests[0].headers.at("content-type"), "application/json");
  expect_json(requests[0].body, R"({
    "alias": ")" + alias + R"(",
    "message": "[FIRING:2] disk_full",
    "description": "Firing:\n- disk full on web1\n- disk full on web2\nResolved:\n- disk full on db1",
    "details": {"alertname": "disk_full", "severity": "critical"},
    "source": "http://tocsin:9095",
    "priority": "P1"
  })");
}

TEST(opsgenie_notifier, resolved_group_closes_the_alert_by_alias) {
  test::temp_dir dir("opsgenie");
  test::http_capture server;
  const auto n = make(receiver("opsgenie", {{"api_key_file", dir.write_file("key", "k3y\n")},
                                            {"api_url", server.url("/og")},
                                            {"source", "tocsin-{{severity}}"}}));
  ASSERT_EQ(n->send(all_resolved(disk_full_group())).result, outcome::delivered);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/og/v2/alerts/" + alias + "/close?identifierType=alias");
  EXPECT_EQ(requests[0].headers.at("authorization"), "GenieKey k3y");
  expect_json(requests[0].body, R"({"source": "tocsin-critical"})");
}

TEST(opsgenie_notifier, every_setting_and_update_alerts) {
  test::http_capture server;
  const auto n = make(receiver(
      "opsgenie",
      {{"api_key", "k3y"},
       {"api_url", server.url("/")},
       {"message", "{{alertname}}: {{count}} {{status}}"},
       {"description", "runbook {{runbook}}"},
       {"source", "tocsin"},
       {"details", {{"runbook", "{{runbook}}"}, {"severity", "sev-{{severity}}"}}},
       {"entity", "disks"},
       {"responders", nlohmann::json::array({{{"id", "4513b7ea"}, {"type", "Team"}},
                                             {{"name", "ops, dba,"}, {"type", "teams"}},
                                             {{"username", "alice@example.com"}, {"type", "user"}},
                                             {{"name", "{{nope}}"}, {"type", "{{nope}}"}}})},
       {"actions", "restart, ping"},
       {"tags", " disk,{{severity}} "},
       {"note", "see {{runbook}}"},
       {"priority", "P4"},
       {"update_alerts", true}}));
  ASSERT_EQ(n->send(disk_full_group()).result, outcome::delivered);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/v2/alerts");
  // The responder whose texts all render empty is left out, as Alertmanager does; "teams" is
  // one team responder per name.
  expect_json(requests[0].body, R"({
    "alias": ")" + alias + R"(",
    "message": "disk_full: 2 firing",
    "description": "runbook r1",
    "details": {"alertname": "disk_full", "runbook": "r1", "severity": "sev-critical"},
    "source": "tocsin",
    "responders": [
      {"id": "4513b7ea", "type": "team"},
      {"name": "ops", "type": "team"},
      {"name": " dba", "type": "team"},
      {"username": "alice@example.com", "type": "user"}
    ],
    "tags": ["disk", "critical"],
    "note": "see r1",
    "priority": "P4",
    "entity": "disks",
    "actions": ["restart", " ping"]
  })");
  EXPECT_EQ(requests[1].method, "PUT");
  EXPECT_EQ(requests[1].target, "/v2/alerts/" + alias + "/message?identifierType=alias");
  EXPECT_EQ(requests[1].headers.at("authorization"), "GenieKey k3y");
  expect_json(requests[1].body, R"({"message": "disk_full: 2 firing"})");
  EXPECT_EQ(requests[2].method, "PUT");
  EXPECT_EQ(requests[2].target, "/v2/alerts/" + alias + "/description?identifierType=alias");
  expect_json(requests[2].body, R"({"description": "runbook r1"})");
}

TEST(opsgenie_notifier, priority_from_the_severity_label) {
  test::http_capture server;
  const auto n = make(receiver("opsgenie", {{"api_key", "k"}, {"api_url", server.url("/")}}));
  const auto priority_for = [&](const std::string& severity) {
    auto group = disk_full_group();
    for (auto& a : group.alerts) a.labels["severity"] = severity;
    EXPECT_EQ(n->send(group).result, outcome::delivered);
    const auto body = nlohmann::json::parse(server.requests().back().body);
    return body.contains("priority") ? body["priority"].get<std::string>() : "(none)";
  };
  EXPECT_EQ(priority_for("critical"), "P1");
  EXPECT_EQ(priority_for("error"), "P2");
  EXPECT_EQ(priority_for("warning"), "P3");
  EXPECT_EQ(priority_for("info"), "P5");
  EXPECT_EQ(priority_for("page"), "(none)");
  // No common severity: the worst among the firing alerts.
  auto mixed = disk_full_group();
  mixed.alerts[0].labels["severity"] = "warning";
  mixed.alerts[2].labels["severity"] = "critical";  // resolved: does not count
  mixed.alerts[1].labels["severity"] = "error";
  ASSERT_EQ(n->send(mixed).result, outcome::delivered);
  EXPECT_EQ(nlohmann::json::parse(server.requests().back().body)["priority"], "P2");
}

TEST(opsgenie_notifier, oversized_texts_are_cut_to_opsgenies_limits) {
  test::http_capture server;
  const auto n = make(receiver("opsgenie", {{"api_key", "k"}, {"api_url", server.url("/")}}));
  ASSERT_EQ(n->send(oversized_group(many_e_acute(20'000))).result, outcome::delivered);
  const auto body = only_body(server);
  const std::string message = body["message"];
  const std::string description = body["description"];
  EXPECT_EQ(code_points(message), 130u);
  EXPECT_TRUE(message.starts_with("[FIRING:2] éé"));
  EXPECT_TRUE(message.ends_with("é…"));
  EXPECT_EQ(code_points(description), 15000u);
  EXPECT_TRUE(description.ends_with("é…"));
}

TEST(opsgenie_notifier, answers_map_to_results) {
  test::http_capture server;
  const auto n = make(receiver(
      "opsgenie", {{"api_key", "k"}, {"api_url", server.url("/")}, {"update_alerts", true}}));
  server.push_response({.status = 503});
  server.push_response({.status = 429, .headers = {{"Retry-After", "3"}}});
  server.push_response({.status = 400, .body = R"({"message":"Request body is not processable"})"});
  // Created, then the message update fails: the whole send is retried.
  server.push_response({.status = 202});
  server.push_response({.status = 500});
  auto r = n->send(disk_full_group());
  EXPECT_EQ(r.result, outcome::retry);
  EXPECT_EQ(r.status, 503);
  r = n->send(disk_full_group());
  EXPECT_EQ(r.result, outcome::retry);
  EXPECT_EQ(r.retry_after, std::chrono::seconds(3));
  r = n->send(disk_full_group());
  EXPECT_EQ(r.result, outcome::permanent);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.detail, R"({"message":"Request body is not processable"})");
  r = n->send(disk_full_group());
  EXPECT_EQ(r.result, outcome::retry);
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(server.requests().size(), 5u);  // the description update was not tried
}

TEST(opsgenie_notifier, settings_errors) {
  test::temp_dir dir("opsgenie");
  EXPECT_EQ(config_errors("opsgenie", {}),
            std::vector<std::string>{"tocsin.yaml:3:5: receivers[0].opsgenie: missing api_key (or "
                                     "api_key_file, or global.opsgenie_api_key)"});
  EXPECT_EQ(
      config_errors(
          "opsgenie",
          {{"api_key", "k"},
           {"api_key_file", dir.write_file("k", "k")},
           {"priority", "P6"},
           {"responders",
            nlohmann::json::array({{{"type", "team"}}, {{"name", "ops"}, {"type", "squad"}}})}}),
      (std::vector<std::string>{
          "tocsin.yaml:5:21: receivers[0].opsgenie.api_key_file: give api_key or api_key_file, "
          "not both",
          "tocsin.yaml:6:17: receivers[0].opsgenie.priority: invalid value 'P6'; expected one of "
          "P1, P2, P3, P4, P5; did you mean 'P1'?",
          "tocsin.yaml:7:20: receivers[0].opsgenie.responders[0]: a responder needs one of 'id', "
          "'name' or 'username'",
          "tocsin.yaml:7:57: receivers[0].opsgenie.responders[1].type: invalid value 'squad'; "
          "expected one of team, teams, user, escalation, schedule"}));
  EXPECT_EQ(config_errors("opsgenie", {{"api_key", "k"}, {"priorty", "P1"}}),
            std::vector<std::string>{"tocsin.yaml:5:7: unknown key 'priorty' in "
                                     "receivers[0].opsgenie; did you mean 'priority'?"});
  // A templated priority is checked when it is rendered (an unknown one falls back).
  EXPECT_EQ(config_errors("opsgenie", {{"api_key", "k"}, {"priority", "{{priority}}"}}),
            std::vector<std::string>{});
}

}  // namespace
}  // namespace tocsin::sinks
