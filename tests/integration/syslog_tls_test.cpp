// Syslog over TLS (RFC 5425) into a real tocsin: a real rsyslogd forwards over TLS with a client
// certificate (omfwd with rsyslog-openssl's "ossl" stream driver), checking tocsin's server
// certificate by name. A permitted certificate gets its message archived; a certificate from an
// unknown CA and one with a name outside permitted_peers get nothing in and are counted. The
// `openssl s_client` tool checks that TLS 1.1 is refused and TLS 1.2 works.

#include "tests/integration/tocsin_daemon.hpp"
#include "tests/support/test_certs.hpp"

#include <gtest/gtest.h>

#include <iostream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace tocsin::test {
namespace {

// Certificates for one test: a CA tocsin trusts, tocsin's server certificate for
// localhost/127.0.0.1, and client certificates (two from the CA, one from a CA nobody trusts).
struct tls_files {
  temp_dir dir{"tocsin-it-tls-certs"};
  test_ca ca{dir.path(), "ca"};
  test_ca unknown_ca{dir.path(), "unknown-ca"};
  cert_files server = ca.issue("server", {"localhost", {"localhost"}, {"127.0.0.1"}});
  cert_files permitted = ca.issue("relay1", {"relay1", {"relay1.example.com"}, {}});
  cert_files not_permitted = ca.issue("relay-org", {"relay1", {"relay1.example.org"}, {}});
  cert_files unknown = unknown_ca.issue("stranger", {"stranger", {"relay2.example.com"}, {}});
};

// tocsin with the four standard inputs plus `syslog-tls` on its own port: client_auth required,
// permitted_peers *.example.com.
daemon_options with_tls_input(const tls_files& files, std::uint16_t tls_port) {
  daemon_options options;
  options.extra_inputs =
      "  - { name: syslog-tls, type: syslog, transport: tls, listen: 127.0.0.1:" +
      std::to_string(tls_port) + ",\n      tls: { cert: " + files.server.cert.string() +
      ", key: " + files.server.key.string() + ", ca: " + files.ca.files().cert.string() +
      ", client_auth: required, permitted_peers: [\"*.example.com\"] } }\n";
  return options;
}

// rsyslogd in the foreground: one plain TCP input (for logger) bound to a ruleset that forwards
// to tocsin over TLS, octet-counted RFC 5424, presenting `client` and accepting only a server
// certificate for "localhost" signed by `ca`. Like syslog_rsyslog_test's forwarder it loads no
// local inputs; its own messages go to a file in its temp dir.
class rsyslog_tls_forwarder {
 public:
  rsyslog_tls_forwarder(std::uint16_t tocsin_tls_port, const std::filesystem::path& ca,
                        const cert_files& client)
      : input_port_(free_port()) {
    std::ostringstream conf;
    conf << "global(workDirectory=\"" << (dir_ / "work").string()
         << "\" processInternalMessages=\"on\"\n"
         << "       defaultNetstreamDriverCAFile=\"" << ca.string() << "\"\n"
         << "       defaultNetstreamDriverCertFile=\"" << client.cert.string() << "\"\n"
         << "       defaultNetstreamDriverKeyFile=\"" << client.key.string() << "\")\n"
         << "module(load=\"imtcp\")\n"
         << "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" << input_port_
         << "\" ruleset=\"fwd_tls\")\n"
         << "ruleset(name=\"fwd_tls\") {\n"
         << "  action(type=\"omfwd\" target=\"127.0.0.1\" port=\"" << tocsin_tls_port
         << "\" protocol=\"tcp\" StreamDriver=\"ossl\" StreamDriverMode=\"1\""
            " StreamDriverAuthMode=\"x509/name\" StreamDriverPermittedPeers=\"localhost\""
            " TCP_Framing=\"octet-counted\" template=\"RSYSLOG_SyslogProtocol23Format\""
            " action.resumeInterval=\"1\")\n"
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
    if (!wait_for_tcp(input_port_, patience)) {
      throw std::runtime_error("rsyslogd did not start listening:\n" + log_text());
    }
  }

  ~rsyslog_tls_forwarder() {
    if (process_ && process_->running()) process_->stop();
    if (::testing::Test::HasFailure()) {
      std::cerr << "---- rsyslogd output and internal log ----\n" << log_text() << "----\n";
    }
  }
  rsyslog_tls_forwarder(const rsyslog_tls_forwarder&) = delete;
  rsyslog_tls_forwarder& operator=(const rsyslog_tls_forwarder&) = delete;

  // Sends one RFC 5424 message through rsyslog with logger.
  void send(const std::string& tag, const std::string& message) const {
    const auto sent =
        run_command({"logger", "-n", "127.0.0.1", "-P", std::to_string(input_port_), "-T",
                     "--rfc5424", "--msgid", "TLSTEST", "-t", tag, "-p", "auth.warning", message});
    ASSERT_EQ(sent.exit_code, 0) << sent.stderr_text;
  }

  [[nodiscard]] std::string log_text() const {
    std::string out;
    for (const char* name : {"rsyslogd.out", "rsyslogd.err", "internal.log"}) {
      out += read_file_if_present(dir_ / name);
    }
    return out;
  }

 private:
  temp_dir dir_{"tocsin-it-rsyslog-tls"};
  std::uint16_t input_port_ = 0;
  std::unique_ptr<child_process> process_;
};

bool any_event_with_app(const tocsin_daemon& daemon, const std::string& app) {
  for (const auto& ev : daemon.events()) {
    if (text_field(ev, "app") == app) return true;
  }
  return false;
}

class syslog_tls : public ::testing::Test {
 protected:
  tls_files files_;
  std::uint16_t tls_port_ = free_port();
  tocsin_daemon daemon_{with_tls_input(files_, tls_port_)};
};

TEST_F(syslog_tls, rsyslog_with_a_permitted_certificate_gets_its_message_archived) {
  rsyslog_tls_forwarder rsyslog(tls_port_, files_.ca.files().cert, files_.permitted);
  rsyslog.send("tls-ok", "login over tls from relay1");

  const auto ev = daemon_.wait_for_event_with("app", "tls-ok");
  ASSERT_TRUE(ev) << "no archived event with app tls-ok";
  SCOPED_TRACE(ev->dump());
  std::string message = text_field(*ev, "message");
  message.erase(0, message.find_first_not_of(' '));
  EXPECT_EQ(message, "login over tls from relay1");
  EXPECT_EQ(text_field(*ev, "input"), "syslog-tls");
  EXPECT_EQ(text_field(*ev, "format"), "rfc5424");
  EXPECT_EQ(text_field(*ev, "facility"), "auth");
  EXPECT_EQ(text_field(*ev, "severity"), "warning");
  EXPECT_EQ(text_field(*ev, "msgid"), "TLSTEST");
  EXPECT_EQ(text_field(*ev, "host").rfind(short_hostname(), 0), 0u);
  EXPECT_EQ(text_field(*ev, "source").rfind("127.0.0.1:", 0), 0u);
  EXPECT_EQ(daemon_.input_messages("syslog-tls"), 1);
  EXPECT_EQ(daemon_.input_errors("syslog-tls"), 0);
}

TEST_F(syslog_tls, a_client_certificate_from_an_unknown_ca_is_refused_in_the_handshake) {
  rsyslog_tls_forwarder rsyslog(tls_port_, files_.ca.files().cert, files_.unknown);
  rsyslog.send("tls-stranger", "must not arrive");

  ASSERT_TRUE(daemon_.wait_for_metric("tocsin_input_errors_total",
                                      {{"input", "syslog-tls"}, {"reason", "tls_handshake"}},
                                      [](double v) { return v >= 1; }));
  EXPECT_FALSE(any_event_with_app(daemon_, "tls-stranger"));
  EXPECT_EQ(daemon_.input_messages("syslog-tls"), 0);
  EXPECT_EQ(daemon_.input_errors("syslog-tls", "peer_not_permitted"), 0);
  const auto log = daemon_.log_text();
  EXPECT_NE(log.find("input syslog-tls: rejected from 127.0.0.1:"), std::string::npos) << log;
  EXPECT_NE(log.find("certificate verify failed"), std::string::npos) << log;
}

TEST_F(syslog_tls, a_client_certificate_outside_permitted_peers_is_refused) {
  rsyslog_tls_forwarder rsyslog(tls_port_, files_.ca.files().cert, files_.not_permitted);
  rsyslog.send("tls-org", "must not arrive either");

  ASSERT_TRUE(daemon_.wait_for_metric("tocsin_input_errors_total",
                                      {{"input", "syslog-tls"}, {"reason", "peer_not_permitted"}},
                                      [](double v) { return v >= 1; }));
  EXPECT_FALSE(any_event_with_app(daemon_, "tls-org"));
  EXPECT_EQ(daemon_.input_messages("syslog-tls"), 0);
  EXPECT_EQ(daemon_.input_errors("syslog-tls", "tls_handshake"), 0);
  const auto log = daemon_.log_text();
  EXPECT_NE(log.find("client certificate names [relay1.example.org] match no permitted_peers"),
            std::string::npos)
      << log;
}

// openssl s_client: TLS 1.1 gets no session; TLS 1.2 with a permitted certificate delivers.
TEST_F(syslog_tls, openssl_s_client_tls_1_1_is_refused_and_tls_1_2_delivers) {
  const std::vector<std::string> client = {"openssl",
                                           "s_client",
                                           "-connect",
                                           "127.0.0.1:" + std::to_string(tls_port_),
                                           "-CAfile",
                                           files_.ca.files().cert.string(),
                                           "-verify_return_error",
                                           "-verify_hostname",
                                           "localhost",
                                           "-cert",
                                           files_.permitted.cert.string(),
                                           "-key",
                                           files_.permitted.key.string()};

  auto old = client;
  // OpenSSL 3 clients need security level 0 to offer TLS 1.1 at all.
  old.insert(old.end(), {"-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"});
  const auto refused = run_command(old, "<12>1 - - s-client-old - - - must not arrive\n");
  EXPECT_NE(refused.exit_code, 0) << refused.stdout_text << refused.stderr_text;
  ASSERT_TRUE(daemon_.wait_for_metric("tocsin_input_errors_total",
                                      {{"input", "syslog-tls"}, {"reason", "tls_handshake"}},
                                      [](double v) { return v >= 1; }));
  EXPECT_NE(daemon_.log_text().find("unsupported protocol"), std::string::npos);

  auto modern = client;
  modern.push_back("-tls1_2");
  const auto sent =
      run_command(modern, "<12>1 2024-05-01T10:00:00Z relay1 s-client 42 - - hello over tls\n");
  EXPECT_EQ(sent.exit_code, 0) << sent.stdout_text << sent.stderr_text;
  EXPECT_NE(sent.stdout_text.find("Verify return code: 0 (ok)"), std::string::npos)
      << sent.stdout_text;
  const auto ev = daemon_.wait_for_event_with("app", "s-client");
  ASSERT_TRUE(ev) << "no archived event from s_client";
  EXPECT_EQ(text_field(*ev, "message"), "hello over tls");
  EXPECT_EQ(text_field(*ev, "host"), "relay1");
  EXPECT_EQ(text_field(*ev, "input"), "syslog-tls");
  EXPECT_FALSE(any_event_with_app(daemon_, "s-client-old"));
}

}  // namespace
}  // namespace tocsin::test
