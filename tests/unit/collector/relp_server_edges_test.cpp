// relp_server beyond the happy path of relp_server_test: an IPv6 listener (with librelp's debug
// output routed to spdlog at trace level), an input that throws, and a port already taken.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "collector/relp_server.hpp"
#include "tests/support/support.hpp"

namespace tocsin::collector {
namespace {

using namespace std::chrono_literals;

// Delivers into a list; a message starting with "throw" makes deliver() throw.
class listing_input final : public relp_input {
 public:
  [[nodiscard]] bool accepting() const override { return true; }
  void received(std::size_t) override {}
  bool deliver(std::string_view message, std::string_view source) override {
    if (message.rfind("throw", 0) == 0) throw std::runtime_error("decoder exploded");
    std::lock_guard lock(mutex_);
    delivered_.emplace_back(message);
    sources_.emplace_back(source);
    return true;
  }
  bool wait_written(std::chrono::milliseconds) override { return true; }
  std::vector<std::string> delivered() {
    std::lock_guard lock(mutex_);
    return delivered_;
  }
  std::vector<std::string> sources() {
    std::lock_guard lock(mutex_);
    return sources_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> delivered_, sources_;
};

// A RELP client on an already connected socket: "TXNR COMMAND LEN DATA\n" frames out, every
// byte received kept.
class client {
 public:
  explicit client(int fd) : fd_(fd) {}
  ~client() { ::close(fd_); }
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  bool send_frame(int txnr, const std::string& command, const std::string& data) {
    std::string frame = std::to_string(txnr) + " " + command + " " + std::to_string(data.size());
    if (!data.empty()) frame += " " + data;
    frame += "\n";
    return ::send(fd_, frame.data(), frame.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(frame.size());
  }
  // True once `needle` was received (within 5 s).
  bool received(std::string_view needle) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (buffer_.find(needle) == std::string::npos) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) != 1) continue;
      char chunk[4096];
      const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
    return true;
  }
  bool open() {
    return send_frame(1, "open", "relp_version=0\nrelp_software=test\ncommands=syslog") &&
           received("1 rsp ");
  }

 private:
  int fd_;
  std::string buffer_;
};

int connect_v6(std::uint16_t port) {
  const int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_port = htons(port);
  addr.sin6_addr = in6addr_loopback;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int connect_v4(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Sets spdlog's level for one test.
class log_level {
 public:
  explicit log_level(spdlog::level::level_enum level) : saved_(spdlog::get_level()) {
    spdlog::set_level(level);
  }
  ~log_level() { spdlog::set_level(saved_); }
  log_level(const log_level&) = delete;
  log_level& operator=(const log_level&) = delete;

 private:
  spdlog::level::level_enum saved_;
};

// Whether this machine has an IPv6 loopback to bind to.
bool ipv6_loopback() {
  const int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

TEST(relp_server_edges, listens_on_ipv6_with_librelp_debug_output_at_trace_level) {
  if (!ipv6_loopback()) GTEST_SKIP() << "no IPv6 loopback";
  const log_level trace(spdlog::level::trace);
  relp_listen_options options;
  options.name = "relp6";
  options.host = "::1";
  options.port = test::free_port();
  auto owned = std::make_unique<listing_input>();
  listing_input* input = owned.get();
  relp_server server(options, std::move(owned));
  server.start();

  client c(connect_v6(options.port));
  ASSERT_TRUE(c.open());
  ASSERT_TRUE(c.send_frame(2, "syslog", "<13>over v6"));
  EXPECT_TRUE(c.received("2 rsp 6 200 OK"));
  EXPECT_EQ(input->delivered(), std::vector<std::string>{"<13>over v6"});
  EXPECT_EQ(input->sources(), std::vector<std::string>{"::1"});
  server.stop();
}

TEST(relp_server_edges, a_message_whose_delivery_throws_is_acknowledged_and_the_session_goes_on) {
  relp_listen_options options;
  options.name = "relp";
  options.host = "127.0.0.1";
  options.port = test::free_port();
  auto owned = std::make_unique<listing_input>();
  listing_input* input = owned.get();
  relp_server server(options, std::move(owned));
  server.start();

  client c(connect_v4(options.port));
  ASSERT_TRUE(c.open());
  ASSERT_TRUE(c.send_frame(2, "syslog", "throw me"));
  EXPECT_TRUE(c.received("2 rsp 6 200 OK"));
  ASSERT_TRUE(c.send_frame(3, "syslog", "<13>after"));
  EXPECT_TRUE(c.received("3 rsp 6 200 OK"));
  EXPECT_EQ(input->delivered(), std::vector<std::string>{"<13>after"});
}

TEST(relp_server_edges, a_port_in_use_is_a_clear_error) {
  const auto port = test::free_port();
  const int blocker = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(blocker, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(blocker, 1), 0);

  relp_listen_options options;
  options.name = "taken";
  options.host = "127.0.0.1";
  options.port = port;
  try {
    relp_server server(options, std::make_unique<listing_input>());
    ADD_FAILURE() << "listened on a port in use";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "input taken: cannot listen on 127.0.0.1:" + std::to_string(port) + "/relp"),
              std::string::npos)
        << e.what();
  }
  ::close(blocker);
}

}  // namespace
}  // namespace tocsin::collector
