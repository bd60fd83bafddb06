// Table tests for decode_rfc5424: the RFC 5424 §6.5 examples, util-linux logger's bytes, and
// rejects (many taken as facts from public parsers' suites, e.g. influxdata/go-syslog).

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "collector/event.hpp"
#include "collector/syslog_decoder.hpp"
#include "tests/support/bytes.hpp"

// Counts heap allocations so the test can prove the decode path is allocation-free for a
// reused event. Replacing the global operator new is per executable; every test is its own.
namespace {
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace tocsin::collector {
namespace {

using test::bytes;

const std::string bom = "\xEF\xBB\xBF";

// SD as "id{name=value,...}" per element, values raw as stored.
std::string sd_string(const event& ev) {
  std::string s;
  const char* open = nullptr;
  for (const auto& p : ev.sd) {
    if (p.id.data() != open) {
      if (open != nullptr) s += "}";
      s.append(p.id);
      s += "{";
      open = p.id.data();
    } else {
      s += ",";
    }
    if (!p.name.empty()) {
      s.append(p.name);
      s += "=";
      s.append(p.value);
    }
  }
  if (open != nullptr) s += "}";
  return s;
}

struct accept_case {
  std::string name;
  std::string input;
  int facility, severity;
  std::string timestamp, host, app, procid, msgid;
  std::string sd;  // sd_string() form
  std::string message;
};

std::string repeat(char c, std::size_t n) { return std::string(n, c); }

const std::vector<accept_case>& accept_cases() {
  static const std::vector<accept_case> cases = {
      // RFC 5424 §6.5, examples 1-4.
      {"rfc example 1 (BOM, no SD)",
       "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - " + bom +
           "'su root' failed for lonvick on /dev/pts/8",
       4, 2, "2003-10-11T22:14:15.003Z", "mymachine.example.com", "su", "", "ID47", "",
       "'su root' failed for lonvick on /dev/pts/8"},
      {"rfc example 2 (microseconds, offset)",
       "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make "
       "the do-nuts.",
       20, 5, "2003-08-24T05:14:15.000003-07:00", "192.0.2.1", "myproc", "8710", "", "",
       "%% It's time to make the do-nuts."},
      {"rfc example 3 (SD and BOM)",
       "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
       "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] " +
           bom + "An application event log entry...",
       20, 5, "2003-10-11T22:14:15.003Z", "mymachine.example.com", "evntslog", "", "ID47",
       "exampleSDID@32473{iut=3,eventSource=Application,eventID=1011}",
       "An application event log entry..."},
      {"rfc example 4 (two SD elements, no MSG)",
       "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
       "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]"
       "[examplePriority@32473 class=\"high\"]",
       20, 5, "2003-10-11T22:14:15.003Z", "mymachine.example.com", "evntslog", "", "ID47",
       "exampleSDID@32473{iut=3,eventSource=Application,eventID=1011}"
       "examplePriority@32473{class=high}",
       ""},

      // util-linux logger 2.38 (bytes captured from `logger -n ... --rfc5424`).
      {"logger --rfc5424",
       "<13>1 2026-11-26T04:53:12.628241+00:00 vm root - - [timeQuality tzKnown=\"1\" "
       "isSynced=\"0\"] hello",
       1, 5, "2026-11-26T04:53:12.628241+00:00", "vm", "root", "", "",
       "timeQuality{tzKnown=1,isSynced=0}", "hello"},
      {"logger --rfc5424=notq -p local4.err -t myapp --id=4242",
       "<163>1 2026-11-26T04:53:12.636428+00:00 vm myapp 4242 - - with pid", 20, 3,
       "2026-11-26T04:53:12.636428+00:00", "vm", "myapp", "4242", "", "", "with pid"},
      {"logger --sd-id --sd-param --msgid",
       "<13>1 2026-11-26T04:53:12.652550+00:00 vm root - ID7 [timeQuality tzKnown=\"1\" "
       "isSynced=\"0\"][zoo@123 tiger=\"hungry\"] sd msg",
       1, 5, "2026-11-26T04:53:12.652550+00:00", "vm", "root", "", "ID7",
       "timeQuality{tzKnown=1,isSynced=0}zoo@123{tiger=hungry}", "sd msg"},
      {"logger --rfc5424=notime,nohost", "<13>1 - - root - - - x", 1, 5, "", "", "root", "", "", "",
       "x"},
      {"logger with LF (TCP non-transparent framing leftover)",
       "<13>1 2026-11-26T04:53:12.628241+00:00 vm root - - - hello\n", 1, 5,
       "2026-11-26T04:53:12.628241+00:00", "vm", "root", "", "", "", "hello"},

      // PRI and VERSION edges.
      {"all nil", "<13>1 - - - - - -", 1, 5, "", "", "", "", "", "", ""},
      {"PRI 0", "<0>1 - - - - - -", 0, 0, "", "", "", "", "", "", ""},
      {"PRI 191", "<191>1 - - - - - -", 23, 7, "", "", "", "", "", "", ""},
      {"PRI 8 (user.emerg)", "<8>1 - - - - - -", 1, 0, "", "", "", "", "", "", ""},
      {"VERSION 999", "<13>999 - - - - - -", 1, 5, "", "", "", "", "", "", ""},
      {"VERSION 2", "<13>2 - - - - - - m", 1, 5, "", "", "", "", "", "", "m"},

      // TIMESTAMP edges (kept exactly as sent).
      {"no fraction, Z", "<13>1 2026-11-26T04:10:55Z h a p m - x", 1, 5, "2026-11-26T04:10:55Z",
       "h", "a", "p", "m", "", "x"},
      {"one fraction digit", "<13>1 1985-04-12T23:20:50.5Z h a p m -", 1, 5,
       "1985-04-12T23:20:50.5Z", "h", "a", "p", "m", "", ""},
      {"six fraction digits, -00:00", "<13>1 1985-04-12T23:20:50.123456-00:00 h a p m -", 1, 5,
       "1985-04-12T23:20:50.123456-00:00", "h", "a", "p", "m", "", ""},
      {"Feb 29 in a leap year", "<13>1 2024-02-29T00:00:00Z h a p m -", 1, 5,
       "2024-02-29T00:00:00Z", "h", "a", "p", "m", "", ""},
      {"Feb 29 in 2000 (divisible by 400)", "<13>1 2000-02-29T00:00:00Z h a p m -", 1, 5,
       "2000-02-29T00:00:00Z", "h", "a", "p", "m", "", ""},
      {"last second of the year", "<13>1 2026-12-31T23:59:59+23:59 h a p m -", 1, 5,
       "2026-12-31T23:59:59+23:59", "h", "a", "p", "m", "", ""},

      // Field length limits: exactly at the limit is fine.
      {"HOSTNAME of 255", "<13>1 - " + repeat('h', 255) + " a p m -", 1, 5, "", repeat('h', 255),
       "a", "p", "m", "", ""},
      {"APP-NAME of 48", "<13>1 - h " + repeat('a', 48) + " p m -", 1, 5, "", "h", repeat('a', 48),
       "p", "m", "", ""},
      {"PROCID of 128", "<13>1 - h a " + repeat('p', 128) + " m -", 1, 5, "", "h", "a",
       repeat('p', 128), "m", "", ""},
      {"MSGID of 32", "<13>1 - h a p " + repeat('m', 32) + " -", 1, 5, "", "h", "a", "p",
       repeat('m', 32), "", ""},
      {"fields with every PRINTUSASCII class", "<13>1 - h!~ a\"{ p[] m=- -", 1, 5, "", "h!~",
       "a\"{", "p[]", "m=-", "", ""},
      {"'-' only when alone is NILVALUE", "<13>1 - -h -- p- m -", 1, 5, "", "-h", "--", "p-", "m",
       "", ""},

      // STRUCTURED-DATA.
      {"element without params", "<13>1 - h a p m [origin] x", 1, 5, "", "h", "a", "p", "m",
       "origin{}", "x"},
      {"escapes are kept raw", "<13>1 - h a p m [x@1 k=\"a\\\"b\\]c\\\\\" j=\"\\n\\x\"] msg", 1, 5,
       "", "h", "a", "p", "m", "x@1{k=a\\\"b\\]c\\\\,j=\\n\\x}", "msg"},
      {"backslash before the closing quote is escaped backslash", "<13>1 - h a p m [x k=\"a\\\\\"]",
       1, 5, "", "h", "a", "p", "m", "x{k=a\\\\}", ""},
      {"unescaped ']' inside a value is accepted", "<13>1 - h a p m [x j=\"]\"] m", 1, 5, "", "h",
       "a", "p", "m", "x{j=]}", "m"},
      {"empty value", "<13>1 - h a p m [x e=\"\"]", 1, 5, "", "h", "a", "p", "m", "x{e=}", ""},
      {"repeated PARAM-NAME is allowed", "<13>1 - h a p m [x a=\"1\" a=\"2\"]", 1, 5, "", "h", "a",
       "p", "m", "x{a=1,a=2}", ""},
      {"UTF-8 and control bytes in a value", "<13>1 - h a p m [x v=\"caf\xC3\xA9\t\"]", 1, 5, "",
       "h", "a", "p", "m", "x{v=caf\xC3\xA9\t}", ""},
      {"SD-ID and PARAM-NAME of 32",
       "<13>1 - h a p m [" + repeat('i', 32) + " " + repeat('n', 32) + "=\"v\"]", 1, 5, "", "h",
       "a", "p", "m", repeat('i', 32) + "{" + repeat('n', 32) + "=v}", ""},
      {"MSG that looks like SD", "<13>1 2026-10-05T21:30:01Z h a p m - [x] y", 1, 5,
       "2026-10-05T21:30:01Z", "h", "a", "p", "m", "", "[x] y"},
      {"SD, space, more SD-looking text is MSG", "<13>1 - h a p m [a] [b]", 1, 5, "", "h", "a", "p",
       "m", "a{}", "[b]"},
      {"20 distinct SD elements",
       "<13>1 - h a p m [a][b][c][d][e][f][g][h][i][j][k][l][m][n][o][p][q][r][s][t]", 1, 5, "",
       "h", "a", "p", "m", "a{}b{}c{}d{}e{}f{}g{}h{}i{}j{}k{}l{}m{}n{}o{}p{}q{}r{}s{}t{}", ""},

      // MSG.
      {"empty MSG after the space", "<13>1 - h a p m - ", 1, 5, "", "h", "a", "p", "m", "", ""},
      {"BOM only", "<13>1 - h a p m - " + bom, 1, 5, "", "h", "a", "p", "m", "", ""},
      {"BOM only once", "<13>1 - h a p m - " + bom + bom + "x", 1, 5, "", "h", "a", "p", "m", "",
       bom + "x"},
      {"leading space of MSG kept", "<13>1 - h a p m -  x ", 1, 5, "", "h", "a", "p", "m", "",
       " x "},
      {"CR LF NUL stripped, inner LF kept", bytes("<13>1 - h a p m - a\nb\r\n\0"), 1, 5, "", "h",
       "a", "p", "m", "", "a\nb"},
      {"invalid UTF-8 kept (replaced at output)", "<13>1 - h a p m - caf\xE9", 1, 5, "", "h", "a",
       "p", "m", "", "caf\xE9"},
  };
  return cases;
}

TEST(SyslogRfc5424, Accepts) {
  event ev;
  for (const auto& c : accept_cases()) {
    SCOPED_TRACE(c.name);
    const decode_status st = decode_rfc5424(c.input, ev);
    ASSERT_TRUE(st.is_ok()) << st.code << ": " << st.what;
    EXPECT_EQ(ev.format, "rfc5424");
    EXPECT_EQ(ev.facility, c.facility);
    EXPECT_EQ(ev.severity, c.severity);
    EXPECT_EQ(ev.timestamp, c.timestamp);
    EXPECT_EQ(ev.host, c.host);
    EXPECT_EQ(ev.app, c.app);
    EXPECT_EQ(ev.procid, c.procid);
    EXPECT_EQ(ev.msgid, c.msgid);
    EXPECT_EQ(sd_string(ev), c.sd);
    EXPECT_EQ(ev.message, c.message);
  }
}

struct reject_case {
  std::string name;
  std::string input;
  std::string code;
};

const std::vector<reject_case>& reject_cases() {
  static const std::vector<reject_case> cases = {
      {"empty", "", "empty"},
      {"line end only", bytes("\r\n\0"), "empty"},

      {"no PRI", "122 - - - - - -", "bad_pri"},
      {"malformed PRI", "(190>1 - - - - - -", "bad_pri"},
      {"empty PRI", "<>1 - - - - - -", "bad_pri"},
      {"PRI too high", "<192>1 - - - - - -", "bad_pri"},
      {"PRI with leading zero", "<01>1 - - - - - -", "bad_pri"},
      {"PRI 00", "<00>1 - - - - - -", "bad_pri"},
      {"PRI of four digits", "<0013>1 - - - - - -", "bad_pri"},
      {"PRI of many digits", "<19000021>1 - - - - - -", "bad_pri"},
      {"non-numeric PRI", "<aaa>1 - - - - - -", "bad_pri"},
      {"PRI not closed", "<13", "bad_pri"},
      {"PRI then end", "<13>", "bad_version"},
      {"BOM before PRI", bom + "<13>1 - - - - - -", "bad_pri"},

      {"missing VERSION", "<100> - - - - - -", "bad_version"},
      {"VERSION 0", "<13>0 - - - - - -", "bad_version"},
      {"VERSION with leading zero", "<13>01 - - - - - -", "bad_version"},
      {"VERSION of four digits", "<13>1000 - - - - - -", "bad_version"},
      {"VERSION joined to text", "<13>1x - - - - - -", "bad_version"},
      {"RFC 3164 is not RFC 5424", "<34>Oct 11 22:14:15 mymachine su: 'su root' failed",
       "bad_version"},

      {"two spaces in the header", "<13>1  - - - - - msg", "bad_timestamp"},
      {"timestamp word", "<13>1 yesterday h a p m - msg", "bad_timestamp"},
      {"space for T", "<13>1 2026-10-05 21:30:01Z h a p m - msg", "bad_timestamp"},
      {"lower-case t", "<13>1 2026-10-05t21:30:01Z h a p m -", "bad_timestamp"},
      {"lower-case z", "<13>1 2026-10-05T21:30:01z h a p m -", "bad_timestamp"},
      {"no offset", "<13>1 2026-10-05T21:30:01 h a p m -", "bad_timestamp"},
      {"offset without colon", "<13>1 2026-10-05T21:30:01+0200 h a p m -", "bad_timestamp"},
      {"offset of hours only", "<13>1 2026-10-05T21:30:01+02 h a p m -", "bad_timestamp"},
      {"offset hour 24", "<13>1 2026-10-05T21:30:01+24:00 h a p m -", "bad_timestamp"},
      {"offset minute 60", "<13>1 2026-10-05T21:30:01+23:60 h a p m -", "bad_timestamp"},
      {"seven fraction digits", "<13>1 2026-10-05T21:30:01.1234567Z h a p m -", "bad_timestamp"},
      {"nine fraction digits (RFC3339Nano)", "<13>1 2026-10-05T21:30:01.123456789Z h a p m -",
       "bad_timestamp"},
      {"dot without digits", "<13>1 2026-10-05T21:30:01.Z h a p m -", "bad_timestamp"},
      {"month 13", "<13>1 2026-13-05T21:30:01Z h a p m -", "bad_timestamp"},
      {"month 00", "<13>1 2026-00-05T21:30:01Z h a p m -", "bad_timestamp"},
      {"day 00", "<13>1 2026-10-00T21:30:01Z h a p m -", "bad_timestamp"},
      {"Apr 31", "<13>1 2026-04-31T21:30:01Z h a p m -", "bad_timestamp"},
      {"Feb 29 in a common year", "<13>1 2003-02-29T21:30:01Z h a p m -", "bad_timestamp"},
      {"Feb 29 in 1900", "<13>1 1900-02-29T21:30:01Z h a p m -", "bad_timestamp"},
      {"Feb 30 in a leap year", "<13>1 2024-02-30T21:30:01Z h a p m -", "bad_timestamp"},
      {"hour 24", "<13>1 2026-10-05T24:00:00Z h a p m -", "bad_timestamp"},
      {"minute 60", "<13>1 2026-10-05T21:60:01Z h a p m -", "bad_timestamp"},
      {"leap second (RFC 5424 6.2.3: MUST NOT)", "<13>1 2016-12-31T23:59:60Z h a p m -",
       "bad_timestamp"},
      {"single-digit month", "<13>1 2026-1-05T21:30:01Z h a p m -", "bad_timestamp"},
      {"time cut short", "<13>1 2026-10-05T21:30Z h a p m -", "bad_timestamp"},
      {"timestamp joined to host", "<13>1 2026-10-05T21:30:01Zh a p m -", "bad_timestamp"},
      {"nil timestamp joined", "<13>1 -h a p m -", "bad_timestamp"},

      {"HOSTNAME of 256", "<13>1 - " + repeat('h', 256) + " a p m -", "field_too_long"},
      {"APP-NAME of 49", "<13>1 - h " + repeat('a', 49) + " p m -", "field_too_long"},
      {"PROCID of 129", "<13>1 - h a " + repeat('p', 129) + " m -", "field_too_long"},
      {"MSGID of 33", "<13>1 - h a p " + repeat('m', 33) + " -", "field_too_long"},
      {"non-ASCII HOSTNAME", "<13>1 - h\xC3\xA9 a p m -", "bad_hostname"},
      {"tab in HOSTNAME", "<13>1 - h\tx a p m -", "bad_hostname"},
      {"empty APP-NAME", "<13>1 - h  p m -", "bad_app_name"},
      {"DEL in PROCID", "<13>1 - h a p\x7F m -", "bad_procid"},
      {"NUL in MSGID", bytes("<13>1 - h a p m\0x -"), "bad_msgid"},

      {"header cut short", "<13>1 2026-10-05T21:30:01Z host app", "truncated"},
      {"no STRUCTURED-DATA", "<13>1 2026-10-05T21:30:01Z h a p m", "truncated"},
      {"nil timestamp then end", "<13>1 -", "truncated"},
      {"STRUCTURED-DATA missing after the space", "<13>1 - h a p m ", "bad_structured_data"},
      {"MSG in place of SD", "<13>1 - h a p m msg here", "bad_structured_data"},
      {"nil SD joined to MSG", "<13>1 - h a p m -msg", "bad_structured_data"},
      {"SD joined to MSG", "<13>1 2026-10-05T21:30:01Z h a p m [x]msg", "bad_structured_data"},
      {"SD not closed", "<13>1 - h a p m [x k=\"v] msg", "bad_structured_data"},
      {"SD ends after escape", "<13>1 - h a p m [x k=\"v\\\"]", "bad_structured_data"},
      {"SD ends with a backslash", "<13>1 - h a p m [x k=\"v\\", "bad_structured_data"},
      {"element not closed", "<13>1 - h a p m [x", "bad_structured_data"},
      {"empty SD-ID", "<13>1 - h a p m [] x", "bad_structured_data"},
      {"SD-ID of 33", "<13>1 - h a p m [" + repeat('i', 33) + "]", "bad_structured_data"},
      {"PARAM-NAME of 33", "<13>1 - h a p m [x " + repeat('n', 33) + "=\"v\"]",
       "bad_structured_data"},
      {"space before ]", "<13>1 - h a p m [x ]", "bad_structured_data"},
      {"space after param", "<13>1 - h a p m [x a=\"b\" ]", "bad_structured_data"},
      {"two spaces between params", "<13>1 - h a p m [x a=\"b\"  c=\"d\"]", "bad_structured_data"},
      {"unquoted value", "<13>1 - h a p m [x a=b]", "bad_structured_data"},
      {"no '=' ", "<13>1 - h a p m [x a]", "bad_structured_data"},
      {"space around '='", "<13>1 - h a p m [x a = \"b\"]", "bad_structured_data"},
      {"quote in SD-ID", "<13>1 - h a p m [x\" a=\"b\"]", "bad_structured_data"},
      {"space between elements", "<13>1 - h a p m [a]x", "bad_structured_data"},
      {"duplicate SD-ID", "<13>1 - h a p m [id@1 a=\"b\"][id@1 c=\"d\"]", "duplicate_sd_id"},
      {"duplicate SD-ID not adjacent", "<13>1 - h a p m [a][b][a]", "duplicate_sd_id"},
      {"duplicate SD-ID among many",
       "<13>1 - h a p m [a][b][c][d][e][f][g][h][i][j][k][l][m][n][o][p][q][r][s][b]",
       "duplicate_sd_id"},
  };
  return cases;
}

TEST(SyslogRfc5424, Rejects) {
  event ev;
  for (const auto& c : reject_cases()) {
    SCOPED_TRACE(c.name);
    const decode_status st = decode_rfc5424(c.input, ev);
    ASSERT_FALSE(st.is_ok());
    EXPECT_EQ(std::string(st.code), c.code) << st.what;
    ASSERT_NE(st.what, nullptr);
    EXPECT_EQ(std::string(st.what).rfind("rfc5424: ", 0), 0u) << st.what;
  }
}

// The scanners read eight bytes at a time: put the interesting byte at every offset around
// those word boundaries, and after bytes of every class.
TEST(SyslogRfc5424, EveryOffsetOfFieldAndValueBytes) {
  event ev;
  for (std::size_t len = 1; len <= 40; ++len) {
    SCOPED_TRACE("length " + std::to_string(len));
    const std::string host(len, 'h');
    // Views point into the input: keep each input alive while its event is checked.
    const std::string in_host = "<13>1 - " + host + " a - - -";
    ASSERT_TRUE(decode_rfc5424(in_host, ev).is_ok());
    EXPECT_EQ(ev.host, host);
    const std::string in_value = "<13>1 - h a - - [i v=\"" + host + "\"]";
    ASSERT_TRUE(decode_rfc5424(in_value, ev).is_ok());
    ASSERT_EQ(ev.sd.size(), 1u);
    EXPECT_EQ(ev.sd[0].value, host);
    for (std::size_t at = 0; at < len; ++at) {
      for (const char bad : {'\x00', '\x1F', '\x7F', '\x80', '\xFF', '\t'}) {
        std::string h = host;
        h[at] = bad;
        const decode_status st = decode_rfc5424("<13>1 - " + h + " a - - -", ev);
        ASSERT_FALSE(st.is_ok()) << at << " " << int(bad);
        EXPECT_EQ(std::string(st.code), "bad_hostname") << at << " " << int(bad);
      }
      // A UTF-8 lead byte followed by ordinary text.
      std::string h = host;
      h[at] = '\xC3';
      if (at + 1 < len) h[at + 1] = '!';
      EXPECT_FALSE(decode_rfc5424("<13>1 - " + h + " a - - -", ev).is_ok());
      // An escaped quote at every offset of a value.
      std::string v = host;
      v.replace(at, 1, "\\\"");
      const std::string in_escaped = "<13>1 - h a - - [i v=\"" + v + "\"] m";
      ASSERT_TRUE(decode_rfc5424(in_escaped, ev).is_ok()) << v;
      EXPECT_EQ(ev.sd[0].value, v);
      EXPECT_EQ(ev.message, "m");
      // An unescaped quote ends the value there.
      std::string q = host;
      q[at] = '"';
      // (the next byte is neither ' ' nor ']').
      const decode_status st = decode_rfc5424("<13>1 - h a - - [i v=\"" + q + "\"]", ev);
      ASSERT_FALSE(st.is_ok()) << q;
      EXPECT_EQ(std::string(st.code), "bad_structured_data") << q;
    }
  }
}

TEST(SyslogRfc5424, ReusedEventIsReset) {
  event ev;
  ASSERT_TRUE(
      decode_rfc5424("<165>1 2003-10-11T22:14:15.003Z host app 1 ID [a b=\"c\"] msg", ev).is_ok());
  ASSERT_TRUE(decode_rfc5424("<13>1 - - - - - -", ev).is_ok());
  EXPECT_TRUE(ev.timestamp.empty());
  EXPECT_TRUE(ev.host.empty());
  EXPECT_TRUE(ev.app.empty());
  EXPECT_TRUE(ev.procid.empty());
  EXPECT_TRUE(ev.msgid.empty());
  EXPECT_TRUE(ev.sd.empty());
  EXPECT_TRUE(ev.message.empty());
  EXPECT_EQ(ev.facility, 1);
}

TEST(SyslogRfc5424, ViewsPointIntoTheInput) {
  const std::string line =
      "<165>1 2003-10-11T22:14:15.003Z mymachine evntslog 8710 ID47 [id k=\"v\"] hello";
  event ev;
  ASSERT_TRUE(decode_rfc5424(line, ev).is_ok());
  const auto inside = [&](std::string_view v) {
    return v.data() >= line.data() && v.data() + v.size() <= line.data() + line.size();
  };
  EXPECT_TRUE(inside(ev.host));
  EXPECT_TRUE(inside(ev.app));
  EXPECT_TRUE(inside(ev.procid));
  EXPECT_TRUE(inside(ev.msgid));
  EXPECT_TRUE(inside(ev.message));
  ASSERT_EQ(ev.sd.size(), 1u);
  EXPECT_TRUE(inside(ev.sd[0].id) && inside(ev.sd[0].name) && inside(ev.sd[0].value));
}

TEST(SyslogRfc5424, NoHeapAllocationForAReusedEvent) {
  const std::string line =
      "<165>1 2026-11-26T04:10:55.120001+00:00 web-01.example.com nginx 12345 ACCESS "
      "[req@32473 method=\"GET\" status=\"200\" path=\"/api/v1/items\"][origin ip=\"10.0.0.7\"] "
      "GET /api/v1/items 200 1532";
  event ev;
  ASSERT_TRUE(decode_rfc5424(line, ev).is_ok());  // warm-up: timestamp and sd get capacity
  const long before = g_allocations.load();
  for (int i = 0; i < 100; ++i) {
    if (!decode_rfc5424(line, ev).is_ok()) FAIL();
  }
  EXPECT_EQ(g_allocations.load() - before, 0);
}

// The event JSON of the RFC's example 3 (event.cpp renders it; SD escapes are resolved there).
TEST(SyslogRfc5424, EventJsonOfRfcExamples) {
  event ev;
  const std::string line =
      "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
      "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]"
      "[esc k=\"a\\\"b\\\\c\\]d\\x\"][empty] " +
      bom + "An application event log entry...";
  ASSERT_TRUE(decode_rfc5424(line, ev).is_ok());
  std::string out;
  append_event_json(ev, out);
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["timestamp"], "2003-10-11T22:14:15.003Z");
  EXPECT_EQ(j["host"], "mymachine.example.com");
  EXPECT_EQ(j["app"], "evntslog");
  EXPECT_FALSE(j.contains("procid"));
  EXPECT_EQ(j["msgid"], "ID47");
  EXPECT_EQ(j["facility"], "local4");
  EXPECT_EQ(j["severity"], "notice");
  EXPECT_EQ(j["message"], "An application event log entry...");
  EXPECT_EQ(j["format"], "rfc5424");
  EXPECT_EQ(j["sd"]["exampleSDID@32473"],
            (nlohmann::json{{"iut", "3"}, {"eventSource", "Application"}, {"eventID", "1011"}}));
  EXPECT_EQ(j["sd"]["esc"]["k"], "a\"b\\c]d\\x");  // \x is no escape: the backslash stays
  EXPECT_EQ(j["sd"]["empty"], nlohmann::json::object());
}

}  // namespace
}  // namespace tocsin::collector
