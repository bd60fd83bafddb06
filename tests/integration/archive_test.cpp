// The file archive of the real daemon: hostile {host}/{app} values stay under the archive root,
// {date} expands, and SIGHUP reopens files (logrotate's rename-then-HUP).

#include "tests/integration/tocsin_daemon.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

namespace tocsin::test {
namespace {

namespace fs = std::filesystem;

// True when `p` is `root` or lies below it, after resolving "." and ".." and symlinks.
bool is_under(const fs::path& p, const fs::path& root) {
  const auto rel = fs::weakly_canonical(p).lexically_relative(fs::weakly_canonical(root));
  return !rel.empty() && *rel.begin() != "..";
}

std::vector<fs::path> all_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_directory()) out.push_back(e.path());
  }
  return out;
}

struct hostile_case {
  std::string host;
  std::string app;
};

TEST(archive_paths, hostile_host_and_app_stay_under_the_root) {
  daemon_options options;
  options.archive_template = "root/log/{host}/{app}.log";
  tocsin_daemon daemon(options);
  const fs::path root = daemon.dir() / "root" / "log";

  // Every value is a valid RFC 5424 HOSTNAME / APP-NAME (printable US-ASCII, no space).
  const std::vector<hostile_case> cases = {
      {"../../etc", "passwd"},
      {"..", ".."},
      {".", "."},
      {"a/b/c", "../../../../../tmp/evil"},
      {"/etc", "/shadow"},
      {".hidden", "..hidden-app"},
      {"..%2f..%2fetc", "x"},
      {"web1", "../../../../../../../../../etc/cron.d/x"},
  };
  std::string frames;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    frames += "<13>1 2024-05-01T10:00:00Z " + cases[i].host + " " + cases[i].app +
              " - - - hostile " + std::to_string(i) + "\n";
  }
  tcp_client conn(daemon.syslog_port());
  ASSERT_TRUE(conn.send_all(frames));

  for (std::size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].host + " " + cases[i].app);
    const auto ev = daemon.wait_for_event_with("message", "hostile " + std::to_string(i));
    ASSERT_TRUE(ev) << "event not archived under " << root;
    // The event itself keeps what was sent; only the path is sanitised.
    EXPECT_EQ(text_field(*ev, "host"), cases[i].host);
    EXPECT_EQ(text_field(*ev, "app"), cases[i].app);
  }
  ASSERT_EQ(daemon.stop(), 0);

  std::size_t archive_files = 0;
  for (const auto& f : all_files(daemon.dir().path())) {
    const auto rel = f.lexically_relative(daemon.dir().path()).string();
    if (rel == "tocsin.yaml" || rel == "tocsin.stdout" || rel == "tocsin.stderr" ||
        is_under(f, daemon.dir() / "lib")) {
      continue;
    }
    EXPECT_TRUE(is_under(f, root)) << "file outside the archive root: " << f;
    // One directory level for {host}, one file for {app}: no component may add levels.
    const fs::path below_root = f.lexically_relative(root);
    EXPECT_EQ(std::distance(below_root.begin(), below_root.end()), 2) << f;
    ++archive_files;
  }
  EXPECT_GE(archive_files, 1u);
  EXPECT_FALSE(fs::exists("/etc/passwd.log"));
  EXPECT_FALSE(fs::exists("/tmp/evil.log"));
  EXPECT_FALSE(fs::exists("/etc/shadow.log"));
}

TEST(archive_paths, date_placeholder_is_the_utc_receive_date) {
  daemon_options options;
  options.archive_template = "log/{date}/{host}.log";
  tocsin_daemon daemon(options);
  auto utc_date = [] {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return std::string(buf);
  };
  const std::string before = utc_date();
  tcp_client conn(daemon.syslog_port());
  ASSERT_TRUE(conn.send_all("<13>1 2001-01-01T00:00:00Z datehost app - - - dated\n"));
  ASSERT_TRUE(daemon.wait_for_event_with("message", "dated"));
  const std::string after = utc_date();
  const auto files = find_files(daemon.log_root(), ".log");
  ASSERT_EQ(files.size(), 1u);
  const auto rel = files[0].lexically_relative(daemon.log_root()).string();
  // The receive date, not the sender's 2001 timestamp.
  EXPECT_TRUE(rel == before + "/datehost.log" || rel == after + "/datehost.log") << rel;
}

TEST(archive_reopen, sighup_after_rename_starts_a_new_file) {
  tocsin_daemon daemon;
  const std::string host = "rotatehost";
  const fs::path file = daemon.log_root() / host / "rot.log";
  const fs::path rotated = daemon.log_root() / host / "rot.log.1";
  auto send = [&](const std::string& text) {
    tcp_client conn(daemon.syslog_port());
    return conn.send_all("<13>1 2024-05-01T10:00:00Z " + host + " rot - - - " + text + "\n");
  };
  auto messages_in = [](const fs::path& p) {
    std::vector<std::string> out;
    for (const auto& ev : read_json_lines(p)) out.push_back(text_field(ev, "message"));
    return out;
  };

  ASSERT_TRUE(send("before rotation"));
  ASSERT_TRUE(wait_until([&] { return messages_in(file).size() == 1; }, patience));
  fs::rename(file, rotated);  // what logrotate does before it signals

  ASSERT_TRUE(has_open_file(daemon.pid(), rotated));
  daemon.signal(SIGHUP);
  // The archive writer reopens asynchronously: once it has closed the renamed file, the next
  // message cannot race it into the old one.
  ASSERT_TRUE(wait_until([&] { return !has_open_file(daemon.pid(), rotated); }, patience))
      << "the archive still writes to " << rotated << " after SIGHUP";
  ASSERT_TRUE(daemon.running()) << "SIGHUP must not terminate the daemon";

  ASSERT_TRUE(send("after rotation"));
  ASSERT_TRUE(wait_until([&] { return messages_in(file).size() == 1; }, patience))
      << "no new " << file << " after SIGHUP";
  EXPECT_EQ(messages_in(file), std::vector<std::string>{"after rotation"});
  EXPECT_EQ(messages_in(rotated), std::vector<std::string>{"before rotation"});

  // A second SIGHUP without a rename reopens the same file for append: nothing lost or truncated.
  ASSERT_TRUE(has_open_file(daemon.pid(), file));
  daemon.signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return !has_open_file(daemon.pid(), file); }, patience));
  ASSERT_TRUE(send("after second hup"));
  ASSERT_TRUE(wait_until([&] { return messages_in(file).size() == 2; }, patience));
  EXPECT_EQ(messages_in(file), (std::vector<std::string>{"after rotation", "after second hup"}));
  EXPECT_EQ(messages_in(rotated), std::vector<std::string>{"before rotation"});
  EXPECT_EQ(daemon.stop(), 0);
}

}  // namespace
}  // namespace tocsin::test
