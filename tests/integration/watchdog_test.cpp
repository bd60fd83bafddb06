// The daemon under a systemd watchdog: with NOTIFY_SOCKET and WATCHDOG_USEC set, `tocsin run`
// reports READY=1 and then sends WATCHDOG=1 keep-alives every half WATCHDOG_USEC until it stops.
// The test plays the service manager: a Unix datagram socket it binds itself.

#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

#include "tests/integration/tocsin_daemon.hpp"

namespace tocsin::test {
namespace {

class notify_listener {
 public:
  explicit notify_listener(std::filesystem::path path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error("bind " + path_.string() + ": " + std::strerror(errno));
    }
  }
  ~notify_listener() { ::close(fd_); }
  notify_listener(const notify_listener&) = delete;
  notify_listener& operator=(const notify_listener&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

  // Every datagram queued so far, appended to what earlier calls returned.
  const std::vector<std::string>& messages() {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0) break;
      messages_.emplace_back(buf, static_cast<std::size_t>(n));
    }
    return messages_;
  }

  std::size_t count(std::string_view message) {
    const auto& all = messages();
    return static_cast<std::size_t>(std::count(all.begin(), all.end(), message));
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::vector<std::string> messages_;
};

TEST(watchdog, the_daemon_keeps_pinging_every_half_watchdog_usec) {
  temp_dir dir("tocsin-notify");
  notify_listener manager(dir / "notify.sock");
  daemon_options options;
  // 200 ms: a keep-alive every 100 ms. WATCHDOG_PID is left unset, so the watchdog is the
  // daemon's whatever its pid (env execs it in place anyway).
  options.launcher = {"env", "NOTIFY_SOCKET=" + manager.path().string(), "WATCHDOG_USEC=200000"};
  tocsin_daemon daemon(options);

  EXPECT_TRUE(wait_until(
      [&] {
        const auto& all = manager.messages();
        return std::any_of(all.begin(), all.end(),
                           [](const std::string& m) { return m.starts_with("READY=1\n"); });
      },
      patience));
  // Not one ping but a steady stream of them.
  EXPECT_TRUE(wait_until([&] { return manager.count("WATCHDOG=1") >= 5; }, patience))
      << manager.count("WATCHDOG=1") << " keep-alives";
  const std::size_t before = manager.count("WATCHDOG=1");
  EXPECT_TRUE(wait_until([&] { return manager.count("WATCHDOG=1") >= before + 3; }, patience))
      << "the keep-alives stopped";

  EXPECT_EQ(daemon.stop(), 0);
  EXPECT_EQ(manager.count("STOPPING=1"), 1U);
}

}  // namespace
}  // namespace tocsin::test
