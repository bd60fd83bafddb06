// The ingest server against a controllable sink: TCP backpressure pauses reading until the sink
// accepts again (nothing lost), and UDP datagrams arriving while it is full are dropped and
// counted.

#include "collector/ingest_server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "core/fd_budget.hpp"
#include "tests/support/support.hpp"
#include "tests/support/test_certs.hpp"

namespace tocsin::collector {
namespace {

using namespace std::chrono_literals;

class switchable_sink final : public event_sink {
 public:
  [[nodiscard]] bool accepting() const override {
    const bool open = open_.load();
    if (!open) ++refusals_;
    return open;
  }
  void consume(const event& ev) override {
    std::lock_guard lock(mutex_);
    messages_.emplace_back(ev.message);
    sources_.emplace_back(ev.source);
  }
  void set_open(bool open) { open_ = open; }
  // How often accepting() said no: each time, a session held back what it could have read.
  [[nodiscard]] int refusals() const { return refusals_.load(); }
  std::vector<std::string> messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  std::vector<std::string> sources() const {
    std::lock_guard lock(mutex_);
    return sources_;
  }

 private:
  std::atomic<bool> open_{true};
  mutable std::atomic<int> refusals_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> messages_;
  std::vector<std::string> sources_;
};

config::config two_inputs(std::uint16_t port) {
  config::config cfg;
  cfg.inputs.push_back({.name = "tcp",
                        .type = config::input_type::syslog,
                        .transport_kind = config::transport::tcp,
                        .listen = {"127.0.0.1", port}});
  cfg.inputs.push_back({.name = "udp",
                        .type = config::input_type::syslog,
                        .transport_kind = config::transport::udp,
                        .listen = {"127.0.0.1", port}});
  return cfg;
}

int connect_tcp(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  return fd;
}

TEST(ingest_server, tcp_pauses_while_the_sink_is_full_and_loses_nothing) {
  const auto port = test::free_port();
  const auto cfg = two_inputs(port);
  switchable_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 2);
  server.start();

  const int fd = connect_tcp(port);
  const std::string first = "<13>1 2026-11-26T04:10:55Z h app - - - first\n";
  ASSERT_EQ(::write(fd, first.data(), first.size()), static_cast<ssize_t>(first.size()));
  ASSERT_TRUE(test::wait_until([&] { return sink.messages().size() == 1; }, 5s));

  const auto burst = [](const std::string& tag) {
    std::string out;
    for (int i = 0; i < 100; ++i) {
      out += "<13>1 2026-11-26T04:10:55Z h app - - - " + tag + std::to_string(i) + "\n";
    }
    return out;
  };
  // The read already in flight when the sink fills up still completes (at most one buffer);
  // after that the session stops reading.
  sink.set_open(false);
  const std::string a = burst("a");
  ASSERT_EQ(::write(fd, a.data(), a.size()), static_cast<ssize_t>(a.size()));
  ASSERT_TRUE(test::wait_until([&] { return sink.messages().size() == 101; }, 5s));
  const std::string b = burst("b");
  // The session polls the sink while it is paused: a few more refusals after `b` was written
  // are a few chances it had to read `b` and did not take.
  const int refusals = sink.refusals();
  ASSERT_EQ(::write(fd, b.data(), b.size()), static_cast<ssize_t>(b.size()));
  ASSERT_TRUE(test::wait_until([&] { return sink.refusals() >= refusals + 5; }, 5s));
  EXPECT_EQ(sink.messages().size(), 101U) << "read while the sink was full";

  sink.set_open(true);
  ASSERT_TRUE(test::wait_until([&] { return sink.messages().size() == 201; }, 5s))
      << sink.messages().size();
  EXPECT_EQ(sink.messages().back(), "b99");
  ::close(fd);
}

// DESIGN.md, "Hostile and broken input": a connection paused by backpressure is not idle. Before
// the fix the idle timeout closed it with bytes the kernel had acknowledged still unread (the
// sender saw a reset and the messages were lost).
TEST(ingest_server, a_connection_paused_longer_than_idle_timeout_is_kept_and_loses_nothing) {
  const auto port = test::free_port();
  auto cfg = two_inputs(port);
  cfg.limits.idle_timeout = 300ms;
  switchable_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 1);
  server.start();

  sink.set_open(false);
  const int fd = connect_tcp(port);
  std::string lines;
  for (int i = 0; i < 200; ++i) {
    lines += "<13>1 2026-11-26T04:10:55Z h app - - - m" + std::to_string(i) + "\n";
  }
  ASSERT_EQ(::send(fd, lines.data(), lines.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(lines.size()));
  std::this_thread::sleep_for(1200ms);  // the scenario: four idle timeouts while the sink refuses
  sink.set_open(true);
  ASSERT_TRUE(test::wait_until([&] { return sink.messages().size() == 200; }, 5s))
      << sink.messages().size() << " of 200 arrived";

  // The connection is still usable, and is closed only once it is really idle.
  const std::string more = "<13>1 2026-11-26T04:10:55Z h app - - - after\n";
  ASSERT_EQ(::send(fd, more.data(), more.size(), MSG_NOSIGNAL), static_cast<ssize_t>(more.size()));
  ASSERT_TRUE(test::wait_until([&] { return sink.messages().size() == 201; }, 5s));
  EXPECT_EQ(sink.messages().back(), "after");
  char byte;
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  EXPECT_EQ(::recv(fd, &byte, 1, 0), 0) << "an idle connection is closed cleanly, not reset";
  auto& reset = metrics.get_counter("tocsin_input_errors_total", "", {{"input", "tcp"}});
  EXPECT_EQ(reset.value(), 0U);
  ::close(fd);
}

TEST(ingest_server, a_throttled_connection_is_not_idle) {
  const auto port = test::free_port();
  auto cfg = two_inputs(port);
  cfg.limits.idle_timeout = 300ms;
  cfg.limits.per_source_rate = 20;
  cfg.limits.burst = 1;
  switchable_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 1);
  server.start();

  const int fd = connect_tcp(port);
  std::string lines;
  for (int i = 0; i < 30; ++i) {  // 1.5 s at 20 per second, pauses of up to 1.5 s
    lines += "<13>1 2026-11-26T04:10:55Z h app - - - m" + std::to_string(i) + "\n";
  }
  ASSERT_EQ(::send(fd, lines.data(), lines.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(lines.size()));
  ASSERT_TRUE(test::wait_until([&] { return sink.messages().size() == 30; }, 10s))
      << sink.messages().size() << " of 30 arrived";
  // The 30 took their tokens into debt: the session now pauses ~1.5 s, longer than idle_timeout.
  std::this_thread::sleep_for(1s);  // the scenario: idle timeouts pass during that pause
  const std::string more = "<13>1 2026-11-26T04:10:55Z h app - - - after\n";
  ASSERT_EQ(::send(fd, more.data(), more.size(), MSG_NOSIGNAL), static_cast<ssize_t>(more.size()));
  ASSERT_TRUE(test::wait_until([&] { return sink.messages().size() == 31; }, 10s));
  EXPECT_EQ(sink.messages().back(), "after");
  ::close(fd);
}

TEST(ingest_server, udp_drops_are_counted_while_the_sink_is_full) {
  const auto port = test::free_port();
  const auto cfg = two_inputs(port);
  switchable_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 1);
  server.start();
  sink.set_open(false);

  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const std::string msg = "<13>1 2026-11-26T04:10:55Z h app - - - dropped";
  for (int i = 0; i < 5; ++i) {
    ::sendto(fd, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  }
  auto& dropped = metrics.get_counter("tocsin_input_errors_total", "",
                                      {{"input", "udp"}, {"reason", "queue_full"}});
  EXPECT_TRUE(test::wait_until([&] { return dropped.value() == 5; }, 5s)) << dropped.value();
  EXPECT_TRUE(sink.messages().empty());
  ::close(fd);
}

// Holds the shard in consume() at the first event until released, so that what is sent
// meanwhile waits in the socket buffer.
class gated_sink final : public event_sink {
 public:
  [[nodiscard]] bool accepting() const override { return true; }
  void consume(const event& ev) override {
    std::unique_lock lock(mutex_);
    entered_ = true;
    changed_.notify_all();
    changed_.wait(lock, [&] { return open_; });
    messages_.emplace_back(ev.message);
    sources_.emplace_back(ev.source);
  }
  void wait_entered() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return entered_; });
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return messages_.size();
  }
  std::vector<std::string> messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  std::vector<std::string> sources() const {
    std::lock_guard lock(mutex_);
    return sources_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool entered_ = false, open_ = false;
  std::vector<std::string> messages_, sources_;
};

// Datagrams are taken up to 16 a call (recvmmsg), at most 128 per turn of the shard: a backlog
// of 271 is read whole, over several turns, each datagram with its own sender, with nothing sent
// after it to wake the shard again.
TEST(ingest_server, a_udp_backlog_from_several_senders_is_read_whole_with_each_sender) {
  const auto port = test::free_port();
  const auto cfg = two_inputs(port);
  gated_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 1);
  server.start();

  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  constexpr int senders = 3, per_sender = 90;  // small enough for a stock 208 KiB buffer
  std::vector<int> fds;
  std::map<std::string, int> expected;  // source → datagrams
  std::string first_source;
  for (int k = 0; k < senders; ++k) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    sockaddr_in local{};
    socklen_t len = sizeof local;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
    const std::string source = "127.0.0.1:" + std::to_string(ntohs(local.sin_port));
    expected[source] = per_sender;
    if (k == 0) first_source = source;
    fds.push_back(fd);
  }
  const auto send = [&](int k, const std::string& text) {
    const std::string msg = "<13>1 2026-11-26T04:10:55Z h app - - - " + text;
    return ::send(fds[static_cast<std::size_t>(k)], msg.data(), msg.size(), 0) ==
           static_cast<ssize_t>(msg.size());
  };
  ASSERT_TRUE(send(0, "first"));
  sink.wait_entered();  // the shard is held in consume(): the rest waits in the socket buffer
  ++expected[first_source];
  for (int i = 0; i < per_sender; ++i) {
    for (int k = 0; k < senders; ++k) {
      ASSERT_TRUE(send(k, "s" + std::to_string(k) + "-" + std::to_string(i)));
    }
  }
  sink.open();  // and nothing is sent after this
  constexpr std::size_t total = std::size_t{senders} * per_sender + 1;
  ASSERT_TRUE(test::wait_until([&] { return sink.size() == total; }, 5s))
      << sink.size() << " of " << total;
  std::map<std::string, int> seen;
  for (const auto& source : sink.sources()) ++seen[source];
  EXPECT_EQ(seen, expected);
  const auto messages = sink.messages();
  EXPECT_EQ(messages.front(), "first");
  EXPECT_EQ(messages.back(), "s2-89");
  for (const int fd : fds) ::close(fd);
}

TEST(ingest_server, port_in_use_is_a_clear_error) {
  const auto port = test::free_port();
  const int blocker = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(blocker, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(blocker, 1), 0);

  const auto cfg = two_inputs(port);
  switchable_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 1);
  try {
    server.start();
    FAIL() << "bound a port that is in use";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("input tcp: cannot listen on 127.0.0.1:"),
              std::string::npos)
        << e.what();
  }
  ::close(blocker);
}

std::string line(const std::string& message) {
  return "<13>1 2026-11-26T04:10:55Z h app - - - " + message + "\n";
}

bool send_text(int fd, std::string_view data) {
  return ::send(fd, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
}

// True when the server closed `fd` within `timeout` (EOF or reset).
bool closed_by_server(int fd, std::chrono::milliseconds timeout = 5s) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return false;
  char byte;
  return ::recv(fd, &byte, 1, MSG_DONTWAIT) <= 0;
}

double errors(metrics_registry& metrics, const std::string& input, const std::string& reason) {
  return metrics
      .get_counter("tocsin_input_errors_total", "", {{"input", input}, {"reason", reason}})
      .value();
}

TEST(ingest_server, connections_beyond_the_descriptor_budget_are_refused_and_counted) {
  const auto port = test::free_port();
  const auto cfg = two_inputs(port);
  switchable_sink sink;
  metrics_registry metrics;
  fd_budget budget(2);
  ingest_server server(cfg, sink, metrics, 1, &budget);
  server.start();

  const int a = connect_tcp(port), b = connect_tcp(port);
  ASSERT_TRUE(send_text(a, line("a")) && send_text(b, line("b")));
  ASSERT_TRUE(test::wait_until([&] { return sink.messages().size() == 2; }, 5s));
  EXPECT_EQ(budget.in_use(), 2U);
  const int c = connect_tcp(port);
  EXPECT_TRUE(closed_by_server(c)) << "accepted beyond the budget";
  EXPECT_TRUE(test::wait_until([&] { return errors(metrics, "tcp", "fd_budget") == 1; }, 5s));
  EXPECT_EQ(budget.in_use(), 2U);
  ::close(c);

  // A connection that ends gives its descriptor back.
  ::close(a);
  ASSERT_TRUE(test::wait_until([&] { return budget.in_use() == 1; }, 5s));
  const int d = connect_tcp(port);
  ASSERT_TRUE(send_text(d, line("d")));
  EXPECT_TRUE(test::wait_until([&] { return sink.messages().size() == 3; }, 5s));
  ::close(b);
  ::close(d);
  EXPECT_TRUE(test::wait_until([&] { return budget.in_use() == 0; }, 5s));
}

config::config proxied(std::uint16_t port, config::transport t = config::transport::tcp) {
  config::config cfg;
  cfg.inputs.push_back(
      {.name = "lb",
       .type = t == config::transport::http ? config::input_type::gelf : config::input_type::syslog,
       .transport_kind = t,
       .listen = {"127.0.0.1", port},
       .proxy_protocol = true});
  return cfg;
}

std::string v2_header(std::uint8_t command, std::uint8_t family, const std::string& addresses) {
  std::string h("\r\n\r\n\0\r\nQUIT\n", 12);
  h += static_cast<char>(0x20 | command);
  h += static_cast<char>(family);
  h += static_cast<char>(addresses.size() >> 8);
  h += static_cast<char>(addresses.size() & 0xff);
  return h + addresses;
}

TEST(ingest_server, a_proxy_protocol_header_names_the_source) {
  const auto port = test::free_port();
  const auto cfg = proxied(port);
  switchable_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 1);
  server.start();

  // v1, header and first message in one segment: nothing after the header is lost.
  const int v1 = connect_tcp(port);
  ASSERT_TRUE(send_text(v1, "PROXY TCP4 203.0.113.7 10.0.0.1 40000 514\r\n" + line("v1")));
  // v2 INET6, written a few bytes at a time.
  const int v2 = connect_tcp(port);
  std::string addresses(36, '\0');
  addresses[0] = 0x20, addresses[1] = 0x01, addresses[2] = 0x0d,
  addresses[3] = static_cast<char>(0xb8);
  addresses[15] = 7;                                              // 2001:db8::7
  addresses[32] = static_cast<char>(0x9c), addresses[33] = 0x40;  // 40000
  const std::string header = v2_header(1, 0x21, addresses) + line("v2");
  for (std::size_t i = 0; i < header.size(); i += 5) {
    ASSERT_TRUE(send_text(v2, std::string_view(header).substr(i, 5)));
    std::this_thread::sleep_for(2ms);  // the scenario: a slow sender, one piece per segment
  }
  // v2 LOCAL (a health check): the connection's own address.
  const int local = connect_tcp(port);
  ASSERT_TRUE(send_text(local, v2_header(0, 0, "") + line("local")));
  ASSERT_TRUE(test::wait_until([&] { return sink.messages().size() == 3; }, 5s));
  std::map<std::string, std::string> source_of;
  for (std::size_t i = 0; i < 3; ++i) source_of[sink.messages()[i]] = sink.sources()[i];
  EXPECT_EQ(source_of["v1"], "203.0.113.7:40000");
  EXPECT_EQ(source_of["v2"], "[2001:db8::7]:40000");
  EXPECT_EQ(source_of["local"].rfind("127.0.0.1:", 0), 0U) << source_of["local"];
  EXPECT_EQ(errors(metrics, "lb", "proxy_protocol"), 0);
  ::close(v1);
  ::close(v2);
  ::close(local);
}

TEST(ingest_server, a_connection_without_a_valid_proxy_header_is_refused_and_counted) {
  const auto port = test::free_port();
  auto cfg = proxied(port);
  cfg.limits.idle_timeout = 300ms;
  switchable_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 1);
  server.start();

  const int plain = connect_tcp(port);  // a sender that bypasses the balancer
  ASSERT_TRUE(send_text(plain, line("spoof attempt")));
  EXPECT_TRUE(closed_by_server(plain));
  EXPECT_TRUE(test::wait_until([&] { return errors(metrics, "lb", "proxy_protocol") == 1; }, 5s));

  const int bad = connect_tcp(port);
  ASSERT_TRUE(send_text(bad, "PROXY TCP4 ::1 ::2 1 2\r\n" + line("x")));
  EXPECT_TRUE(closed_by_server(bad));
  EXPECT_TRUE(test::wait_until([&] { return errors(metrics, "lb", "proxy_protocol") == 2; }, 5s));

  const int slow = connect_tcp(port);  // half a header, then nothing
  ASSERT_TRUE(send_text(slow, "PROXY TCP4 203.0.113.7"));
  EXPECT_TRUE(closed_by_server(slow));
  EXPECT_TRUE(
      test::wait_until([&] { return errors(metrics, "lb", "handshake_timeout") == 1; }, 5s));

  const int check = connect_tcp(port);  // a TCP health check: connect, close
  ::close(check);
  // A connection accepted after the check's: once its line is in, the check was accepted too;
  // once it is the only connection left, the check's is over.
  const int after = connect_tcp(port);
  ASSERT_TRUE(send_text(after, "PROXY TCP4 203.0.113.8 10.0.0.1 40001 514\r\n" + line("after")));
  ASSERT_TRUE(test::wait_until([&] { return sink.messages().size() == 1; }, 5s));
  auto& open = metrics.get_gauge("tocsin_input_connections", "", {{"input", "lb"}});
  ASSERT_TRUE(test::wait_until([&] { return open.value() <= 1; }, 5s)) << open.value();
  EXPECT_EQ(errors(metrics, "lb", "proxy_protocol"), 2);
  EXPECT_EQ(sink.messages(), std::vector<std::string>{"after"});
  ::close(plain);
  ::close(bad);
  ::close(slow);
  ::close(after);
}

TEST(ingest_server, per_source_connection_caps_count_the_sender_behind_the_balancer) {
  const auto port = test::free_port();
  auto cfg = proxied(port);
  cfg.limits.max_connections_per_source = 1;
  switchable_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 1);
  server.start();

  // Every connection comes from 127.0.0.1 (the balancer): only the named senders count.
  const int a = connect_tcp(port);
  ASSERT_TRUE(send_text(a, "PROXY TCP4 198.51.100.1 10.0.0.1 1000 514\r\n" + line("a")));
  ASSERT_TRUE(test::wait_until([&] { return sink.messages().size() == 1; }, 5s));
  const int b = connect_tcp(port);
  ASSERT_TRUE(send_text(b, "PROXY TCP4 198.51.100.2 10.0.0.1 1000 514\r\n" + line("b")));
  ASSERT_TRUE(test::wait_until([&] { return sink.messages().size() == 2; }, 5s));
  const int again = connect_tcp(port);
  ASSERT_TRUE(send_text(again, "PROXY TCP4 198.51.100.1 10.0.0.1 1001 514\r\n" + line("again")));
  EXPECT_TRUE(closed_by_server(again));
  EXPECT_EQ(errors(metrics, "lb", "too_many_connections_from_source"), 1);
  EXPECT_EQ(sink.messages().size(), 2U);
  ::close(a);
  ::close(b);
  ::close(again);
}

TEST(ingest_server, gelf_http_takes_a_proxy_header_too) {
  const auto port = test::free_port();
  const auto cfg = proxied(port, config::transport::http);
  switchable_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 1);
  server.start();

  const std::string body = R"({"version":"1.1","host":"web1","short_message":"via lb"})";
  const int fd = connect_tcp(port);
  ASSERT_TRUE(send_text(fd,
                        "PROXY TCP4 192.0.2.55 10.0.0.1 5555 80\r\nPOST /gelf HTTP/1.1\r\n"
                        "Host: t\r\nContent-Length: " +
                            std::to_string(body.size()) + "\r\n\r\n" + body));
  ASSERT_TRUE(test::wait_until([&] { return sink.messages().size() == 1; }, 5s));
  EXPECT_EQ(sink.messages()[0], "via lb");
  EXPECT_EQ(sink.sources()[0], "192.0.2.55:5555");
  char buf[64] = {};
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  ASSERT_GT(::recv(fd, buf, sizeof buf - 1, 0), 12);
  EXPECT_EQ(std::string(buf).substr(0, 12), "HTTP/1.1 202");
  ::close(fd);
}

TEST(ingest_server, tls_takes_the_proxy_header_before_the_handshake) {
  test::temp_dir dir("tocsin-proxy-tls");
  const test::test_ca ca(dir.path(), "ca");
  const auto server_cert = ca.issue("server", {"localhost", {"localhost"}, {"127.0.0.1"}});
  const auto port = test::free_port();
  auto cfg = proxied(port, config::transport::tls);
  cfg.inputs[0].tls =
      config::tls_config{.cert = server_cert.cert.string(), .key = server_cert.key.string()};
  switchable_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 1);
  server.start();

  namespace asio = boost::asio;
  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_verify_mode(asio::ssl::verify_none);
  asio::ssl::stream<asio::ip::tcp::socket> tls(io, ctx);
  tls.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(tls.next_layer(),
              asio::buffer(std::string("PROXY TCP4 203.0.113.9 10.0.0.1 4444 6514\r\n")));
  tls.handshake(asio::ssl::stream_base::client);
  asio::write(tls, asio::buffer(line("over tls")));
  ASSERT_TRUE(test::wait_until([&] { return sink.messages().size() == 1; }, 5s));
  EXPECT_EQ(sink.messages()[0], "over tls");
  EXPECT_EQ(sink.sources()[0], "203.0.113.9:4444");
}

}  // namespace
}  // namespace tocsin::collector
