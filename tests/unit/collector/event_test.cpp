#include "collector/event.hpp"
#include "core/rfc3339.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace tocsin::collector {
namespace {

std::string to_json(const event& ev) {
  std::string out;
  append_event_json(ev, out);
  return out;
}

TEST(event_json, design_example_shape) {
  event ev;
  ev.timestamp = "2003-10-11T22:14:15.003Z";
  ev.received_at =
      std::chrono::system_clock::time_point(std::chrono::microseconds(1795666255120001));
  ev.host = "mymachine.example.com";
  ev.app = "evntslog";
  ev.procid = "8710";
  ev.msgid = "ID47";
  ev.facility = 20;
  ev.severity = 5;
  ev.message = "An application event log entry...";
  ev.sd = {{"exampleSDID@32473", "iut", "3"}, {"exampleSDID@32473", "eventSource", "Application"}};
  ev.source = "127.0.0.1:40112";
  ev.input = "syslog-tcp";
  ev.format = "rfc5424";
  EXPECT_EQ(
      to_json(ev),
      R"({"timestamp":"2003-10-11T22:14:15.003Z","received_at":"2026-11-26T04:10:55.120001Z",)"
      R"("host":"mymachine.example.com","app":"evntslog","procid":"8710","msgid":"ID47",)"
      R"("facility":"local4","severity":"notice","message":"An application event log entry...",)"
      R"("sd":{"exampleSDID@32473":{"iut":"3","eventSource":"Application"}},)"
      R"("source":"127.0.0.1:40112","input":"syslog-tcp","format":"rfc5424"})");
}

TEST(event_json, absent_fields_are_omitted) {
  event ev;
  ev.message = "x";
  EXPECT_EQ(to_json(ev), R"({"message":"x"})");
}

TEST(event_json, sd_escapes_are_resolved_and_other_backslashes_kept) {
  event ev;
  ev.sd = {{"a", "p", R"(q\"u\\o\]te \n)"}, {"b", "", ""}, {"c", "x", "1"}};
  const auto j = nlohmann::json::parse(to_json(ev));
  EXPECT_EQ(j["sd"]["a"]["p"], R"(q"u\o]te \n)");
  EXPECT_TRUE(j["sd"]["b"].is_object());
  EXPECT_TRUE(j["sd"]["b"].empty());
  EXPECT_EQ(j["sd"]["c"]["x"], "1");
}

struct utf8_case {
  std::string input;
  std::string expected;  // decoded JSON string value
};

TEST(event_json, invalid_utf8_is_replaced_valid_kept) {
  const std::vector<utf8_case> cases = {
      {"plain", "plain"},
      {"caf\xC3\xA9", "caf\xC3\xA9"},
      {"\xF0\x9F\x94\xA5 fire", "\xF0\x9F\x94\xA5 fire"},
      {"bad \xFF byte", "bad \xEF\xBF\xBD byte"},
      {"overlong \xC0\xAF", "overlong \xEF\xBF\xBD\xEF\xBF\xBD"},
      {"surrogate \xED\xA0\x80", "surrogate \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
      {"truncated \xE2\x82", "truncated \xEF\xBF\xBD\xEF\xBF\xBD"},
      {"ctl \x01\t\n\"\\", "ctl \x01\t\n\"\\"},
  };
  for (const auto& c : cases) {
    event ev;
    ev.message = c.input;
    const std::string json = to_json(ev);
    const auto parsed = nlohmann::json::parse(json);  // throws on invalid UTF-8 or JSON
    EXPECT_EQ(parsed["message"], c.expected) << json;
  }
}

TEST(event_json, fields_are_serialized_as_an_object) {
  event ev;
  ev.fields = {{"user_id", 9001}, {"full_message", "trace\nline"}};
  const auto j = nlohmann::json::parse(to_json(ev));
  EXPECT_EQ(j["fields"]["user_id"], 9001);
  EXPECT_EQ(j["fields"]["full_message"], "trace\nline");
}

TEST(parse_rfc3339, table) {
  using namespace std::chrono;
  const auto at = [](long long micros) { return system_clock::time_point(microseconds(micros)); };
  const std::vector<std::pair<std::string, std::optional<system_clock::time_point>>> cases = {
      {"2026-11-26T04:10:55Z", at(1795666255000000)},
      {"2026-11-26T04:10:55.120001Z", at(1795666255120001)},
      {"2026-11-26T05:10:55.5+01:00", at(1795666255500000)},
      {"2026-11-26T01:40:55-02:30", at(1795666255000000)},
      {"2024-02-29T00:00:00Z", at(1709164800000000)},
      {"2023-02-29T00:00:00Z", std::nullopt},
      {"2026-11-26 04:10:55Z", std::nullopt},
      {"2026-11-26T04:10:55", std::nullopt},
      {"2026-11-26T04:10:55.Z", std::nullopt},
      {"2026-11-26T24:10:55Z", std::nullopt},
      {"2026-11-26T04:10:55+0100", std::nullopt},
      {"", std::nullopt},
  };
  for (const auto& [text, expected] : cases) EXPECT_EQ(parse_rfc3339(text), expected) << text;
  // What append_rfc3339_utc writes reads back.
  std::string s;
  append_rfc3339_utc(at(1795666255120001), s);
  EXPECT_EQ(parse_rfc3339(s), at(1795666255120001));
}

TEST(event_names, facility_and_severity_tables) {
  EXPECT_STREQ(facility_name(0), "kern");
  EXPECT_STREQ(facility_name(15), "solaris-cron");
  EXPECT_STREQ(facility_name(23), "local7");
  EXPECT_EQ(facility_name(24), nullptr);
  EXPECT_EQ(facility_name(-1), nullptr);
  EXPECT_STREQ(severity_name(3), "err");
  EXPECT_EQ(severity_from_name("warning"), 4);
  EXPECT_EQ(severity_from_name("warn"), -1);
}

}  // namespace
}  // namespace tocsin::collector
