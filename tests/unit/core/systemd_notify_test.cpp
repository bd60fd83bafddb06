#include "core/systemd_notify.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <stdexcept>
#include <string>

#include "tests/support/temp_dir.hpp"

namespace tocsin {
namespace {

using namespace std::chrono_literals;

unsigned long long monotonic_usec() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<unsigned long long>(now.tv_sec) * 1'000'000ULL +
         static_cast<unsigned long long>(now.tv_nsec) / 1'000ULL;
}

// Plays the service manager: a datagram socket bound in a temp dir, announced through
// NOTIFY_SOCKET for as long as the object lives.
class notify_socket_listener {
 public:
  notify_socket_listener() : path_(dir_ / "notify.sock") {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
    if (bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0)
      throw std::runtime_error("bind: " + std::string(std::strerror(errno)));
    // A datagram to a Unix socket is queued before sendto() returns, so anything the code under
    // test sent is already here; the timeout only guards against a hang.
    timeval timeout{.tv_sec = 5, .tv_usec = 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    setenv("NOTIFY_SOCKET", path_.c_str(), 1);
  }
  ~notify_socket_listener() {
    unsetenv("NOTIFY_SOCKET");
    close(fd_);
  }
  notify_socket_listener(const notify_socket_listener&) = delete;
  notify_socket_listener& operator=(const notify_socket_listener&) = delete;

  // The next datagram, or nullopt when none is queued (dont_wait) or none came within 5 s.
  std::optional<std::string> receive(bool dont_wait = false) {
    char buffer[4096];
    const ssize_t n = recv(fd_, buffer, sizeof(buffer), dont_wait ? MSG_DONTWAIT : 0);
    if (n < 0) return std::nullopt;
    return std::string(buffer, static_cast<size_t>(n));
  }

 private:
  test::temp_dir dir_{"tocsin-notify"};
  std::string path_;
  int fd_ = -1;
};

TEST(systemd_notify, ready_carries_the_status_line) {
  notify_socket_listener manager;
  systemd::notify_ready("serving 4 inputs");
  EXPECT_EQ(manager.receive(), "READY=1\nSTATUS=serving 4 inputs");
}

TEST(systemd_notify, status_text_cannot_inject_assignments) {
  notify_socket_listener manager;
  systemd::notify_status("reload failed:\nREADY=1");
  EXPECT_EQ(manager.receive(), "STATUS=reload failed: READY=1");
}

TEST(systemd_notify, reloading_carries_the_monotonic_time) {
  notify_socket_listener manager;
  const auto before = monotonic_usec();
  systemd::notify_reloading();
  const auto after = monotonic_usec();

  const auto message = manager.receive();
  ASSERT_TRUE(message);
  const std::string prefix = "RELOADING=1\nMONOTONIC_USEC=";
  ASSERT_EQ(message->substr(0, prefix.size()), prefix) << *message;
  const auto usec = std::stoull(message->substr(prefix.size()));
  EXPECT_GE(usec, before);
  EXPECT_LE(usec, after);
}

TEST(systemd_notify, stopping_and_watchdog) {
  notify_socket_listener manager;
  systemd::notify_watchdog();
  systemd::notify_stopping();
  EXPECT_EQ(manager.receive(), "WATCHDOG=1");
  EXPECT_EQ(manager.receive(), "STOPPING=1");
}

TEST(systemd_notify, nothing_is_sent_without_notify_socket) {
  notify_socket_listener manager;
  unsetenv("NOTIFY_SOCKET");
  systemd::notify_ready("serving");
  systemd::notify_reloading();
  systemd::notify_status("x");
  systemd::notify_watchdog();
  systemd::notify_stopping();
  EXPECT_EQ(manager.receive(/*dont_wait=*/true), std::nullopt);
}

class systemd_watchdog : public ::testing::Test {
 protected:
  void TearDown() override {
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
  }
};

TEST_F(systemd_watchdog, interval_is_half_of_watchdog_usec_for_this_process) {
  setenv("WATCHDOG_USEC", "30000000", 1);
  setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  EXPECT_EQ(systemd::watchdog_interval(), 15s);

  unsetenv("WATCHDOG_PID");  // systemd may omit it: then the watchdog is ours
  EXPECT_EQ(systemd::watchdog_interval(), 15s);
}

TEST_F(systemd_watchdog, no_watchdog_when_unset_or_meant_for_another_process) {
  EXPECT_EQ(systemd::watchdog_interval(), 0us);

  setenv("WATCHDOG_USEC", "30000000", 1);
  setenv("WATCHDOG_PID", std::to_string(getpid() + 1).c_str(), 1);
  EXPECT_EQ(systemd::watchdog_interval(), 0us);

  setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  setenv("WATCHDOG_USEC", "not-a-number", 1);
  EXPECT_EQ(systemd::watchdog_interval(), 0us);
}

}  // namespace
}  // namespace tocsin
