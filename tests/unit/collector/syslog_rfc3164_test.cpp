// Table tests for decode_rfc3164 and decode_syslog_auto: the RFC 3164 §5.4 examples, real
// senders' bytes (util-linux logger, rsyslog forward formats, Cisco IOS/ASA/PIX), tricky cases
// from public parsers' suites, year/zone inference, and rejects.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "collector/event.hpp"
#include "collector/syslog_decoder.hpp"
#include "core/timezone.hpp"
#include "tests/support/bytes.hpp"

namespace tocsin::collector {
namespace {

using test::bytes;

using namespace std::chrono;

// A UTC instant from its civil fields.
system_clock::time_point utc(int y, unsigned mo, unsigned d, int h, int mi, int s) {
  return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s};
}

// What `tocsin parse` would assume: received 2026-11-26 04:10:55 UTC, input zone UTC.
syslog_decode_context default_ctx() { return {utc(2026, 11, 26, 4, 10, 55), nullptr}; }

struct accept_case {
  std::string name;
  std::string input;
  int facility, severity;
  std::string timestamp, host, app, procid, message;
};

const std::vector<accept_case>& accept_cases() {
  static const std::vector<accept_case> cases = {
      // RFC 3164 §5.4.
      {"rfc example 1",
       "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8", 4, 2,
       "2026-10-11T22:14:15Z", "mymachine", "su", "", "'su root' failed for lonvick on /dev/pts/8"},
      {"rfc example 2: no PRI, no header (relay default user.notice)", "Use the BFG!", 1, 5, "", "",
       "", "", "Use the BFG!"},
      {"rfc example 3: zone and year misplaced, 'CST' is the HOSTNAME",
       "<165>Aug 24 05:34:00 CST 1987 mymachine myproc[10]: %% It's time to make the do-nuts.  "
       "%%  Ingredients: Mix=OK, Jump=OK, Count=Ok",
       20, 5, "2026-08-24T05:34:00Z", "CST", "", "",
       "1987 mymachine myproc[10]: %% It's time to make the do-nuts.  %%  Ingredients: Mix=OK, "
       "Jump=OK, Count=Ok"},
      {"rfc example 4: year first is no TIMESTAMP",
       "<0>1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That's All "
       "Folks!",
       0, 0, "", "", "", "",
       "1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That's All "
       "Folks!"},

      // util-linux logger 2.38 (captured bytes).
      {"logger --rfc3164", "<13>Nov 26 04:53:12 vm root: hello", 1, 5, "2026-11-26T04:53:12Z", "vm",
       "root", "", "hello"},
      {"logger --rfc3164 -t app --id=77", "<13>Nov 26 04:53:12 vm app[77]: pid msg", 1, 5,
       "2026-11-26T04:53:12Z", "vm", "app", "77", "pid msg"},
      {"logger over TCP with LF", "<13>Nov 26 04:53:12 vm root: hello\n", 1, 5,
       "2026-11-26T04:53:12Z", "vm", "root", "", "hello"},

      // rsyslog forwarding.
      {"RSYSLOG_ForwardFormat",
       "<86>2026-11-26T04:10:55.120001+00:00 web1 sshd[2231]: Failed password for root from "
       "203.0.113.9 port 52212 ssh2",
       10, 6, "2026-11-26T04:10:55.120001+00:00", "web1", "sshd", "2231",
       "Failed password for root from 203.0.113.9 port 52212 ssh2"},
      {"RSYSLOG_ForwardFormat, negative offset",
       "<13>2026-11-25T23:10:55.120001-05:00 web1 cron: ok", 1, 5,
       "2026-11-25T23:10:55.120001-05:00", "web1", "cron", "", "ok"},
      {"legacy forward format, TAG without colon", "<13>2026-11-26T04:10:55+00:00 host myapp hello",
       1, 5, "2026-11-26T04:10:55+00:00", "host", "myapp", "", "hello"},
      {"RSYSLOG_TraditionalForwardFormat", "<78>Nov 26 04:10:01 web1 CRON[4242]: (root) CMD (x)", 9,
       6, "2026-11-26T04:10:01Z", "web1", "CRON", "4242", "(root) CMD (x)"},
      {"tag with dots and slashes",
       "<30>Nov 26 04:10:01 web1 systemd-networkd-wait-online.service/x[1]: up", 3, 6,
       "2026-11-26T04:10:01Z", "web1", "systemd-networkd-wait-online.service/x", "1", "up"},

      // RFC 3339 variants, normalised to RFC 3339.
      {"ISO Z", "<14>2026-10-05T21:30:01Z host app[7]: x", 1, 6, "2026-10-05T21:30:01Z", "host",
       "app", "7", "x"},
      {"ISO offset without colon", "<14>2026-10-05T21:30:01+0200 host app: x", 1, 6,
       "2026-10-05T21:30:01+02:00", "host", "app", "", "x"},
      {"ISO without zone (input zone UTC)", "<14>2026-10-05T21:30:01 host app: x", 1, 6,
       "2026-10-05T21:30:01Z", "host", "app", "", "x"},
      {"ISO with a space", "<14>2026-10-05 21:30:01 host app: x", 1, 6, "2026-10-05T21:30:01Z",
       "host", "app", "", "x"},
      {"ISO in lower case", "<13>2026-10-05t21:30:01.5z host app: x", 1, 5,
       "2026-10-05T21:30:01.5Z", "host", "app", "", "x"},
      {"ISO with nanoseconds", "<13>2026-10-05T21:30:01.123456789Z host app: x", 1, 5,
       "2026-10-05T21:30:01.123456789Z", "host", "app", "", "x"},
      {"ISO, no host", "<14>2026-10-05T21:30:01Z app: x", 1, 6, "2026-10-05T21:30:01Z", "", "app",
       "", "x"},

      // BSD timestamp variants.
      {"padded day, IP host", "<13>Feb  5 17:32:18 10.0.0.99 myapp[123]: Use the BFG!", 1, 5,
       "2026-02-05T17:32:18Z", "10.0.0.99", "myapp", "123", "Use the BFG!"},
      {"day without padding", "<14>Oct 5 21:30:01 host app: x", 1, 6, "2026-10-05T21:30:01Z",
       "host", "app", "", "x"},
      {"zero-padded day", "<14>Oct 05 21:30:01 host app: x", 1, 6, "2026-10-05T21:30:01Z", "host",
       "app", "", "x"},
      {"lower-case month", "<14>oct  5 21:30:01 host app: x", 1, 6, "2026-10-05T21:30:01Z", "host",
       "app", "", "x"},
      {"fraction", "<14>Oct  5 21:30:01.123 host app: x", 1, 6, "2026-10-05T21:30:01.123Z", "host",
       "app", "", "x"},
      {"comma fraction", "<14>Oct  5 21:30:01,5 host app: x", 1, 6, "2026-10-05T21:30:01.5Z",
       "host", "app", "", "x"},
      {"year", "<14>Oct  5 2024 21:30:01 host app: x", 1, 6, "2024-10-05T21:30:01Z", "host", "app",
       "", "x"},
      {"Feb 29 with a leap year given", "<14>Feb 29 2024 21:30:01 host app: x", 1, 6,
       "2024-02-29T21:30:01Z", "host", "app", "", "x"},

      // Cisco IOS, ASA, PIX, FWSM.
      {"Cisco sequence number and '*'",
       "<189>123: *Mar  1 18:46:11.123: %SYS-5-CONFIG_I: Configured from console by vty0", 23, 5,
       "2026-03-01T18:46:11.123Z", "", "%SYS-5-CONFIG_I", "", "Configured from console by vty0"},
      {"Cisco zero-padded sequence number",
       "<189>000123: Mar  1 18:46:11: %SYS-5-CONFIG_I: Configured", 23, 5, "2026-03-01T18:46:11Z",
       "", "%SYS-5-CONFIG_I", "", "Configured"},
      {"Cisco origin-id",
       "<189>29: foo: *Apr 29 13:58:40.411: %SYS-5-CONFIG_I: Configured from console by console",
       23, 5, "2026-04-29T13:58:40.411Z", "foo", "%SYS-5-CONFIG_I", "",
       "Configured from console by console"},
      {"Cisco origin-id as address",
       "<189>32: 0.0.0.0: *Apr 29 13:59:12.491: %SYS-5-CONFIG_I: Configured", 23, 5,
       "2026-04-29T13:59:12.491Z", "0.0.0.0", "%SYS-5-CONFIG_I", "", "Configured"},
      {"Cisco '.' and zone abbreviation (not UTC: input zone used)",
       "<190>636: .Jul 10 15:58:56.590 EDT: %SEC-6-IPACCESSLOGP: list 102 denied tcp", 23, 6,
       "2026-07-10T15:58:56.590Z", "", "%SEC-6-IPACCESSLOGP", "", "list 102 denied tcp"},
      {"Cisco with year", "<189>55: Mar  1 2026 18:46:11.123 UTC: %LINK-3-UPDOWN: down", 23, 5,
       "2026-03-01T18:46:11.123Z", "", "%LINK-3-UPDOWN", "", "down"},
      {"Cisco without timestamp", "<189>123: %SYS-5-CONFIG_I: Configured", 23, 5, "", "",
       "%SYS-5-CONFIG_I", "", "Configured"},
      {"relay header in front of Cisco",
       "<189>Sep  6 09:13:00 RouterName 82: %SYS-5-CONFIG_I: Configured", 23, 5,
       "2026-09-06T09:13:00Z", "RouterName", "", "", "82: %SYS-5-CONFIG_I: Configured"},
      {"ASA", "<166>Mar 01 2026 18:46:11: %ASA-6-302013: Built outbound TCP connection", 20, 6,
       "2026-03-01T18:46:11Z", "", "%ASA-6-302013", "", "Built outbound TCP connection"},
      {"ASA logging device-id with ' : '", "<166>Mar 01 2026 18:46:11 asa1 : %ASA-6-302013: Built",
       20, 6, "2026-03-01T18:46:11Z", "asa1", "%ASA-6-302013", "", "Built"},
      {"PIX with IP host",
       "<167>Mar  6 16:57:54 172.20.245.8 %PIX-7-710005: DROP_url_www.sina.com.cn:IN=eth1", 20, 7,
       "2026-03-06T16:57:54Z", "172.20.245.8", "%PIX-7-710005", "",
       "DROP_url_www.sina.com.cn:IN=eth1"},
      {"FWSM", "<164>May 21 2008 10:50:11: %FWSM-4-106023: Deny udp src outside", 20, 4,
       "2008-05-21T10:50:11Z", "", "%FWSM-4-106023", "", "Deny udp src outside"},

      // HOSTNAME / TAG heuristics.
      {"no host, tag with pid",
       "<30>Oct  5 21:30:01 dnsmasq-dhcp[1234]: DHCPACK(br0) 192.168.1.64 aa:bb:cc:dd:ee:ff", 3, 6,
       "2026-10-05T21:30:01Z", "", "dnsmasq-dhcp", "1234",
       "DHCPACK(br0) 192.168.1.64 aa:bb:cc:dd:ee:ff"},
      {"no host, tag", "<4>Oct  5 21:30:01 kernel: [12345.678] eth0: link up", 0, 4,
       "2026-10-05T21:30:01Z", "", "kernel", "", "[12345.678] eth0: link up"},
      {"host then a word: the word is a bare TAG",
       "<14>Oct  5 21:30:01 bgw320 PON link state changed to O5", 1, 6, "2026-10-05T21:30:01Z",
       "bgw320", "PON", "", "link state changed to O5"},
      {"host then a non-tag word", "<14>Oct  5 21:30:01 host key=value rest", 1, 6,
       "2026-10-05T21:30:01Z", "host", "", "", "key=value rest"},
      {"bare tag app[pid] without colon", "<14>Oct  5 21:30:01 host app[9] x", 1, 6,
       "2026-10-05T21:30:01Z", "host", "app", "9", "x"},
      {"IPv6 host", "<14>Oct  5 21:30:01 fe80::1 app: x", 1, 6, "2026-10-05T21:30:01Z", "fe80::1",
       "app", "", "x"},
      {"timestamp only", "<14>Oct  5 21:30:01", 1, 6, "2026-10-05T21:30:01Z", "", "", "", ""},
      {"single word is the message", "<14>Oct  5 21:30:01 reboot", 1, 6, "2026-10-05T21:30:01Z", "",
       "", "", "reboot"},
      {"host, last word is the message", "<14>Oct  5 21:30:01 host reboot", 1, 6,
       "2026-10-05T21:30:01Z", "host", "", "", "reboot"},
      {"tag ends the message", "<14>Oct  5 21:30:01 host app:", 1, 6, "2026-10-05T21:30:01Z",
       "host", "app", "", ""},
      {"colon without a space ends the tag (rsyslog, syslog-ng)",
       "<14>Oct  5 21:30:01 host kernel:eth0 up", 1, 6, "2026-10-05T21:30:01Z", "host", "kernel",
       "", "eth0 up"},
      {"pid with a space is no tag", "<14>Oct  5 21:30:01 host app[1 2]: x", 1, 6,
       "2026-10-05T21:30:01Z", "host", "", "", "app[1 2]: x"},
      {"empty pid is no tag", "<14>Oct  5 21:30:01 host app[]: x", 1, 6, "2026-10-05T21:30:01Z",
       "host", "", "", "app[]: x"},
      {"tag of 48", "<14>Oct  5 21:30:01 host " + std::string(48, 'a') + ": x", 1, 6,
       "2026-10-05T21:30:01Z", "host", std::string(48, 'a'), "", "x"},
      {"tag of 49 is no tag", "<14>Oct  5 21:30:01 host " + std::string(49, 'a') + ": x", 1, 6,
       "2026-10-05T21:30:01Z", "host", "", "", std::string(49, 'a') + ": x"},
      {"text after two spaces", "<14>Oct  5 21:30:01  x y", 1, 6, "2026-10-05T21:30:01Z", "", "",
       "", " x y"},
      {"leading and trailing spaces of the message kept", "<13>Oct 11 22:14:15 host app:   x  ", 1,
       5, "2026-10-11T22:14:15Z", "host", "app", "", "  x  "},
      {"CR LF NUL stripped, inner LF kept", bytes("<13>Oct 11 22:14:15 host app: l1\nl2\r\n\0"), 1,
       5, "2026-10-11T22:14:15Z", "host", "app", "", "l1\nl2"},
      {"NUL inside kept", bytes("<13>Oct 11 22:14:15 host app: a\0b"), 1, 5, "2026-10-11T22:14:15Z",
       "host", "app", "", bytes("a\0b")},
      {"invalid UTF-8 kept (replaced at output)", "<13>Oct 11 22:14:15 host app: caf\xE9", 1, 5,
       "2026-10-11T22:14:15Z", "host", "app", "", "caf\xE9"},

      // No (valid) timestamp: only a colon TAG is looked for.
      {"PRI and text", "<13>hello world", 1, 5, "", "", "", "", "hello world"},
      {"PRI and tag", "<13>myapp: hello", 1, 5, "", "", "myapp", "", "hello"},
      {"PRI and tag with pid", "<13>myapp[12]: hello", 1, 5, "", "", "myapp", "12", "hello"},
      {"PRI, space, text", "<130> [ERROR] iapp_socket_task.c 399: failed", 16, 2, "", "", "", "",
       "[ERROR] iapp_socket_task.c 399: failed"},
      {"no month", "<13>Octo 11 22:14:15 host app: x", 1, 5, "", "", "", "",
       "Octo 11 22:14:15 host app: x"},
      {"timestamp joined to the text", "<13>Oct 11 22:14:15host app: x", 1, 5, "", "", "", "",
       "Oct 11 22:14:15host app: x"},
      {"time cut short", "<13>Oct 11 22:14", 1, 5, "", "", "", "", "Oct 11 22:14"},
      {"three spaces before the day", "<13>Oct   5 22:14:15 h a: x", 1, 5, "", "", "", "",
       "Oct   5 22:14:15 h a: x"},
      {"hour 24", "<13>Oct 11 24:14:15 h a: x", 1, 5, "", "", "", "", "Oct 11 24:14:15 h a: x"},
      {"ISO with a broken zone", "<13>2026-10-05T21:30:01+05 host app: x", 1, 5, "", "", "", "",
       "2026-10-05T21:30:01+05 host app: x"},
      {"ISO with another separator", "<13>2026-10-05_21:30:01 host app: x", 1, 5, "", "", "", "",
       "2026-10-05_21:30:01 host app: x"},
      {"dot without a fraction", "<13>Oct 11 22:14:15. host app: x", 1, 5, "", "", "", "",
       "Oct 11 22:14:15. host app: x"},
      {"month and day only", "<13>Oct 11", 1, 5, "", "", "", "", "Oct 11"},
      {"month without a day", "<13>Oct x 22:14:15 host app: x", 1, 5, "", "", "", "",
       "Oct x 22:14:15 host app: x"},
      {"BOM before PRI: no PRI", "\xEF\xBB\xBF<13>x", 1, 5, "", "", "", "", "\xEF\xBB\xBF<13>x"},
      // Real senders from rsyslog's and syslog-ng's parser tests.
      {"space between PRI and timestamp", "<38> Mar  7 19:06:53 example tag: testmessage", 4, 6,
       "2026-03-07T19:06:53Z", "example", "tag", "", "testmessage"},
      {"space between PRI and tag (OpenVPN)", "<15> openvpn[2499]: PTHREAD support initialized", 1,
       7, "", "", "openvpn", "2499", "PTHREAD support initialized"},
      {"tag:msg without a space", "<167>Mar  6 16:57:54 172.20.245.8 TAG:msg", 20, 7,
       "2026-03-06T16:57:54Z", "172.20.245.8", "TAG", "", "msg"},
      {"tag[pid]:msg without a space", "<13>Mar  6 16:57:54 host app[12]:msg", 1, 5,
       "2026-03-06T16:57:54Z", "host", "app", "12", "msg"},
      {"IPv6 address as HOSTNAME", "<13>Mar  6 16:57:54 2001:db8::1 sshd[7]: Accepted", 1, 5,
       "2026-03-06T16:57:54Z", "2001:db8::1", "sshd", "7", "Accepted"},
      {"IPv4-mapped IPv6 HOSTNAME", "<13>Mar  6 16:57:54 ::ffff:10.0.0.1 app: x", 1, 5,
       "2026-03-06T16:57:54Z", "::ffff:10.0.0.1", "app", "", "x"},
      {"ASA tag %ASA-4-106023", "<164>Dec 10 2025 14:21:53: %ASA-4-106023: Deny tcp src", 20, 4,
       "2025-12-10T14:21:53Z", "", "%ASA-4-106023", "", "Deny tcp src"},
      {"a URL is no TAG", "<13>Mar  6 16:57:54 host http://x/y down", 1, 5, "2026-03-06T16:57:54Z",
       "host", "", "", "http://x/y down"},
      {"Cisco mnemonic without timestamp is the TAG", "<13>%SYS-5-X: y", 1, 5, "", "", "%SYS-5-X",
       "", "y"},

      // A real-looking but impossible date drops only the timestamp.
      {"Apr 31", "<13>Apr 31 10:00:00 host app: x", 1, 5, "", "host", "app", "", "x"},
      {"Feb 29 of a common year given", "<13>Feb 29 2026 10:00:00 host app: x", 1, 5, "", "host",
       "app", "", "x"},
      {"ISO Feb 30", "<13>2024-02-30T10:00:00Z host app: x", 1, 5, "", "host", "app", "", "x"},

      // PRI edges.
      {"PRI 0", "<0>Oct 11 22:14:15 host app: x", 0, 0, "2026-10-11T22:14:15Z", "host", "app", "",
       "x"},
      {"PRI 191", "<191>Oct 11 22:14:15 host app: x", 23, 7, "2026-10-11T22:14:15Z", "host", "app",
       "", "x"},
      {"PRI with a leading zero", "<013>Oct 11 22:14:15 host app: x", 1, 5, "2026-10-11T22:14:15Z",
       "host", "app", "", "x"},
  };
  return cases;
}

void expect_event(const event& ev, const accept_case& c) {
  EXPECT_EQ(ev.format, "rfc3164");
  EXPECT_EQ(ev.facility, c.facility);
  EXPECT_EQ(ev.severity, c.severity);
  EXPECT_EQ(ev.timestamp, c.timestamp);
  EXPECT_EQ(ev.host, c.host);
  EXPECT_EQ(ev.app, c.app);
  EXPECT_EQ(ev.procid, c.procid);
  EXPECT_EQ(ev.msgid, "");
  EXPECT_TRUE(ev.sd.empty());
  EXPECT_EQ(ev.message, c.message);
}

TEST(SyslogRfc3164, Accepts) {
  const auto ctx = default_ctx();
  event ev;
  for (const auto& c : accept_cases()) {
    SCOPED_TRACE(c.name);
    const decode_status st = decode_rfc3164(c.input, ctx, ev);
    ASSERT_TRUE(st.is_ok()) << st.code << ": " << st.what;
    expect_event(ev, c);
  }
}

// None of these is valid RFC 5424, so auto mode must give the same result.
TEST(SyslogRfc3164, AutoFallsBackToRfc3164) {
  const auto ctx = default_ctx();
  event ev;
  for (const auto& c : accept_cases()) {
    SCOPED_TRACE(c.name);
    const decode_status st = decode_syslog_auto(c.input, ctx, ev);
    ASSERT_TRUE(st.is_ok()) << st.code << ": " << st.what;
    expect_event(ev, c);
  }
}

TEST(SyslogRfc3164, Rejects) {
  const struct {
    std::string name, input, code;
  } cases[] = {
      {"empty", "", "empty"},
      {"line ends only", bytes("\r\n\0"), "empty"},
      {"PRI only", "<13>", "empty"},
      {"PRI only with LF", "<13>\n", "empty"},
      {"PRI too high", "<999>Oct 11 22:14:15 host app: x", "bad_pri"},
      {"PRI 192", "<192>x", "bad_pri"},
      {"letters", "<abc>x", "bad_pri"},
      {"empty PRI", "<>Oct 11 22:14:15 host app: x", "bad_pri"},
      {"four digits", "<0013>Oct 11 22:14:15 host app: x", "bad_pri"},
      {"binary without PRI", std::string("\x16\x03\x01\x02\x00\x01", 6), "not_syslog"},
      {"DEL without PRI", "abc\x7f", "not_syslog"},
      {"not closed", "<13", "bad_pri"},
      {"not closed, text", "<13 hello", "bad_pri"},
      {"negative", "<-1>x", "bad_pri"},
      {"space inside", "< 13>x", "bad_pri"},
      {"lone '<'", "<", "bad_pri"},
  };
  const auto ctx = default_ctx();
  event ev;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const decode_status st = decode_rfc3164(c.input, ctx, ev);
    ASSERT_FALSE(st.is_ok());
    EXPECT_EQ(std::string(st.code), c.code) << st.what;
    EXPECT_EQ(std::string(st.what).rfind("rfc3164: ", 0), 0u) << st.what;
    // auto mode rejects them too (with the RFC 3164 reason).
    const decode_status auto_st = decode_syslog_auto(c.input, ctx, ev);
    ASSERT_FALSE(auto_st.is_ok());
    EXPECT_EQ(std::string(auto_st.code), c.code);
  }
}

// Year and zone inference for timestamps that carry neither.
TEST(SyslogRfc3164, YearAndZoneInference) {
  const auto berlin = input_timezone::from_name("Europe/Berlin");
  const auto plus_one = input_timezone::from_name("+01:00");
  const auto minus_two = input_timezone::from_name("-02:00");
  const auto minus_330 = input_timezone::from_name("-03:30");
  ASSERT_TRUE(plus_one && minus_two && minus_330);

  const struct {
    std::string name;
    std::string input;
    system_clock::time_point received;
    const input_timezone* tz;
    std::string timestamp;
  } cases[] = {
      {"same day", "<13>Nov 26 04:10:00 h a: x", utc(2026, 11, 26, 4, 10, 55), nullptr,
       "2026-11-26T04:10:00Z"},
      {"Dec 31 received on Jan 1 is last year's", "<13>Dec 31 23:59:59 h a: x",
       utc(2027, 1, 1, 0, 0, 2), nullptr, "2026-12-31T23:59:59Z"},
      {"Jan 1 received on Dec 31 is next year's", "<13>Jan  1 00:00:01 h a: x",
       utc(2026, 12, 31, 23, 59, 58), nullptr, "2027-01-01T00:00:01Z"},
      {"a month-old message from last year", "<13>Dec  1 10:00:00 h a: x",
       utc(2027, 1, 15, 0, 0, 0), nullptr, "2026-12-01T10:00:00Z"},
      {"an old message of this year", "<13>Feb  1 10:00:00 h a: x", utc(2026, 11, 26, 0, 0, 0),
       nullptr, "2026-02-01T10:00:00Z"},
      {"a clock three weeks fast stays this year", "<13>Dec 17 10:00:00 h a: x",
       utc(2026, 11, 26, 0, 0, 0), nullptr, "2026-12-17T10:00:00Z"},
      {"Feb 29 of a leap year", "<13>Feb 29 12:00:00 h a: x", utc(2028, 3, 1, 0, 0, 0), nullptr,
       "2028-02-29T12:00:00Z"},
      {"Feb 29 of a common year is dropped", "<13>Feb 29 12:00:00 h a: x", utc(2027, 3, 1, 0, 0, 0),
       nullptr, ""},
      {"fixed offset", "<189>123: *Mar  1 18:46:11.123: %SYS-5-CONFIG_I: x",
       utc(2026, 3, 1, 17, 50, 0), &*plus_one, "2026-03-01T18:46:11.123+01:00"},
      {"negative fixed offset", "<13>Mar  1 18:46:11 h a: x", utc(2026, 3, 1, 21, 0, 0),
       &*minus_330, "2026-03-01T18:46:11-03:30"},
      // The receive time read in the zone decides the year: 2026-12-31 23:30 UTC is already
      // 2027-01-01 00:30 at +01:00, so "Dec 31 23:59" there is the previous day.
      {"New Year in a +01:00 zone", "<13>Dec 31 23:59:00 h a: x", utc(2026, 12, 31, 23, 30, 0),
       &*plus_one, "2026-12-31T23:59:00+01:00"},
      {"New Year in a -02:00 zone", "<13>Jan  1 00:00:10 h a: x", utc(2026, 12, 31, 22, 30, 0),
       &*minus_two, "2027-01-01T00:00:10-02:00"},
      {"UTC named by Cisco overrides the input zone",
       "<189>55: Mar  1 2026 18:46:11.123 UTC: %LINK-3-UPDOWN: down", utc(2026, 3, 1, 19, 0, 0),
       &*plus_one, "2026-03-01T18:46:11.123Z"},
      {"ISO without zone takes the input zone", "<13>2026-10-05T21:30:01 h a: x",
       utc(2026, 10, 5, 20, 31, 0), &*plus_one, "2026-10-05T21:30:01+01:00"},
      {"ISO with its own offset keeps it", "<13>2026-10-05T21:30:01+00:00 h a: x",
       utc(2026, 10, 5, 21, 31, 0), &*plus_one, "2026-10-05T21:30:01+00:00"},
  };
  event ev;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ASSERT_TRUE(decode_rfc3164(c.input, {c.received, c.tz}, ev).is_ok());
    EXPECT_EQ(ev.timestamp, c.timestamp);
  }

  if (!berlin) GTEST_SKIP() << "no tz database for Europe/Berlin";
  const syslog_decode_context summer{utc(2026, 7, 10, 10, 0, 0), &*berlin};
  ASSERT_TRUE(decode_rfc3164("<13>Jul 10 12:00:00 h a: x", summer, ev).is_ok());
  EXPECT_EQ(ev.timestamp, "2026-07-10T12:00:00+02:00");
  const syslog_decode_context winter{utc(2026, 1, 10, 10, 0, 0), &*berlin};
  ASSERT_TRUE(decode_rfc3164("<13>Jan 10 12:00:00 h a: x", winter, ev).is_ok());
  EXPECT_EQ(ev.timestamp, "2026-01-10T12:00:00+01:00");
  // Received in summer, but the message's own date is in winter time.
  ASSERT_TRUE(decode_rfc3164("<13>Mar  1 12:00:00 h a: x", summer, ev).is_ok());
  EXPECT_EQ(ev.timestamp, "2026-03-01T12:00:00+01:00");
}

TEST(SyslogAuto, PrefersRfc5424) {
  const auto ctx = default_ctx();
  event ev;
  ASSERT_TRUE(decode_syslog_auto("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - "
                                 "- %% It's time to make the do-nuts.",
                                 ctx, ev)
                  .is_ok());
  EXPECT_EQ(ev.format, "rfc5424");
  EXPECT_EQ(ev.timestamp, "2003-08-24T05:14:15.000003-07:00");
  EXPECT_EQ(ev.procid, "8710");
  EXPECT_EQ(ev.message, "%% It's time to make the do-nuts.");

  // Invalid RFC 5424 (nine fraction digits, as Go's RFC3339Nano writes) is decoded best-effort,
  // never re-read as RFC 3164.
  const std::string nano = "<13>1 2026-10-05T21:30:01.123456789Z h a - - - m";
  ASSERT_FALSE(decode_rfc5424(nano, ev).is_ok());
  ASSERT_TRUE(decode_syslog_auto(nano, ctx, ev).is_ok());
  EXPECT_EQ(ev.format, "rfc5424");
  EXPECT_EQ(ev.parse_error, "bad_timestamp");
  EXPECT_EQ(ev.message, "m");
  EXPECT_EQ(ev.timestamp, "2026-10-05T21:30:01.123456789Z");
  EXPECT_EQ(ev.host, "h");
  EXPECT_EQ(ev.facility, 1);
}

struct best_effort_case {
  std::string name, input, parse_error;
  std::string timestamp, host, app, procid, msgid, message;
  std::string sd_json;  // the "sd" member of the Event JSON, "" when none
};

// "<PRI>1 " lines that break RFC 5424, from real senders and the parser tests of rsyslog
// (pmrfc5424) and syslog-ng (syslog-format): every well-formed field is kept.
TEST(SyslogAuto, BestEffortRfc5424) {
  const std::vector<best_effort_case> cases = {
      {"VMware ESXi unquoted SD values",
       "<166>1 2021-03-04T10:12:33.123Z esx01.example.com Hostd 2098989 - [Originator@6876 "
       "sub=Vimsvc.TaskManager opID=esxui-4c5e-9a7d user=vpxuser] Task Created",
       "bad_structured_data", "2021-03-04T10:12:33.123Z", "esx01.example.com", "Hostd", "2098989",
       "", "Task Created",
       R"({"Originator@6876":{"opID":"esxui-4c5e-9a7d","sub":"Vimsvc.TaskManager","user":"vpxuser"}})"},
      {"SD-ID longer than 32 characters",
       "<14>1 2024-01-02T03:04:05Z host app - - [a_structured_data_id_longer_than_32@32473 "
       "k=\"v\"] text",
       "bad_structured_data", "2024-01-02T03:04:05Z", "host", "app", "", "", "text",
       R"({"a_structured_data_id_longer_than_32@32473":{"k":"v"}})"},
      {"lower-case t and z", "<14>1 2024-01-02t03:04:05z host app 7 ID - text", "bad_timestamp",
       "2024-01-02T03:04:05Z", "host", "app", "7", "ID", "text", ""},
      {"offset without colon", "<14>1 2024-01-02T03:04:05+0100 host app - - - text",
       "bad_timestamp", "2024-01-02T03:04:05+01:00", "host", "app", "", "", "text", ""},
      {"no timestamp at all keeps the other fields", "<14>1 yesterday host app - - - text",
       "bad_timestamp", "", "host", "app", "", "", "text", ""},
      {"APP-NAME over 48 characters is left out",
       "<14>1 2024-01-02T03:04:05Z host " + std::string(60, 'a') + " 12 - - text", "field_too_long",
       "2024-01-02T03:04:05Z", "host", "", "12", "", "text", ""},
      {"non-ASCII HOSTNAME is left out", "<14>1 2024-01-02T03:04:05Z h\xC3\xB6st app - - - text",
       "bad_hostname", "2024-01-02T03:04:05Z", "", "app", "", "", "text", ""},
      {"no STRUCTURED-DATA: the rest is MSG",
       "<14>1 2024-01-02T03:04:05Z host app 99 ID starting right away", "bad_structured_data",
       "2024-01-02T03:04:05Z", "host", "app", "99", "ID", "starting right away", ""},
      {"SD element never closed is MSG", "<14>1 2024-01-02T03:04:05Z host app - - [id k=\"v\" text",
       "bad_structured_data", "2024-01-02T03:04:05Z", "host", "app", "", "", "[id k=\"v\" text",
       ""},
      {"a '[' that opens no element stays in MSG",
       "<14>1 2024-01-02T03:04:05Z host app - - [] text", "bad_structured_data",
       "2024-01-02T03:04:05Z", "host", "app", "", "", "[] text", ""},
      {"header cut short", "<14>1 2024-01-02T03:04:05Z host", "truncated", "2024-01-02T03:04:05Z",
       "host", "", "", "", "", ""},
      {"double space between fields", "<14>1 2024-01-02T03:04:05Z  host app - - - text",
       "bad_hostname", "2024-01-02T03:04:05Z", "host", "app", "", "", "text", ""},
  };
  const auto ctx = default_ctx();
  event ev;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ASSERT_FALSE(decode_rfc5424(c.input, ev).is_ok()) << "strict mode stays strict";
    ASSERT_TRUE(decode_syslog_auto(c.input, ctx, ev).is_ok());
    EXPECT_EQ(ev.format, "rfc5424");
    EXPECT_EQ(ev.parse_error, c.parse_error);
    EXPECT_EQ(ev.timestamp, c.timestamp);
    EXPECT_EQ(ev.host, c.host);
    EXPECT_EQ(ev.app, c.app);
    EXPECT_EQ(ev.procid, c.procid);
    EXPECT_EQ(ev.msgid, c.msgid);
    EXPECT_EQ(ev.message, c.message);
    std::string json;
    append_event_json(ev, json);
    const auto doc = nlohmann::json::parse(json);
    EXPECT_EQ(doc.value("parse_error", ""), c.parse_error);
    EXPECT_EQ(doc.contains("sd") ? doc["sd"].dump() : "", c.sd_json);
  }
}

TEST(SyslogAuto, WellFormedLinesHaveNoParseError) {
  const auto ctx = default_ctx();
  event ev;
  ASSERT_TRUE(
      decode_syslog_auto("<14>1 2024-01-02T03:04:05Z host app - - - text", ctx, ev).is_ok());
  EXPECT_TRUE(ev.parse_error.empty());
  ASSERT_TRUE(decode_syslog_auto("<14>Mar  7 19:06:53 host app: text", ctx, ev).is_ok());
  EXPECT_TRUE(ev.parse_error.empty());
  std::string json;
  append_event_json(ev, json);
  EXPECT_EQ(json.find("parse_error"), std::string::npos);
}

TEST(SyslogAuto, ReusedEventCarriesNothingOver) {
  const auto ctx = default_ctx();
  event ev;
  ASSERT_TRUE(
      decode_syslog_auto("<165>1 2003-10-11T22:14:15.003Z host app 1 ID [a b=\"c\"] msg", ctx, ev)
          .is_ok());
  ASSERT_TRUE(decode_syslog_auto("<13>hello", ctx, ev).is_ok());
  EXPECT_EQ(ev.format, "rfc3164");
  EXPECT_TRUE(ev.timestamp.empty());
  EXPECT_TRUE(ev.host.empty());
  EXPECT_TRUE(ev.app.empty());
  EXPECT_TRUE(ev.procid.empty());
  EXPECT_TRUE(ev.msgid.empty());
  EXPECT_TRUE(ev.sd.empty());
  EXPECT_EQ(ev.message, "hello");
}

}  // namespace
}  // namespace tocsin::collector
