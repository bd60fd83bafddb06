// Email edge cases the main email tests leave out: addresses refused at load (junk after the
// address, no closing '>', nothing before or after '@', spaces, only separators), display names
// that need encoding or quoting, header values with line breaks or over the plain-text limit,
// and quoted-printable bodies with '=', CRLF input and whitespace before line ends.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "sinks/notifier_email.hpp"
#include "tests/support/support.hpp"
#include "tests/unit/sinks/receiver_yaml.hpp"

namespace tocsin::sinks {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using outcome = delivery_result::outcome;
using settings_map = std::map<std::string, nlohmann::json>;

config::receiver_config make_receiver(std::uint16_t port, const settings_map& extra = {}) {
  settings_map settings = {{"smarthost", "127.0.0.1:" + std::to_string(port)},
                           {"from", "alerts@example.com"},
                           {"to", nlohmann::json::array({"ops@example.com"})},
                           {"require_tls", false}};
  for (const auto& [k, v] : extra) settings[k] = v;
  return test_receivers::load("ops-mail", "email", settings);
}

// The config error building the receiver gives; "" when it builds.
std::string error_of(const settings_map& extra) {
  try {
    (void)make_email_notifier(make_receiver(25, extra));
    return "";
  } catch (const config::config_error& e) {
    return e.what();
  }
}

notification one_alert(rules::label_set labels) {
  notification n;
  n.receiver = "ops-mail";
  n.group_key = "g";
  rules::alert a;
  a.labels = std::move(labels);
  a.starts_at = std::chrono::system_clock::time_point(1795666255120ms);
  a.firing = true;
  a.fingerprint = rules::fingerprint(a.labels);
  n.alerts = {a};
  return n;
}

TEST(email_branches, addresses_refused_at_load) {
  EXPECT_THAT(error_of({{"from", "Tocsin <alerts@example.com> junk"}}),
              HasSubstr("from: not an address: 'Tocsin <alerts@example.com> junk'"));
  EXPECT_THAT(error_of({{"from", "Tocsin <alerts@example.com"}}),
              HasSubstr("from: not an address"));
  for (const char* bad : {"@example.com", "ops@", "op s@example.com", "ops\"@example.com"}) {
    EXPECT_THAT(error_of({{"to", nlohmann::json::array({bad})}}),
                HasSubstr(std::string("has an entry that is not an address: '") + bad + "'"))
        << bad;
  }
  EXPECT_THAT(error_of({{"to", nlohmann::json::array({", ,"})}}),
              HasSubstr("to: needs at least one address"));
  EXPECT_EQ(error_of({{"to", nlohmann::json::array({"a@example.com, ,b@example.com,"})}}), "");
}

TEST(email_branches, smarthost_and_tls_settings_refused_at_load) {
  EXPECT_THAT(error_of({{"tls.ca_file", "/nonexistent/ca.crt"}}),
              HasSubstr("'/nonexistent/ca.crt' is not a readable file"));
  EXPECT_THAT(error_of({{"smarthost", "127.0.0.1"}}), HasSubstr("smarthost"));
  EXPECT_THAT(error_of({{"auth.username", "u"}}), HasSubstr("password_file"));
}

TEST(email_branches, display_names_line_breaks_long_subjects_and_quoted_printable) {
  test::smtp_server server;
  const std::string long_value(950, 'y');  // over the 900-character plain header limit
  auto email = make_email_notifier(make_receiver(
      server.port(), {{"from", "\"Tocsin, Prod\" <alerts@example.com>"},
                      {"to", nlohmann::json::array(
                                 {"\"Ops, EU\" <eu@example.com>, Störung Team <st@example.org>"})},
                      {"subject", "{{alertname}}"},
                      {"headers.X-Long", "{{long}}"},
                      {"text", "a=b  \r\nc\t\n{{alertname}}"}}));
  const delivery_result r =
      email->send(one_alert({{"alertname", "one\r\ntwo"}, {"long", long_value}}));
  ASSERT_EQ(r.result, outcome::delivered) << r.detail;
  const auto messages = server.messages();
  ASSERT_EQ(messages.size(), 1u);
  const nlohmann::json& m = messages[0];
  EXPECT_EQ(m["defects"], nlohmann::json::array()) << m.dump(2);
  EXPECT_EQ(m["rcpt_tos"], nlohmann::json::array({"eu@example.com", "st@example.org"}));
  EXPECT_EQ(m["mail_from"], "alerts@example.com");
  const nlohmann::json& h = m["headers"];
  EXPECT_EQ(h["From"], "\"Tocsin, Prod\" <alerts@example.com>");
  EXPECT_THAT(h["To"].get<std::string>(), HasSubstr("Störung Team <st@example.org>"));
  EXPECT_EQ(h["Subject"], "one  two");  // CR and LF become spaces: no header injection
  EXPECT_EQ(h["X-Long"], long_value);   // encoded words, decoded whole
  EXPECT_EQ(m["bare_lf"], false);
  EXPECT_LE(m["longest_line"].get<int>(), 998);
  const std::string raw = server.raw_message(0);
  EXPECT_THAT(raw, HasSubstr("=?UTF-8?B?"));
  EXPECT_THAT(raw, HasSubstr("a=3Db =20\r\nc=09\r\n"));  // '=' and whitespace before line ends
}

TEST(email_branches, header_names_and_address_characters_refused_at_load) {
  EXPECT_THAT(error_of({{"headers.X Bad", "v"}}), HasSubstr("'X Bad' is not a valid field name"));
  for (const char* bad : {"a>b@example.com",
                          "a\x7f"
                          "b@example.com"}) {
    EXPECT_THAT(error_of({{"to", nlohmann::json::array({bad})}}),
                HasSubstr("has an entry that is not an address"))
        << bad;
  }
}

TEST(email_branches, subject_from_and_to_headers_replace_the_defaults) {
  test::smtp_server server;
  auto email = make_email_notifier(
      make_receiver(server.port(), {{"headers.subject", "Custom {{alertname}}"},
                                    {"headers.FROM", "Robot <robot@example.net>"},
                                    {"headers.To", "list@example.org"}}));
  const delivery_result r = email->send(one_alert({{"alertname", "cpu"}}));
  ASSERT_EQ(r.result, outcome::delivered) << r.detail;
  const auto messages = server.messages();
  ASSERT_EQ(messages.size(), 1u);
  const nlohmann::json& h = messages[0]["headers"];
  EXPECT_EQ(h["Subject"], "Custom cpu");
  EXPECT_EQ(h["From"], "Robot <robot@example.net>");
  EXPECT_EQ(h["To"], "list@example.org");
  // The envelope still goes to the configured addresses.
  EXPECT_EQ(messages[0]["rcpt_tos"], nlohmann::json::array({"ops@example.com"}));
  EXPECT_EQ(messages[0]["mail_from"], "alerts@example.com");
}

}  // namespace
}  // namespace tocsin::sinks
