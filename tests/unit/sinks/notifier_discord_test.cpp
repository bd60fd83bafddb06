// discord against a capture server: Alertmanager's embed body, Discord's limits, how answers
// map to results, and its settings.

#include <gtest/gtest.h>

#include "tests/support/http_capture.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/sinks/notifier_fixtures.hpp"

namespace tocsin::sinks {
namespace {

using namespace fixtures;
using outcome = delivery_result::outcome;

TEST(discord_notifier, firing_body) {
  test::http_capture server;
  server.set_default_response({.status = 204});
  const auto n = make(receiver("discord", {{"webhook_url", server.url("/api/webhooks/1/tok")}}));
  EXPECT_TRUE(n->send_resolved());
  EXPECT_EQ(n->send(disk_full_group()).result, outcome::delivered);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/api/webhooks/1/tok");
  EXPECT_EQ(requests[0].headers.at("content-type"), "application/json");
  expect_json(requests[0].body, R"({
    "content": "",
    "embeds": [{
      "title": "[FIRING:2] disk_full",
      "description": "Firing:\n- disk full on web1\n- disk full on web2\nResolved:\n- disk full on db1",
      "color": 10038562
    }]
  })");
}

TEST(discord_notifier, resolved_body_with_every_setting) {
  test::temp_dir dir("discord");
  test::http_capture server;
  const auto n = make(
      receiver("discord", {{"webhook_url_file", dir.write_file("url", server.url("/hook") + "\n")},
                           {"title", "{{alertname}} {{status}}"},
                           {"message", "{{count}} alerts; runbook {{runbook}}"},
                           {"content", "<@&123> {{severity}}"},
                           {"username", "tocsin"},
                           {"avatar_url", "https://tocsin.example/icon.png"}}));
  ASSERT_EQ(n->send(all_resolved(disk_full_group())).result, outcome::delivered);
  EXPECT_EQ(server.requests().at(0).target, "/hook");
  expect_json(server.requests().at(0).body, R"({
    "content": "<@&123> critical",
    "embeds": [{"title": "disk_full resolved", "description": "3 alerts; runbook r1",
                "color": 3066993}],
    "username": "tocsin",
    "avatar_url": "https://tocsin.example/icon.png"
  })");
}

TEST(discord_notifier, oversized_texts_are_cut_to_discords_limits) {
  test::http_capture server;
  const auto n =
      make(receiver("discord", {{"webhook_url", server.url("/")}, {"content", "{{alertname}}"}}));
  ASSERT_EQ(n->send(oversized_group(many_e_acute(10'000))).result, outcome::delivered);
  const auto body = only_body(server);
  const std::string content = body["content"];
  const std::string title = body["embeds"][0]["title"];
  const std::string description = body["embeds"][0]["description"];
  EXPECT_EQ(code_points(content), 2000u);
  EXPECT_EQ(code_points(title), 256u);
  EXPECT_EQ(code_points(description), 4096u);
  for (const std::string& s : {content, title, description}) EXPECT_TRUE(s.ends_with("é…")) << s;
}

TEST(discord_notifier, server_errors_retry_and_bad_requests_are_permanent) {
  test::http_capture server;
  const auto n = make(receiver("discord", {{"webhook_url", server.url("/")}}));
  server.push_response({.status = 503});
  server.push_response({.status = 400, .body = R"({"message": "Cannot send an empty message"})"});
  EXPECT_EQ(n->send(disk_full_group()).result, outcome::retry);
  const auto r = n->send(disk_full_group());
  EXPECT_EQ(r.result, outcome::permanent);
  EXPECT_EQ(r.status, 400);
}

TEST(discord_notifier, settings_errors) {
  test::temp_dir dir("discord");
  EXPECT_EQ(config_errors("discord", {{"send_resolved", false}}),
            std::vector<std::string>{"tocsin.yaml:4:7: missing required key 'webhook_url' or "
                                     "'webhook_url_file' in receivers[0].discord"});
  EXPECT_EQ(config_errors("discord", {{"webhook_url", "https://x.example/h"},
                                      {"webhook_url_file", dir.write_file("u", "https://y")}}),
            std::vector<std::string>{"tocsin.yaml:5:25: receivers[0].discord.webhook_url_file: "
                                     "give webhook_url or webhook_url_file, not both"});
  EXPECT_EQ(config_errors("discord", {{"webhook_url", "https://x.example/h"}, {"avatar_ur", "x"}}),
            std::vector<std::string>{"tocsin.yaml:4:7: unknown key 'avatar_ur' in "
                                     "receivers[0].discord; did you mean 'avatar_url'?"});
}

}  // namespace
}  // namespace tocsin::sinks
