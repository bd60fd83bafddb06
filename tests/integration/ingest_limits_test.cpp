// Per-source abuse limits (limits.per_source_rate, burst, max_connections_per_source) in the
// real daemon. Senders bind to different loopback addresses (Linux routes all of 127/8 to lo),
// so tocsin sees 127.0.0.2 and 127.0.0.3 as two hosts.

#include "tests/integration/tocsin_daemon.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace tocsin::test {
namespace {

// A socket of `type` bound to `source_ip` (any port); -1 on failure.
int socket_from(const char* source_ip, int type) {
  const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, source_ip, &local.sin_addr);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Datagrams to 127.0.0.1:port from `source_ip`, one socket (one source port) for all.
class udp_sender {
 public:
  explicit udp_sender(const char* source_ip) : fd_(socket_from(source_ip, SOCK_DGRAM)) {}
  ~udp_sender() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] bool ok() const { return fd_ >= 0; }
  bool send(std::uint16_t port, std::string_view payload) const {
    const sockaddr_in to = loopback(port);
    return ::sendto(fd_, payload.data(), payload.size(), 0, reinterpret_cast<const sockaddr*>(&to),
                    sizeof to) == static_cast<ssize_t>(payload.size());
  }

 private:
  int fd_;
};

// A TCP connection to 127.0.0.1:port from `source_ip`.
tcp_client connect_from(const char* source_ip, std::uint16_t port) {
  tcp_client client;
  EXPECT_TRUE(client.connect(port, source_ip)) << "cannot connect from " << source_ip;
  return client;
}

std::size_t count_from(const std::vector<json>& events, const std::string& source_ip) {
  std::size_t n = 0;
  for (const auto& ev : events) {
    if (text_field(ev, "source").rfind(source_ip + ":", 0) == 0) ++n;
  }
  return n;
}

TEST(ingest_limits, a_udp_flood_from_one_source_does_not_crowd_out_another) {
  daemon_options o;
  o.extra_limits = ", per_source_rate: 5, burst: 5";
  tocsin_daemon daemon(o);
  udp_sender flood("127.0.0.2"), quiet("127.0.0.3");
  ASSERT_TRUE(flood.ok() && quiet.ok());

  constexpr int flood_size = 1000;
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::string> quiet_messages;
  for (int i = 0; i < flood_size; ++i) {
    ASSERT_TRUE(
        flood.send(daemon.syslog_port(), syslog_line("flood", "flood " + std::to_string(i))));
    if (i % 250 == 0) {  // a few messages from the quiet host, in the middle of the flood
      quiet_messages.push_back("quiet " + std::to_string(i));
      ASSERT_TRUE(quiet.send(daemon.syslog_port(), syslog_line("quiet", quiet_messages.back())));
    }
  }

  for (const auto& m : quiet_messages) {
    const auto ev = daemon.wait_for_event_with("message", m);
    ASSERT_TRUE(ev) << m << " from 127.0.0.3 was lost";
    EXPECT_EQ(text_field(*ev, "source").rfind("127.0.0.3:", 0), 0u);
  }
  // Every flood datagram is either archived or counted as rate_limited.
  ASSERT_TRUE(wait_until(
      [&] {
        return count_from(daemon.events(), "127.0.0.2") +
                   daemon.input_errors("syslog-udp", "rate_limited") ==
               flood_size;
      },
      patience))
      << "archived " << count_from(daemon.events(), "127.0.0.2") << ", rate_limited "
      << daemon.input_errors("syslog-udp", "rate_limited");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const auto archived = count_from(daemon.events(), "127.0.0.2");
  EXPECT_GE(archived, 5u) << "the burst passes";
  EXPECT_LE(archived, 5 + 5 * seconds + 1) << "more than burst + rate × time passed";
  EXPECT_GT(daemon.input_errors("syslog-udp", "rate_limited"), flood_size / 2);
  EXPECT_EQ(count_from(daemon.events(), "127.0.0.3"), quiet_messages.size());
  EXPECT_EQ(daemon.input_errors("syslog-udp", "queue_full"), 0);
}

TEST(ingest_limits, a_tcp_sender_over_the_rate_is_slowed_down_and_loses_nothing) {
  daemon_options o;
  o.extra_limits = ", per_source_rate: 20, burst: 10";
  tocsin_daemon daemon(o);
  tcp_client fast = connect_from("127.0.0.2", daemon.syslog_port());
  ASSERT_TRUE(fast.is_open());
  const auto lines = [](int from, int to) {
    std::string out;
    for (int i = from; i < to; ++i) out += syslog_line("tcpfast", "tcp " + std::to_string(i));
    return out;
  };
  // What was read is delivered, then the connection pays its debt by not reading: 60 messages
  // against a bucket of 10 at 20/s is 2.5 s without reading, so the second batch cannot be read
  // sooner than that (a lower bound only: a slow machine cannot make this fail).
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(fast.send_all(lines(0, 60)));
  ASSERT_TRUE(wait_until([&] { return count_from(daemon.events(), "127.0.0.2") == 60; }, patience))
      << "archived " << count_from(daemon.events(), "127.0.0.2") << " of 60";
  ASSERT_TRUE(fast.send_all(lines(60, 80)));
  ASSERT_TRUE(wait_until([&] { return count_from(daemon.events(), "127.0.0.2") == 80; },
                         std::chrono::seconds(30)))
      << "archived " << count_from(daemon.events(), "127.0.0.2") << " of 80";
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_GE(seconds, 2.4) << "the second batch was read before the debt was paid";
  EXPECT_GE(daemon.metric("tocsin_input_throttled_total", {{"input", "syslog-tcp"}}), 1);
  EXPECT_EQ(daemon.input_errors("syslog-tcp"), 0);
  // In order, none twice, none lost.
  const auto events = daemon.events();
  ASSERT_EQ(events.size(), 80u);
  for (int i = 0; i < 80; ++i)
    EXPECT_EQ(text_field(events[i], "message"), "tcp " + std::to_string(i));
}

TEST(ingest_limits, connections_beyond_the_per_source_cap_are_refused) {
  daemon_options o;
  o.extra_limits = ", max_connections_per_source: 2";
  tocsin_daemon daemon(o);
  const auto port = daemon.syslog_port();
  std::vector<tcp_client> held;
  for (int i = 0; i < 2; ++i) held.push_back(connect_from("127.0.0.2", port));
  ASSERT_TRUE(daemon.wait_for_metric("tocsin_input_connections", {{"input", "syslog-tcp"}},
                                     [](double v) { return v == 2; }));

  tcp_client third = connect_from("127.0.0.2", port);
  EXPECT_TRUE(third.closed_by_peer(patience)) << "the third connection from 127.0.0.2 stayed open";
  EXPECT_TRUE(daemon.wait_for_metric(
      "tocsin_input_errors_total",
      {{"input", "syslog-tcp"}, {"reason", "too_many_connections_from_source"}},
      [](double v) { return v == 1; }));

  // Another host is not affected, and the held connections still carry messages.
  tcp_client other = connect_from("127.0.0.3", port);
  ASSERT_TRUE(other.send_all(syslog_line("other", "from the other host")));
  ASSERT_TRUE(held[0].send_all(syslog_line("held", "from a held connection")));
  const auto ev = daemon.wait_for_event_with("message", "from the other host");
  ASSERT_TRUE(ev);
  EXPECT_EQ(text_field(*ev, "source").rfind("127.0.0.3:", 0), 0u);
  EXPECT_TRUE(daemon.wait_for_event_with("message", "from a held connection"));

  // Closing one gives its place back.
  held[1].close();
  ASSERT_TRUE(daemon.wait_for_metric("tocsin_input_connections", {{"input", "syslog-tcp"}},
                                     [](double v) { return v == 2; }));
  tcp_client again = connect_from("127.0.0.2", port);
  ASSERT_TRUE(again.send_all(syslog_line("again", "after a place was freed")));
  EXPECT_TRUE(daemon.wait_for_event_with("message", "after a place was freed"));
  EXPECT_EQ(daemon.input_errors("syslog-tcp", "too_many_connections_from_source"), 1);
}

TEST(ingest_limits, the_connection_cap_counts_a_source_over_every_input) {
  const auto http_port = free_port();
  daemon_options o;
  o.extra_limits = ", max_connections_per_source: 1";
  o.extra_inputs = "  - { name: gelf-http, type: gelf, transport: http, listen: 127.0.0.1:" +
                   std::to_string(http_port) + " }\n";
  tocsin_daemon daemon(o);
  tcp_client syslog = connect_from("127.0.0.2", daemon.syslog_port());
  ASSERT_TRUE(daemon.wait_for_metric("tocsin_input_connections", {{"input", "syslog-tcp"}},
                                     [](double v) { return v == 1; }));
  // 127.0.0.2 already has its one connection (to another input): refused.
  tcp_client http = connect_from("127.0.0.2", http_port);
  EXPECT_TRUE(http.closed_by_peer(patience));
  EXPECT_TRUE(daemon.wait_for_metric(
      "tocsin_input_errors_total",
      {{"input", "gelf-http"}, {"reason", "too_many_connections_from_source"}},
      [](double v) { return v == 1; }));
  // 127.0.0.3 may post.
  tcp_client other = connect_from("127.0.0.3", http_port);
  const std::string body = R"({"host":"h3","short_message":"posted from another host"})";
  ASSERT_TRUE(other.send_all("POST /gelf HTTP/1.1\r\nHost: t\r\nContent-Length: " +
                             std::to_string(body.size()) + "\r\n\r\n" + body));
  const auto ev = daemon.wait_for_event_with("message", "posted from another host");
  ASSERT_TRUE(ev);
  EXPECT_EQ(text_field(*ev, "input"), "gelf-http");
  EXPECT_EQ(text_field(*ev, "source").rfind("127.0.0.3:", 0), 0u);
}

// One chunk of a chunked GELF message: magic, 8-byte id, sequence number, count, data.
// Issue 11: 1 200 first chunks from one source used to evict another source's message.
TEST(ingest_limits, a_flood_of_gelf_first_chunks_does_not_evict_another_sources_message) {
  tocsin_daemon daemon;
  udp_sender legit("127.0.0.2"), attacker("127.0.0.3");
  ASSERT_TRUE(legit.ok() && attacker.ok());
  const std::string message =
      R"({"version":"1.1","host":"legit-host","short_message":"survives the chunk flood"})";
  const std::size_t half = message.size() / 2;
  ASSERT_TRUE(legit.send(daemon.gelf_port(), gelf_chunk(77, 0, 2, message.substr(0, half))));
  for (std::uint64_t i = 0; i < 1200; ++i) {
    ASSERT_TRUE(attacker.send(daemon.gelf_port(), gelf_chunk(0x5000 + i, 0, 2, "junk")));
    if (i % 100 == 99) std::this_thread::sleep_for(5ms);  // stay within the socket buffer
  }
  ASSERT_TRUE(daemon.wait_for_metric("tocsin_input_errors_total",
                                     {{"input", "gelf-udp"}, {"reason", "chunk_evicted"}},
                                     [](double v) { return v >= 200; }))
      << "chunk_evicted " << daemon.input_errors("gelf-udp", "chunk_evicted");
  ASSERT_TRUE(legit.send(daemon.gelf_port(), gelf_chunk(77, 1, 2, message.substr(half))));
  const auto ev = daemon.wait_for_event_with("message", "survives the chunk flood");
  ASSERT_TRUE(ev) << "the legitimate message was evicted";
  EXPECT_EQ(text_field(*ev, "source").rfind("127.0.0.2:", 0), 0u);
}

TEST(ingest_limits, burst_without_a_rate_is_a_config_error) {
  temp_dir dir("tocsin-limits");
  const auto file = dir.write_file("t.yaml", "limits: { burst: 10 }\n");
  const auto r = run_command({tocsin_binary().string(), "check-config", "-c", file.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(
      (r.stdout_text + r.stderr_text).find("t.yaml:1:11: limits.burst: needs per_source_rate"),
      std::string::npos)
      << r.stdout_text << r.stderr_text;
}

}  // namespace
}  // namespace tocsin::test
