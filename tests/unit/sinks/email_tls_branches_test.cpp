// Email TLS choices the main email tests leave out: a smarthost on port 465 gets implicit TLS
// (smtps, RFC 8314: the client speaks TLS first instead of waiting for the 220 greeting), and a
// tls.ca_file that exists but holds no certificate is a permanent failure, not retried.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "sinks/notifier_email.hpp"
#include "tests/support/support.hpp"
#include "tests/unit/sinks/receiver_yaml.hpp"

namespace tocsin::sinks {
namespace {

using namespace std::chrono_literals;
using outcome = delivery_result::outcome;
using settings_map = std::map<std::string, nlohmann::json>;

config::receiver_config make_receiver(std::uint16_t port, const settings_map& extra = {}) {
  settings_map settings = {{"smarthost", "127.0.0.1:" + std::to_string(port)},
                           {"from", "alerts@example.com"},
                           {"to", nlohmann::json::array({"ops@example.com"})},
                           {"require_tls", false}};
  for (const auto& [k, v] : extra) settings[k] = v;
  return test_receivers::load("ops-mail", "email", settings);
}

notification one_alert() {
  notification n;
  n.receiver = "ops-mail";
  n.group_key = "g";
  rules::alert a;
  a.labels = {{"alertname", "disk-full"}};
  a.starts_at = std::chrono::system_clock::time_point(1795666255120ms);
  a.firing = true;
  a.fingerprint = rules::fingerprint(a.labels);
  n.alerts = {a};
  return n;
}

TEST(email_tls_branches, port_465_speaks_tls_first) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  const int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(465);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 1) != 0) {
    ::close(listener);
    GTEST_SKIP() << "cannot listen on 127.0.0.1:465 here";
  }
  // Plays a server that says nothing: a plain-SMTP client would wait for its greeting, an
  // smtps one starts the TLS handshake (a record of type 22).
  int first_byte = -1;
  std::thread server([&] {
    const int conn = ::accept(listener, nullptr, nullptr);
    if (conn < 0) return;
    pollfd p{conn, POLLIN, 0};
    unsigned char byte = 0;
    if (::poll(&p, 1, 10000) == 1 && ::recv(conn, &byte, 1, 0) == 1) first_byte = byte;
    ::close(conn);
  });
  const delivery_result result = make_email_notifier(make_receiver(465))->send(one_alert());
  server.join();
  ::close(listener);
  EXPECT_EQ(first_byte, 0x16);
  EXPECT_EQ(result.result, outcome::retry) << result.detail;  // the handshake was cut: transient
}

TEST(email_tls_branches, a_ca_file_without_a_certificate_is_permanent) {
  test::temp_dir certs("email-certs");
  const test::test_ca ca(certs.path(), "ca");
  (void)ca.issue("server", {"localhost", {"localhost"}, {"127.0.0.1"}});
  test::smtp_server server({"--tls-cert", (certs / "server.crt").string(), "--tls-key",
                            (certs / "server.key").string()});
  const auto not_a_ca = certs.write_file("garbage.crt", "this is no PEM certificate\n");
  const delivery_result result =
      make_email_notifier(
          make_receiver(server.port(), {{"require_tls", true}, {"tls.ca_file", not_a_ca.string()}}))
          ->send(one_alert());
  EXPECT_EQ(result.result, outcome::permanent) << result.detail;
  EXPECT_TRUE(server.messages().empty());
}

}  // namespace
}  // namespace tocsin::sinks
