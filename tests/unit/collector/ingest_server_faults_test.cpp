// The ingest server's fault paths: accept() failing with EMFILE (the listener backs off 100 ms
// between tries instead of spinning, and serves the waiting connection once descriptors are
// free), and a TLS client that connects and never starts its handshake (cut off after the
// handshake time limit and counted, even with idle_timeout off).

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "collector/ingest_server.hpp"
#include "tests/support/support.hpp"
#include "tests/support/test_certs.hpp"

namespace tocsin::collector {
namespace {

using namespace std::chrono_literals;

class recording_sink final : public event_sink {
 public:
  [[nodiscard]] bool accepting() const override { return true; }
  void consume(const event& ev) override {
    std::lock_guard lock(mutex_);
    messages_.emplace_back(ev.message);
  }
  std::vector<std::string> messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> messages_;
};

config::config one_input(std::uint16_t port, config::transport t) {
  config::config cfg;
  cfg.inputs.push_back({.name = "in",
                        .type = config::input_type::syslog,
                        .transport_kind = t,
                        .listen = {"127.0.0.1", port}});
  return cfg;
}

bool connect_to(int fd, std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
}

std::string line(const std::string& message) {
  return "<13>1 2026-11-26T04:10:55Z h app - - - " + message + "\n";
}

bool send_text(int fd, std::string_view data) {
  return ::send(fd, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
}

// True when the server closed `fd` within `timeout` (EOF or reset).
bool closed_by_server(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return false;
  char byte;
  return ::recv(fd, &byte, 1, MSG_DONTWAIT) <= 0;
}

std::uint64_t errors(metrics_registry& metrics, const std::string& reason) {
  return metrics.get_counter("tocsin_input_errors_total", "", {{"input", "in"}, {"reason", reason}})
      .value();
}

// Issue 11's admin listener fix, for the ingest listeners: with the descriptor table full,
// accept() fails with EMFILE as long as the connection waits in the backlog.
TEST(ingest_server_faults, accept_failing_with_emfile_backs_off_and_serving_resumes) {
#ifdef TOCSIN_SANITIZED
  // The sanitizer runtimes need descriptors of their own (UBSan checks memory through a pipe).
  GTEST_SKIP() << "needs a process whose descriptor table may be full (not under sanitizers)";
#endif
  const auto port = test::free_port();
  recording_sink sink;
  metrics_registry metrics;
  const auto cfg = one_input(port, config::transport::tcp);  // the server keeps a reference
  ingest_server server(cfg, sink, metrics, 1);
  server.start();

  // Made before the table is full; it connects after, and the kernel completes the handshake
  // while the server's accept() has no descriptor for it.
  const int late = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(late, 0);

  // A soft limit at the lowest free descriptor: every lower one is taken, so nothing can open.
  const int probe = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(probe, 0);
  ::close(probe);
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit full = saved;
  full.rlim_cur = static_cast<rlim_t>(probe);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &full), 0);
  const int refused = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const int open_errno = errno;

  const auto started = std::chrono::steady_clock::now();
  const bool connected = connect_to(late, port) && send_text(late, line("waited"));
  const bool retried = test::wait_until([&] { return errors(metrics, "accept_failed") >= 3; }, 10s);
  const auto waited = std::chrono::steady_clock::now() - started;
  const std::uint64_t failures = errors(metrics, "accept_failed");
  const bool served_while_full = !sink.messages().empty();

  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  EXPECT_EQ(refused, -1);
  EXPECT_EQ(open_errno, EMFILE);
  ASSERT_TRUE(connected);
  EXPECT_TRUE(retried) << failures << " failed accepts";
  EXPECT_FALSE(served_while_full);
  // One try per 100 ms at most (a loaded machine only makes fewer): not a spin of thousands.
  EXPECT_LE(failures, static_cast<std::uint64_t>(waited / 50ms) + 3) << "the accept loop spins";

  // Descriptors are back: the connection that waited is served, and so is a new one.
  EXPECT_TRUE(test::wait_until([&] { return sink.messages().size() == 1; }, 10s));
  const int next = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_TRUE(connect_to(next, port) && send_text(next, line("next")));
  EXPECT_TRUE(test::wait_until([&] { return sink.messages().size() == 2; }, 10s));
  EXPECT_EQ(sink.messages(), (std::vector<std::string>{"waited", "next"}));
  ::close(late);
  ::close(next);
  server.stop();
}

TEST(ingest_server_faults, a_tls_client_that_never_says_hello_is_cut_off_after_the_time_limit) {
  test::temp_dir dir("tocsin-tls-silent");
  const test::test_ca ca(dir.path(), "ca");
  const auto server_cert = ca.issue("server", {"localhost", {"localhost"}, {"127.0.0.1"}});
  const auto port = test::free_port();
  auto cfg = one_input(port, config::transport::tls);
  cfg.inputs[0].tls =
      config::tls_config{.cert = server_cert.cert.string(), .key = server_cert.key.string()};
  // No idle timeout: only the handshake limit (10 s) can end this connection.
  cfg.limits.idle_timeout = std::chrono::seconds(0);
  recording_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 1);
  server.start();

  const int silent = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_TRUE(connect_to(silent, port));
  EXPECT_TRUE(closed_by_server(silent, 60s)) << "a silent TLS client holds its connection";
  EXPECT_TRUE(test::wait_until([&] { return errors(metrics, "tls_handshake") == 1; }, 10s));
  ::close(silent);
  server.stop();
}

}  // namespace
}  // namespace tocsin::collector
