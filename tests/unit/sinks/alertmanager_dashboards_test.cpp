// The dashboards Alertmanager users already run, against tocsin's Alertmanager API: karma and
// Grafana's Alertmanager data source. Each sends the requests recorded below (method, path and
// query, headers; taken from their source, named on each), and each response must have every
// field their parsers read, with the JSON type they read it as, while tocsin holds an active, a
// silenced, an inhibited alert and groups muted by a time interval (mute_time_intervals and
// active_time_intervals).
//
// Auth: both dashboards can send a custom header, so they reach a token-guarded tocsin with
// `Authorization: Bearer <admin token>` (karma: alertmanager.servers[].headers; Grafana: the data
// source's "Custom HTTP Headers"). Basic auth (karma's user:password@ in the URI, Grafana's
// "Basic auth" switch) is refused: tocsin takes no password.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/rfc3339.hpp"
#include "sinks/alertmanager_api.hpp"
#include "sinks/alertmanager_config_text.hpp"
#include "tests/support/support.hpp"

namespace tocsin::sinks {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

constexpr const char* dashboard_token = "dashboard-secret";

// `night` is muted all day by a mute time interval, `office` is outside its only active time
// interval (a year long gone), `default` is not muted.
constexpr const char* dashboard_config = R"yaml(
route:
  receiver: default
  group_by: [alertname]
  group_wait: 1h
  routes:
    - { matchers: ['team="night"'], receiver: night, mute_time_intervals: [always] }
    - { matchers: ['team="office"'], receiver: office, active_time_intervals: [in-2001] }
time_intervals:
  - name: always
    time_intervals: [ { times: [ { start_time: '00:00', end_time: '24:00' } ] } ]
  - name: in-2001
    time_intervals: [ { years: ['2001'] } ]
inhibit_rules:
  - { source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'],
      equal: [host] }
receivers:
  - name: default
  - name: night
  - name: office
)yaml";

// ---- What the parsers read ----------------------------------------------------------------------

// A shape is JSON: an object lists the members a parser reads (a key ending in "?" may be absent),
// a one-element array is an array of that shape, a string names a leaf type: "string", "bool",
// "time" (RFC 3339, as Go's time.Time and go-openapi's strfmt.DateTime parse it), "labels" (an
// object of strings), "strings" (an array of strings), "alert-state" and "silence-state" (the
// spec's enums).
void expect_shape(const json& value, const json& shape, const std::string& where) {
  if (shape.is_object()) {
    ASSERT_TRUE(value.is_object()) << where << " is not an object: " << value.dump();
    for (const auto& [key, member] : shape.items()) {
      const bool optional = key.ends_with('?');
      const std::string name = optional ? key.substr(0, key.size() - 1) : key;
      if (!value.contains(name)) {
        EXPECT_TRUE(optional) << where << "." << name << " is missing";
        continue;
      }
      expect_shape(value[name], member, where + "." + name);
    }
    return;
  }
  if (shape.is_array()) {
    ASSERT_TRUE(value.is_array()) << where << " is not an array: " << value.dump();
    for (std::size_t i = 0; i < value.size(); ++i) {
      expect_shape(value[i], shape[0], where + "[" + std::to_string(i) + "]");
    }
    return;
  }
  const std::string type = shape.get<std::string>();
  if (type == "string") {
    EXPECT_TRUE(value.is_string()) << where << " is not a string: " << value.dump();
  } else if (type == "bool") {
    EXPECT_TRUE(value.is_boolean()) << where << " is not a boolean: " << value.dump();
  } else if (type == "time") {
    ASSERT_TRUE(value.is_string()) << where << " is not a string: " << value.dump();
    EXPECT_TRUE(parse_rfc3339(value.get<std::string>())) << where << " is not RFC 3339: " << value;
  } else if (type == "labels") {
    ASSERT_TRUE(value.is_object()) << where << " is not an object: " << value.dump();
    for (const auto& [k, v] : value.items()) {
      EXPECT_TRUE(v.is_string()) << where << "." << k << " is not a string";
    }
  } else if (type == "strings") {
    ASSERT_TRUE(value.is_array()) << where << " is not an array: " << value.dump();
    for (const auto& v : value) EXPECT_TRUE(v.is_string()) << where << " has " << v.dump();
  } else if (!value.is_string()) {
    ADD_FAILURE() << where << " is not a string: " << value.dump();
  } else if (type == "alert-state") {
    EXPECT_THAT(value.get<std::string>(), ::testing::AnyOf("unprocessed", "active", "suppressed"))
        << where;
  } else if (type == "silence-state") {
    EXPECT_THAT(value.get<std::string>(), ::testing::AnyOf("pending", "active", "expired"))
        << where;
  } else {
    FAIL() << "unknown shape type " << type;
  }
}

// karma's parsers: prymitive/karma internal/mapper/v017/api.go (json v2 into the structs
// alertGroup, alert, alertStatus, silence, matcher; unknown members ignored). Karma before
// v0.119 read the same through go-openapi models, dereferencing the required pointers (the same
// file at 1cd7856dc^), and also /api/v2/status: cluster.name and cluster.peers[].name.
const json karma_groups = json::parse(R"({"shape": [{
  "labels": "labels", "receiver": {"name": "string"},
  "alerts": [{"startsAt": "time", "annotations": "labels", "labels": "labels",
              "fingerprint": "string", "generatorURL?": "string",
              "status": {"state": "alert-state", "inhibitedBy": "strings",
                         "silencedBy": "strings"}}]}]})")["shape"];
const json karma_silences = json::parse(R"({"shape": [{
  "id": "string", "startsAt": "time", "endsAt": "time", "createdBy": "string",
  "comment": "string",
  "matchers": [{"name": "string", "value": "string", "isRegex": "bool", "isEqual": "bool"}]}]})")
    ["shape"];
const json karma_old_status = json::parse(R"({"cluster": {"name?": "string",
  "peers": [{"name": "string"}], "status": "string"}})");
// karma's silence form reads `silenceID` (ui/src/Components/SilenceModal/SilenceSubmit/
// SilenceSubmitProgress.tsx); Grafana's backend the same (PostSilencesOKBody).
const json posted_silence = json::parse(R"({"silenceID": "string"})");

// Grafana: pkg/services/ngalert/api/lotex_am.go unmarshals into Alertmanager's own models
// (apimodels.AlertGroups, GettableAlerts, GettableSilences, GettableSilence, GettableStatus) and
// marshals them again for public/app/plugins/datasource/alertmanager/types.ts
// (AlertmanagerGroup, AlertmanagerAlert, Silence, AlertmanagerStatus). Required members of
// Alertmanager's openapi.yaml (0.28, with mutedBy) a missing one would come back as null.
const json grafana_alert = json::parse(R"({
  "labels": "labels", "annotations": "labels", "startsAt": "time", "endsAt": "time",
  "updatedAt": "time", "fingerprint": "string", "generatorURL?": "string",
  "receivers": [{"name": "string"}],
  "status": {"state": "alert-state", "silencedBy": "strings", "inhibitedBy": "strings",
             "mutedBy": "strings"}})");
json array_of(const json& element) {
  json out = json::array();
  out.push_back(element);
  return out;
}
const json grafana_groups = array_of({{"labels", "labels"},
                                      {"receiver", {{"name", "string"}}},
                                      {"alerts", array_of(grafana_alert)}});
const json grafana_alerts = array_of(grafana_alert);
const json grafana_silence = json::parse(R"({
  "id": "string", "startsAt": "time", "endsAt": "time", "updatedAt": "time",
  "createdBy": "string", "comment": "string", "status": {"state": "silence-state"},
  "matchers": [{"name": "string", "value": "string", "isRegex": "bool", "isEqual": "bool"}]})");
// GettableStatus.UnmarshalJSON (pkg/services/ngalert/api/tooling/definitions/alertmanager.go)
// dereferences config and reads config.original as Alertmanager's YAML.
const json grafana_status = json::parse(R"({
  "cluster": {"status": "string", "peers": [{"name": "string", "address": "string"}]},
  "config": {"original": "string"}, "uptime": "time",
  "versionInfo": {"version": "string", "revision": "string", "branch": "string",
                  "buildUser": "string", "buildDate": "string", "goVersion": "string"}})");
const json grafana_silences = array_of(grafana_silence);

// ---- The recorded requests ----------------------------------------------------------------------

struct recorded_request {
  const char* client;
  const char* source;  // repository and file the request was read from
  const char* method;
  // `{silence}` is replaced by the id of a silence the test made.
  const char* target;
  std::map<std::string, std::string> headers;
  // `{now}` and `{in_1h}` are replaced by RFC 3339 times.
  const char* body;
  int status;         // what the dashboard needs (0: anything but 200)
  const json* shape;  // what its parser reads of the body; null: nothing
};

// Go's http.Client adds the first two to every request (net/http); the third is karma's
// `headers:` for the server.
const std::map<std::string, std::string> go_client = {
    {"User-Agent", "Go-http-client/1.1"},
    {"Accept-Encoding", "gzip"},
    {"Authorization", std::string("Bearer ") + dashboard_token}};

std::map<std::string, std::string> with(std::map<std::string, std::string> base,
                                        const std::map<std::string, std::string>& more) {
  for (const auto& [k, v] : more) base[k] = v;
  return base;
}

// Grafana's data source proxy (pkg/api/pluginproxy/ds_proxy.go): its own user agent, the
// browser's cookies dropped, the data source's custom headers (here Authorization) added.
const std::map<std::string, std::string> grafana_proxy = {
    {"User-Agent", "Grafana/11.3.0"},
    {"Accept-Encoding", "gzip"},
    {"X-Grafana-Org-Id", "1"},
    {"Authorization", std::string("Bearer ") + dashboard_token}};

// karma's proxy (cmd/karma/proxy.go, httputil.ReverseProxy) passes the browser's request on: a
// fetch() from karma's page names karma's origin; karma sets the configured headers over it.
const std::map<std::string, std::string> karma_proxy = {
    {"User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0"},
    {"Origin", "https://karma.example.com"},
    {"Referer", "https://karma.example.com/"},
    {"X-Forwarded-For", "192.0.2.10"},
    {"Authorization", std::string("Bearer ") + dashboard_token}};

const char* const karma_silence_body =
    R"({"matchers":[{"name":"alertname","value":"karma-made","isRegex":false,"isEqual":true}],)"
    R"("startsAt":"{now}","endsAt":"{in_1h}","createdBy":"karma","comment":"from karma"})";
// Grafana's backend marshals apimodels.PostableSilence: members sorted, id omitted when empty.
const char* const grafana_silence_body =
    R"({"comment":"from grafana","createdBy":"admin","endsAt":"{in_1h}","matchers":)"
    R"([{"isEqual":true,"isRegex":false,"name":"alertname","value":"grafana-made"}],)"
    R"("startsAt":"{now}"})";

const std::vector<recorded_request>& recorded_requests() {
  static const std::vector<recorded_request> requests = {
      // karma's pull, every refresh: groups, then silences.
      {"karma", "prymitive/karma internal/mapper/v017/api.go groups()", "GET",
       "/api/v2/alerts/groups", go_client, "", 200, &karma_groups},
      {"karma", "prymitive/karma internal/mapper/v017/api.go silences()", "GET", "/api/v2/silences",
       go_client, "", 200, &karma_silences},
      {"karma < v0.119", "prymitive/karma internal/mapper/v017/api.go status() (1cd7856dc^)", "GET",
       "/api/v2/status", go_client, "", 200, &karma_old_status},
      // karma's silence form and delete button, through karma's proxy (proxy: true).
      {"karma",
       "prymitive/karma ui/src/Components/SilenceModal/SilenceSubmit/SilenceSubmitProgress.tsx",
       "POST", "/api/v2/silences", with(karma_proxy, {{"Content-Type", "application/json"}}),
       karma_silence_body, 200, &posted_silence},
      {"karma", "prymitive/karma ui/src/Components/ManagedSilence/DeleteSilence.tsx", "DELETE",
       "/api/v2/silence/{silence}", karma_proxy, "", 200, nullptr},

      // Grafana's "Save & test" with implementation "prometheus": buildinfo (any answer), the
      // Mimir path (must not be 200), then the Alertmanager path (must be 200).
      {"grafana", "grafana/grafana public/app/features/alerting/unified/api/buildInfo.ts", "GET",
       "/api/v1/status/buildinfo", grafana_proxy, "", 0, nullptr},
      {"grafana", "grafana/grafana public/app/plugins/datasource/alertmanager/DataSource.ts", "GET",
       "/alertmanager/api/v2/status", grafana_proxy, "", 0, nullptr},
      {"grafana", "grafana/grafana public/app/plugins/datasource/alertmanager/DataSource.ts", "GET",
       "/api/v2/status", grafana_proxy, "", 200, &grafana_status},
      // The alerting pages, through pkg/services/ngalert/api/lotex_am.go (query passed as is).
      {"grafana", "grafana/grafana public/app/features/alerting/unified/api/alertmanager.ts", "GET",
       "/api/v2/alerts/groups", grafana_proxy, "", 200, &grafana_groups},
      {"grafana", "grafana/grafana public/app/features/alerting/unified/api/alertmanagerApi.ts",
       "GET",
       "/api/v2/alerts/groups?filter=alertname%3D%22disk%22&receiver=default&active=true"
       "&silenced=true&inhibited=true",
       grafana_proxy, "", 200, &grafana_groups},
      {"grafana", "grafana/grafana public/app/features/alerting/unified/api/alertmanagerApi.ts",
       "GET",
       "/api/v2/alerts?filter=severity%3D~%22crit.%2A%22&silenced=false&active=true"
       "&inhibited=false&unprocessed=true",
       grafana_proxy, "", 200, &grafana_alerts},
      {"grafana", "grafana/grafana public/app/features/alerting/unified/api/alertmanager.ts", "GET",
       "/api/v2/alerts?silenced=true&active=true&inhibited=true", grafana_proxy, "", 200,
       &grafana_alerts},
      {"grafana", "grafana/grafana public/app/features/alerting/unified/api/alertSilencesApi.ts",
       "GET", "/api/v2/silences?ruleMetadata=true&accesscontrol=true", grafana_proxy, "", 200,
       &grafana_silences},
      {"grafana", "grafana/grafana public/app/features/alerting/unified/api/alertSilencesApi.ts",
       "GET", "/api/v2/silence/{silence}?ruleMetadata=true&accesscontrol=true", grafana_proxy, "",
       200, &grafana_silence},
      {"grafana", "grafana/grafana pkg/services/ngalert/api/lotex_am.go RouteCreateSilence", "POST",
       "/api/v2/silences", with(grafana_proxy, {{"Content-Type", "application/json"}}),
       grafana_silence_body, 200, &posted_silence},
      {"grafana", "grafana/grafana pkg/services/ngalert/api/lotex_am.go RouteDeleteSilence",
       "DELETE", "/api/v2/silence/{silence}", grafana_proxy, "", 200, nullptr},
  };
  return requests;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// ---- The fixture --------------------------------------------------------------------------------

class alertmanager_dashboards_test : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_ = config::load_string(
        std::string(dashboard_config) + "data_dir: " + dir_.path().string() + "\n", "t.yaml");
    register_builtin_notifiers(registry_);
    router_options options;
    options.data_dir = dir_.path();
    options.tick = 20ms;
    router_ = std::make_unique<alert_router>(cfg_, registry_, metrics_, options);
    router_->start();
    // As the daemon passes them.
    register_alertmanager_api(
        admin_, *router_,
        {alertmanager_config_text(cfg_), {"default", "night", "office"}, &metrics_});
    admin_.require_token(dashboard_token, {"/healthz"});
    admin_.start("127.0.0.1", 0);
    fill();
  }

  void TearDown() override {
    admin_.stop();
    router_->stop();
  }

  test::http_response send(std::string_view method, std::string_view target,
                           std::string_view body = {},
                           const std::map<std::string, std::string>& headers = {
                               {"Authorization", std::string("Bearer ") + dashboard_token}}) {
    return test::http_request(method, "127.0.0.1", admin_.port(), target, body,
                              body.empty() ? "" : "application/json", 10s, headers);
  }

  json get(std::string_view target) {
    const auto r = send("GET", target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    return json::parse(r.body, nullptr, false);
  }

  static std::string now_text(std::chrono::system_clock::duration ahead = {}) {
    std::string out;
    append_rfc3339_utc(std::chrono::system_clock::now() + ahead, out, 3);
    return out;
  }

  std::string make_silence(const std::string& alertname) {
    const json s = {
        {"matchers",
         {{{"name", "alertname"}, {"value", alertname}, {"isRegex", false}, {"isEqual", true}}}},
        {"startsAt", now_text()},
        {"endsAt", now_text(1h)},
        {"createdBy", "test"},
        {"comment", "quiet"}};
    const auto r = send("POST", "/api/v2/silences", s.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false).value("silenceID", "");
  }

  // An active alert (with a generatorURL), one it inhibits, a silenced one, one in a group muted
  // by a mute time interval and one outside its route's active time interval.
  void fill() {
    silence_id_ = make_silence("mem");
    const json alerts = json::parse(R"([
      {"labels": {"alertname": "disk", "host": "web1", "severity": "critical"},
       "annotations": {"summary": "disk full"}, "generatorURL": "http://prom/graph"},
      {"labels": {"alertname": "disk", "host": "web1", "severity": "warning"}},
      {"labels": {"alertname": "mem", "host": "web3"}},
      {"labels": {"alertname": "cpu", "host": "web2", "team": "night"}},
      {"labels": {"alertname": "load", "host": "web4", "team": "office"}}])");
    const auto r = send("POST", "/api/v2/alerts", alerts.dump());
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_TRUE(test::wait_until([&] { return get("/api/v2/alerts").size() == 5; }, 5s));
  }

  test::temp_dir dir_{"amdash"};
  config::config cfg_;
  notifier_registry registry_;
  metrics_registry metrics_;
  std::unique_ptr<alert_router> router_;
  admin_server admin_;
  std::string silence_id_;
};

// ---- Tests --------------------------------------------------------------------------------------

TEST_F(alertmanager_dashboards_test, every_recorded_request_gets_what_its_parser_reads) {
  for (const recorded_request& rec : recorded_requests()) {
    SCOPED_TRACE(std::string(rec.client) + " " + rec.method + " " + rec.target + " (" + rec.source +
                 ")");
    // A request that deletes one takes a silence of its own, so the others still see theirs.
    const std::string silence =
        std::string_view(rec.method) == "DELETE" ? make_silence("to-delete") : silence_id_;
    const std::string target = replace_all(rec.target, "{silence}", silence);
    const std::string body =
        replace_all(replace_all(rec.body, "{now}", now_text()), "{in_1h}", now_text(1h));
    auto headers = rec.headers;
    std::string content_type;
    if (const auto it = headers.find("Content-Type"); it != headers.end()) {
      content_type = it->second;
      headers.erase(it);
    }
    const auto r = test::http_request(rec.method, "127.0.0.1", admin_.port(), target, body,
                                      content_type, 10s, headers);
    if (rec.status == 0) {
      EXPECT_NE(r.status, 200) << r.body;
      continue;
    }
    ASSERT_EQ(r.status, rec.status) << r.body;
    if (rec.shape == nullptr) continue;
    // Grafana's backend takes the body only with a JSON content type.
    const auto content = r.headers.find("content-type");
    EXPECT_THAT(content == r.headers.end() ? "" : content->second, ::testing::HasSubstr("json"));
    const json answer = json::parse(r.body, nullptr, false);
    ASSERT_FALSE(answer.is_discarded()) << r.body;
    expect_shape(answer, *rec.shape, "body");
    if (answer.is_array()) EXPECT_FALSE(answer.empty()) << "nothing to check the shape of";
  }
}

TEST_F(alertmanager_dashboards_test, groups_show_time_interval_mutes_as_alertmanager_does) {
  std::map<std::string, json> by_receiver;
  for (const auto& g : get("/api/v2/alerts/groups")) {
    by_receiver[g["receiver"]["name"].get<std::string>() + "/" +
                g["labels"]["alertname"].get<std::string>()] = g;
  }
  ASSERT_EQ(by_receiver.size(), 4u);
  // Muted by a mute time interval that holds: its name; the alert is suppressed.
  const auto& night = by_receiver["night/cpu"]["alerts"][0]["status"];
  EXPECT_EQ(night["mutedBy"], json::array({"always"}));
  EXPECT_EQ(night["state"], "suppressed");
  EXPECT_EQ(night["silencedBy"], json::array());
  // Outside its route's only active time interval: that one's name.
  const auto& office = by_receiver["office/load"]["alerts"][0]["status"];
  EXPECT_EQ(office["mutedBy"], json::array({"in-2001"}));
  EXPECT_EQ(office["state"], "suppressed");
  // Not muted: an empty list, and the states silences and inhibitions give.
  for (const auto& a : by_receiver["default/disk"]["alerts"]) {
    EXPECT_EQ(a["status"]["mutedBy"], json::array());
    EXPECT_EQ(a["status"]["state"],
              a["labels"]["severity"] == "critical" ? "active" : "suppressed");
  }
  EXPECT_EQ(by_receiver["default/mem"]["alerts"][0]["status"]["silencedBy"],
            json::array({silence_id_}));

  // muted=false leaves the muted groups out.
  std::vector<std::string> unmuted;
  for (const auto& g : get("/api/v2/alerts/groups?muted=false")) {
    unmuted.push_back(g["receiver"]["name"]);
  }
  EXPECT_THAT(unmuted, ::testing::ElementsAre("default", "default"));
  EXPECT_EQ(send("GET", "/api/v2/alerts/groups?muted=maybe").status, 400);
}

TEST_F(alertmanager_dashboards_test, alerts_list_has_empty_muted_by_as_alertmanager_does) {
  // /api/v2/alerts shows no group, so Alertmanager gives none of the group's mutes there.
  for (const auto& a : get("/api/v2/alerts")) {
    EXPECT_EQ(a["status"]["mutedBy"], json::array()) << a.dump();
    if (a["labels"]["alertname"] == "cpu") EXPECT_EQ(a["status"]["state"], "active");
  }
}

TEST_F(alertmanager_dashboards_test, bearer_header_works_and_basic_auth_does_not) {
  // No header: what a dashboard configured without one gets.
  EXPECT_EQ(send("GET", "/api/v2/alerts/groups", {}, {}).status, 401);
  // karma's user:password@ URI and Grafana's "Basic auth" switch send Basic credentials.
  const auto basic =
      send("GET", "/api/v2/alerts/groups", {},
           {{"Authorization", "Basic a2FybWE6ZGFzaGJvYXJkLXNlY3JldA=="}});  // karma:<token>
  EXPECT_EQ(basic.status, 401);
  // A write through karma's proxy names karma's origin; the bearer token is enough for it.
  const auto expired = send("DELETE", "/api/v2/silence/" + silence_id_, {}, with(karma_proxy, {}));
  EXPECT_EQ(expired.status, 200) << expired.body;
}

}  // namespace
}  // namespace tocsin::sinks
