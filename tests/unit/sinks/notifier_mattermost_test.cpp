// mattermost against a capture server: Alertmanager's incoming-webhook body, Mattermost's post
// limit, how answers map to results, and its settings.

#include <gtest/gtest.h>

#include "tests/support/http_capture.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/sinks/notifier_fixtures.hpp"

namespace tocsin::sinks {
namespace {

using namespace fixtures;
using outcome = delivery_result::outcome;

TEST(mattermost_notifier, firing_body) {
  test::http_capture server;
  const auto n = make(receiver("mattermost", {{"webhook_url", server.url("/hooks/xyz")}}));
  EXPECT_TRUE(n->send_resolved());
  EXPECT_EQ(n->send(disk_full_group()).result, outcome::delivered);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/hooks/xyz");
  EXPECT_EQ(requests[0].headers.at("content-type"), "application/json");
  expect_json(requests[0].body, R"({
    "attachments": [{
      "fallback": "[FIRING:2] disk_full | http://tocsin:9095",
      "color": "danger",
      "text": "Firing:\n- disk full on web1\n- disk full on web2\nResolved:\n- disk full on db1",
      "title": "[FIRING:2] disk_full",
      "title_link": "http://tocsin:9095"
    }]
  })");
}

TEST(mattermost_notifier, resolved_body_with_settings) {
  test::temp_dir dir("mattermost");
  test::http_capture server;
  const auto n = make(receiver(
      "mattermost", {{"webhook_url_file", dir.write_file("url", server.url("/hooks/f") + "\n")},
                     {"channel", "ops-{{severity}}"},
                     {"username", "tocsin"},
                     {"icon_url", "https://tocsin.example/icon.png"},
                     {"icon_emoji", ":fire:"},
                     {"title", "{{alertname}} {{status}}"},
                     {"text", "#### {{count}} alerts\nrunbook {{runbook}}"},
                     {"footer", "tocsin"}}));
  ASSERT_EQ(n->send(all_resolved(disk_full_group())).result, outcome::delivered);
  EXPECT_EQ(server.requests().at(0).target, "/hooks/f");
  expect_json(server.requests().at(0).body, R"({
    "channel": "ops-critical",
    "username": "tocsin",
    "icon_url": "https://tocsin.example/icon.png",
    "icon_emoji": ":fire:",
    "attachments": [{
      "fallback": "disk_full resolved | http://tocsin:9095",
      "color": "good",
      "text": "#### 3 alerts\nrunbook r1",
      "title": "disk_full resolved",
      "title_link": "http://tocsin:9095",
      "footer": "tocsin"
    }]
  })");
}

TEST(mattermost_notifier, oversized_text_is_cut_to_the_post_limit) {
  test::http_capture server;
  const auto n = make(receiver("mattermost", {{"webhook_url", server.url("/")}}));
  ASSERT_EQ(n->send(oversized_group(many_e_acute(20'000))).result, outcome::delivered);
  const auto attachment = only_body(server)["attachments"][0];
  const std::string text = attachment["text"];
  const std::string title = attachment["title"];
  EXPECT_EQ(code_points(text), 16383u);
  EXPECT_TRUE(text.starts_with("Firing:\n- éé"));
  EXPECT_TRUE(text.ends_with("é…"));
  EXPECT_EQ(code_points(title), 16383u);
  EXPECT_TRUE(title.ends_with("é…"));
  EXPECT_LE(code_points(attachment["fallback"].get<std::string>()), 16383u);
}

TEST(mattermost_notifier, server_errors_retry_and_bad_requests_are_permanent) {
  test::http_capture server;
  const auto n = make(receiver("mattermost", {{"webhook_url", server.url("/")}}));
  server.push_response({.status = 500, .body = "oops"});
  server.push_response({.status = 400, .body = R"({"id":"web.incoming_webhook.text.app_error"})"});
  EXPECT_EQ(n->send(disk_full_group()).result, outcome::retry);
  const auto r = n->send(disk_full_group());
  EXPECT_EQ(r.result, outcome::permanent);
  EXPECT_EQ(r.status, 400);
}

TEST(mattermost_notifier, settings_errors) {
  test::temp_dir dir("mattermost");
  EXPECT_EQ(config_errors("mattermost", {}),
            std::vector<std::string>{"tocsin.yaml:3:5: missing required key 'webhook_url' or "
                                     "'webhook_url_file' in receivers[0].mattermost"});
  EXPECT_EQ(config_errors("mattermost", {{"webhook_url", "https://x.example/h"},
                                         {"webhook_url_file", dir.write_file("u", "https://y")}}),
            std::vector<std::string>{"tocsin.yaml:5:25: receivers[0].mattermost.webhook_url_file: "
                                     "give webhook_url or webhook_url_file, not both"});
  EXPECT_EQ(config_errors("mattermost", {{"webhook_url", "https://x.example/h"}, {"chanel", "x"}}),
            std::vector<std::string>{"tocsin.yaml:4:7: unknown key 'chanel' in "
                                     "receivers[0].mattermost; did you mean 'channel'?"});
}

}  // namespace
}  // namespace tocsin::sinks
