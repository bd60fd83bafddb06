// msteamsv2 against a capture server: Alertmanager's Adaptive Card body, Teams' size limit, how
// answers map to results, and its settings.

#include <gtest/gtest.h>

#include "tests/support/http_capture.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/sinks/notifier_fixtures.hpp"

namespace tocsin::sinks {
namespace {

using namespace fixtures;
using outcome = delivery_result::outcome;

// Alertmanager's msteamsv2 message with this title, colour and text.
std::string card(const std::string& title, const std::string& color, const std::string& text) {
  return nlohmann::ordered_json(
             {
                 {"type", "message"},
                 {"attachments",
                  {{
                      {"contentType", "application/vnd.microsoft.card.adaptive"},
                      {"contentUrl", nullptr},
                      {"content",
                       {
                           {"$schema", "http://adaptivecards.io/schemas/adaptive-card.json"},
                           {"type", "AdaptiveCard"},
                           {"version", "1.2"},
                           {"body",
                            {{{"type", "TextBlock"},
                              {"text", title},
                              {"weight", "Bolder"},
                              {"size", "Medium"},
                              {"wrap", true},
                              {"style", "heading"},
                              {"color", color}},
                             {{"type", "TextBlock"}, {"text", text}, {"wrap", true}}}},
                           {"msteams", {{"width", "full"}}},
                       }},
                  }}},
             })
      .dump();
}

TEST(msteamsv2_notifier, firing_body_is_alertmanagers_adaptive_card) {
  test::http_capture server;
  const auto n = make(receiver("msteamsv2", {{"webhook_url", server.url("/workflows/abc")}}));
  EXPECT_TRUE(n->send_resolved());
  const auto r = n->send(disk_full_group());
  EXPECT_EQ(r.result, outcome::delivered);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/workflows/abc");
  EXPECT_EQ(requests[0].headers.at("content-type"), "application/json");
  expect_json(requests[0].body, R"({
    "type": "message",
    "attachments": [{
      "contentType": "application/vnd.microsoft.card.adaptive",
      "contentUrl": null,
      "content": {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.2",
        "body": [
          {"type": "TextBlock", "text": "[FIRING:2] disk_full", "weight": "Bolder",
           "size": "Medium", "wrap": true, "style": "heading", "color": "Attention"},
          {"type": "TextBlock",
           "text": "Firing:\n- disk full on web1\n- disk full on web2\nResolved:\n- disk full on db1",
           "wrap": true}
        ],
        "msteams": {"width": "full"}
      }
    }]
  })");
}

TEST(msteamsv2_notifier, resolved_body_and_templates) {
  test::temp_dir dir("msteamsv2");
  test::http_capture server;
  const auto n = make(
      receiver("msteamsv2", {{"webhook_url_file", dir.write_file("url", server.url("/wf") + "\n")},
                             {"title", "{{alertname}} is {{status}}"},
                             {"text", "**{{count}}** alerts, runbook {{runbook}}"}}));
  ASSERT_EQ(n->send(all_resolved(disk_full_group())).result, outcome::delivered);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/wf");
  expect_json(requests[0].body, card("disk_full is resolved", "Good", "**3** alerts, runbook r1"));
}

TEST(msteamsv2_notifier, oversized_texts_are_cut_to_teams_28kb) {
  test::http_capture server;
  const auto n = make(receiver("msteamsv2", {{"webhook_url", server.url("/")}}));
  ASSERT_EQ(n->send(oversized_group(many_e_acute(20'000))).result, outcome::delivered);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_LE(requests[0].body.size(), 28u * 1024);
  EXPECT_GT(requests[0].body.size(), 27u * 1024);  // cut to fit, not far below
  const auto body = nlohmann::json::parse(requests[0].body);
  const std::string title = body["attachments"][0]["content"]["body"][0]["text"];
  const std::string text = body["attachments"][0]["content"]["body"][1]["text"];
  EXPECT_EQ(code_points(title), 1024u);
  EXPECT_TRUE(title.starts_with("[FIRING:2] éé"));
  EXPECT_TRUE(title.ends_with("é…"));
  EXPECT_TRUE(text.starts_with("Firing:\n- éé"));
  EXPECT_TRUE(text.ends_with("é…"));
}

TEST(msteamsv2_notifier, server_errors_retry_and_bad_requests_are_permanent) {
  test::http_capture server;
  const auto n = make(receiver("msteamsv2", {{"webhook_url", server.url("/")}}));
  server.push_response({.status = 502, .body = "bad gateway"});
  server.push_response({.status = 400, .body = "Bad payload"});
  auto r = n->send(disk_full_group());
  EXPECT_EQ(r.result, outcome::retry);
  EXPECT_EQ(r.status, 502);
  r = n->send(disk_full_group());
  EXPECT_EQ(r.result, outcome::permanent);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.detail, "Bad payload");
}

TEST(msteamsv2_notifier, settings_errors) {
  test::temp_dir dir("msteamsv2");
  EXPECT_EQ(config_errors("msteamsv2", {}),
            std::vector<std::string>{"tocsin.yaml:3:5: missing required key 'webhook_url' or "
                                     "'webhook_url_file' in receivers[0].msteamsv2"});
  EXPECT_EQ(config_errors("msteamsv2", {{"webhook_url", "https://x.example/wf"},
                                        {"webhook_url_file", dir.write_file("u", "https://y")}}),
            std::vector<std::string>{"tocsin.yaml:5:25: receivers[0].msteamsv2.webhook_url_file: "
                                     "give webhook_url or webhook_url_file, not both"});
  EXPECT_EQ(config_errors("msteamsv2", {{"webhook_url", "https://x.example/wf"}, {"titel", "x"}}),
            std::vector<std::string>{"tocsin.yaml:4:7: unknown key 'titel' in "
                                     "receivers[0].msteamsv2; did you mean 'title'?"});
  EXPECT_EQ(config_errors("msteamsv2", {{"webhook_url", "ftp://x"}, {"send_resolved", "maybe"}}),
            (std::vector<std::string>{
                "tocsin.yaml:4:22: receivers[0].msteamsv2.send_resolved: expected true or false, "
                "got 'maybe'",
                "tocsin.yaml:5:20: receivers[0].msteamsv2.webhook_url: invalid URL 'ftp://x': "
                "expected http:// or https://"}));
}

}  // namespace
}  // namespace tocsin::sinks
