// A flood of spoofed host names against a daemon with few descriptors (RLIMIT_NOFILE 256): the
// archive must not take the descriptors that a legitimate sender, the admin API and a webhook
// need, and nothing it accepted may be lost (DESIGN.md, "Hostile and broken input").

#include <sys/mount.h>

#include <gtest/gtest.h>

#include "tests/integration/tocsin_daemon.hpp"
#include "tests/support/http_capture.hpp"

namespace tocsin::test {
namespace {

constexpr int spoofed_hosts = 5000;

TEST(hostile_flood, spoofed_host_names_cost_only_counted_refusals) {
  http_capture hook;
  daemon_options options;
  options.launcher = {"/usr/bin/prlimit", "--nofile=256:256", "--"};
  options.files["rules/disk.yaml"] =
      "rules:\n"
      "  - name: disk-full\n"
      "    match: { message: 'No space left on device' }\n"
      "    severity: critical\n";
  options.extra_config =
      "rules_files: [\"rules/*.yaml\"]\n"
      "route: { receiver: hook, group_wait: 100ms }\n"
      "receivers:\n"
      "  - { name: hook, webhook: { url: \"" +
      hook.url("/alerts") + "\" } }\n";
  tocsin_daemon daemon(options);

  {
    udp_client flood;
    for (int i = 0; i < spoofed_hosts; ++i) {
      ASSERT_TRUE(flood.send_to(
          daemon.gelf_port(),
          gelf_json("flood " + std::to_string(i), "gelfapp", "spoof-" + std::to_string(i))));
      if (i % 200 == 199) std::this_thread::sleep_for(20ms);  // no kernel drops on a busy CI
    }
  }

  // A legitimate sender is archived, the admin API answers, an alert reaches the webhook.
  tcp_client legit(daemon.syslog_port());
  ASSERT_TRUE(legit.is_open());
  ASSERT_TRUE(legit.send_all("<11>1 " + now_rfc3339() +
                             " db1 postgres - - - could not write: No space left on device\n"));
  EXPECT_TRUE(daemon.wait_for_event_with("host", "db1").has_value());
  EXPECT_TRUE(daemon.healthy());
  ASSERT_TRUE(hook.wait_for(1, patience)) << "no notification reached the webhook";
  EXPECT_NE(hook.requests().front().body.find("disk-full"), std::string::npos);

  // Every datagram is archived (most under _overflow) or counted as refused; none is lost.
  int flood_events = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        flood_events = 0;
        for (const auto& ev : daemon.events()) {
          if (text_field(ev, "message").rfind("flood ", 0) == 0) ++flood_events;
        }
        return flood_events + daemon.input_errors("gelf-udp") >= spoofed_hosts;
      },
      patience));
  EXPECT_EQ(flood_events + daemon.input_errors("gelf-udp"), spoofed_hosts);
  EXPECT_GT(flood_events, spoofed_hosts * 9 / 10);
  // The budget is 600 new paths a minute, refilled as the flood goes on (10 a second).
  EXPECT_GE(daemon.metric("tocsin_output_overflow_total"), spoofed_hosts - 700);
  EXPECT_EQ(daemon.metric("tocsin_output_errors_total", {{"reason", "write"}}), 0);
  EXPECT_LE(daemon.metric("tocsin_output_open_files"), 256);
  EXPECT_TRUE(std::filesystem::is_directory(daemon.log_root() / "_overflow"));
  std::size_t host_dirs = 0;
  for (const auto& e : std::filesystem::directory_iterator(daemon.log_root())) {
    (void)e;
    ++host_dirs;
  }
  EXPECT_LE(host_dirs, 700U);  // the new-path budget, _overflow and db1
  EXPECT_EQ(daemon.input_errors("syslog-tcp"), 0);
}

// The archive on a small tmpfs that fills up: TCP senders are held back (not dropped), the
// error is logged once a minute, and when space returns every line is written, whole, once.
TEST(full_disk, backpressures_tcp_and_resumes_by_itself) {
  temp_dir disk("tocsin-tmpfs");
  if (::mount("tocsin-test", disk.path().c_str(), "tmpfs", 0, "size=4m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (needs root): " << std::strerror(errno);
  }
  struct unmount {
    const temp_dir& d;
    ~unmount() { ::umount2(d.path().c_str(), MNT_DETACH); }
  } unmount_at_end{disk};

  daemon_options options;
  options.archive_template = (disk.path() / "{host}.log").string();
  tocsin_daemon daemon(options);
  {
    tcp_client first(daemon.syslog_port());
    ASSERT_TRUE(first.send_all("<14>1 " + now_rfc3339() + " web1 app - - - before\n"));
    ASSERT_TRUE(daemon.wait_for_event_with("message", "before").has_value());
  }
  // Fill the file system.
  const auto filler = disk.path() / "filler";
  {
    const int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(fd, 0);
    const std::string block(4096, 'f');
    while (::write(fd, block.data(), block.size()) > 0) {
    }
    ::close(fd);
  }

  // The archive finds the disk full at its next write (more than the page the file already has)
  // and stops accepting.
  {
    tcp_client trigger(daemon.syslog_port());
    for (int i = 0; i < 40; ++i) {
      ASSERT_TRUE(trigger.send_all("<14>1 " + now_rfc3339() + " web1 app - - - trigger " +
                                   std::to_string(i) + " " + std::string(200, 't') + "\n"));
    }
  }
  ASSERT_TRUE(daemon.wait_for_metric("tocsin_output_stalls_total", {{"reason", "disk_full"}},
                                     [](double v) { return v >= 1; }))
      << "the archive never found the disk full";
  const double read_before = daemon.input_messages("syslog-tcp");

  constexpr int lines = 3000;
  const std::string padding(200, 'p');
  std::atomic<bool> sent_all{false};
  std::thread sender([&] {
    tcp_client conn(daemon.syslog_port());
    for (int i = 0; i < lines; ++i) {
      if (!conn.send_all("<14>1 " + now_rfc3339() + " web1 app - - - line " + std::to_string(i) +
                         " " + padding + "\n")) {
        return;
      }
    }
    sent_all = true;
  });
  EXPECT_TRUE(daemon.wait_for_metric("tocsin_output_stalls_total", {{"reason", "disk_full"}},
                                     [](double v) { return v >= 2; }))
      << "retried every second";
  EXPECT_EQ(daemon.input_messages("syslog-tcp"), read_before)
      << "the input kept reading while the disk was full";
  std::filesystem::remove(filler);
  sender.join();
  EXPECT_TRUE(sent_all);

  std::map<std::string, int> seen;
  ASSERT_TRUE(wait_until(
      [&] {
        seen.clear();
        for (const auto& ev : daemon.events()) ++seen[text_field(ev, "message")];
        return seen.size() >= lines + 41;
      },
      20s))
      << seen.size() << " distinct lines archived";
  for (int i = 0; i < lines; ++i) {
    EXPECT_EQ(seen["line " + std::to_string(i) + " " + padding], 1) << i;
  }
  const std::string archive = read_file_if_present(disk.path() / "web1.log");
  EXPECT_EQ(archive.back(), '\n');
  EXPECT_EQ(daemon.metric("tocsin_output_errors_total", {{"reason", "write"}}), 0);
  EXPECT_EQ(daemon.input_errors("syslog-tcp"), 0);
  // Logged once (a minute), not every retry.
  const std::string log = daemon.log_text();
  std::size_t reports = 0;
  for (auto at = log.find("No space left"); at != std::string::npos;
       at = log.find("No space left", at + 1)) {
    ++reports;
  }
  EXPECT_EQ(reports, 1U) << log;
}

}  // namespace
}  // namespace tocsin::test
