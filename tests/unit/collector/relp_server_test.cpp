// relp_server against a hand-written RELP client on loopback: the acknowledgement ("rsp 200 OK")
// comes only after the message was written, undecodable messages are acknowledged, a full sink
// holds messages back, and stop() is prompt with sessions open and while waiting on the sink.

#include "collector/relp_server.hpp"

#include "tests/support/support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace tocsin::collector {
namespace {

using namespace std::chrono_literals;

// Records what the server delivers; wait_written() blocks while `hold_writes` is set.
class fake_input final : public relp_input {
 public:
  [[nodiscard]] bool accepting() const override {
    const bool on = accepting_.load();
    if (!on) ++refusals_;
    return on;
  }
  void received(std::size_t bytes) override { bytes_ += bytes; }
  bool deliver(std::string_view message, std::string_view source) override {
    std::lock_guard lock(mutex_);
    delivered_.emplace_back(message);
    sources_.emplace_back(source);
    return message.rfind("bad", 0) != 0;  // "bad…" does not decode
  }
  bool wait_written(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(mutex_);
    ++waits_;
    return released_.wait_for(lock, timeout, [&] { return !hold_writes_; });
  }

  void set_accepting(bool on) { accepting_ = on; }
  void hold_writes(bool on) {
    {
      std::lock_guard lock(mutex_);
      hold_writes_ = on;
    }
    released_.notify_all();
  }
  std::vector<std::string> delivered() {
    std::lock_guard lock(mutex_);
    return delivered_;
  }
  std::vector<std::string> sources() {
    std::lock_guard lock(mutex_);
    return sources_;
  }
  int waits() {
    std::lock_guard lock(mutex_);
    return waits_;
  }
  // How often accepting() said no: the server holds a message back while this grows.
  [[nodiscard]] int refusals() const { return refusals_.load(); }
  std::size_t bytes() const { return bytes_; }

 private:
  std::atomic<bool> accepting_{true};
  mutable std::atomic<int> refusals_{0};
  std::atomic<std::size_t> bytes_{0};
  std::mutex mutex_;
  std::condition_variable released_;
  bool hold_writes_ = false;
  int waits_ = 0;
  std::vector<std::string> delivered_, sources_;
};

// A minimal RELP client: frames are "TXNR SP CMD SP DATALEN [SP DATA] LF".
class relp_client {
 public:
  explicit relp_client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~relp_client() {
    if (fd_ >= 0) ::close(fd_);
  }
  relp_client(const relp_client&) = delete;
  relp_client& operator=(const relp_client&) = delete;

  [[nodiscard]] bool connected() const { return fd_ >= 0; }

  bool send_frame(int txnr, const std::string& command, const std::string& data) {
    std::string frame = std::to_string(txnr) + " " + command + " " + std::to_string(data.size());
    if (!data.empty()) frame += " " + data;
    frame += "\n";
    return ::send(fd_, frame.data(), frame.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(frame.size());
  }

  // Opens the session as rsyslog does; true when the server answered 200.
  bool open() {
    if (!send_frame(1, "open", "relp_version=0\nrelp_software=test\ncommands=syslog")) {
      return false;
    }
    const auto rsp = response(1, 5s);
    return rsp && rsp->rfind("200 OK", 0) == 0;
  }

  // The data of the "rsp" frame for `txnr`, if it arrives within `timeout`.
  std::optional<std::string> response(int txnr, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto r = take_frame(txnr)) return r;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[4096];
      const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

 private:
  // Removes complete frames from the buffer; returns the data of `txnr`'s rsp if among them.
  std::optional<std::string> take_frame(int txnr) {
    for (;;) {
      const auto sp1 = buffer_.find(' ');
      if (sp1 == std::string::npos) return std::nullopt;
      const auto sp2 = buffer_.find(' ', sp1 + 1);
      if (sp2 == std::string::npos) return std::nullopt;
      const auto len_end = buffer_.find_first_of(" \n", sp2 + 1);
      if (len_end == std::string::npos) return std::nullopt;
      const std::size_t len = std::stoul(buffer_.substr(sp2 + 1, len_end - sp2 - 1));
      const std::size_t data_start = len == 0 ? len_end : len_end + 1;
      if (buffer_.size() < data_start + len + 1) return std::nullopt;
      const int got = std::stoi(buffer_.substr(0, sp1));
      const std::string command = buffer_.substr(sp1 + 1, sp2 - sp1 - 1);
      std::string data = buffer_.substr(data_start, len);
      buffer_.erase(0, data_start + len + 1);
      if (got == txnr && command == "rsp") return data;
    }
  }

  int fd_ = -1;
  std::string buffer_;
};

struct relp_fixture : ::testing::Test {
  relp_fixture() {
    relp_listen_options options;
    options.name = "relp-test";
    options.host = "127.0.0.1";
    options.port = test::free_port();
    options.max_message_bytes = 1024;
    auto owned = std::make_unique<fake_input>();
    input = owned.get();
    server = std::make_unique<relp_server>(options, std::move(owned));
    server->start();
    port = options.port;
  }

  fake_input* input = nullptr;
  std::unique_ptr<relp_server> server;
  std::uint16_t port = 0;
};

TEST_F(relp_fixture, acknowledges_only_after_the_message_is_written) {
  relp_client client(port);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.open());

  input->hold_writes(true);
  ASSERT_TRUE(client.send_frame(2, "syslog", "<13>hello"));
  ASSERT_TRUE(test::wait_until([&] { return input->waits() >= 1; }, 5s));
  EXPECT_FALSE(client.response(2, 300ms)) << "acknowledged before the write finished";

  input->hold_writes(false);
  EXPECT_EQ(client.response(2, 5s), "200 OK");
  EXPECT_EQ(input->delivered(), std::vector<std::string>{"<13>hello"});
  EXPECT_EQ(input->sources(), std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(input->bytes(), 9u);
}

// It would fail the same way every time it was resent.
TEST_F(relp_fixture, acknowledges_a_message_that_does_not_decode) {
  relp_client client(port);
  ASSERT_TRUE(client.open());
  ASSERT_TRUE(client.send_frame(2, "syslog", "bad message"));
  EXPECT_EQ(client.response(2, 5s), "200 OK");
  EXPECT_EQ(input->waits(), 0);
  ASSERT_TRUE(client.send_frame(3, "syslog", "<13>good"));
  EXPECT_EQ(client.response(3, 5s), "200 OK");
  EXPECT_EQ(input->waits(), 1);
}

// Longer than max_message_bytes: cut to max + 1 so the decoder refuses it; the session goes on.
TEST_F(relp_fixture, truncates_an_oversized_message_and_goes_on) {
  relp_client client(port);
  ASSERT_TRUE(client.open());
  ASSERT_TRUE(client.send_frame(2, "syslog", std::string(10000, 'x')));
  EXPECT_EQ(client.response(2, 5s), "200 OK");
  ASSERT_TRUE(client.send_frame(3, "syslog", "<13>after"));
  EXPECT_EQ(client.response(3, 5s), "200 OK");
  const auto delivered = input->delivered();
  ASSERT_EQ(delivered.size(), 2u);
  EXPECT_GT(delivered[0].size(), 1024u);
  EXPECT_LE(delivered[0].size(), 4096u);
  EXPECT_EQ(delivered[1], "<13>after");
}

TEST_F(relp_fixture, waits_while_the_sink_is_full) {
  relp_client client(port);
  ASSERT_TRUE(client.open());
  input->set_accepting(false);
  ASSERT_TRUE(client.send_frame(2, "syslog", "<13>later"));
  EXPECT_FALSE(client.response(2, 300ms));
  EXPECT_TRUE(input->delivered().empty());
  input->set_accepting(true);
  EXPECT_EQ(client.response(2, 5s), "200 OK");
  EXPECT_EQ(input->delivered(), std::vector<std::string>{"<13>later"});
}

TEST_F(relp_fixture, stops_promptly_with_a_session_open) {
  relp_client client(port);
  ASSERT_TRUE(client.open());
  const auto before = std::chrono::steady_clock::now();
  server->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before,
            5s);                          // a hang breaks this, a loaded machine not
  EXPECT_FALSE(client.response(99, 2s));  // the session is closed (serverclose hint, then EOF)
}

// On stop a message waiting for room is taken anyway: librelp may still acknowledge it.
TEST_F(relp_fixture, stops_promptly_while_waiting_for_the_sink) {
  relp_client client(port);
  ASSERT_TRUE(client.open());
  input->set_accepting(false);
  ASSERT_TRUE(client.send_frame(2, "syslog", "<13>stuck"));
  ASSERT_TRUE(test::wait_until([&] { return input->refusals() >= 1; }, 5s));
  const auto before = std::chrono::steady_clock::now();
  server->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before,
            5s);  // a hang breaks this, a loaded machine not
  EXPECT_EQ(input->delivered(), std::vector<std::string>{"<13>stuck"});
  EXPECT_EQ(input->waits(), 1);
}

// A full disk holds the write: stop must not wait for space.
TEST_F(relp_fixture, stops_promptly_while_waiting_for_the_write) {
  relp_client client(port);
  ASSERT_TRUE(client.open());
  input->hold_writes(true);
  ASSERT_TRUE(client.send_frame(2, "syslog", "<13>held"));
  ASSERT_TRUE(test::wait_until([&] { return input->waits() >= 1; }, 5s));
  const auto before = std::chrono::steady_clock::now();
  server->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before,
            5s);  // a hang breaks this, a loaded machine not
}

TEST(relp_server, refuses_a_port_in_use) {
  relp_listen_options options;
  options.name = "relp-busy";
  options.host = "127.0.0.1";
  options.port = test::free_port();
  relp_server first(options, std::make_unique<fake_input>());
  try {
    relp_server second(options, std::make_unique<fake_input>());
    FAIL() << "bound a port already in use";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("relp-busy"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tocsin::collector
