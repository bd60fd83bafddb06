// On call end to end (DESIGN.md, "On-call"): a real `tocsin run` pages the person on call by
// email (aiosmtpd) and Slack mention (a capture server playing Slack), escalates to the
// secondary when nobody acknowledges, stops when the signed link in a page is used, tells
// everyone it paged when the group resolves, and neither loses nor repeats a step across a
// kill -9. Also the on-call API: who is on call, the pages, acks with a user's own token.

#include <gtest/gtest.h>

#include <ctime>
#include <regex>

#include "tests/integration/tocsin_daemon.hpp"
#include "tests/support/http_capture.hpp"

namespace tocsin::test {
namespace {

// A page to the primary, then the secondary `secondary_after` later, then carol.
std::string oncall_config(const std::string& routes, const std::string& receivers,
                          const std::string& secondary_after) {
  return "route:\n"
         "  receiver: discard\n"
         "  group_by: [alertname]\n"
         "  group_wait: 0s\n"
         "  group_interval: 1s\n"
         "  routes:\n" +
         routes +
         "receivers:\n"
         "  - { name: discard }\n" +
         receivers +
         "oncall:\n"
         "  signing_key_file: ack.key\n"
         "  users:\n"
         "    - { name: alice, email: alice@example.com, slack: U0ALICE }\n"
         "    - { name: bob, email: bob@example.com, slack: U0BOB, token_file: bob.token }\n"
         "    - { name: carol, email: carol@example.com, slack: U0CAROL }\n"
         "  schedules:\n"
         "    - { name: ops, time_zone: Europe/Madrid,\n"
         "        layers: [ { start: 2026-01-05T09:00, rotation: 52w, users: [alice] } ] }\n"
         "    - { name: ops-secondary, time_zone: Europe/Madrid,\n"
         "        layers: [ { start: 2026-01-05T09:00, rotation: 52w, users: [bob] } ] }\n"
         "  escalation_policies:\n"
         "    - name: ops-critical\n"
         "      steps:\n"
         "        - { after: 0s, notify: [ { schedule: ops } ] }\n"
         "        - { after: " +
         secondary_after +
         ", notify: [ { schedule: ops-secondary } ] }\n"
         "        - { after: 3s, notify: [ { user: carol } ] }\n";
}

daemon_options with_oncall(const std::string& config) {
  daemon_options options;
  options.extra_config = config;
  options.files["ack.key"] = "0123456789abcdef0123456789abcdef\n";
  options.files["bob.token"] = "bob-secret-token\n";
  return options;
}

std::string slack_receiver(const http_capture& slack) {
  return "  - { name: slack, slack: { webhook_url: \"" + slack.url("/services/T0/B0/x") +
         "\" } }\n";
}

std::string mail_receiver(const smtp_server& smtp) {
  return "  - name: mail\n"
         "    email: { smarthost: \"127.0.0.1:" +
         std::to_string(smtp.port()) +
         "\", from: alerts@example.com, to: [ops@example.com], require_tls: false }\n";
}

std::string rfc3339_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

// POSTs the critical alert to the Alertmanager API; `ends_at` resolves it.
void post_alert(const tocsin_daemon& daemon, const std::string& ends_at = {}) {
  std::string alert = R"({"labels":{"alertname":"db-down","severity":"critical","host":"db1"},)"
                      R"("annotations":{"summary":"db1 refuses connections"})";
  if (!ends_at.empty())
    alert += R"(,"startsAt":"2000-01-01T00:00:00Z","endsAt":")" + ends_at + "\"";
  const auto r =
      http_request("POST", "127.0.0.1", daemon.admin_port(), "/api/v2/alerts", "[" + alert + "}]");
  ASSERT_EQ(r.status, 200) << r.body;
}

// The `text` of every Slack message (pages carry one; group notifications do not).
std::vector<std::string> slack_texts(const http_capture& slack) {
  std::vector<std::string> out;
  for (const auto& r : slack.requests()) {
    const json body = json::parse(r.body, nullptr, false);
    if (body.is_object() && body.contains("text") && body["text"].is_string()) {
      out.push_back(body["text"].get<std::string>());
    }
  }
  return out;
}

std::size_t count_containing(const std::vector<std::string>& texts, const std::string& part) {
  return std::count_if(texts.begin(), texts.end(),
                       [&](const std::string& t) { return t.find(part) != std::string::npos; });
}

// The messages aiosmtpd accepted for `rcpt`.
std::vector<json> mails_to(const smtp_server& smtp, const std::string& rcpt) {
  std::vector<json> out;
  for (const json& m : smtp.messages()) {
    if (m["rcpt_tos"] == json::array({rcpt})) out.push_back(m);
  }
  return out;
}

std::string subject(const json& mail) { return mail["headers"].value("Subject", std::string()); }

std::string text_part(const json& mail) {
  for (const json& part : mail["parts"]) {
    if (part.value("type", "") == "text/plain") return part.value("content", "");
  }
  return {};
}

json pages(const tocsin_daemon& daemon) {
  const auto r = http_get("127.0.0.1", daemon.admin_port(), "/api/v1/oncall/pages");
  EXPECT_EQ(r.status, 200) << r.body;
  return json::parse(r.body, nullptr, false);
}

TEST(oncall, pages_by_email_and_slack_escalates_stops_at_the_ack_link_and_resolves_to_both) {
  http_capture slack;
  smtp_server smtp;
  tocsin_daemon daemon(with_oncall(oncall_config(
      "    - { receiver: slack, matchers: ['severity=\"critical\"'], continue: true,\n"
      "        escalation: ops-critical }\n"
      "    - { receiver: mail, matchers: ['severity=\"critical\"'], escalation: ops-critical }\n",
      slack_receiver(slack) + mail_receiver(smtp), "3s")));

  post_alert(daemon);
  // Step 1: alice, by Slack mention and by email, with the group's own notifications too.
  ASSERT_TRUE(wait_until([&] { return count_containing(slack_texts(slack), "<@U0ALICE>") == 1; },
                         patience));
  ASSERT_TRUE(
      wait_until([&] { return mails_to(smtp, "alice@example.com").size() == 1; }, patience));
  const auto paged_alice = std::chrono::steady_clock::now();
  const json alice_mail = mails_to(smtp, "alice@example.com")[0];
  EXPECT_NE(subject(alice_mail).find("[PAGE]"), std::string::npos) << subject(alice_mail);
  EXPECT_NE(subject(alice_mail).find("db-down"), std::string::npos);
  EXPECT_NE(text_part(alice_mail).find("Acknowledge: http://127.0.0.1:"), std::string::npos)
      << text_part(alice_mail);
  ASSERT_TRUE(wait_until([&] { return mails_to(smtp, "ops@example.com").size() == 1; }, patience))
      << "the route's own notification still goes to its `to`";
  EXPECT_TRUE(mails_to(smtp, "bob@example.com").empty());

  // Step 2, 3 s later: bob, nobody having acknowledged.
  ASSERT_TRUE(
      wait_until([&] { return count_containing(slack_texts(slack), "<@U0BOB>") == 1; }, patience));
  EXPECT_GE(std::chrono::steady_clock::now() - paged_alice, 2500ms);
  ASSERT_TRUE(wait_until([&] { return mails_to(smtp, "bob@example.com").size() == 1; }, patience));

  // The signed link in bob's Slack page: GET shows a confirmation and acknowledges nothing.
  const std::string bob_text = slack_texts(slack)[1];
  std::smatch link;
  ASSERT_TRUE(std::regex_search(
      bob_text, link,
      std::regex(
          R"(<http://127\.0\.0\.1:\d+(/ack/([0-9a-f]{16})\?sig=([0-9a-f]{32}))\|Acknowledge>)")))
      << bob_text;
  const std::string path = link[1], page_id = link[2], sig = link[3];
  const auto confirm = http_get("127.0.0.1", daemon.admin_port(), path);
  ASSERT_EQ(confirm.status, 200) << confirm.body;
  EXPECT_NE(confirm.body.find("<form method=\"post\""), std::string::npos) << confirm.body;
  for (const json& p : pages(daemon)) EXPECT_TRUE(p["acked_by"].is_null()) << p.dump();
  const auto forged = http_get("127.0.0.1", daemon.admin_port(),
                               "/ack/" + page_id + "?sig=" + std::string(32, '0'));
  EXPECT_EQ(forged.status, 403);

  // Its button acknowledges: step 3 (carol, 3 s after bob) never comes.
  const auto acked =
      http_request("POST", "127.0.0.1", daemon.admin_port(), "/ack/" + page_id,
                   "sig=" + sig + "&by=bob&comment=on+it", "application/x-www-form-urlencoded");
  ASSERT_EQ(acked.status, 200) << acked.body;
  EXPECT_NE(acked.body.find("bob acknowledged"), std::string::npos) << acked.body;
  std::this_thread::sleep_for(4500ms);
  EXPECT_EQ(count_containing(slack_texts(slack), "<@U0CAROL>"), 0U);
  EXPECT_TRUE(mails_to(smtp, "carol@example.com").empty());
  const json history = pages(daemon);
  ASSERT_EQ(history.size(), 4U) << history.dump();  // alice and bob, through Slack and email
  for (const json& p : history) {
    EXPECT_EQ(p["acked_by"], "bob") << p.dump();
    EXPECT_EQ(p["comment"], "on it");
    EXPECT_EQ(p["page_id"], page_id);
    EXPECT_EQ(p["policy"], "ops-critical");
  }
  const std::string metrics = daemon.metrics_text();
  EXPECT_NE(metrics.find("tocsin_acks_total 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("tocsin_pages_total{policy=\"ops-critical\",step=\"2\"} 2"),
            std::string::npos)
      << metrics;

  // The resolve reaches both people paged, through both channels.
  post_alert(daemon, rfc3339_now());
  ASSERT_TRUE(wait_until(
      [&] {
        const auto texts = slack_texts(slack);
        return count_containing(texts, "<@U0ALICE> resolved") == 1 &&
               count_containing(texts, "<@U0BOB> resolved") == 1;
      },
      patience))
      << json(slack_texts(slack)).dump();
  ASSERT_TRUE(wait_until(
      [&] {
        return mails_to(smtp, "alice@example.com").size() == 2 &&
               mails_to(smtp, "bob@example.com").size() == 2;
      },
      patience));
  EXPECT_NE(subject(mails_to(smtp, "bob@example.com")[1]).find("[PAGE ENDED]"), std::string::npos);
  EXPECT_EQ(http_get("127.0.0.1", daemon.admin_port(), path).status, 403)
      << "the link ends with the incident";
}

TEST(oncall, a_kill_9_mid_escalation_neither_loses_nor_repeats_a_step) {
  http_capture slack;
  tocsin_daemon daemon(with_oncall(oncall_config(
      "    - { receiver: slack, matchers: ['severity=\"critical\"'], escalation: ops-critical }\n",
      slack_receiver(slack), "5s")));
  post_alert(daemon);
  ASSERT_TRUE(wait_until([&] { return count_containing(slack_texts(slack), "<@U0ALICE>") == 1; },
                         patience));
  const auto paged_alice = std::chrono::steady_clock::now();
  ASSERT_TRUE(wait_until(
      [&] {
        const json p = pages(daemon);
        return p.size() == 1 && p[0]["state"] == "delivered";
      },
      patience));
  daemon.kill9();
  daemon.restart();

  ASSERT_TRUE(
      wait_until([&] { return count_containing(slack_texts(slack), "<@U0BOB>") == 1; }, patience))
      << json(slack_texts(slack)).dump();
  EXPECT_GE(std::chrono::steady_clock::now() - paged_alice, 4500ms) << "step 2 came early";
  std::this_thread::sleep_for(1s);
  const auto texts = slack_texts(slack);
  EXPECT_EQ(count_containing(texts, "<@U0ALICE>"), 1U) << "step 1 repeated";
  EXPECT_EQ(count_containing(texts, "<@U0BOB>"), 1U);
  EXPECT_EQ(pages(daemon).size(), 2U);
}

TEST(oncall, api_names_who_is_on_call_and_takes_acks_with_a_users_own_token) {
  http_capture slack;
  daemon_options options = with_oncall(oncall_config(
      "    - { receiver: slack, matchers: ['severity=\"critical\"'], escalation: ops-critical }\n",
      slack_receiver(slack), "1h"));
  options.extra_admin = ", token_file: admin.token";
  options.files["admin.token"] = "admin-secret\n";
  tocsin_daemon daemon(options);
  const std::map<std::string, std::string> admin = {{"Authorization", "Bearer admin-secret"}};
  const std::map<std::string, std::string> bob = {{"Authorization", "Bearer bob-secret-token"}};
  const auto request = [&](std::string_view method, std::string_view path, std::string_view body,
                           const std::map<std::string, std::string>& headers) {
    return http_request(method, "127.0.0.1", daemon.admin_port(), path, body, "application/json",
                        10s, headers);
  };

  const auto now = request("GET", "/api/v1/oncall/now?at=2026-03-01T12:00:00Z", {}, admin);
  ASSERT_EQ(now.status, 200) << now.body;
  const json who = json::parse(now.body);
  ASSERT_EQ(who.size(), 2U) << who.dump();
  EXPECT_EQ(who[0]["schedule"], "ops");
  EXPECT_EQ(who[0]["user"], "alice");
  EXPECT_EQ(who[1]["user"], "bob");
  EXPECT_TRUE(who[0]["until"].is_string());
  EXPECT_EQ(request("GET", "/api/v1/oncall/now", {}, {}).status, 401);
  EXPECT_EQ(request("GET", "/api/v1/oncall/now?at=yesterday", {}, admin).status, 400);

  // The rota for the coming days: alice's 52-week shifts cover them all (split where a shift
  // hands over to the next, which is alice's again).
  const auto rota = request("GET", "/api/v1/oncall/schedule?days=3", {}, admin);
  ASSERT_EQ(rota.status, 200) << rota.body;
  const json schedules = json::parse(rota.body)["schedules"];
  ASSERT_EQ(schedules.size(), 2U) << rota.body;
  EXPECT_EQ(schedules[0]["name"], "ops");
  EXPECT_EQ(schedules[0]["time_zone"], "Europe/Madrid");
  ASSERT_GE(schedules[0]["shifts"].size(), 1U) << rota.body;
  for (const json& shift : schedules[0]["shifts"]) EXPECT_EQ(shift["user"], "alice") << rota.body;
  EXPECT_EQ(request("GET", "/api/v1/oncall/schedule?days=0", {}, admin).status, 400);

  const std::string alert =
      R"([{"labels":{"alertname":"db-down","severity":"critical","host":"db1"}}])";
  ASSERT_EQ(request("POST", "/api/v2/alerts", alert, admin).status, 200);
  ASSERT_TRUE(wait_until([&] { return count_containing(slack_texts(slack), "<@U0ALICE>") == 1; },
                         patience));
  const json history = json::parse(request("GET", "/api/v1/oncall/pages", {}, admin).body);
  ASSERT_EQ(history.size(), 1U) << history.dump();
  const std::string page_id = history[0]["page_id"];

  EXPECT_EQ(
      request("POST", "/api/v1/oncall/ack", R"({"page_id":"0000000000000000","by":"x"})", admin)
          .status,
      404);
  EXPECT_EQ(request("POST", "/api/v1/oncall/ack", "not json", admin).status, 400);
  EXPECT_EQ(request("POST", "/api/v1/oncall/ack", R"({"page_id":")" + page_id + R"("})", {}).status,
            401)
      << "no token, no ack";
  EXPECT_EQ(request("GET", "/api/v2/alerts", {}, bob).status, 401)
      << "a user's token is good for acks only";
  // bob's token: the ack is bob's, whatever the body claims.
  const auto acked =
      request("POST", "/api/v1/oncall/ack",
              R"({"page_id":")" + page_id + R"(","by":"mallory","comment":"mine"})", bob);
  ASSERT_EQ(acked.status, 200) << acked.body;
  EXPECT_EQ(json::parse(acked.body)["acked_by"], "bob");
  const json after = json::parse(request("GET", "/api/v1/oncall/pages", {}, admin).body);
  EXPECT_EQ(after[0]["acked_by"], "bob");
  EXPECT_EQ(after[0]["comment"], "mine");
  // The UI's view of the group: who acked it, and how far its escalation went.
  const json groups = json::parse(request("GET", "/api/v2/alerts/groups", {}, admin).body);
  ASSERT_EQ(groups.size(), 1U) << groups.dump();
  EXPECT_EQ(groups[0]["ack"]["by"], "bob");
  EXPECT_EQ(groups[0]["ack"]["comment"], "mine");
  EXPECT_EQ(groups[0]["escalation"]["policy"], "ops-critical");
  EXPECT_EQ(groups[0]["escalation"]["step"], 1);
  EXPECT_EQ(groups[0]["escalation"]["paged"], json::array({"alice"}));
  // `tocsin oncall ack` goes through the same API, with the config's admin token.
  const auto cli = [&](const std::string& page) {
    return run_command({TOCSIN_BINARY, "oncall", "ack", "-c", daemon.config_path().string(), page,
                        "--by", "alice"});
  };
  const command_result again = cli(page_id);
  EXPECT_EQ(again.exit_code, 0) << again.stderr_text;
  EXPECT_EQ(again.stdout_text, page_id + " was already acknowledged by bob\n");
  const command_result unknown = cli("0000000000000000");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.stderr_text.find("no paged group 0000000000000000"), std::string::npos)
      << unknown.stderr_text;
  // The ack link's path needs no admin token (its signature is the credential).
  EXPECT_EQ(request("GET", "/ack/" + page_id + "?sig=" + std::string(32, 'a'), {}, {}).status, 403);
}

}  // namespace
}  // namespace tocsin::test
