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

#include <atomic>
#include <mutex>
#include <thread>

#include "tests/support/support.hpp"

namespace tocsin::collector {
namespace {

using namespace std::chrono_literals;

class switchable_sink final : public event_sink {
 public:
  [[nodiscard]] bool accepting() const override { return open_.load(); }
  void consume(const event& ev) override {
    std::lock_guard lock(mutex_);
    messages_.emplace_back(ev.message);
  }
  void set_open(bool open) { open_ = open; }
  std::vector<std::string> messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }

 private:
  std::atomic<bool> open_{true};
  mutable std::mutex mutex_;
  std::vector<std::string> messages_;
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
  ASSERT_EQ(::write(fd, b.data(), b.size()), static_cast<ssize_t>(b.size()));
  std::this_thread::sleep_for(300ms);
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
  std::this_thread::sleep_for(1200ms);  // four idle timeouts while the sink refuses
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
  std::this_thread::sleep_for(1s);
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

}  // namespace
}  // namespace tocsin::collector
