// Edges of the GELF field readers (level, timestamp, UTF-8 repair) and of the PROXY v1 line
// parser: the values a sender gets wrong and what the decoder makes of them.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>

#include "collector/event.hpp"
#include "collector/gelf.hpp"
#include "collector/proxy_protocol.hpp"

namespace tocsin::collector {
namespace {

// Decodes {"host":"h","short_message":"m", <extra>}; fails the test when it does not decode.
event gelf_with(const std::string& extra) {
  event ev;
  const std::string text = R"({"host":"h","short_message":"m",)" + extra + "}";
  const decode_status st = decode_gelf_json(text, ev);
  EXPECT_TRUE(st.is_ok()) << text << ": " << (st.is_ok() ? "" : st.code);
  return ev;
}

TEST(gelf_level, numbers_and_numeric_strings_from_0_to_7_are_severities) {
  EXPECT_EQ(gelf_with(R"("level":3)").severity, 3);
  EXPECT_EQ(gelf_with(R"("level":7.0)").severity, 7);
  EXPECT_EQ(gelf_with(R"("level":"5")").severity, 5);
}

TEST(gelf_level, anything_else_is_kept_as_a_field) {
  for (const std::string value : {"-1", "8", "3.5", "-0.5", "8.0", "\"\"", "\"x\"", "\"3x\"",
                                  "\"-2\"", "\"9\"", "true", "[1]"}) {
    const event ev = gelf_with(R"("level":)" + value);
    EXPECT_EQ(ev.severity, -1) << value;
    ASSERT_TRUE(ev.fields.is_object()) << value;
    EXPECT_EQ(ev.fields.at("level"), nlohmann::json::parse(value)) << value;
  }
}

TEST(gelf_timestamp, integers_floats_and_numeric_strings) {
  EXPECT_EQ(gelf_with(R"("timestamp":-1)").timestamp, "1969-12-31T23:59:59Z");
  EXPECT_EQ(gelf_with(R"("timestamp":-62135596800)").timestamp, "0001-01-01T00:00:00Z");
  EXPECT_EQ(gelf_with(R"("timestamp":1764130255.5)").timestamp, "2025-11-26T04:10:55.500Z");
  EXPECT_EQ(gelf_with(R"("timestamp":"-1.25")").timestamp, "1969-12-31T23:59:58.750Z");
  EXPECT_EQ(gelf_with(R"("timestamp":"1764130255.1234")").timestamp, "2025-11-26T04:10:55.123400Z");
  EXPECT_EQ(gelf_with(R"("timestamp":"1764130255")").timestamp, "2025-11-26T04:10:55Z");
}

TEST(gelf_timestamp, unusable_values_are_kept_as_a_field) {
  for (const std::string value :
       {"-62135596801", "253402300800", "-1e300", "1e300", "\"\"", "\"-\"", "\"1.\"", "\"1.5x\"",
        "\"12a\"", "\"1e5\"", "\"-99999999999999\"", "null", "{}"}) {
    const event ev = gelf_with(R"("timestamp":)" + value);
    EXPECT_EQ(ev.timestamp, "") << value;
    if (value != "null") {
      ASSERT_TRUE(ev.fields.is_object()) << value;
      EXPECT_EQ(ev.fields.at("timestamp"), nlohmann::json::parse(value)) << value;
    }
  }
}

TEST(gelf_utf8, invalid_bytes_are_replaced_and_valid_sequences_kept) {
  event ev;
  const std::string text = "{\"host\":\"h\",\"short_message\":\"caf\xC3\xA9 \xFF ok\"}";
  ASSERT_TRUE(decode_gelf_json(text, ev).is_ok());
  EXPECT_EQ(ev.message, "caf\xC3\xA9 \xEF\xBF\xBD ok");
}

TEST(gelf_payload, a_chunk_outside_udp_and_an_oversized_payload_are_refused) {
  std::string scratch;
  event ev;
  const std::string json = R"({"host":"h","short_message":"m"})";
  EXPECT_STREQ(decode_gelf_payload("\x1e\x0f" + std::string(10, 'x'), 1000, scratch, ev).code,
               "unexpected_chunk");
  EXPECT_STREQ(decode_gelf_payload(json, json.size() - 1, scratch, ev).code, "message_too_large");
  EXPECT_TRUE(decode_gelf_payload(json, json.size(), scratch, ev).is_ok());
}

std::string invalid_reason(std::string_view data) {
  const auto r = parse_proxy_header(data);
  EXPECT_EQ(r.state, proxy_parse_result::invalid) << data;
  return r.error != nullptr ? r.error : "";
}

TEST(proxy_v1, malformed_lines_say_what_is_wrong) {
  EXPECT_EQ(invalid_reason("PROXY TCP4 1.2.3.4\x01"), "PROXY v1 line is not text");
  EXPECT_EQ(invalid_reason("PROXY TCP4 1.2.3.4\x7f"), "PROXY v1 line is not text");
  EXPECT_EQ(invalid_reason("PROXY TCP4\r 1.2.3.4"), "PROXY v1 line has a CR before its end");
  EXPECT_EQ(invalid_reason("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"),
            "PROXY v1 line does not end in CRLF");
  EXPECT_EQ(invalid_reason("PROXY TCP4 1.2.3.4\x01 5.6.7.8 1 2\r\n"), "PROXY v1 line is not text");
  EXPECT_EQ(invalid_reason("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"),
            "PROXY v1 line needs source, destination and both ports");
  EXPECT_EQ(invalid_reason("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3 4\r\n"),
            "PROXY v1 line has too many fields");
  EXPECT_EQ(invalid_reason("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"),
            "PROXY v1 protocol is not TCP4, TCP6 or UNKNOWN");
  EXPECT_EQ(invalid_reason("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"),
            "PROXY v1 line needs source, destination and both ports");
  const std::string address = "PROXY v1 address does not match its protocol";
  EXPECT_EQ(invalid_reason("PROXY TCP4  5.6.7.8 1 2\r\n"), address);
  EXPECT_EQ(invalid_reason("PROXY TCP4 1.2.3.4 ::1 1 2\r\n"), address);
  EXPECT_EQ(invalid_reason("PROXY TCP6 ::1 1.2.3.4 1 2\r\n"), address);
  EXPECT_EQ(invalid_reason("PROXY TCP6 fe80::1%1 ::1 1 2\r\n"), address);
  EXPECT_EQ(invalid_reason("PROXY TCP6 " + std::string(46, '1') + " ::1 1 2\r\n"), address);
  const std::string port = "PROXY v1 port is not a number in 0..65535";
  EXPECT_EQ(invalid_reason("PROXY TCP4 1.2.3.4 5.6.7.8  2\r\n"), port);
  EXPECT_EQ(invalid_reason("PROXY TCP4 1.2.3.4 5.6.7.8 1 012\r\n"), port);
  EXPECT_EQ(invalid_reason("PROXY TCP4 1.2.3.4 5.6.7.8 1 123456\r\n"), port);
  EXPECT_EQ(invalid_reason("PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n"), port);
  EXPECT_EQ(invalid_reason("PROXY TCP4 1.2.3.4 5.6.7.8 1 6x\r\n"), port);
}

TEST(proxy_v1, unknown_ignores_the_rest_and_ports_may_be_zero) {
  const auto unknown = parse_proxy_header("PROXY UNKNOWN whatever follows\r\nrest");
  ASSERT_EQ(unknown.state, proxy_parse_result::complete);
  EXPECT_FALSE(unknown.header.source.has_value());
  EXPECT_EQ(unknown.header.length, 32u);
  const auto zero = parse_proxy_header("PROXY TCP6 ::1 ::2 0 65535\r\n");
  ASSERT_EQ(zero.state, proxy_parse_result::complete);
  EXPECT_EQ(zero.header.source->port(), 0);
  EXPECT_EQ(zero.header.destination->port(), 65535);
  // A CR as the last byte so far may still be the CR of the CRLF.
  EXPECT_EQ(parse_proxy_header("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r").state,
            proxy_parse_result::need_more);
}

}  // namespace
}  // namespace tocsin::collector
