// A real rsyslogd as a forwarder in front of tocsin: logger → rsyslog (imtcp) → omfwd over TCP,
// once as octet-counted RFC 5424 (RSYSLOG_SyslogProtocol23Format) and once in the legacy
// LF-framed RSYSLOG_ForwardFormat; asserts on what tocsin archived.

#include "tests/integration/tocsin_daemon.hpp"

#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace tocsin::test {
namespace {

// rsyslogd in the foreground with two TCP inputs, each bound to a ruleset that forwards to
// tocsin in one format. It loads no imuxsock/imklog (only what the config names), so it never
// touches /dev/log or the kernel log; its own messages go to a file in its temp dir.
class rsyslog_forwarder {
 public:
  explicit rsyslog_forwarder(std::uint16_t tocsin_port) {
    std::set<std::uint16_t> ports;
    while (ports.size() < 2) ports.insert(free_port());
    rfc5424_port_ = *ports.begin();
    legacy_port_ = *ports.rbegin();
    const std::string target = std::to_string(tocsin_port);
    std::ostringstream conf;
    conf << "global(workDirectory=\"" << (dir_ / "work").string()
         << "\" processInternalMessages=\"on\")\n"
         << "module(load=\"imtcp\")\n"
         << "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" << rfc5424_port_
         << "\" ruleset=\"fwd_rfc5424\")\n"
         << "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" << legacy_port_
         << "\" ruleset=\"fwd_legacy\")\n"
         << "ruleset(name=\"fwd_rfc5424\") {\n"
         << "  action(type=\"omfwd\" target=\"127.0.0.1\" port=\"" << target
         << "\" protocol=\"tcp\" TCP_Framing=\"octet-counted\""
            " template=\"RSYSLOG_SyslogProtocol23Format\")\n"
         << "}\n"
         << "ruleset(name=\"fwd_legacy\") {\n"
         << "  action(type=\"omfwd\" target=\"127.0.0.1\" port=\"" << target
         << "\" protocol=\"tcp\" template=\"RSYSLOG_ForwardFormat\")\n"
         << "}\n"
         << "*.* action(type=\"omfile\" file=\"" << (dir_ / "internal.log").string() << "\")\n";
    std::filesystem::create_directories(dir_ / "work");
    const auto conf_path = dir_.write_file("rsyslog.conf", conf.str());

    process_options po;
    po.stdout_path = dir_ / "rsyslogd.out";
    po.stderr_path = dir_ / "rsyslogd.err";
    process_ = std::make_unique<child_process>(
        std::vector<std::string>{"rsyslogd", "-n", "-f", conf_path.string(), "-i",
                                 (dir_ / "rsyslogd.pid").string()},
        po);
    if (!wait_for_tcp(rfc5424_port_, patience) || !wait_for_tcp(legacy_port_, patience)) {
      throw std::runtime_error("rsyslogd did not start listening:\n" + log_text());
    }
  }

  ~rsyslog_forwarder() {
    if (process_ && process_->running()) process_->stop();
    if (::testing::Test::HasFailure()) {
      std::cerr << "---- rsyslogd output and internal log ----\n" << log_text() << "----\n";
    }
  }
  rsyslog_forwarder(const rsyslog_forwarder&) = delete;
  rsyslog_forwarder& operator=(const rsyslog_forwarder&) = delete;

  [[nodiscard]] std::uint16_t rfc5424_port() const { return rfc5424_port_; }
  [[nodiscard]] std::uint16_t legacy_port() const { return legacy_port_; }

  [[nodiscard]] std::string log_text() const {
    std::string out;
    for (const char* name : {"rsyslogd.out", "rsyslogd.err", "internal.log"}) {
      out += read_file_if_present(dir_ / name);
    }
    return out;
  }

 private:
  temp_dir dir_{"tocsin-it-rsyslog"};
  std::uint16_t rfc5424_port_ = 0, legacy_port_ = 0;
  std::unique_ptr<child_process> process_;
};

struct forward_case {
  std::string name;
  bool via_legacy;                  // which rsyslog ruleset the message goes through
  std::vector<std::string> logger;  // logger's format flags into rsyslog
  std::string tag;
  std::string priority;
  std::string message;
  // What tocsin must make of it.
  std::string format;
  std::string facility;
  std::string severity;
  std::string procid;  // empty: absent
  std::string msgid;   // empty: absent
};

void PrintTo(const forward_case& c, std::ostream* os) { *os << c.name; }

const std::vector<forward_case> forward_cases = {
    // omfwd octet-counted, RFC 5424 with the LF rsyslog puts inside the counted bytes.
    {"rfc5424_octet_counted",
     false,
     {"--rfc5424", "--msgid", "LOGIN", "--id=2001"},
     "rs-5424",
     "local4.notice",
     "user alice logged in",
     "rfc5424",
     "local4",
     "notice",
     "2001",
     "LOGIN"},
    // A legacy message converted to RFC 5424 by rsyslog.
    {"rfc3164_in_rfc5424_out",
     false,
     {"--rfc3164"},
     "rs-3to5",
     "daemon.warning",
     "converted by rsyslog",
     "rfc5424",
     "daemon",
     "warning",
     "",
     ""},
    // The legacy forward format: RFC 3339 timestamp in an RFC 3164 header, LF framing.
    {"legacy_forward_format",
     true,
     {"--rfc3164"},
     "rs-legacy",
     "mail.err",
     "relay denied",
     "rfc3164",
     "mail",
     "err",
     "",
     ""},
    // From RFC 5424 input rsyslog writes the tag without a colon ("app[pid] msg").
    {"legacy_forward_tag_without_colon",
     true,
     {"--rfc5424", "--id=777"},
     "rs-nocolon",
     "local2.info",
     "tag has no colon here",
     "rfc3164",
     "local2",
     "info",
     "777",
     ""},
};

class rsyslog_to_tocsin : public ::testing::TestWithParam<forward_case> {};

TEST_P(rsyslog_to_tocsin, archives_the_forwarded_event) {
  const forward_case& c = GetParam();
  tocsin_daemon daemon;
  rsyslog_forwarder rsyslog(daemon.syslog_port());

  std::vector<std::string> argv = {
      "logger",
      "-n",
      "127.0.0.1",
      "-P",
      std::to_string(c.via_legacy ? rsyslog.legacy_port() : rsyslog.rfc5424_port()),
      "-T",
      "-t",
      c.tag,
      "-p",
      c.priority};
  argv.insert(argv.end(), c.logger.begin(), c.logger.end());
  argv.push_back(c.message);
  const auto sent = run_command(argv);
  ASSERT_EQ(sent.exit_code, 0) << sent.stderr_text;

  const auto ev = daemon.wait_for_event_with("app", c.tag);
  ASSERT_TRUE(ev) << "no archived event with app " << c.tag;
  SCOPED_TRACE(ev->dump());

  // rsyslog keeps the space that follows a legacy tag as part of MSG; RFC 5424 output then has
  // it after the SD's separator. Compare the text itself.
  std::string message = text_field(*ev, "message");
  message.erase(0, message.find_first_not_of(' '));
  EXPECT_EQ(message, c.message);
  EXPECT_EQ(text_field(*ev, "format"), c.format);
  EXPECT_EQ(text_field(*ev, "facility"), c.facility);
  EXPECT_EQ(text_field(*ev, "severity"), c.severity);
  EXPECT_EQ(text_field(*ev, "host").rfind(short_hostname(), 0), 0u);
  EXPECT_EQ(text_field(*ev, "input"), "syslog-tcp");
  EXPECT_EQ(text_field(*ev, "source").rfind("127.0.0.1:", 0), 0u);
  EXPECT_EQ(text_field(*ev, "procid"), c.procid);
  EXPECT_EQ(text_field(*ev, "msgid"), c.msgid);
  // rsyslog writes RFC 3339 timestamps in both templates, with an offset.
  EXPECT_TRUE(std::regex_match(
      text_field(*ev, "timestamp"),
      std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?([+-]\d\d:\d\d|Z))")));
  EXPECT_EQ(daemon.input_errors("syslog-tcp"), 0);
}

INSTANTIATE_TEST_SUITE_P(real_rsyslog, rsyslog_to_tocsin, ::testing::ValuesIn(forward_cases),
                         [](const auto& info) { return info.param.name; });

// Both forwarding paths of one rsyslogd at once, several messages each: all arrive, in order per
// path, none twice.
TEST(rsyslog_to_tocsin_stream, both_formats_many_messages) {
  tocsin_daemon daemon;
  rsyslog_forwarder rsyslog(daemon.syslog_port());
  constexpr int per_path = 20;
  std::string lines;
  for (int i = 0; i < per_path; ++i) lines += "message number " + std::to_string(i) + "\n";
  for (const auto& [port, tag] :
       {std::pair{rsyslog.rfc5424_port(), std::string("rs-many-5424")},
        std::pair{rsyslog.legacy_port(), std::string("rs-many-legacy")}}) {
    const auto sent = run_command(
        {"logger", "-n", "127.0.0.1", "-P", std::to_string(port), "-T", "--rfc5424", "-t", tag},
        lines);
    ASSERT_EQ(sent.exit_code, 0) << sent.stderr_text;
  }
  ASSERT_TRUE(wait_until([&] { return daemon.events().size() >= 2 * per_path; }, patience))
      << "archived " << daemon.events().size() << " of " << 2 * per_path;

  std::map<std::string, std::vector<std::string>> by_app;
  std::map<std::string, std::set<std::string>> formats;
  for (const auto& ev : daemon.events()) {
    by_app[text_field(ev, "app")].push_back(text_field(ev, "message"));
    formats[text_field(ev, "app")].insert(text_field(ev, "format"));
  }
  for (const std::string tag : {"rs-many-5424", "rs-many-legacy"}) {
    SCOPED_TRACE(tag);
    ASSERT_EQ(by_app[tag].size(), static_cast<std::size_t>(per_path));
    for (int i = 0; i < per_path; ++i) {
      EXPECT_EQ(by_app[tag][i], "message number " + std::to_string(i));
    }
  }
  EXPECT_EQ(formats["rs-many-5424"], std::set<std::string>{"rfc5424"});
  EXPECT_EQ(formats["rs-many-legacy"], std::set<std::string>{"rfc3164"});
  EXPECT_EQ(daemon.input_messages("syslog-tcp"), 2 * per_path);
  EXPECT_EQ(daemon.input_errors("syslog-tcp"), 0);
}

}  // namespace
}  // namespace tocsin::test
