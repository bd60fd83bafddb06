// Tests for collector::parse_event_json(): the inverse of append_event_json(), which the archive
// search reads the file output back with.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "collector/event.hpp"
#include "collector/gelf.hpp"
#include "collector/syslog_decoder.hpp"

namespace tocsin::collector {
namespace {

std::string to_json(const event& ev) {
  std::string out;
  append_event_json(ev, out);
  return out;
}

// JSON → event → JSON gives the same text.
void expect_round_trip(const std::string& line) {
  event ev;
  const decode_status status = parse_event_json(line + "\n", ev);
  ASSERT_TRUE(status.is_ok()) << status.what << ": " << line;
  EXPECT_EQ(to_json(ev), line);
}

TEST(event_json_read, round_trip_of_a_decoded_rfc5424_message) {
  // SD ids and params in name order: the reader keeps JSON objects sorted by key.
  const std::string msg =
      R"(<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 8710 ID47 )"
      R"([exampleSDID@32473 eventSource="Application" iut="3" quote="a\"b\\c\]d"][z@1] )"
      "An application event log entry \xc3\xa9 \"quoted\"";
  event decoded;
  ASSERT_TRUE(decode_rfc5424(msg, decoded).is_ok());
  decoded.received_at =
      std::chrono::system_clock::time_point(std::chrono::microseconds(1795666255120001));
  decoded.source = "127.0.0.1:40112";
  decoded.input = "syslog-tcp";
  const std::string line = to_json(decoded);
  expect_round_trip(line);

  event back;
  ASSERT_TRUE(parse_event_json(line, back).is_ok());
  EXPECT_EQ(back.host, "mymachine.example.com");
  EXPECT_EQ(back.app, "evntslog");
  EXPECT_EQ(back.procid, "8710");
  EXPECT_EQ(back.msgid, "ID47");
  EXPECT_EQ(back.facility, 20);
  EXPECT_EQ(back.severity, 5);
  EXPECT_EQ(back.received_at, decoded.received_at);
  EXPECT_EQ(back.timestamp, "2003-10-11T22:14:15.003Z");
  EXPECT_EQ(back.source, "127.0.0.1:40112");
  EXPECT_EQ(back.input, "syslog-tcp");
  EXPECT_EQ(back.format, "rfc5424");
  ASSERT_EQ(back.sd.size(), 4U);
  EXPECT_EQ(back.sd[2].name, "quote");
  EXPECT_EQ(back.sd[2].value, R"(a\"b\\c\]d)");  // escaped again, as the decoder keeps it
  EXPECT_EQ(back.sd[3].id, "z@1");
  EXPECT_EQ(back.sd[3].name, "");
}

TEST(event_json_read, round_trip_of_a_gelf_message_with_fields) {
  const std::string gelf =
      R"({"version":"1.1","host":"api-7","short_message":"GET /x 500","level":3,)"
      R"("timestamp":1795666255.5,"_app":"api","_user_id":9001,"_ratio":0.25,)"
      R"("_tags":["a","b"],"_nested":{"k":{"v":null}},"_flag":true})";
  event decoded;
  ASSERT_TRUE(decode_gelf_json(gelf, decoded).is_ok());
  decoded.received_at =
      std::chrono::system_clock::time_point(std::chrono::microseconds(1795666255600000));
  const std::string line = to_json(decoded);
  expect_round_trip(line);
  event back;
  ASSERT_TRUE(parse_event_json(line, back).is_ok());
  EXPECT_EQ(back.fields["user_id"], 9001);
  EXPECT_EQ(back.message, "GET /x 500");
  EXPECT_EQ(back.severity, 3);
}

TEST(event_json_read, views_survive_moving_the_event) {
  event ev;
  ASSERT_TRUE(parse_event_json(R"({"host":"h","message":"m"})", ev).is_ok());
  const event moved = std::move(ev);
  EXPECT_EQ(moved.host, "h");  // the views point into the moved owned_doc's heap strings
  EXPECT_EQ(moved.message, "m");
}

TEST(event_json_read, wrong_types_and_unknown_keys_are_ignored) {
  event ev;
  ASSERT_TRUE(
      parse_event_json(R"({"host":5,"app":["x"],"severity":"loud","facility":null,"message":"ok",)"
                       R"("sd":{"a":"b","c":{"p":1}},"fields":"no","extra":{"deep":[1]}})",
                       ev)
          .is_ok());
  EXPECT_EQ(ev.host, "");
  EXPECT_EQ(ev.app, "");
  EXPECT_EQ(ev.severity, -1);
  EXPECT_EQ(ev.facility, -1);
  EXPECT_EQ(ev.message, "ok");
  EXPECT_TRUE(ev.fields.is_null());
  EXPECT_EQ(to_json(ev), R"({"message":"ok","sd":{"a":{},"c":{}}})");
}

// Found by fuzz_event_json: an SD param named "" would be an element without params in the event,
// which append_event_json() cannot write among other params.
TEST(event_json_read, an_sd_param_without_a_name_is_dropped) {
  event ev;
  ASSERT_TRUE(parse_event_json(R"({"sd":{"a":{"":"x","p":"v"},"b":{"":"y"}}})", ev).is_ok());
  ASSERT_EQ(ev.sd.size(), 2U);
  EXPECT_EQ(ev.sd[0].name, "p");
  EXPECT_EQ(ev.sd[1].id, "b");
  EXPECT_EQ(ev.sd[1].name, "");
  EXPECT_EQ(to_json(ev), R"({"sd":{"a":{"p":"v"},"b":{}}})");
}

TEST(event_json_read, hostile_lines_fail_and_never_throw) {
  event ev;
  EXPECT_STREQ(parse_event_json("", ev).code, "bad_json");
  EXPECT_STREQ(parse_event_json("not json", ev).code, "bad_json");
  EXPECT_STREQ(parse_event_json(R"({"host":"a")", ev).code, "bad_json");
  EXPECT_STREQ(parse_event_json("[1,2]", ev).code, "not_object");
  EXPECT_STREQ(parse_event_json("\"s\"", ev).code, "not_object");
  EXPECT_STREQ(parse_event_json("{\"message\":\"\xff\xfe\"}", ev).code, "bad_utf8");
  EXPECT_STREQ(parse_event_json(R"({"received_at":"yesterday"})", ev).code, "bad_received_at");
  // Deep nesting would blow the stack when the document is destroyed.
  const std::string deep =
      R"({"fields":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_STREQ(parse_event_json(deep, ev).code, "too_deep");
  const std::string deep_objects = std::string(50000, '{');
  EXPECT_STREQ(parse_event_json(deep_objects, ev).code, "too_deep");
  // A huge but well-formed line is read.
  const std::string huge = R"({"message":")" + std::string(8 << 20, 'x') + R"("})";
  ASSERT_TRUE(parse_event_json(huge, ev).is_ok());
  EXPECT_EQ(ev.message.size(), std::size_t{8} << 20);
}

TEST(event_json_read, names_of_levels_and_facilities) {
  EXPECT_EQ(facility_from_name("kern"), 0);
  EXPECT_EQ(facility_from_name("local7"), 23);
  EXPECT_EQ(facility_from_name("solaris-cron"), 15);
  EXPECT_EQ(facility_from_name("nope"), -1);
}

}  // namespace
}  // namespace tocsin::collector
