// Syslog decoders at the edges of their grammar: every way an RFC 5424 TIMESTAMP can be wrong,
// RFC 3164 timestamps, hosts and TAGs that almost parse, and the best-effort repair of broken
// RFC 5424 structured data in auto mode.

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "collector/event.hpp"
#include "collector/syslog_decoder.hpp"

namespace tocsin::collector {
namespace {

using namespace std::chrono;

// Received 2026-11-26 04:10:55 UTC, input zone UTC.
syslog_decode_context ctx() {
  return {sys_days{2026y / November / 26} + hours{4} + minutes{10} + seconds{55}, nullptr};
}

std::string code_of(const decode_status& st) { return st.is_ok() ? "ok" : st.code; }

TEST(rfc5424_timestamp, every_malformed_form_is_bad_timestamp) {
  const std::string good = "2026-11-26T04:10:55.123456+01:00";
  for (const std::string ts : {
           "2026-11-26T04:10:55",           // no zone, and too short
           "2026-11-26T04:10:55.1",         // a fraction but no zone
           "2026x11-26T04:10:55Z",          // separators
           "2026-11x26T04:10:55Z",          //
           "2026-11-26x04:10:55Z",          //
           "2026-11-26T04x10:55Z",          //
           "2026-11-26T04:10x55Z",          //
           "2o26-11-26T04:10:55Z",          // digits
           "2026-1x-26T04:10:55Z",          //
           "2026-11-2xT04:10:55Z",          //
           "2026-11-26T0x:10:55Z",          //
           "2026-11-26T04:1x:55Z",          //
           "2026-11-26T04:10:5xZ",          //
           "2026-00-26T04:10:55Z",          // month
           "2026-13-26T04:10:55Z",          //
           "2026-11-00T04:10:55Z",          // day
           "2026-11-31T04:10:55Z",          //
           "2026-11-26T24:10:55Z",          // hour
           "2026-11-26T04:60:55Z",          // minute
           "2026-11-26T04:10:60Z",          // no leap second
           "2026-11-26T04:10:55.Z",         // fraction without digits
           "2026-11-26T04:10:55.1234567Z",  // seven fraction digits
           "2026-11-26T04:10:55z",          // lower-case z
           "2026-11-26T04:10:55*01:00",     // no sign
           "2026-11-26T04:10:55+1:00",      // one-digit offset hour
           "2026-11-26T04:10:55+01-00",     // offset separator
           "2026-11-26T04:10:55+01:0",      // one-digit offset minute
           "2026-11-26T04:10:55+24:00",     // offset hour
           "2026-11-26T04:10:55+01:60",     // offset minute
           "2026-11-26T04:10:55Zjunk",      // glued to the next field
       }) {
    event ev;
    EXPECT_EQ(code_of(decode_rfc5424("<13>1 " + ts + " host app - - - text", ev)), "bad_timestamp")
        << ts;
  }
  event ev;
  ASSERT_EQ(code_of(decode_rfc5424("<13>1 " + good + " host app - - - text", ev)), "ok");
  EXPECT_EQ(ev.timestamp, good);
  ASSERT_EQ(code_of(decode_rfc5424("<13>1 2024-02-29T00:00:00-23:59 h a - - -", ev)), "ok");
  EXPECT_EQ(ev.timestamp, "2024-02-29T00:00:00-23:59");
}

TEST(rfc5424_header, ends_and_versions) {
  event ev;
  EXPECT_EQ(code_of(decode_rfc5424("<13>1", ev)), "truncated");
  EXPECT_EQ(code_of(decode_rfc5424("<13>1 -", ev)), "truncated");
  EXPECT_EQ(code_of(decode_rfc5424("<13>1 2026-11-26T04:10:55Z", ev)), "truncated");
  EXPECT_EQ(code_of(decode_rfc5424("<13>12x - h a - - -", ev)), "bad_version");
  EXPECT_EQ(code_of(decode_rfc5424("<13>", ev)), "bad_version");
  EXPECT_EQ(code_of(decode_rfc5424("13>1 - h a - - -", ev)), "bad_pri");
  EXPECT_EQ(code_of(decode_rfc5424("<013>1 - h a - - -", ev)), "bad_pri");
  ASSERT_EQ(code_of(decode_rfc5424("<13>999 - h a - - -", ev)), "ok");
}

TEST(rfc5424_message, a_bom_is_dropped_only_when_whole) {
  event ev;
  ASSERT_EQ(code_of(decode_rfc5424("<13>1 - h a - - - \xEF\xBB\xBFtext", ev)), "ok");
  EXPECT_EQ(ev.message, "text");
  ASSERT_EQ(code_of(decode_rfc5424("<13>1 - h a - - - \xEF\xBBx", ev)), "ok");
  EXPECT_EQ(ev.message, "\xEF\xBBx");
  ASSERT_EQ(code_of(decode_rfc5424("<13>1 - h a - - - \xEFxx", ev)), "ok");
  EXPECT_EQ(ev.message, "\xEFxx");
}

struct bsd_case {
  std::string input;
  std::string timestamp, host, app, procid, message;
};

void PrintTo(const bsd_case& c, std::ostream* os) { *os << c.input; }

class rfc3164_edges : public ::testing::TestWithParam<bsd_case> {};

TEST_P(rfc3164_edges, decode) {
  const bsd_case& c = GetParam();
  event ev;
  const decode_status st = decode_rfc3164(c.input, ctx(), ev);
  ASSERT_TRUE(st.is_ok()) << st.code;
  EXPECT_EQ(ev.timestamp, c.timestamp);
  EXPECT_EQ(ev.host, c.host);
  EXPECT_EQ(ev.app, c.app);
  EXPECT_EQ(ev.procid, c.procid);
  EXPECT_EQ(ev.message, c.message);
  EXPECT_EQ(ev.format, "rfc3164");
}

INSTANTIATE_TEST_SUITE_P(
    timestamps, rfc3164_edges,
    ::testing::Values(
        // ISO forms as relays forward them.
        bsd_case{"<13>2026-11-26 04:10:55 host app: m", "2026-11-26T04:10:55Z", "host", "app", "",
                 "m"},
        bsd_case{"<13>2026-11-26t04:10:55,5z host app: m", "2026-11-26T04:10:55.5Z", "host", "app",
                 "", "m"},
        bsd_case{"<13>2026-11-26T04:10:55-0130 host app: m", "2026-11-26T04:10:55-01:30", "host",
                 "app", "", "m"},
        bsd_case{"<13>2026-11-26T04:10:55.123456789 host app: m", "2026-11-26T04:10:55.123456789Z",
                 "host", "app", "", "m"},
        // Not ISO after all: no timestamp, the text is kept.
        bsd_case{"<13>2026-11-26X04:10:55Z host app: m", "", "", "", "",
                 "2026-11-26X04:10:55Z host app: m"},
        bsd_case{"<13>2026/11/26 04:10:55 app: m", "", "", "", "", "2026/11/26 04:10:55 app: m"},
        bsd_case{"<13>2026-11-26T04:10 app: m", "", "", "", "", "2026-11-26T04:10 app: m"},
        bsd_case{"<13>2026-11-26T04:10:55.1234567890Z app: m", "", "", "", "",
                 "2026-11-26T04:10:55.1234567890Z app: m"},
        bsd_case{"<13>2026-11-26T04:10:55+1 app: m", "", "", "", "",
                 "2026-11-26T04:10:55+1 app: m"},
        bsd_case{"<13>2026-11-26T04:10:55+01x app: m", "", "", "", "",
                 "2026-11-26T04:10:55+01x app: m"},
        bsd_case{"<13>2026-11-26T04:10:55+25:00 app: m", "", "", "", "",
                 "2026-11-26T04:10:55+25:00 app: m"},
        bsd_case{"<13>2026-11-26T04:10:55+01:61 app: m", "", "", "", "",
                 "2026-11-26T04:10:55+01:61 app: m"},
        bsd_case{"<13>2026-13-26T04:10:55Z app: m", "", "", "", "", "2026-13-26T04:10:55Z app: m"},
        bsd_case{"<13>2026-11-26T04:10:55. app: m", "", "", "", "", "2026-11-26T04:10:55. app: m"},
        // BSD forms.
        bsd_case{"<13>Nov 26 2025 04:10:55 host app: m", "2025-11-26T04:10:55Z", "host", "app", "",
                 "m"},
        bsd_case{"<13>Nov 6 04:10:55 host app: m", "2026-11-06T04:10:55Z", "host", "app", "", "m"},
        bsd_case{"<13>Nov 26 04:10:55 CET: host app: m", "2026-11-26T04:10:55Z", "host", "app", "",
                 "m"},
        bsd_case{"<13>Nov 26 04:10:55 GMT: %SYS-5-CONFIG_I: m", "2026-11-26T04:10:55Z", "",
                 "%SYS-5-CONFIG_I", "", "m"},
        bsd_case{"<13>Nov 26 04:10:55 AB: m", "2026-11-26T04:10:55Z", "", "AB", "", "m"},
        bsd_case{"<13>Nov 26 04:10:55 Utc host app: m", "2026-11-26T04:10:55Z", "Utc", "host", "",
                 "app: m"},
        bsd_case{"<13>Nov 26 04:61:55 host app: m", "", "", "", "", "Nov 26 04:61:55 host app: m"},
        bsd_case{"<13>Nov 26 04:10:5 host app: m", "", "", "", "", "Nov 26 04:10:5 host app: m"},
        bsd_case{"<13>Nov 26 04.10:55 host app: m", "", "", "", "", "Nov 26 04.10:55 host app: m"},
        bsd_case{"<13>Nov 26 04:10.55 host app: m", "", "", "", "", "Nov 26 04:10.55 host app: m"},
        bsd_case{"<13>Nov 26 04:10:55.1234567890 host app: m", "", "", "", "",
                 "Nov 26 04:10:55.1234567890 host app: m"},
        bsd_case{"<13>Nov x6 04:10:55 host app: m", "", "", "", "", "Nov x6 04:10:55 host app: m"},
        bsd_case{"<13>Nov 26x04:10:55 host app: m", "", "", "", "", "Nov 26x04:10:55 host app: m"},
        bsd_case{"<13>No", "", "", "", "", "No"},
        bsd_case{"<13>Feb 30 04:10:55 host app: m", "", "host", "app", "", "m"}),
    [](const auto& info) { return "case" + std::to_string(info.index); });

INSTANTIATE_TEST_SUITE_P(
    hosts_and_tags, rfc3164_edges,
    ::testing::Values(
        // Cisco origin before the timestamp, then " : " after the host.
        bsd_case{"<13>router1: *Nov 26 04:10:55: %SYS-5-CONFIG_I: m", "2026-11-26T04:10:55Z",
                 "router1", "%SYS-5-CONFIG_I", "", "m"},
        bsd_case{"<13>Nov 26 04:10:55 fw1 : %ASA-4-106023: m", "2026-11-26T04:10:55Z", "fw1",
                 "%ASA-4-106023", "", "m"},
        bsd_case{"<13>Nov 26 04:10:55 fw1 :", "2026-11-26T04:10:55Z", "fw1", "", "", ""},
        bsd_case{"<13>x:y: Nov 26 04:10:55 h a: m", "", "", "x", "", "y: Nov 26 04:10:55 h a: m"},
        // IPv6 hosts; a word with one ':' is no host.
        bsd_case{"<13>Nov 26 04:10:55 2001:db8::1 app: m", "2026-11-26T04:10:55Z", "2001:db8::1",
                 "app", "", "m"},
        // Not hex: no IPv6 address but "app:msg" with TAG "g".
        bsd_case{"<13>Nov 26 04:10:55 g:h::1 app: m", "2026-11-26T04:10:55Z", "", "g", "",
                 "h::1 app: m"},
        bsd_case{"<13>Nov 26 04:10:55 h_1.example-x app: m", "2026-11-26T04:10:55Z",
                 "h_1.example-x", "app", "", "m"},
        // Cisco mnemonics that are not quite.
        bsd_case{"<13>Nov 26 04:10:55 h %SYS: m", "2026-11-26T04:10:55Z", "h", "", "", "%SYS: m"},
        bsd_case{"<13>Nov 26 04:10:55 h %SYS-5-: m", "2026-11-26T04:10:55Z", "h", "", "",
                 "%SYS-5-: m"},
        bsd_case{"<13>Nov 26 04:10:55 h %-5-CONF: m", "2026-11-26T04:10:55Z", "h", "", "",
                 "%-5-CONF: m"},
        bsd_case{"<13>Nov 26 04:10:55 h %SYS--CONF: m", "2026-11-26T04:10:55Z", "h", "", "",
                 "%SYS--CONF: m"},
        bsd_case{"<13>Nov 26 04:10:55 h %SYS-X-CONF: m", "2026-11-26T04:10:55Z", "h", "", "",
                 "%SYS-X-CONF: m"},
        bsd_case{"<13>Nov 26 04:10:55 h %SYS-5-CO.F: m", "2026-11-26T04:10:55Z", "h", "", "",
                 "%SYS-5-CO.F: m"},
        bsd_case{"<13>Nov 26 04:10:55 h %SYS-5-CONF m", "2026-11-26T04:10:55Z", "h", "", "",
                 "%SYS-5-CONF m"},
        bsd_case{"<13>Nov 26 04:10:55 h %SYS5CONFIG: m", "2026-11-26T04:10:55Z", "h", "", "",
                 "%SYS5CONFIG: m"},
        // TAG forms.
        bsd_case{"<13>Nov 26 04:10:55 h app:value", "2026-11-26T04:10:55Z", "h", "app", "",
                 "value"},
        bsd_case{"<13>Nov 26 04:10:55 h 9p:value", "2026-11-26T04:10:55Z", "h", "", "", "9p:value"},
        bsd_case{"<13>Nov 26 04:10:55 h [x]: m", "2026-11-26T04:10:55Z", "h", "", "", "[x]: m"},
        bsd_case{"<13>Nov 26 04:10:55 h app[]: m", "2026-11-26T04:10:55Z", "h", "", "", "app[]: m"},
        bsd_case{"<13>Nov 26 04:10:55 h app[1]x: m", "2026-11-26T04:10:55Z", "h", "", "",
                 "app[1]x: m"},
        bsd_case{"<13>Nov 26 04:10:55 h app[1[2]: m", "2026-11-26T04:10:55Z", "h", "", "",
                 "app[1[2]: m"},
        bsd_case{"<13>Nov 26 04:10:55 h app[" + std::string(129, '7') + "]: m",
                 "2026-11-26T04:10:55Z", "h", "", "", "app[" + std::string(129, '7') + "]: m"},
        bsd_case{"<13>Nov 26 04:10:55 h app[42] m", "2026-11-26T04:10:55Z", "h", "app", "42", "m"},
        bsd_case{"<13>Nov 26 04:10:55 h " + std::string(49, 'a') + ": m", "2026-11-26T04:10:55Z",
                 "h", "", "", std::string(49, 'a') + ": m"},
        bsd_case{"<13>Nov 26 04:10:55 h " + std::string(33, 'a') + " m", "2026-11-26T04:10:55Z",
                 "h", "", "", std::string(33, 'a') + " m"},
        bsd_case{"<13>Nov 26 04:10:55 h a+b m", "2026-11-26T04:10:55Z", "h", "", "", "a+b m"},
        bsd_case{"<13>Nov 26 04:10:55 h 1234: m", "2026-11-26T04:10:55Z", "h", "", "", "1234: m"},
        bsd_case{"<13>Nov 26 04:10:55 h sbin/cron m", "2026-11-26T04:10:55Z", "h", "sbin/cron", "",
                 "m"},
        bsd_case{"<13>Nov 26 04:10:55 h app", "2026-11-26T04:10:55Z", "h", "", "", "app"},
        // Sequence numbers.
        bsd_case{"<13>000123: Nov 26 04:10:55 h app: m", "2026-11-26T04:10:55Z", "h", "app", "",
                 "m"},
        bsd_case{"<13>123:Nov 26 04:10:55 h app: m", "", "", "", "",
                 "123:Nov 26 04:10:55 h app: m"}),
    [](const auto& info) { return "case" + std::to_string(info.index); });

struct repaired_case {
  std::string input;
  std::string parse_error, timestamp, message;
  std::vector<std::string> sd;  // "id name=value"
};

void PrintTo(const repaired_case& c, std::ostream* os) { *os << c.input; }

class rfc5424_best_effort : public ::testing::TestWithParam<repaired_case> {};

TEST_P(rfc5424_best_effort, decode) {
  const repaired_case& c = GetParam();
  event ev;
  ASSERT_TRUE(decode_syslog_auto(c.input, ctx(), ev).is_ok());
  EXPECT_EQ(ev.format, "rfc5424");
  EXPECT_EQ(ev.parse_error, c.parse_error);
  EXPECT_EQ(ev.timestamp, c.timestamp);
  EXPECT_EQ(ev.message, c.message);
  std::vector<std::string> sd;
  for (const sd_param& p : ev.sd) {
    sd.push_back(std::string(p.id) + " " + std::string(p.name) + "=" + std::string(p.value));
  }
  EXPECT_EQ(sd, c.sd);
}

INSTANTIATE_TEST_SUITE_P(
    repairs, rfc5424_best_effort,
    ::testing::Values(
        repaired_case{"<13>1 2026-11-26T04:10:55Z h a - - [id k=\"a\\\"b\" k2=v2] text",
                      "bad_structured_data",
                      "2026-11-26T04:10:55Z",
                      "text",
                      {"id k=a\\\"b", "id k2=v2"}},
        repaired_case{"<13>1 2026-11-26T04:10:55Z h a - - [id k=\"open",
                      "bad_structured_data",
                      "2026-11-26T04:10:55Z",
                      "[id k=\"open",
                      {}},
        repaired_case{"<13>1 2026-11-26T04:10:55Z h a - - [id k=\"v\\",
                      "bad_structured_data",
                      "2026-11-26T04:10:55Z",
                      "[id k=\"v\\",
                      {}},
        repaired_case{"<13>1 2026-11-26T04:10:55Z h a - - [id k] text",
                      "bad_structured_data",
                      "2026-11-26T04:10:55Z",
                      "[id k] text",
                      {}},
        repaired_case{"<13>1 2026-11-26T04:10:55Z h a - - [a x=1][a y=2][b] text",
                      "bad_structured_data",
                      "2026-11-26T04:10:55Z",
                      "text",
                      {"a x=1", "b ="}},
        repaired_case{"<13>1 2026-11-26T04:10:55Z h a - -   [x k=1 ] text",
                      "bad_structured_data",
                      "2026-11-26T04:10:55Z",
                      "text",
                      {"x k=1"}},
        // Strict RFC 5424: a BOM after a second space is part of MSG.
        repaired_case{"<13>1 - h a - - -  \xEF\xBB\xBF", "", "", " \xEF\xBB\xBF", {}},
        repaired_case{"<13>1 2026-11-26T04:10:55.123+0100 h a - -",
                      "bad_timestamp",
                      "2026-11-26T04:10:55.123+01:00",
                      "",
                      {}},
        repaired_case{"<13>1 2026-11-26 h a - - - m", "bad_timestamp", "", "m", {}},
        repaired_case{"<13>1 - h a - - \xEF\xBB\xBFm", "bad_structured_data", "", "m", {}}),
    [](const auto& info) { return "case" + std::to_string(info.index); });

}  // namespace
}  // namespace tocsin::collector
