// The shared text helpers of core/: RFC 3339 timestamps, UTF-8 validation, JSON string escaping
// and input time zones, at their edges (malformed input, limits).

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "core/json_text.hpp"
#include "core/rfc3339.hpp"
#include "core/timezone.hpp"
#include "core/utf8.hpp"

namespace tocsin {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

system_clock::time_point at(sys_days day, microseconds since_midnight) {
  return time_point_cast<system_clock::duration>(day + since_midnight);
}

TEST(rfc3339, formats_with_micro_or_milliseconds_rounding_down) {
  const auto tp = at(2026y / November / 26, 4h + 10min + 55s + 120999us);
  std::string out = "t=";
  append_rfc3339_utc(tp, out);
  EXPECT_EQ(out, "t=2026-11-26T04:10:55.120999Z");
  out.clear();
  append_rfc3339_utc(tp, out, 3);
  EXPECT_EQ(out, "2026-11-26T04:10:55.120Z");
  EXPECT_EQ(format_rfc3339_millis(tp), "2026-11-26T04:10:55.120Z");
}

TEST(rfc3339, formats_times_before_1970) {
  // floor, not truncation: 1 µs before the epoch is 23:59:59.999999 of the day before.
  EXPECT_EQ(format_rfc3339_millis(system_clock::time_point(-1us)), "1969-12-31T23:59:59.999Z");
}

// The date and time of day are kept per thread for the last second formatted: a new second, and
// an earlier one, must not show the old one.
TEST(rfc3339, each_second_shows_its_own_date_and_time) {
  const auto a = at(2026y / November / 26, 23h + 59min + 59s + 999999us);
  std::string out;
  append_rfc3339_utc(a, out);
  append_rfc3339_utc(a + 1us, out);
  append_rfc3339_utc(a, out, 3);
  append_rfc3339_utc(at(2000y / January / 1, 0us), out);
  EXPECT_EQ(out,
            "2026-11-26T23:59:59.999999Z2026-11-27T00:00:00.000000Z2026-11-26T23:59:59.999Z"
            "2000-01-01T00:00:00.000000Z");
}

TEST(rfc3339, parses_utc_offsets_and_fractions) {
  const auto base = at(2026y / November / 26, 4h + 10min + 55s);
  EXPECT_EQ(parse_rfc3339("2026-11-26T04:10:55Z"), base);
  EXPECT_EQ(parse_rfc3339("2026-11-26t04:10:55z"), base);
  EXPECT_EQ(parse_rfc3339("2026-11-26T04:10:55.5Z"), base + 500ms);
  EXPECT_EQ(parse_rfc3339("2026-11-26T04:10:55.120001Z"), base + 120001us);
  EXPECT_EQ(parse_rfc3339("2026-11-26T05:40:55+01:30"), base);
  EXPECT_EQ(parse_rfc3339("2026-11-26T02:10:55-02:00"), base);
  EXPECT_EQ(parse_rfc3339("2026-11-26T04:10:55.25+00:00"), base + 250ms);
  // A leap second is accepted (and lands on the next second).
  EXPECT_EQ(parse_rfc3339("2016-12-31T23:59:60Z"), at(2017y / January / 1, 0s));
}

TEST(rfc3339, refuses_text_that_is_not_a_timestamp) {
  for (const char* text : {
           "",
           "2026-11-26T04:10:55",         // too short, no zone
           "2026/11-26T04:10:55Z",        // separators
           "2026-11/26T04:10:55Z",        //
           "2026-11-26 04:10:55Z",        // a space for T
           "2026-11-26T04.10:55Z",        //
           "2026-11-26T04:10.55Z",        //
           "2O26-11-26T04:10:55Z",        // a letter in a number
           "2026-1x-26T04:10:55Z",        //
           "2026-11-2xT04:10:55Z",        //
           "2026-11-26Tx4:10:55Z",        //
           "2026-11-26T04:1x:55Z",        //
           "2026-11-26T04:10:5xZ",        //
           "2026-02-30T04:10:55Z",        // no such day
           "2026-13-01T04:10:55Z",        // no such month
           "2026-11-26T24:10:55Z",        // hour
           "2026-11-26T04:60:55Z",        // minute
           "2026-11-26T04:10:61Z",        // second
           "2026-11-26T04:10:55.Z",       // a dot without digits
           "2026-11-26T04:10:55.123",     // fraction, no zone
           "2026-11-26T04:10:55ZZ",       // trailing text
           "2026-11-26T04:10:55+0100",    // offset without colon
           "2026-11-26T04:10:55*01:00",   // no sign
           "2026-11-26T04:10:55+01-00",   //
           "2026-11-26T04:10:55+1x:00",   // offset digits
           "2026-11-26T04:10:55+01:x0",   //
           "2026-11-26T04:10:55+24:00",   // offset hours
           "2026-11-26T04:10:55+01:60",   // offset minutes
           "2026-11-26T04:10:55+01:00x",  // trailing text
       }) {
    EXPECT_EQ(parse_rfc3339(text), std::nullopt) << text;
  }
}

TEST(rfc3339, refuses_times_the_clock_cannot_hold) {
  // system_clock counts nanoseconds from 1970: 1677 to 2262 (a fuzzer found 4068 overflowing).
  EXPECT_EQ(parse_rfc3339("4068-01-10T00:00:00Z"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("1500-01-01T00:00:00Z"), std::nullopt);
  EXPECT_NE(parse_rfc3339("2261-12-31T23:59:59Z"), std::nullopt);
  EXPECT_NE(parse_rfc3339("1678-01-01T00:00:00Z"), std::nullopt);
}

TEST(utf8_sequence_length, accepts_each_valid_length) {
  EXPECT_EQ(utf8_sequence_length("\xC3\xA9", 0), 2u);          // é
  EXPECT_EQ(utf8_sequence_length("\xE2\x82\xAC", 0), 3u);      // €
  EXPECT_EQ(utf8_sequence_length("\xE0\xA0\x80", 0), 3u);      // U+0800, lowest of E0
  EXPECT_EQ(utf8_sequence_length("\xED\x9F\xBF", 0), 3u);      // U+D7FF, below surrogates
  EXPECT_EQ(utf8_sequence_length("\xF0\x9F\x94\x94", 0), 4u);  // 🔔
  EXPECT_EQ(utf8_sequence_length("\xF4\x8F\xBF\xBF", 0), 4u);  // U+10FFFF
  EXPECT_EQ(utf8_sequence_length("ab\xC3\xA9", 2), 2u);        // not at the start
}

TEST(utf8_sequence_length, refuses_truncated_overlong_surrogate_and_out_of_range_sequences) {
  for (const std::string text : {
           std::string("\x80"),              // a lone continuation byte
           std::string("\xC0\x80"),          // overlong lead bytes
           std::string("\xC1\xBF"),          //
           std::string("\xC3"),              // truncated
           std::string("\xC3\x41"),          // not a continuation
           std::string("\xE2\x82"),          // truncated
           std::string("\xE2\x41\xAC"),      // not continuations
           std::string("\xE2\x82\x41"),      //
           std::string("\xE0\x9F\xBF"),      // overlong
           std::string("\xED\xA0\x80"),      // a surrogate
           std::string("\xF0\x9F\x94"),      // truncated
           std::string("\xF0\x41\x94\x94"),  // not continuations
           std::string("\xF0\x9F\x41\x94"),  //
           std::string("\xF0\x9F\x94\x41"),  //
           std::string("\xF0\x8F\xBF\xBF"),  // overlong
           std::string("\xF4\x90\x80\x80"),  // above U+10FFFF
           std::string("\xF5\x80\x80\x80"),  // no such lead byte
           std::string("\xFF"),              //
       }) {
    EXPECT_EQ(utf8_sequence_length(text, 0), 0u) << ::testing::PrintToString(text);
  }
}

TEST(json_text, escapes_every_control_character) {
  std::string out;
  append_json_escaped("a\"b\\c\nd\re\tf\bg\fh\x01i\x1f", out);
  EXPECT_EQ(out, "a\\\"b\\\\c\\nd\\re\\tf\\bg\\fh\\u0001i\\u001f");
}

// Plain text is copied eight bytes at a time: every byte value, at every position of a word and
// in the tail, must still be seen.
TEST(json_text, every_byte_is_escaped_wherever_it_falls) {
  for (int b = 0; b < 256; ++b) {
    for (std::size_t pos = 0; pos < 19; ++pos) {
      std::string text(19, 'a');
      text[pos] = static_cast<char>(b);
      std::string fast;
      append_json_escaped(text, fast);
      std::string slow;  // one byte at a time: the escaped byte between two plain runs
      append_json_escaped(text.substr(0, pos), slow);
      append_json_escaped(text.substr(pos, 1), slow);
      append_json_escaped(text.substr(pos + 1), slow);
      ASSERT_EQ(fast, slow) << "byte " << b << " at " << pos;
      if (b >= 0x20 && b < 0x80 && b != '"' && b != '\\') {
        EXPECT_EQ(fast, text);
      } else {
        EXPECT_NE(fast, text) << "byte " << b << " at " << pos;
      }
    }
  }
}

TEST(json_text, keeps_valid_utf8_and_replaces_invalid_bytes) {
  std::string out;
  append_json_string("caf\xC3\xA9 \xF0\x9F\x94\x94 \xC3 \xED\xA0\x80!", out);
  // Each invalid byte becomes one U+FFFD; the surrogate's three bytes become three.
  EXPECT_EQ(out,
            "\"caf\xC3\xA9 \xF0\x9F\x94\x94 \xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD!\"");
  out.clear();
  append_json_string("", out);
  EXPECT_EQ(out, "\"\"");
}

TEST(input_timezone, names_of_utc) {
  for (const char* name : {"UTC", "utc", "Z", "+00:00", "-00:00"}) {
    const auto tz = input_timezone::from_name(name);
    ASSERT_TRUE(tz.has_value()) << name;
    EXPECT_EQ(tz->offset_at(sys_days(2026y / July / 1)), 0s) << name;
    EXPECT_EQ(tz->offset_for_local(local_days(2026y / July / 1)), 0s) << name;
  }
}

TEST(input_timezone, fixed_offsets) {
  const auto east = input_timezone::from_name("+05:30");
  ASSERT_TRUE(east.has_value());
  EXPECT_EQ(east->offset_at(sys_days(2026y / January / 1)), 5h + 30min);
  const auto west = input_timezone::from_name("-09:45");
  ASSERT_TRUE(west.has_value());
  EXPECT_EQ(west->offset_for_local(local_days(2026y / January / 1)), -(9h + 45min));
}

TEST(input_timezone, refuses_malformed_offsets_and_unknown_zones) {
  for (const char* name : {"+24:00", "+01:60", "+x1:00", "+01:0x", "+1:000", "-0a:00",
                           "Mars/Olympus_Mons", "", "+01:00:00"}) {
    EXPECT_FALSE(input_timezone::from_name(name).has_value()) << name;
  }
}

// from_chars reads a sign, so these were taken as +00:59 and -00:30 (and passed the config check).
TEST(input_timezone, refuses_a_sign_inside_an_offset) {
  EXPECT_FALSE(input_timezone::from_name("+01:-1").has_value());
  EXPECT_FALSE(input_timezone::from_name("+-1:30").has_value());
  EXPECT_FALSE(input_timezone::from_name("-+1:00").has_value());
}

TEST(input_timezone, an_iana_zone_follows_daylight_saving_time) {
  const auto berlin = input_timezone::from_name("Europe/Berlin");
  ASSERT_TRUE(berlin.has_value());
  EXPECT_EQ(berlin->offset_at(sys_days(2026y / January / 15)), 1h);
  EXPECT_EQ(berlin->offset_at(sys_days(2026y / July / 15)), 2h);
}

}  // namespace
}  // namespace tocsin
