// telegram against a capture server: sendMessage bodies, escaping per parse_mode, the 4096
// character limit, pages to the person's chat, how answers map to results, and its settings.

#include <gtest/gtest.h>

#include "tests/support/http_capture.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/sinks/notifier_fixtures.hpp"

namespace tocsin::sinks {
namespace {

using namespace fixtures;
using outcome = delivery_result::outcome;

const std::string default_message =
    "[FIRING:2] disk_full\nFiring:\n- disk full on web1\n- disk full on web2\n"
    "Resolved:\n- disk full on db1";

std::map<std::string, nlohmann::json> settings(const test::http_capture& server,
                                               std::map<std::string, nlohmann::json> more = {}) {
  more.emplace("api_url", server.url("/"));
  more.emplace("bot_token", "123:ABC");
  more.emplace("chat_id", -1001234567890);
  return more;
}

std::string text_sent(const test::http_capture& server) {
  return server.requests().back().body.empty()
             ? std::string()
             : nlohmann::json::parse(server.requests().back().body)["text"].get<std::string>();
}

TEST(telegram_notifier, firing_body) {
  test::http_capture server;
  server.set_default_response({.status = 200, .body = R"({"ok":true,"result":{}})"});
  const auto n = make(receiver("telegram", settings(server)));
  EXPECT_TRUE(n->send_resolved());
  EXPECT_EQ(n->send(disk_full_group()).result, outcome::delivered);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/bot123:ABC/sendMessage");
  EXPECT_EQ(requests[0].headers.at("content-type"), "application/json");
  expect_json(requests[0].body, nlohmann::ordered_json({{"chat_id", -1001234567890},
                                                        {"text", default_message},
                                                        {"parse_mode", "HTML"},
                                                        {"disable_web_page_preview", true}})
                                    .dump());
}

TEST(telegram_notifier, resolved_body_with_every_option) {
  test::temp_dir dir("telegram");
  test::http_capture server;
  const auto n =
      make(receiver("telegram", {{"api_url", server.url("/tg")},
                                 {"bot_token_file", dir.write_file("token", "9:XYZ\n")},
                                 {"chat_id_file", dir.write_file("chat", "42\n")},
                                 {"message_thread_id", 7},
                                 {"disable_notifications", true},
                                 {"parse_mode", "MarkdownV2"},
                                 {"message", "*{{alertname}}* is {{status}} ({{count}})"}}));
  ASSERT_EQ(n->send(all_resolved(disk_full_group())).result, outcome::delivered);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/tg/bot9:XYZ/sendMessage");
  // Values are escaped for MarkdownV2 (disk\_full), the message's own markup is not.
  expect_json(requests[0].body, R"json({
    "chat_id": 42,
    "text": "*disk\\_full* is resolved (3)",
    "parse_mode": "MarkdownV2",
    "disable_web_page_preview": true,
    "disable_notification": true,
    "message_thread_id": 7
  })json");
}

TEST(telegram_notifier, values_are_escaped_for_the_parse_mode) {
  test::http_capture server;
  auto group = disk_full_group();
  for (auto& a : group.alerts) a.labels["alertname"] = "a<b>&_c";
  const auto sent = [&](const std::string& mode) {
    const auto n = make(receiver(
        "telegram", settings(server, {{"parse_mode", mode}, {"message", "<i>{{alertname}}</i>"}})));
    EXPECT_EQ(n->send(group).result, outcome::delivered);
    return text_sent(server);
  };
  EXPECT_EQ(sent("HTML"), "<i>a&lt;b&gt;&amp;_c</i>");
  EXPECT_EQ(sent("MarkdownV2"), "<i>a<b\\>&\\_c</i>");
  EXPECT_EQ(sent("Markdown"), "<i>a<b>&\\_c</i>");
  EXPECT_EQ(sent(""), "<i>a<b>&_c</i>");
  EXPECT_FALSE(nlohmann::json::parse(server.requests().back().body).contains("parse_mode"));
}

TEST(telegram_notifier, oversized_message_is_cut_to_4096_characters) {
  test::http_capture server;
  const auto n = make(receiver("telegram", settings(server)));
  ASSERT_EQ(n->send(oversized_group(many_e_acute(5'000))).result, outcome::delivered);
  const std::string text = text_sent(server);
  EXPECT_EQ(code_points(text), 4096u);
  EXPECT_TRUE(text.starts_with("[FIRING:2] ééé"));
  EXPECT_TRUE(text.ends_with("é…"));
}

TEST(telegram_notifier, a_cut_never_splits_an_html_entity_or_a_markdown_escape) {
  test::http_capture server;
  auto group = disk_full_group();
  for (auto& a : group.alerts) a.labels["alertname"] = std::string(4092, 'a') + "&<";
  auto n = make(receiver("telegram", settings(server, {{"message", "{{alertname}}"}})));
  ASSERT_EQ(n->send(group).result, outcome::delivered);
  EXPECT_EQ(text_sent(server), std::string(4092, 'a') + "…");  // not "&am…"

  for (auto& a : group.alerts) a.labels["alertname"] = std::string(4094, 'a') + "__";
  n = make(receiver(
      "telegram", settings(server, {{"message", "{{alertname}}"}, {"parse_mode", "MarkdownV2"}})));
  ASSERT_EQ(n->send(group).result, outcome::delivered);
  EXPECT_EQ(text_sent(server), std::string(4094, 'a') + "…");  // not a lone "\"
}

TEST(telegram_notifier, a_page_goes_to_the_persons_chat) {
  test::http_capture server;
  const auto n = make(receiver("telegram", settings(server)));
  auto group = disk_full_group();
  group.page = page_info{.entry_id = 1,
                         .page_id = "0123456789abcdef",
                         .user = "alice",
                         .telegram = "555123",
                         .ack_url = "https://tocsin.example/ack/0123456789abcdef?sig=x&t=1",
                         .step = 2};
  ASSERT_EQ(n->send(group).result, outcome::delivered);
  expect_json(server.requests().back().body,
              nlohmann::ordered_json(
                  {{"chat_id", 555123},
                   {"text",
                    "alice, you are paged (step 2).\n<a href=\"https://tocsin.example/ack/"
                    "0123456789abcdef?sig=x&amp;t=1\">Acknowledge</a>\n" +
                        default_message},
                   {"parse_mode", "HTML"},
                   {"disable_web_page_preview", true}})
                  .dump());

  group.page->resolved = true;
  group.page->step = 0;
  ASSERT_EQ(n->send(all_resolved(group)).result, outcome::delivered);
  const auto body = nlohmann::json::parse(server.requests().back().body);
  EXPECT_EQ(body["chat_id"], 555123);
  EXPECT_TRUE(body["text"].get<std::string>().starts_with(
      "alice: the alerts you were paged for resolved.\n[RESOLVED] disk_full"));

  // A person without a Telegram chat: the configured chat.
  group.page->telegram.clear();
  ASSERT_EQ(n->send(group).result, outcome::delivered);
  EXPECT_EQ(nlohmann::json::parse(server.requests().back().body)["chat_id"], -1001234567890);
}

TEST(telegram_notifier, answers_map_to_results) {
  test::http_capture server;
  const auto n = make(receiver("telegram", settings(server)));
  server.push_response({.status = 500, .body = R"({"ok":false,"error_code":500})"});
  server.push_response(
      {.status = 429,
       .body = R"({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7",)"
               R"("parameters":{"retry_after":7}})"});
  server.push_response(
      {.status = 400,
       .body = R"({"ok":false,"error_code":400,"description":"Bad Request: chat not found"})"});
  auto r = n->send(disk_full_group());
  EXPECT_EQ(r.result, outcome::retry);
  EXPECT_EQ(r.status, 500);
  r = n->send(disk_full_group());
  EXPECT_EQ(r.result, outcome::retry);
  EXPECT_EQ(r.retry_after, std::chrono::seconds(7));
  r = n->send(disk_full_group());
  EXPECT_EQ(r.result, outcome::permanent);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.detail,
            R"({"ok":false,"error_code":400,"description":"Bad Request: chat not found"})");
}

TEST(telegram_notifier, settings_errors) {
  test::temp_dir dir("telegram");
  EXPECT_EQ(config_errors("telegram", {}),
            (std::vector<std::string>{
                "tocsin.yaml:3:5: missing required key 'bot_token' or 'bot_token_file' in "
                "receivers[0].telegram",
                "tocsin.yaml:3:5: missing required key 'chat_id' or 'chat_id_file' in "
                "receivers[0].telegram"}));
  EXPECT_EQ(config_errors("telegram", {{"bot_token", "1:A"},
                                       {"bot_token_file", dir.write_file("t", "1:A")},
                                       {"chat_id", "x1"},
                                       {"parse_mode", "markdown"}}),
            (std::vector<std::string>{
                "tocsin.yaml:5:23: receivers[0].telegram.bot_token_file: give bot_token or "
                "bot_token_file, not both",
                "tocsin.yaml:6:16: receivers[0].telegram.chat_id: expected a chat id (a non-zero "
                "integer), got 'x1'",
                "tocsin.yaml:7:19: receivers[0].telegram.parse_mode: invalid value 'markdown'; "
                "expected one of HTML, MarkdownV2, Markdown, \"\"; did you mean 'Markdown'?"}));
  EXPECT_EQ(
      config_errors("telegram", {{"bot_token", "1:A"}, {"chat_id", 1}, {"parsemode", "HTML"}}),
      std::vector<std::string>{"tocsin.yaml:6:7: unknown key 'parsemode' in "
                               "receivers[0].telegram; did you mean 'parse_mode'?"});
  EXPECT_EQ(config_errors("telegram", {{"bot_token", "1:A"}, {"chat_id", 1}, {"parse_mode", ""}}),
            std::vector<std::string>{});
}

}  // namespace
}  // namespace tocsin::sinks
