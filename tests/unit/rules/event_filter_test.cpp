// Tests for rules/event_filter.hpp: the search and live-tail filter.

#include "rules/event_filter.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rules/matcher.hpp"

namespace tocsin::rules {
namespace {

using collector::event;

// An sshd event; views point at string literals, which outlive it.
event ssh_event() {
  event ev;
  ev.host = "web1";
  ev.app = "sshd";
  ev.procid = "4242";
  ev.message = "Failed password for root from 203.0.113.9 port 22";
  ev.severity = 6;   // info
  ev.facility = 10;  // authpriv
  ev.fields = {{"user_id", 9001}, {"region", "eu-west"}};
  return ev;
}

bool matches(std::string_view filter, const event& ev) {
  return event_filter::parse(filter).matches(ev);
}

std::string parse_error(std::string_view filter) {
  try {
    (void)event_filter::parse(filter);
  } catch (const event_filter_error& e) {
    return e.what();
  }
  return "";
}

TEST(event_filter, empty_filter_matches_everything) {
  EXPECT_TRUE(event_filter().matches(ssh_event()));
  EXPECT_TRUE(matches("", ssh_event()));
  EXPECT_TRUE(matches("   ", ssh_event()));
  EXPECT_TRUE(event_filter::parse("  ").empty());
}

TEST(event_filter, equal_is_exact) {
  const event ev = ssh_event();
  EXPECT_TRUE(matches(R"(app="sshd")", ev));
  EXPECT_TRUE(matches("app=sshd", ev));
  EXPECT_FALSE(matches(R"(app="ssh")", ev));
  EXPECT_FALSE(matches(R"(app="sshd2")", ev));
  EXPECT_FALSE(matches(R"(app="SSHD")", ev));
}

TEST(event_filter, not_equal) {
  const event ev = ssh_event();
  EXPECT_TRUE(matches(R"(app!="nginx")", ev));
  EXPECT_FALSE(matches(R"(app!="sshd")", ev));
}

TEST(event_filter, regex_is_unanchored_search) {
  const event ev = ssh_event();
  EXPECT_TRUE(matches(R"(message=~"Failed password")", ev));
  EXPECT_TRUE(matches(R"(message=~"from [0-9.]+ port")", ev));
  EXPECT_TRUE(matches(R"(message=~"^Failed")", ev));
  EXPECT_FALSE(matches(R"(message=~"^password")", ev));
  EXPECT_FALSE(matches(R"(message=~"failed")", ev));  // RE2 is case-sensitive by default
  EXPECT_TRUE(matches(R"(message=~"(?i)failed")", ev));
}

TEST(event_filter, not_regex) {
  const event ev = ssh_event();
  EXPECT_TRUE(matches(R"(host!~"^test")", ev));
  EXPECT_FALSE(matches(R"(host!~"^web")", ev));
}

TEST(event_filter, every_term_must_hold) {
  const event ev = ssh_event();
  EXPECT_TRUE(matches(R"(app="sshd" message=~"Failed password" host!~"^test")", ev));
  EXPECT_FALSE(matches(R"(app="sshd" message=~"Accepted" host!~"^test")", ev));
  EXPECT_FALSE(matches(R"(app="sshd" message=~"Failed" host!~"^web")", ev));
}

TEST(event_filter, bare_word_is_message_contains_ignoring_case) {
  const event ev = ssh_event();
  EXPECT_TRUE(matches("failed", ev));
  EXPECT_TRUE(matches("ROOT", ev));
  EXPECT_TRUE(matches("failed root", ev));
  EXPECT_FALSE(matches("failed accepted", ev));
  EXPECT_FALSE(matches("web1", ev));  // the host is not the message
  EXPECT_TRUE(matches(R"(app="sshd" password)", ev));
}

TEST(event_filter, quoted_phrase_and_quoted_spaces) {
  const event ev = ssh_event();
  EXPECT_TRUE(matches(R"("failed PASSWORD for")", ev));
  EXPECT_FALSE(matches(R"("failed for")", ev));
  EXPECT_TRUE(matches(R"(message=~"password for root" app="sshd")", ev));
  EXPECT_FALSE(matches(R"(message=~"password  for root")", ev));
  const auto filter = event_filter::parse(R"(message="a b c"   app=x "two words")");
  ASSERT_EQ(filter.terms().size(), 3U);
  EXPECT_EQ(filter.terms()[0].value, "a b c");
  EXPECT_EQ(filter.terms()[2].value, "two words");
  EXPECT_TRUE(filter.terms()[2].is_word());
}

TEST(event_filter, escaped_quote_inside_quotes_does_not_end_the_term) {
  event ev = ssh_event();
  ev.message = R"(said "hi there")";
  EXPECT_TRUE(matches(R"(message=~"said \"hi there\"")", ev));
  EXPECT_TRUE(matches(R"("said \"hi")", ev));
}

TEST(event_filter, missing_field_matches_as_empty) {
  event ev = ssh_event();
  ev.msgid = {};
  EXPECT_TRUE(matches(R"(msgid="")", ev));
  EXPECT_FALSE(matches(R"(msgid="x")", ev));
  EXPECT_TRUE(matches(R"(msgid!="x")", ev));
  EXPECT_TRUE(matches(R"(msgid!~".")", ev));
  EXPECT_TRUE(matches(R"(fields.absent="")", ev));
  EXPECT_TRUE(matches(R"(sd.origin@1.ip!~".")", ev));
}

TEST(event_filter, severity_and_facility_by_name) {
  const event ev = ssh_event();
  EXPECT_TRUE(matches(R"(severity="info")", ev));
  EXPECT_FALSE(matches(R"(severity="6")", ev));
  EXPECT_TRUE(matches(R"(severity=~"^(info|debug)$")", ev));
  EXPECT_TRUE(matches(R"(facility="authpriv")", ev));
}

TEST(event_filter, fields_and_sd) {
  event ev = ssh_event();
  ev.sd = {{"origin@1", "ip", "10.0.0.1"}};
  EXPECT_TRUE(matches(R"(fields.user_id="9001")", ev));
  EXPECT_TRUE(matches(R"(fields.region=~"^eu-")", ev));
  EXPECT_FALSE(matches(R"(fields.region="us-east")", ev));
  EXPECT_TRUE(matches(R"(sd.origin@1.ip="10.0.0.1")", ev));
}

TEST(event_filter, bad_regex_names_the_term) {
  const std::string why = parse_error(R"(app="sshd" message=~"(unclosed")");
  EXPECT_NE(why.find("term 2"), std::string::npos) << why;
  EXPECT_NE(why.find("invalid regex"), std::string::npos) << why;
  EXPECT_NE(why.find("missing )"), std::string::npos) << why;
}

TEST(event_filter, unknown_field_names_the_term) {
  const std::string why = parse_error(R"(hots="web1")");
  EXPECT_NE(why.find("term 1"), std::string::npos) << why;
  EXPECT_NE(why.find("unknown field \"hots\""), std::string::npos) << why;
}

TEST(event_filter, malformed_terms_are_errors) {
  EXPECT_NE(parse_error(R"(app="sshd)"), "");  // unclosed quote
  EXPECT_NE(parse_error(R"(="x")"), "");
  EXPECT_NE(parse_error(R"(app=!"x")"), "");
  EXPECT_EQ(parse_error(R"(app=~)"), "");  // an empty regex, as in Alertmanager
  EXPECT_NE(parse_error(R"("")"), "");
  EXPECT_NE(parse_error(R"(app=="x")"), "");
}

TEST(event_filter, several_arguments_are_anded) {
  const event ev = ssh_event();
  EXPECT_TRUE(
      event_filter::parse(std::vector<std::string>{"app=sshd", R"(message=~"Failed password")"})
          .matches(ev));
  EXPECT_FALSE(event_filter::parse(std::vector<std::string>{"app=sshd", "accepted"}).matches(ev));
}

TEST(event_filter, exact_value_and_to_string_round_trip) {
  const auto filter =
      event_filter::parse(R"(host="web1" app=~"ssh" "two words" fields.x!="a\"b" plain)");
  ASSERT_NE(filter.exact_value("host"), nullptr);
  EXPECT_EQ(*filter.exact_value("host"), "web1");
  EXPECT_EQ(filter.exact_value("app"), nullptr);  // a regex is no exact value
  const auto again = event_filter::parse(filter.to_string());
  ASSERT_EQ(again.terms().size(), filter.terms().size()) << filter.to_string();
  for (std::size_t i = 0; i < filter.terms().size(); ++i) {
    EXPECT_EQ(again.terms()[i].field, filter.terms()[i].field);
    EXPECT_EQ(again.terms()[i].op, filter.terms()[i].op);
    EXPECT_EQ(again.terms()[i].value, filter.terms()[i].value);
  }
}

TEST(search_filter_for_alert, match_conditions_and_group_labels) {
  rule_definition rule;
  rule.name = "ssh-bruteforce";
  rule.match = {{"app", "^sshd$", {}},
                {"message", R"(Failed password for (?P<user>\S+) from (?P<src_ip>[0-9.]+))", {}}};
  rule.group_by = {"host", "src_ip"};
  const label_set labels = {{"alertname", "ssh-bruteforce"},
                            {"severity", "warning"},
                            {"host", "web1"},
                            {"src_ip", "203.0.113.9"},
                            {"user", "root"}};
  const std::string text = search_filter_for_alert(rule, labels);
  const auto filter = event_filter::parse(text);
  ASSERT_EQ(filter.terms().size(), 3U) << text;  // app, message, host; src_ip is a named group
  ASSERT_NE(filter.exact_value("host"), nullptr) << text;
  EXPECT_EQ(*filter.exact_value("host"), "web1");
  EXPECT_EQ(filter.terms()[1].value, rule.match[1].pattern);  // backslashes survive

  event ev = ssh_event();
  EXPECT_TRUE(filter.matches(ev));
  ev.host = "web2";
  EXPECT_FALSE(filter.matches(ev));
  ev.host = "web1";
  ev.app = "sshd-helper";
  EXPECT_FALSE(filter.matches(ev));
}

TEST(search_filter_for_alert, min_severity_and_field_labels) {
  rule_definition rule;
  rule.name = "errors";
  rule.match = {{"message", "error", {}}};
  rule.min_severity = 3;  // err
  rule.group_by = {"fields.region", "severity"};
  const label_set labels = {{"alertname", "errors"},
                            {"severity", "warning"},  // the rule's, not the event's
                            {"fields_region", "eu-west"}};
  const auto filter = event_filter::parse(search_filter_for_alert(rule, labels));
  event ev = ssh_event();
  ev.message = "an error";
  ev.severity = 3;
  EXPECT_TRUE(filter.matches(ev));
  ev.severity = 4;  // warning: above min_severity
  EXPECT_FALSE(filter.matches(ev));
  ev.severity = 0;
  ev.fields["region"] = "us-east";
  EXPECT_FALSE(filter.matches(ev));
}

}  // namespace
}  // namespace tocsin::rules
