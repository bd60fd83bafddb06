// Request validation of the Alertmanager v2 API that the main API tests leave out: each field of
// a posted alert or silence with the wrong JSON type, out-of-range times, odd query strings,
// and the methods each path refuses.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/rfc3339.hpp"
#include "sinks/alertmanager_api.hpp"
#include "tests/support/support.hpp"

namespace tocsin::sinks {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using ::testing::HasSubstr;

constexpr const char* kConfig = R"yaml(
route:
  receiver: drop
  group_by: [alertname]
  group_wait: 1h
receivers:
  - name: drop
)yaml";

// An admin listener on 127.0.0.1:0 serving the API of a real router over a temp data_dir.
class alertmanager_api_branches : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_ = config::load_string(std::string(kConfig) + "data_dir: " + dir_.path().string() + "\n",
                               "t.yaml");
    register_builtin_notifiers(registry_);
    router_options options;
    options.data_dir = dir_.path();
    options.tick = 20ms;
    router_ = std::make_unique<alert_router>(cfg_, registry_, metrics_, options, real_clock());
    router_->start();
    register_alertmanager_api(admin_, *router_, {"route:\n  receiver: drop\n", {"drop"}, nullptr});
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

  // `body` POSTed to `path` is refused with `status` and a JSON string containing `why`.
  void expect_refused(std::string_view path, std::string_view body, unsigned status,
                      std::string_view why) {
    const auto r = request("POST", path, body);
    EXPECT_EQ(r.status, status) << body << " → " << r.body;
    const auto j = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(j.is_string()) << r.body;
    EXPECT_THAT(j.get<std::string>(), HasSubstr(why)) << body;
  }

  static std::string in(std::chrono::system_clock::duration d) {
    std::string out;
    append_rfc3339_utc(real_clock().now() + d, out, 3);
    return out;
  }

  json silence(json matchers) const {
    return {{"matchers", std::move(matchers)},
            {"startsAt", in(0s)},
            {"endsAt", in(1h)},
            {"createdBy", "me"},
            {"comment", "why"}};
  }

  static json eq(const std::string& name, const std::string& value) {
    return json::array({{{"name", name}, {"value", value}, {"isRegex", false}, {"isEqual", true}}});
  }

  test::temp_dir dir_{"amapib"};
  config::config cfg_;
  notifier_registry registry_;
  metrics_registry metrics_;
  std::unique_ptr<alert_router> router_;
  admin_server admin_;
};

TEST_F(alertmanager_api_branches, posted_alert_fields_of_the_wrong_type) {
  const char* path = "/api/v2/alerts";
  expect_refused(path, "[1]", 400, "alert 0: alert is not an object");
  expect_refused(path, R"([{"labels":["a"]}])", 400, "labels is not an object");
  expect_refused(path, R"([{"labels":null}])", 400, "at least one label pair required");
  expect_refused(path, R"([{"labels":{"a":"b"},"annotations":"x"}])", 400,
                 "annotations is not an object");
  expect_refused(path, R"([{"labels":{"a":"b"},"annotations":{"x":1}}])", 400,
                 "annotations: value of x is not a string");
  expect_refused(path, R"([{"labels":{"":"b"}}])", 400, "labels: invalid name \"\"");
  expect_refused(path, R"([{"labels":{"a-b":"b"}}])", 400, "labels: invalid name \"a-b\"");
  expect_refused(path, R"([{"labels":{"a":"b"},"startsAt":5}])", 400, "startsAt is not a string");
  expect_refused(path, R"([{"labels":{"a":"b"},"endsAt":"1500-01-01T00:00:00Z"}])", 400,
                 "endsAt is out of range: 1500-01-01T00:00:00Z");
  expect_refused(path, R"([{"labels":{"a":"b"},"endsAt":"2300-01-01T00:00:00Z"}])", 400,
                 "endsAt is out of range");
  expect_refused(path, R"([{"labels":{"a":"b"},"endsAt":"20"}])", 400, "endsAt is out of range");
  expect_refused(path, R"([{"labels":{"a":"b"},"startsAt":"2030-01-01 noon"}])", 400,
                 "startsAt is not an RFC 3339 time: 2030-01-01 noon");
  expect_refused(path, R"([{"labels":{"a":"b"},"generatorURL":7}])", 400,
                 "generatorURL is not a string");
  // Each refused alert is named, in order.
  expect_refused(path, R"([1,{"labels":{}}])", 400,
                 "alert 0: alert is not an object; alert 1: at least one label pair required");
  // Nothing was taken.
  const auto r = request("GET", path);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body), json::array());
}

TEST_F(alertmanager_api_branches, go_zero_and_null_times_and_a_generator_url_are_accepted) {
  const auto r = request("POST", "/api/v2/alerts",
                         json::array({{{"labels", {{"alertname", "Z"}, {"_x1", "y"}}},
                                       {"annotations", nullptr},
                                       {"startsAt", ""},
                                       {"endsAt", "0001-01-01T00:00:00.000Z"},
                                       {"generatorURL", "http://gen/x"}}})
                             .dump());
  ASSERT_EQ(r.status, 200) << r.body;
  json alerts;
  ASSERT_TRUE(test::wait_until(
      [&] {
        alerts = json::parse(request("GET", "/api/v2/alerts").body, nullptr, false);
        return alerts.is_array() && alerts.size() == 1;
      },
      5s));
  EXPECT_EQ(alerts[0]["generatorURL"], "http://gen/x");
  EXPECT_EQ(alerts[0]["labels"]["_x1"], "y");
  // Query strings: empty pairs are skipped, '+' is a space, a bad %-escape is kept as written,
  // a parameter without '=' is empty (the default).
  EXPECT_EQ(
      json::parse(request("GET", "/api/v2/alerts?&&active&filter=alertname%3D%22Z%22").body).size(),
      1u);
  EXPECT_EQ(json::parse(request("GET", "/api/v2/alerts?filter=alertname%3D%22Z+%22").body).size(),
            0u);
  EXPECT_EQ(request("GET", "/api/v2/alerts?filter=alertname%3D%22Z%zz%22").status, 200);
  EXPECT_EQ(json::parse(request("GET", "/api/v2/alerts?active=1&silenced=0").body).size(), 1u);
  EXPECT_EQ(json::parse(request("GET", "/api/v2/alerts?active=0").body).size(), 0u);
  for (const char* p : {"silenced", "inhibited", "unprocessed"}) {
    const auto bad = request("GET", std::string("/api/v2/alerts?") + p + "=yes");
    EXPECT_EQ(bad.status, 400) << p;
    EXPECT_THAT(bad.body, HasSubstr(std::string(p) + " must be true or false, not yes"));
  }
}

TEST_F(alertmanager_api_branches, posted_silence_fields_of_the_wrong_type) {
  const char* path = "/api/v2/silences";
  expect_refused(path, "{not json", 400, "body is not JSON");
  auto s = silence(eq("alertname", "X"));
  s["id"] = 5;
  expect_refused(path, s.dump(), 400, "id is not a string");
  s = silence(eq("alertname", "X"));
  s["createdBy"] = true;
  expect_refused(path, s.dump(), 400, "createdBy is not a string");
  s = silence(eq("alertname", "X"));
  s["comment"] = json::array();
  expect_refused(path, s.dump(), 400, "comment is not a string");
  s = silence(eq("alertname", "X"));
  s["matchers"] = "alertname=X";
  expect_refused(path, s.dump(), 400, "at least one matcher required");
  s.erase("matchers");
  expect_refused(path, s.dump(), 400, "at least one matcher required");
  expect_refused(path, silence(json::array({1})).dump(), 400, "matcher is not an object");
  auto m = eq("alertname", "X");
  m[0]["isRegex"] = "yes";
  expect_refused(path, silence(m).dump(), 400, "isRegex is not a boolean");
  m = eq("alertname", "X");
  m[0]["isEqual"] = 0;
  expect_refused(path, silence(m).dump(), 400, "isEqual is not a boolean");
  m = eq("alertname", "X");
  m[0]["value"] = 1;
  expect_refused(path, silence(m).dump(), 400, "value is not a string");
  expect_refused(path, silence(eq("9lives", "X")).dump(), 400,
                 "invalid label name \"9lives\" in matcher");
  m = eq("alertname", "X");
  m[0].erase("name");
  expect_refused(path, silence(m).dump(), 400, "invalid label name \"\" in matcher");
  s = silence(eq("alertname", "X"));
  s["startsAt"] = 1;
  expect_refused(path, s.dump(), 400, "startsAt is not a string");
  s = silence(eq("alertname", "X"));
  s["endsAt"] = "tomorrow-ish";
  expect_refused(path, s.dump(), 400, "endsAt is");
  s = silence(eq("alertname", "X"));
  s["startsAt"] = nullptr;
  expect_refused(path, s.dump(), 400, "startsAt and endsAt are required");
  EXPECT_EQ(json::parse(request("GET", path).body), json::array());
}

TEST_F(alertmanager_api_branches, silence_matcher_operators_round_trip) {
  auto m = json::array({
      {{"name", "a"}, {"value", "1"}, {"isEqual", false}},  // isRegex defaults to false
      {{"name", "b"}, {"value", "x.*"}, {"isRegex", true}, {"isEqual", false}},
      {{"name", "c"}, {"value", "y.+"}, {"isRegex", true}},  // isEqual defaults to true
  });
  const auto r = request("POST", "/api/v2/silences", silence(m).dump());
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string id = json::parse(r.body)["silenceID"];
  const auto got = json::parse(request("GET", "/api/v2/silence/" + id).body);
  EXPECT_EQ(got["matchers"], json::parse(R"([
      {"name":"a","value":"1","isRegex":false,"isEqual":false},
      {"name":"b","value":"x.*","isRegex":true,"isEqual":false},
      {"name":"c","value":"y.+","isRegex":true,"isEqual":true}])"));
  // The silences list: a bad filter is 400; a creator nobody used lists nothing.
  EXPECT_EQ(request("GET", "/api/v2/silences?filter=%7Bbad").status, 400);
  EXPECT_EQ(json::parse(request("GET", "/api/v2/silences?creator=me&creator=you").body).size(), 1u);
}

TEST_F(alertmanager_api_branches, methods_and_paths_each_endpoint_refuses) {
  for (const char* p : {"/api/v2/status", "/api/v2/receivers"}) {
    const auto r = request("POST", p, "{}");
    EXPECT_EQ(r.status, 405) << p;
    EXPECT_THAT(r.body, HasSubstr("use GET")) << p;
  }
  const auto s = request("DELETE", "/api/v2/silences");
  EXPECT_EQ(s.status, 405);
  EXPECT_THAT(s.body, HasSubstr("use GET, POST"));
  EXPECT_EQ(request("GET", "/api/v2/silence/a/b").status, 404);
  EXPECT_EQ(request("GET", "/api/v2/silence/?x=1").status, 404);
  const auto receivers = json::parse(request("GET", "/api/v2/receivers").body);
  EXPECT_EQ(receivers, json::parse(R"([{"name":"drop"}])"));
}

TEST_F(alertmanager_api_branches, pending_silences_sorting_and_lower_case_escapes) {
  // A pending silence (starts in an hour) and two active ones ending at different times.
  auto pending = silence(eq("alertname", "P"));
  pending["startsAt"] = in(1h);
  pending["endsAt"] = in(2h);
  auto late = silence(eq("alertname", "L"));
  late["endsAt"] = in(3h);
  auto soon = silence(eq("alertname", "S"));
  soon["endsAt"] = in(30min);
  std::vector<std::string> ids;
  for (const json& body : {pending, late, soon}) {
    const auto r = request("POST", "/api/v2/silences", body.dump());
    ASSERT_EQ(r.status, 200) << r.body;
    ids.push_back(json::parse(r.body)["silenceID"]);
  }
  EXPECT_EQ(json::parse(request("GET", "/api/v2/silence/" + ids[0]).body)["status"]["state"],
            "pending");
  std::vector<std::string> listed;
  for (const auto& s : json::parse(request("GET", "/api/v2/silences").body)) {
    listed.push_back(s["id"]);
  }
  // Active by soonest end, then pending.
  EXPECT_EQ(listed, (std::vector<std::string>{ids[2], ids[1], ids[0]}));
  // Lower-case %-escapes decode too: alertname="L".
  const auto filtered =
      json::parse(request("GET", "/api/v2/silences?filter=alertname%3d%22L%22").body);
  ASSERT_EQ(filtered.size(), 1u);
  EXPECT_EQ(filtered[0]["id"], ids[1]);
}

TEST_F(alertmanager_api_branches, upper_case_label_names_and_a_null_generator_url) {
  const auto r =
      request("POST", "/api/v2/alerts",
              json::array({{{"labels", {{"Alertname", "U"}}}, {"generatorURL", nullptr}}}).dump());
  ASSERT_EQ(r.status, 200) << r.body;
  json alerts;
  ASSERT_TRUE(test::wait_until(
      [&] {
        alerts = json::parse(request("GET", "/api/v2/alerts").body, nullptr, false);
        return alerts.is_array() && alerts.size() == 1;
      },
      5s));
  EXPECT_EQ(alerts[0]["labels"]["Alertname"], "U");
  EXPECT_FALSE(alerts[0].contains("generatorURL"));
  const std::string state = alerts[0]["status"]["state"];
  const auto unprocessed = json::parse(request("GET", "/api/v2/alerts?unprocessed=false").body);
  EXPECT_EQ(unprocessed.size(), state == "unprocessed" ? 0u : 1u);
}

}  // namespace
}  // namespace tocsin::sinks
