#include "sinks/notifier_email.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "tests/support/support.hpp"
#include "tests/unit/sinks/receiver_yaml.hpp"

namespace tocsin::sinks {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using outcome = delivery_result::outcome;

const std::string kUser = "alertbot";
const std::string kPassword = "s3cret-pass";

using test::smtp_server;

// A test CA (ca.crt), a server certificate for 127.0.0.1 and localhost signed by it
// (server.crt), and another CA that signed nothing (other-ca.crt).
void make_certificates(const fs::path& dir) {
  const test::test_ca ca(dir, "ca");
  (void)ca.issue("server", {"localhost", {"localhost"}, {"127.0.0.1"}});
  const test::test_ca other_ca(dir, "other-ca");
}

rules::alert make_alert(const std::string& host, bool firing) {
  rules::alert a;
  a.labels = {{"alertname", "disk-full"}, {"host", host}, {"severity", "page"}};
  a.annotations = {{"summary", "Disk full on " + host}};
  a.starts_at = std::chrono::system_clock::time_point(1795666255120ms);
  a.ends_at = a.starts_at + 5min;
  a.firing = firing;
  a.fingerprint = rules::fingerprint(a.labels);
  a.generator_url = "http://tocsin.example/rules/disk-full";
  return a;
}

notification make_notification() {
  notification n;
  n.receiver = "ops-mail";
  n.group_key = "{}:{alertname=\"disk-full\"}";
  n.group_labels = {{"alertname", "disk-full"}};
  n.alerts = {make_alert("web1", true), make_alert("web2", true), make_alert("db1", false)};
  n.external_url = "http://tocsin.example:9095";
  return n;
}

using settings_map = std::map<std::string, nlohmann::json>;

config::receiver_config make_receiver(std::uint16_t port, const settings_map& extra = {}) {
  settings_map settings = {
      {"smarthost", "127.0.0.1:" + std::to_string(port)},
      {"from", "Tocsin <alerts@example.com>"},
      {"to", nlohmann::json::array({"ops@example.com", "Oncall Team <oncall@example.org>"})},
      {"require_tls", false}};
  for (const auto& [k, v] : extra) settings[k] = v;
  return test_receivers::load("ops-mail", "email", settings);
}

class email_notifier_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs_ = new test::temp_dir("email-certs");
    make_certificates(certs_->path());
  }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }

  static fs::path cert(const std::string& name) { return certs_->path() / name; }

  static std::vector<std::string> tls_and_auth_options() {
    return {"--tls-cert", cert("server.crt").string(),
            "--tls-key",  cert("server.key").string(),
            "--user",     kUser,
            "--password", kPassword};
  }

  // Settings for STARTTLS against the test CA with AUTH as `password`.
  settings_map tls_auth_settings(const std::string& password) {
    return {{"require_tls", true},
            {"tls.ca_file", cert("ca.crt").string()},
            {"auth.username", kUser},
            {"auth.password_file", scratch_.write_file("password", password + "\n").string()}};
  }

  static test::temp_dir* certs_;
  test::temp_dir scratch_{"email-test"};
};

test::temp_dir* email_notifier_test::certs_ = nullptr;

// Python hands quoted-printable line ends back as they were sent: CRLF.
std::string without_cr(std::string s) {
  std::erase(s, '\r');
  return s;
}

const nlohmann::json* find_part(const nlohmann::json& message, const std::string& type) {
  for (const auto& part : message["parts"]) {
    if (part["type"] == type) return &part;
  }
  return nullptr;
}

TEST_F(email_notifier_test, plain_smtp_delivers_a_multipart_message) {
  smtp_server server;
  auto email = make_email_notifier(make_receiver(server.port()));
  EXPECT_FALSE(email->send_resolved());

  const delivery_result result = email->send(make_notification());
  ASSERT_EQ(result.result, outcome::delivered) << result.detail;
  EXPECT_EQ(result.status, 250);

  const auto messages = server.messages();
  ASSERT_EQ(messages.size(), 1u);
  const nlohmann::json& m = messages[0];
  EXPECT_EQ(m["mail_from"], "alerts@example.com");
  EXPECT_EQ(m["rcpt_tos"], nlohmann::json::array({"ops@example.com", "oncall@example.org"}));
  EXPECT_EQ(m["tls"], false);
  EXPECT_TRUE(m["auth_user"].is_null());
  EXPECT_EQ(m["defects"], nlohmann::json::array()) << m.dump(2);

  const nlohmann::json& h = m["headers"];
  EXPECT_EQ(h["From"], "Tocsin <alerts@example.com>");
  EXPECT_EQ(h["To"], "ops@example.com, Oncall Team <oncall@example.org>");
  EXPECT_EQ(h["Subject"], "[FIRING:2] disk-full (page)");
  EXPECT_TRUE(std::regex_match(
      h["Date"].get<std::string>(),
      std::regex(R"((Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|)"
                 R"(Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d \+0000)")))
      << h["Date"];
  EXPECT_TRUE(std::regex_match(h["Message-ID"].get<std::string>(),
                               std::regex(R"(<[0-9a-f.]+@example\.com>)")))
      << h["Message-ID"];
  EXPECT_EQ(h["MIME-Version"], "1.0");
  EXPECT_EQ(m["content_type"], "multipart/alternative");

  ASSERT_EQ(m["parts"].size(), 2u);
  const nlohmann::json* text = find_part(m, "text/plain");
  const nlohmann::json* html = find_part(m, "text/html");
  ASSERT_NE(text, nullptr);
  ASSERT_NE(html, nullptr);
  EXPECT_EQ((*text)["charset"], "utf-8");
  const std::string body = (*text)["content"];
  EXPECT_NE(body.find("[firing] disk-full"), std::string::npos) << body;
  EXPECT_NE(body.find("[resolved] disk-full"), std::string::npos) << body;
  EXPECT_NE(body.find("host = web2"), std::string::npos) << body;
  EXPECT_NE(body.find("summary = Disk full on db1"), std::string::npos) << body;
  EXPECT_NE(body.find("Started: 2026-11-26T04:10:55.120Z"), std::string::npos) << body;
  const std::string page = (*html)["content"];
  EXPECT_NE(page.find("<td>host</td><td>web1</td>"), std::string::npos) << page;

  // RFC 5322: CRLF only, no line over 998 octets.
  EXPECT_EQ(m["bare_lf"], false);
  EXPECT_LE(m["longest_line"].get<int>(), 998);
}

TEST_F(email_notifier_test, the_date_header_comes_from_the_injected_clock) {
  smtp_server server;
  manual_clock time;  // 2024-10-01T00:00:00Z, a Tuesday
  time.advance(90min + 5s);
  auto email = make_email_notifier(make_receiver(server.port()), time);
  ASSERT_EQ(email->send(make_notification()).result, outcome::delivered);
  const auto messages = server.messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0]["headers"]["Date"], "Tue, 01 Oct 2024 01:30:05 +0000");
}

TEST_F(email_notifier_test, templates_and_headers_override_the_defaults) {
  smtp_server server;
  const std::string long_summary(1500, 'x');  // a body line that must be wrapped
  auto email = make_email_notifier(
      make_receiver(server.port(), {{"subject", "Störung: {{alertname}} ({{firing_count}})"},
                                    {"text", "{{ summary }}\n{{long}}\n{{alerts}}"},
                                    {"html", "<p>{{alertname}} & {{status}} {{evil}}</p>"},
                                    {"headers.X-Tocsin-Receiver", "{{receiver}}"}}));
  notification n = make_notification();
  for (auto& a : n.alerts) {
    a.annotations["summary"] = "same for all";
    a.labels["evil"] = "<b>";
    a.labels["long"] = long_summary;
  }

  const delivery_result result = email->send(n);
  ASSERT_EQ(result.result, outcome::delivered) << result.detail;
  const auto messages = server.messages();
  ASSERT_EQ(messages.size(), 1u);
  const nlohmann::json& m = messages[0];
  EXPECT_EQ(m["defects"], nlohmann::json::array()) << m.dump(2);
  EXPECT_EQ(m["headers"]["Subject"], "Störung: disk-full (2)");
  EXPECT_EQ(m["headers"]["X-Tocsin-Receiver"], "ops-mail");
  const std::string text = without_cr((*find_part(m, "text/plain"))["content"]);
  EXPECT_EQ(text.substr(0, 13), "same for all\n");
  EXPECT_NE(text.find(long_summary), std::string::npos);
  EXPECT_NE(text.find("[resolved] disk-full"), std::string::npos);
  // The template is HTML already; only the values are escaped.
  EXPECT_EQ((*find_part(m, "text/html"))["content"], "<p>disk-full & firing &lt;b&gt;</p>");
  EXPECT_LE(m["longest_line"].get<int>(), 78);
}

TEST_F(email_notifier_test, resolved_group_has_resolved_subject) {
  smtp_server server;
  auto email = make_email_notifier(make_receiver(server.port()));
  notification n = make_notification();
  n.alerts = {make_alert("db1", false)};
  ASSERT_EQ(email->send(n).result, outcome::delivered);
  const auto messages = server.messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0]["headers"]["Subject"], "[RESOLVED] disk-full (db1 page)");
}

// Issue 11: a repeated notification is the same message, so mail systems can drop the repeat.
TEST_F(email_notifier_test, notification_id_names_the_message) {
  smtp_server server;
  auto email = make_email_notifier(make_receiver(server.port()));
  notification n = make_notification();
  n.id = "0123456789abcdef";
  ASSERT_EQ(email->send(n).result, outcome::delivered);
  ASSERT_EQ(email->send(n).result, outcome::delivered);
  const auto messages = server.messages();
  ASSERT_EQ(messages.size(), 2u);
  for (const auto& m : messages) {
    EXPECT_EQ(m["headers"]["Message-ID"], "<0123456789abcdef@example.com>");
    EXPECT_EQ(m["headers"]["X-Tocsin-Notification-Id"], "0123456789abcdef");
  }
}

TEST_F(email_notifier_test, required_tls_without_starttls_is_permanent) {
  smtp_server server;  // no certificate: no STARTTLS offered
  auto email = make_email_notifier(make_receiver(server.port(), {{"require_tls", true}}));
  const delivery_result result = email->send(make_notification());
  EXPECT_EQ(result.result, outcome::permanent) << result.detail;
  EXPECT_FALSE(result.detail.empty());
  EXPECT_TRUE(server.messages().empty());
}

TEST_F(email_notifier_test, starttls_and_auth_deliver_as_the_user) {
  smtp_server server(tls_and_auth_options());
  auto email = make_email_notifier(make_receiver(server.port(), tls_auth_settings(kPassword)));
  const delivery_result result = email->send(make_notification());
  ASSERT_EQ(result.result, outcome::delivered) << result.detail;
  const auto messages = server.messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0]["auth_user"], kUser);
  EXPECT_EQ(messages[0]["tls"], true);
}

TEST_F(email_notifier_test, wrong_password_is_permanent) {
  smtp_server server(tls_and_auth_options());
  auto email = make_email_notifier(make_receiver(server.port(), tls_auth_settings("wrong")));
  const delivery_result result = email->send(make_notification());
  EXPECT_EQ(result.result, outcome::permanent) << result.detail;
  EXPECT_EQ(result.status, 535) << result.detail;
  EXPECT_TRUE(server.messages().empty());
}

TEST_F(email_notifier_test, untrusted_certificate_is_not_accepted) {
  smtp_server server(tls_and_auth_options());
  auto settings = tls_auth_settings(kPassword);
  settings["tls.ca_file"] = cert("other-ca.crt").string();
  auto email = make_email_notifier(make_receiver(server.port(), settings));
  const delivery_result result = email->send(make_notification());
  EXPECT_EQ(result.result, outcome::permanent) << result.detail;
  EXPECT_TRUE(server.messages().empty());
}

TEST_F(email_notifier_test, transient_rejection_is_retried_and_hard_rejection_is_not) {
  {
    smtp_server server({"--rcpt-reply", "450 4.2.1 Mailbox busy"});
    const delivery_result result =
        make_email_notifier(make_receiver(server.port()))->send(make_notification());
    EXPECT_EQ(result.result, outcome::retry) << result.detail;
    EXPECT_EQ(result.status, 450);
  }
  {
    smtp_server server({"--rcpt-reply", "550 5.1.1 No such user"});
    const delivery_result result =
        make_email_notifier(make_receiver(server.port()))->send(make_notification());
    EXPECT_EQ(result.result, outcome::permanent) << result.detail;
    EXPECT_EQ(result.status, 550);
    EXPECT_NE(result.detail.find("No such user"), std::string::npos) << result.detail;
  }
}

TEST_F(email_notifier_test, server_down_is_retry) {
  auto email = make_email_notifier(make_receiver(test::free_port()));
  const delivery_result result = email->send(make_notification());
  EXPECT_EQ(result.result, outcome::retry) << result.detail;
  EXPECT_EQ(result.status, 0);
}

TEST_F(email_notifier_test, bad_settings_throw_at_the_setting) {
  // Settings are written one a line in key order from line 4 (auth and headers with their keys
  // on the lines below them): from on 4, require_tls, smarthost and to on 5, 6 and 7 unless
  // another key comes first.
  auto expect_error = [](const config::receiver_config& r, const std::string& expected) {
    try {
      (void)make_email_notifier(r);
      ADD_FAILURE() << "no error for " << expected;
    } catch (const config::config_error& e) {
      EXPECT_EQ(std::string(e.what()), expected);
    }
  };
  const std::string missing = (scratch_ / "missing").string();
  expect_error(make_receiver(25, {{"auth.username", kUser}, {"auth.password_file", missing}}),
               "tocsin.yaml:5:24: receivers[0].email.auth.password_file: cannot read '" + missing +
                   "': No such file or directory");
  expect_error(make_receiver(25, {{"to", nlohmann::json::array({"not-an-address"})}}),
               "tocsin.yaml:7:11: receivers[0].email.to: has an entry that is not an address: "
               "'not-an-address'");
  expect_error(make_receiver(25, {{"smarthost", "mail.example.com"}}),
               "tocsin.yaml:6:18: receivers[0].email.smarthost: invalid endpoint "
               "'mail.example.com': missing port");
  expect_error(make_receiver(25, {{"headers.Content-Type", "text/plain"}}),
               "tocsin.yaml:6:9: receivers[0].email.headers: 'Content-Type' is set by tocsin");
}

}  // namespace
}  // namespace tocsin::sinks
