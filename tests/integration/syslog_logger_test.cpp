// util-linux `logger` → tocsin over UDP and TCP (LF and octet-counted), RFC 5424 and RFC 3164;
// asserts on the events tocsin archived.

#include "tests/integration/tocsin_daemon.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

namespace tocsin::test {
namespace {

// RFC 3339 with logger's microseconds and offset (RFC 5424), or whole seconds (RFC 3164, where
// tocsin adds year and zone).
const std::regex rfc5424_logger_time(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}([+-]\d\d:\d\d|Z))");
const std::regex rfc3164_time(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d([+-]\d\d:\d\d|Z))");

struct logger_case {
  std::string name;
  std::vector<std::string> args;  // after "-n 127.0.0.1 -P <port>"; the message is appended
  std::string message;
  std::string input;
  std::string format;
  std::string facility;
  std::string severity;
  std::string app;
  std::string msgid;   // empty: must be absent
  std::string procid;  // empty: must be absent
  json sd_element;     // null: only logger's own timeQuality may be there
  std::string sd_id;
  bool has_host = true;
};

void PrintTo(const logger_case& c, std::ostream* os) { *os << c.name; }

const std::vector<logger_case> logger_cases = {
    {"udp_rfc5424_sd_msgid",
     {"-d", "--rfc5424", "-t", "lg-udp", "-p", "local4.notice", "--msgid", "ID47", "--sd-id",
      "exampleSDID@32473", "--sd-param", R"(iut="3")", "--sd-param",
      R"(eventSource="Application")"},
     "an application event over udp",
     "syslog-udp",
     "rfc5424",
     "local4",
     "notice",
     "lg-udp",
     "ID47",
     "",
     json{{"iut", "3"}, {"eventSource", "Application"}},
     "exampleSDID@32473"},
    {"tcp_rfc5424_lf",
     {"-T", "--rfc5424", "-t", "lg-tcp", "-p", "daemon.err", "--msgid", "M2", "--id=4242"},
     "disk almost full on /var",
     "syslog-tcp",
     "rfc5424",
     "daemon",
     "err",
     "lg-tcp",
     "M2",
     "4242"},
    {"tcp_octet_count",
     {"-T", "--octet-count", "-t", "lg-oc", "-p", "auth.warning", "--sd-id", "origin@1",
      "--sd-param", R"(ip="192.0.2.1")"},
     "counted frame with [brackets] and a \"quote\"",
     "syslog-tcp",
     "rfc5424",
     "auth",
     "warning",
     "lg-oc",
     "",
     "",
     json{{"ip", "192.0.2.1"}},
     "origin@1"},
    {"tcp_rfc5424_utf8",
     {"-T", "--rfc5424", "-t", "lg-utf8", "-p", "user.info"},
     "grüße aus Köln ✓",
     "syslog-tcp",
     "rfc5424",
     "user",
     "info",
     "lg-utf8"},
    {"udp_rfc5424_nohost",
     {"-d", "--rfc5424=nohost", "-t", "lg-nohost", "-p", "local0.crit"},
     "no hostname in this one",
     "syslog-udp",
     "rfc5424",
     "local0",
     "crit",
     "lg-nohost",
     "",
     "",
     nullptr,
     "",
     false},
    {"udp_rfc3164",
     {"-d", "--rfc3164", "-t", "lg-udp3164", "-p", "mail.info"},
     "legacy over udp",
     "syslog-udp",
     "rfc3164",
     "mail",
     "info",
     "lg-udp3164"},
    {"tcp_rfc3164_pid",
     {"-T", "--rfc3164", "-t", "lg-tcp3164", "-p", "local7.debug", "--id=31337"},
     "legacy over tcp: with a colon",
     "syslog-tcp",
     "rfc3164",
     "local7",
     "debug",
     "lg-tcp3164",
     "",
     "31337"},
};

class logger_to_tocsin : public ::testing::TestWithParam<logger_case> {};

TEST_P(logger_to_tocsin, archives_the_event) {
  const logger_case& c = GetParam();
  tocsin_daemon daemon;

  std::vector<std::string> argv = {"logger", "-n", "127.0.0.1", "-P",
                                   std::to_string(daemon.syslog_port())};
  argv.insert(argv.end(), c.args.begin(), c.args.end());
  argv.push_back(c.message);
  const auto sent = run_command(argv);
  ASSERT_EQ(sent.exit_code, 0) << sent.stderr_text;

  const auto ev = daemon.wait_for_event_with("app", c.app);
  ASSERT_TRUE(ev) << "no archived event with app " << c.app;
  SCOPED_TRACE(ev->dump());

  EXPECT_EQ(text_field(*ev, "message"), c.message);
  EXPECT_EQ(text_field(*ev, "input"), c.input);
  EXPECT_EQ(text_field(*ev, "format"), c.format);
  EXPECT_EQ(text_field(*ev, "facility"), c.facility);
  EXPECT_EQ(text_field(*ev, "severity"), c.severity);
  EXPECT_EQ(text_field(*ev, "source").rfind("127.0.0.1:", 0), 0u);
  if (c.has_host) {
    EXPECT_EQ(text_field(*ev, "host").rfind(short_hostname(), 0), 0u);
  } else {
    EXPECT_FALSE(ev->contains("host")) << "NILVALUE hostname must be omitted";
  }
  if (c.msgid.empty()) {
    EXPECT_FALSE(ev->contains("msgid"));
  } else {
    EXPECT_EQ(text_field(*ev, "msgid"), c.msgid);
  }
  if (c.procid.empty()) {
    EXPECT_FALSE(ev->contains("procid"));
  } else {
    EXPECT_EQ(text_field(*ev, "procid"), c.procid);
  }
  if (c.format == "rfc5424") {
    EXPECT_TRUE(std::regex_match(text_field(*ev, "timestamp"), rfc5424_logger_time));
  } else {
    EXPECT_TRUE(std::regex_match(text_field(*ev, "timestamp"), rfc3164_time));
    EXPECT_FALSE(ev->contains("sd"));
  }
  if (!c.sd_element.is_null()) {
    ASSERT_TRUE(ev->contains("sd"));
    ASSERT_TRUE((*ev)["sd"].contains(c.sd_id));
    EXPECT_EQ((*ev)["sd"][c.sd_id], c.sd_element);
  } else if (ev->contains("sd")) {
    for (const auto& [id, params] : (*ev)["sd"].items()) EXPECT_EQ(id, "timeQuality");
  }
  EXPECT_TRUE(ev->contains("received_at"));
  EXPECT_EQ(daemon.input_messages(c.input), 1);
  EXPECT_EQ(daemon.input_errors(c.input), 0);

  // Exactly one event: no duplicate, no stray frame from the readiness probes. The clean
  // shutdown flushes the archive.
  EXPECT_EQ(daemon.stop(), 0);
  EXPECT_EQ(daemon.events().size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(real_logger, logger_to_tocsin, ::testing::ValuesIn(logger_cases),
                         [](const auto& info) { return info.param.name; });

// Several lines on stdin become several frames on one TCP connection, in order, whatever the
// framing.
TEST(logger_to_tocsin_stream, several_frames_on_one_connection_keep_order) {
  for (const std::string framing : {"--octet-count", "--rfc5424", "--rfc3164"}) {
    SCOPED_TRACE(framing);
    tocsin_daemon daemon;
    const std::string tag = "lg-multi";
    const auto sent = run_command({"logger", "-n", "127.0.0.1", "-P",
                                   std::to_string(daemon.syslog_port()), "-T", framing, "-t", tag},
                                  "first line\nsecond line\nthird line\n");
    ASSERT_EQ(sent.exit_code, 0) << sent.stderr_text;
    ASSERT_TRUE(wait_until([&] { return daemon.events().size() >= 3; }, patience))
        << "archived " << daemon.events().size() << " of 3 events";
    const auto events = daemon.events();
    ASSERT_EQ(events.size(), 3u);
    const std::vector<std::string> expected = {"first line", "second line", "third line"};
    for (std::size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(text_field(events[i], "message"), expected[i]) << events[i].dump();
      EXPECT_EQ(text_field(events[i], "app"), tag);
      EXPECT_EQ(text_field(events[i], "input"), "syslog-tcp");
    }
    EXPECT_EQ(daemon.input_messages("syslog-tcp"), 3);
    EXPECT_EQ(daemon.input_errors("syslog-tcp"), 0);
    EXPECT_GT(daemon.metric("tocsin_input_bytes_total", {{"input", "syslog-tcp"}}), 0);
  }
}

}  // namespace
}  // namespace tocsin::test
