#include "sinks/alertmanager_api.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "collector/event.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/rfc3339.hpp"
#include "tests/support/support.hpp"

namespace tocsin::sinks {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

// Routes everything to "drop" (no integration); a second receiver so the receiver filter has
// something to tell apart.
constexpr const char* kConfig = R"yaml(
route:
  receiver: drop
  group_by: [alertname]
  group_wait: 1h
  routes:
    - { matchers: ['team="db"'], receiver: db-drop }
inhibit_rules:
  - { source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'],
      equal: [alertname] }
receivers:
  - name: drop
  - name: db-drop
)yaml";

// gtest's POSIX regex: no \d.
constexpr const char* kRfc3339Millis =
    "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z";

// An admin listener on 127.0.0.1:0 serving the API of a real router over a temp data_dir.
class alertmanager_api_test : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_ = config::load_string(std::string(kConfig) + "data_dir: " + dir_.path().string() + "\n",
                               "t.yaml");
    register_builtin_notifiers(registry_);
    router_options options;
    options.data_dir = dir_.path();
    options.tick = 20ms;
    router_ = std::make_unique<alert_router>(cfg_, registry_, metrics_, options, *time_);
    router_->start();
    register_alertmanager_api(admin_, *router_,
                              {"route:\n  receiver: drop\n", {"drop", "db-drop"}, &metrics_});
    admin_.start("127.0.0.1", 0);
  }

  void TearDown() override {
    admin_.stop();
    router_->stop();
  }

  test::http_response request(std::string_view method, std::string_view path,
                              std::string_view body = {}) {
    return test::http_request(method, "127.0.0.1", admin_.port(), path, body);
  }

  json get_json(std::string_view path) {
    const auto r = request("GET", path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return json::parse(r.body, nullptr, false);
  }

  // POSTs one alert; true on 200.
  bool post_alert(const json& alert) {
    const auto r = request("POST", "/api/v2/alerts", json::array({alert}).dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200;
  }

  // The alerts GET `path` lists once the router shows `count` of them in `state`.
  json wait_for_alerts(std::string_view path, std::size_t count, const std::string& state) {
    json alerts;
    test::wait_until(
        [&] {
          alerts = get_json(path);
          if (!alerts.is_array() || alerts.size() != count) return false;
          for (const auto& a : alerts) {
            if (a["status"]["state"] != state) return false;
          }
          return true;
        },
        5s);
    return alerts;
  }

  std::string post_silence(const json& silence) {
    const auto r = request("POST", "/api/v2/silences", silence.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    const auto j = json::parse(r.body, nullptr, false);
    return j.is_object() && j.contains("silenceID") ? j["silenceID"].get<std::string>() : "";
  }

  json silence_for(const std::string& alertname, std::chrono::hours length = 1h) const {
    const auto now = time_->now();
    const auto to_text = [](std::chrono::system_clock::time_point tp) {
      std::string out;
      append_rfc3339_utc(tp, out, 3);
      return out;
    };
    return {
        {"matchers",
         {{{"name", "alertname"}, {"value", alertname}, {"isRegex", false}, {"isEqual", true}}}},
        {"startsAt", to_text(now)},
        {"endsAt", to_text(now + length)},
        {"createdBy", "me"},
        {"comment", "why"}};
  }

  // The router's, which the API reads too. Real: amtool stamps silences with the real time.
  clock* time_ = &real_clock();
  test::temp_dir dir_{"amapi"};
  config::config cfg_;
  notifier_registry registry_;
  metrics_registry metrics_;
  std::unique_ptr<alert_router> router_;
  admin_server admin_;
};

TEST_F(alertmanager_api_test, status_has_the_fields_amtool_reads) {
  const auto status = get_json("/api/v2/status");
  EXPECT_EQ(status["cluster"]["status"], "disabled");
  EXPECT_TRUE(status["cluster"]["peers"].is_array());
  for (const char* key : {"version", "revision", "branch", "buildUser", "buildDate", "goVersion"}) {
    ASSERT_TRUE(status["versionInfo"][key].is_string()) << key;
    EXPECT_FALSE(status["versionInfo"][key].get<std::string>().empty()) << key;
  }
  EXPECT_EQ(status["config"]["original"], "route:\n  receiver: drop\n");
  EXPECT_THAT(status["uptime"].get<std::string>(), MatchesRegex(kRfc3339Millis));

  EXPECT_EQ(get_json("/api/v2/receivers"), json::parse(R"([{"name":"drop"},{"name":"db-drop"}])"));
}

TEST_F(alertmanager_api_test, posted_alert_is_listed_in_gettable_shape) {
  ASSERT_TRUE(post_alert({{"labels", {{"alertname", "Test"}, {"severity", "critical"}}},
                          {"annotations", {{"summary", "disk full"}}},
                          {"generatorURL", "http://prom/graph"}}));
  const auto alerts = wait_for_alerts("/api/v2/alerts", 1, "active");
  ASSERT_EQ(alerts.size(), 1u) << alerts.dump();
  const auto& a = alerts[0];
  EXPECT_EQ(a["labels"], json::parse(R"({"alertname":"Test","severity":"critical"})"));
  EXPECT_EQ(a["annotations"], json::parse(R"({"summary":"disk full"})"));
  EXPECT_EQ(a["fingerprint"],
            rules::fingerprint({{"alertname", "Test"}, {"severity", "critical"}}));
  EXPECT_EQ(a["receivers"], json::parse(R"([{"name":"drop"}])"));
  EXPECT_EQ(a["generatorURL"], "http://prom/graph");
  // Alertmanager 0.25's status, and 0.28's mutedBy (always empty in /api/v2/alerts).
  EXPECT_EQ(a["status"], json::parse(R"({"state":"active","silencedBy":[],"inhibitedBy":[],
                                         "mutedBy":[]})"));
  for (const char* key : {"startsAt", "endsAt", "updatedAt"}) {
    EXPECT_THAT(a[key].get<std::string>(), MatchesRegex(kRfc3339Millis)) << key;
  }
  // No endsAt posted: the router gives it one resolve_timeout (5m) ahead.
  EXPECT_GT(a["endsAt"].get<std::string>(), a["startsAt"].get<std::string>());
}

TEST_F(alertmanager_api_test, go_zero_times_mean_unset) {
  // What amtool sends for `alert add` without --start/--end.
  ASSERT_TRUE(post_alert({{"labels", {{"alertname", "Zero"}}},
                          {"startsAt", "0001-01-01T00:00:00.000Z"},
                          {"endsAt", "0001-01-01T00:00:00.000Z"}}));
  const auto alerts = wait_for_alerts("/api/v2/alerts", 1, "active");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_THAT(alerts[0]["startsAt"].get<std::string>(), ::testing::StartsWith("20"));
}

TEST_F(alertmanager_api_test, alert_with_past_end_is_resolved_and_not_listed) {
  ASSERT_TRUE(post_alert({{"labels", {{"alertname", "Old"}}},
                          {"startsAt", "2020-01-01T00:00:00Z"},
                          {"endsAt", "2020-01-01T00:05:00Z"}}));
  EXPECT_TRUE(get_json("/api/v2/alerts").empty());
}

TEST_F(alertmanager_api_test, filters_by_matchers_state_and_receiver) {
  ASSERT_TRUE(post_alert({{"labels", {{"alertname", "Test"}, {"severity", "critical"}}}}));
  ASSERT_TRUE(post_alert({{"labels", {{"alertname", "Db"}, {"team", "db"}}}}));
  ASSERT_EQ(wait_for_alerts("/api/v2/alerts", 2, "active").size(), 2u);

  const auto names = [&](std::string_view path) {
    std::vector<std::string> out;
    for (const auto& a : get_json(path)) out.push_back(a["labels"]["alertname"]);
    return out;
  };
  EXPECT_THAT(names("/api/v2/alerts?filter=alertname%3D%22Test%22"), ElementsAre("Test"));
  EXPECT_THAT(names("/api/v2/alerts?filter=%7Balertname%3D~%22T.*%22%2Cseverity%3Dcritical%7D"),
              ElementsAre("Test"));
  EXPECT_THAT(names("/api/v2/alerts?filter=alertname%3D%22Test%22&filter=severity%3Dwarning"),
              ElementsAre());
  EXPECT_THAT(names("/api/v2/alerts?receiver=db-.*"), ElementsAre("Db"));
  EXPECT_THAT(names("/api/v2/alerts?receiver=dr"), ElementsAre());  // anchored
  EXPECT_THAT(names("/api/v2/alerts?receiver="), ::testing::SizeIs(2));
  EXPECT_THAT(names("/api/v2/alerts?active=false"), ElementsAre());
  EXPECT_THAT(names("/api/v2/alerts?active=true&silenced=false&inhibited=false&unprocessed=false"),
              ::testing::SizeIs(2));

  EXPECT_EQ(request("GET", "/api/v2/alerts?filter=no-operator").status, 400);
  EXPECT_EQ(request("GET", "/api/v2/alerts?active=maybe").status, 400);
  EXPECT_EQ(request("GET", "/api/v2/alerts?receiver=%28").status, 400);
}

TEST_F(alertmanager_api_test, groups_are_the_route_trees_with_how_often_each_alert_fired) {
  const json web1 = {{"labels", {{"alertname", "Disk"}, {"host", "web1"}}}};
  ASSERT_TRUE(post_alert(web1));
  ASSERT_TRUE(post_alert(web1));
  ASSERT_TRUE(post_alert({{"labels", {{"alertname", "Disk"}, {"host", "web2"}}}}));
  ASSERT_TRUE(post_alert({{"labels", {{"alertname", "Db"}, {"team", "db"}}}}));
  ASSERT_EQ(wait_for_alerts("/api/v2/alerts", 3, "active").size(), 3u);  // web1 is one alert

  const json groups = get_json("/api/v2/alerts/groups");
  ASSERT_EQ(groups.size(), 2u) << groups.dump();
  // Sorted by receiver: db-drop's group, then drop's Disk group with both hosts.
  EXPECT_EQ(groups[0]["receiver"]["name"], "db-drop");
  EXPECT_EQ(groups[0]["labels"], json({{"alertname", "Db"}}));
  EXPECT_EQ(groups[1]["receiver"]["name"], "drop");
  EXPECT_EQ(groups[1]["labels"], json({{"alertname", "Disk"}}));
  ASSERT_EQ(groups[1]["alerts"].size(), 2u);
  std::map<std::string, int> fired;
  for (const auto& a : groups[1]["alerts"]) fired[a["labels"]["host"]] = a["fired"];
  EXPECT_EQ(fired, (std::map<std::string, int>{{"web1", 2}, {"web2", 1}}));
  EXPECT_TRUE(groups[1]["groupKey"].is_string() && !groups[1]["groupKey"].empty());
  EXPECT_TRUE(groups[1]["ack"].is_null());
  EXPECT_TRUE(groups[1]["escalation"].is_null());

  // The alert filters apply to the alerts, and a group left without alerts is not listed.
  const json web2 = get_json("/api/v2/alerts/groups?filter=host%3D%22web2%22");
  ASSERT_EQ(web2.size(), 1u) << web2.dump();
  EXPECT_EQ(web2[0]["alerts"].size(), 1u);
  EXPECT_EQ(get_json("/api/v2/alerts/groups?receiver=db-.*").size(), 1u);
  EXPECT_EQ(request("GET", "/api/v2/alerts/groups?filter=no-operator").status, 400);
}

// Without a route an alert reaches no receiver; the API lists it all the same (as before the
// groups endpoint), unless a receiver filter asks for one.
TEST(alertmanager_api_without_route, lists_alerts_that_reach_no_receiver) {
  test::temp_dir dir{"amapi-noroute"};
  const auto cfg = config::load_string("data_dir: " + dir.path().string() + "\n", "t.yaml");
  notifier_registry registry;
  register_builtin_notifiers(registry);
  metrics_registry metrics;
  router_options options;
  options.data_dir = dir.path();
  alert_router router(cfg, registry, metrics, options);
  admin_server admin;
  register_alertmanager_api(admin, router);
  admin.start("127.0.0.1", 0);
  const auto get = [&](const char* path) {
    return json::parse(test::http_get("127.0.0.1", admin.port(), path).body, nullptr, false);
  };
  ASSERT_EQ(test::http_request("POST", "127.0.0.1", admin.port(), "/api/v2/alerts",
                               R"([{"labels":{"alertname":"Lonely"}}])")
                .status,
            200);
  EXPECT_EQ(get("/api/v2/alerts").size(), 1U);
  EXPECT_EQ(get("/api/v2/alerts?receiver=any").size(), 0U);
  admin.stop();
}

TEST_F(alertmanager_api_test, inhibited_alert_is_suppressed) {
  ASSERT_TRUE(post_alert({{"labels", {{"alertname", "Disk"}, {"severity", "critical"}}}}));
  ASSERT_TRUE(post_alert({{"labels", {{"alertname", "Disk"}, {"severity", "warning"}}}}));
  json warning;
  ASSERT_TRUE(test::wait_until(
      [&] {
        const auto alerts = get_json("/api/v2/alerts?filter=severity%3Dwarning");
        if (alerts.size() != 1) return false;
        warning = alerts[0];
        return warning["status"]["state"] == "suppressed";
      },
      5s))
      << warning.dump();
  EXPECT_FALSE(warning["status"]["inhibitedBy"].empty());
  EXPECT_TRUE(warning["status"]["silencedBy"].empty());
  EXPECT_TRUE(get_json("/api/v2/alerts?filter=severity%3Dwarning&inhibited=false").empty());
}

TEST_F(alertmanager_api_test, bad_alert_bodies_are_400_with_a_json_string) {
  const auto expect_400 = [&](std::string_view body, std::string_view why) {
    const auto r = request("POST", "/api/v2/alerts", body);
    EXPECT_EQ(r.status, 400) << body;
    const auto j = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(j.is_string()) << r.body;
    EXPECT_THAT(j.get<std::string>(), HasSubstr(why)) << body;
  };
  expect_400("{not json", "not JSON");
  expect_400(R"({"labels":{"a":"b"}})", "array");
  expect_400(R"([{"labels":{}}])", "at least one label");
  expect_400(R"([{"annotations":{"a":"b"}}])", "at least one label");
  expect_400(R"([{"labels":{"1bad":"x"}}])", "invalid name");
  expect_400(R"([{"labels":{"a":1}}])", "not a string");
  expect_400(R"([{"labels":{"a":"b"},"startsAt":"yesterday"}])", "startsAt");
  expect_400(R"([{"labels":{"a":"b"},"startsAt":"2030-01-02T00:00:00Z",)"
             R"("endsAt":"2030-01-01T00:00:00Z"}])",
             "start time must be before end time");
  // One bad alert does not lose the good one next to it (Alertmanager does the same).
  expect_400(R"([{"labels":{"alertname":"Good"}},{"labels":{}}])", "alert 1");
  EXPECT_EQ(wait_for_alerts("/api/v2/alerts", 1, "active").size(), 1u);

  EXPECT_EQ(request("PUT", "/api/v2/alerts", "[]").status, 405);
  EXPECT_THAT(metrics_.render(),
              HasSubstr(R"(tocsin_api_requests_total{path="/api/v2/alerts",code="400"} 9)"));
}

TEST_F(alertmanager_api_test, silence_lifecycle) {
  ASSERT_TRUE(post_alert({{"labels", {{"alertname", "Test"}}}}));
  ASSERT_EQ(wait_for_alerts("/api/v2/alerts", 1, "active").size(), 1u);

  const auto id = post_silence(silence_for("Test"));
  ASSERT_THAT(id, MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}"));

  const auto s = get_json("/api/v2/silence/" + id);
  EXPECT_EQ(s["id"], id);
  EXPECT_EQ(s["matchers"],
            json::parse(R"([{"name":"alertname","value":"Test","isRegex":false,"isEqual":true}])"));
  EXPECT_EQ(s["createdBy"], "me");
  EXPECT_EQ(s["comment"], "why");
  EXPECT_EQ(s["status"]["state"], "active");
  for (const char* key : {"startsAt", "endsAt", "updatedAt"}) {
    EXPECT_THAT(s[key].get<std::string>(), MatchesRegex(kRfc3339Millis)) << key;
  }

  EXPECT_EQ(get_json("/api/v2/silences").size(), 1u);
  EXPECT_EQ(get_json("/api/v2/silences?filter=alertname%3D%22Test%22").size(), 1u);
  EXPECT_EQ(get_json("/api/v2/silences?filter=alertname%3D%22Other%22").size(), 0u);
  EXPECT_EQ(get_json("/api/v2/silences?creator=me").size(), 1u);
  EXPECT_EQ(get_json("/api/v2/silences?creator=you").size(), 0u);

  const auto silenced = wait_for_alerts("/api/v2/alerts", 1, "suppressed");
  ASSERT_EQ(silenced.size(), 1u);
  EXPECT_THAT(silenced[0]["status"]["silencedBy"], ElementsAre(id));
  EXPECT_TRUE(get_json("/api/v2/alerts?silenced=false").empty());

  EXPECT_EQ(request("DELETE", "/api/v2/silence/" + id).status, 200);
  EXPECT_EQ(get_json("/api/v2/silence/" + id)["status"]["state"], "expired");
  EXPECT_EQ(request("DELETE", "/api/v2/silence/" + id).status, 200);  // again: no change
  EXPECT_EQ(wait_for_alerts("/api/v2/alerts", 1, "active").size(), 1u);

  EXPECT_EQ(request("GET", "/api/v2/silence/no-such-id").status, 404);
  EXPECT_EQ(request("DELETE", "/api/v2/silence/no-such-id").status, 404);
  EXPECT_EQ(request("GET", "/api/v2/silence/").status, 404);
  EXPECT_EQ(request("PUT", "/api/v2/silence/" + id).status, 405);
}

TEST_F(alertmanager_api_test, silences_are_listed_active_then_pending_then_expired) {
  const auto later = post_silence(silence_for("Later", 2h));
  const auto sooner = post_silence(silence_for("Sooner", 1h));
  const auto expired = post_silence(silence_for("Gone"));
  ASSERT_EQ(request("DELETE", "/api/v2/silence/" + expired).status, 200);
  std::vector<std::string> ids;
  for (const auto& s : get_json("/api/v2/silences")) ids.push_back(s["id"]);
  EXPECT_THAT(ids, ElementsAre(sooner, later, expired));
}

TEST_F(alertmanager_api_test, bad_silences_are_refused) {
  const auto expect_status = [&](const json& body, unsigned status, std::string_view why) {
    const auto r = request("POST", "/api/v2/silences", body.dump());
    EXPECT_EQ(r.status, status) << body.dump() << " → " << r.body;
    EXPECT_THAT(r.body, HasSubstr(why)) << body.dump();
  };
  auto no_matchers = silence_for("Test");
  no_matchers["matchers"] = json::array();
  expect_status(no_matchers, 400, "at least one matcher");

  auto matches_everything = silence_for("Test");
  matches_everything["matchers"][0]["value"] = ".*";
  matches_everything["matchers"][0]["isRegex"] = true;
  expect_status(matches_everything, 400, "must not match the empty string");

  auto bad_regex = silence_for("Test");
  bad_regex["matchers"][0]["value"] = "(";
  bad_regex["matchers"][0]["isRegex"] = true;
  expect_status(bad_regex, 400, "Failed to create silence");

  auto past = silence_for("Test");
  past["startsAt"] = "2020-01-01T00:00:00Z";
  past["endsAt"] = "2020-01-01T01:00:00Z";
  expect_status(past, 400, "end time can't be in the past");

  auto backwards = silence_for("Test");
  std::swap(backwards["startsAt"], backwards["endsAt"]);
  expect_status(backwards, 400, "start time must be before end time");

  auto no_end = silence_for("Test");
  no_end.erase("endsAt");
  expect_status(no_end, 400, "required");

  auto unknown = silence_for("Test");
  unknown["id"] = "00000000-0000-4000-8000-000000000000";
  expect_status(unknown, 404, "not found");

  expect_status("not a silence", 400, "not an object");
  EXPECT_TRUE(get_json("/api/v2/silences").empty());
}

TEST_F(alertmanager_api_test, silence_update_is_applied) {
  const auto id = post_silence(silence_for("Test"));
  auto update = silence_for("Test", 3h);
  update["id"] = id;
  update["comment"] = "longer";
  const auto new_id = post_silence(update);
  ASSERT_FALSE(new_id.empty());
  const auto s = get_json("/api/v2/silence/" + new_id);
  EXPECT_EQ(s["comment"], "longer");
}

// The API reads the router's clock: what it validates, lists and expires follows a manual one.
class alertmanager_api_clock_test : public alertmanager_api_test {
 protected:
  void SetUp() override {
    time_ = &manual_;
    alertmanager_api_test::SetUp();
  }

  static std::string rfc3339(std::chrono::system_clock::time_point tp) {
    std::string out;
    append_rfc3339_utc(tp, out, 3);
    return out;
  }

  manual_clock manual_;
};

TEST_F(alertmanager_api_clock_test, times_are_the_routers) {
  const auto started = manual_.now();
  EXPECT_EQ(get_json("/api/v2/status")["uptime"], rfc3339(started));

  // No endsAt: resolve_timeout (5m) by the router's clock, then the API no longer lists it.
  ASSERT_TRUE(post_alert({{"labels", {{"alertname", "Test"}}}}));
  const auto alerts = get_json("/api/v2/alerts");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0]["startsAt"], rfc3339(started));
  EXPECT_EQ(alerts[0]["endsAt"], rfc3339(started + 5min));
  manual_.advance(5min - 1ms);
  EXPECT_EQ(get_json("/api/v2/alerts").size(), 1u);
  manual_.advance(1ms);
  EXPECT_TRUE(get_json("/api/v2/alerts").empty());

  // A silence in the manual clock's present is not "in the past", though real time is later.
  const auto id = post_silence(silence_for("Test"));
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(get_json("/api/v2/silence/" + id)["status"]["state"], "active");
  manual_.advance(1h);
  EXPECT_EQ(get_json("/api/v2/silence/" + id)["status"]["state"], "expired");
}

// ---- The real amtool
// -----------------------------------------------------------------------------

class amtool_test : public alertmanager_api_test {
 protected:
  void SetUp() override {
    amtool_ = test::find_program("amtool");
    if (amtool_.empty())
      GTEST_SKIP() << "amtool not installed (apt-get install prometheus-alertmanager)";
    alertmanager_api_test::SetUp();
  }

  test::command_result amtool(std::vector<std::string> args) {
    auto r = run_amtool(args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.stderr_text;
    return r;
  }

  test::command_result run_amtool(std::vector<std::string> args) {
    args.insert(args.begin(), {amtool_.string(), "--alertmanager.url=http://127.0.0.1:" +
                                                     std::to_string(admin_.port())});
    // A HOME of its own so no ~/.config/amtool/config.yml changes its defaults.
    test::process_options options;
    options.env = {{"HOME", dir_.path().string()}};
    return test::run_command(args, {}, options, 30s);
  }

  std::filesystem::path amtool_;
};

TEST_F(amtool_test, alert_add_query_silence_expire) {
  amtool({"alert", "add", "alertname=Test", "severity=critical", "--annotation=summary=hello"});

  json alerts;
  ASSERT_TRUE(test::wait_until(
      [&] {
        alerts = json::parse(amtool({"alert", "query", "-o", "json"}).stdout_text, nullptr, false);
        return alerts.is_array() && alerts.size() == 1;
      },
      5s))
      << alerts.dump();
  EXPECT_EQ(alerts[0]["labels"], json::parse(R"({"alertname":"Test","severity":"critical"})"));
  EXPECT_EQ(alerts[0]["annotations"]["summary"], "hello");
  EXPECT_EQ(alerts[0]["status"]["state"], "active");
  EXPECT_EQ(alerts[0]["receivers"][0]["name"], "drop");

  // The simple table: header, then the alert's name and start.
  const auto table = amtool({"alert", "query"}).stdout_text;
  EXPECT_THAT(table, HasSubstr("Alertname"));
  EXPECT_THAT(table, HasSubstr("Test"));

  const auto added =
      amtool({"silence", "add", "alertname=Test", "-c", "why", "-a", "me", "-d", "1h"});
  std::string id = added.stdout_text;
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  ASSERT_THAT(id, MatchesRegex("[0-9a-f-]{36}")) << added.stdout_text;

  EXPECT_EQ(amtool({"silence", "query", "-q"}).stdout_text, id + "\n");
  const auto silences = amtool({"silence", "query"}).stdout_text;
  EXPECT_THAT(silences, HasSubstr(id));
  EXPECT_THAT(silences, HasSubstr("alertname=\"Test\""));
  EXPECT_THAT(silences, HasSubstr("me"));
  EXPECT_THAT(silences, HasSubstr("why"));

  // Silenced: gone from the default (active only) query, shown with -s as suppressed.
  ASSERT_TRUE(test::wait_until(
      [&] {
        alerts =
            json::parse(amtool({"alert", "query", "-s", "-o", "json"}).stdout_text, nullptr, false);
        return alerts.size() == 1 && alerts[0]["status"]["state"] == "suppressed";
      },
      5s))
      << alerts.dump();
  EXPECT_THAT(alerts[0]["status"]["silencedBy"], ElementsAre(id));
  EXPECT_EQ(json::parse(amtool({"alert", "query", "-o", "json"}).stdout_text), json::array());

  amtool({"silence", "expire", id});
  EXPECT_EQ(amtool({"silence", "query", "-q"}).stdout_text, "");
  EXPECT_EQ(amtool({"silence", "query", "--expired", "-q"}).stdout_text, id + "\n");
  const auto expired =
      json::parse(amtool({"silence", "query", "--expired", "-o", "json"}).stdout_text);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0]["status"]["state"], "expired");

  // Every amtool command first reads /api/v2/status (its version check); expire is a DELETE.
  const auto metrics = metrics_.render();
  EXPECT_THAT(metrics, HasSubstr(R"(tocsin_api_requests_total{path="/api/v2/status",code="200"})"));
  EXPECT_THAT(metrics,
              HasSubstr(R"(tocsin_api_requests_total{path="/api/v2/silence/{id}",code="200"} 1)"));
}

TEST_F(amtool_test, config_show_and_refused_silence) {
  EXPECT_THAT(amtool({"config", "show"}).stdout_text, HasSubstr("route:\n  receiver: drop\n"));
  // amtool has no client-side check for this; our 400 text reaches the user.
  const auto refused = run_amtool({"silence", "add", "alertname=~.*", "-c", "why"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.stderr_text,
              HasSubstr("[400] postSilencesBadRequest  Failed to create silence: at least one "
                        "matcher must not match the empty string"));
}

}  // namespace
}  // namespace tocsin::sinks
