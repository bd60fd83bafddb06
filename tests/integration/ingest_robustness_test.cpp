// What a hostile or broken network does to the real daemon: garbage, 10 MB lines, half-open and
// idle connections, connection limits, bogus GELF chunks. Errors must be counted, nothing may
// crash, memory stays bounded, and good traffic keeps flowing.

#include "tests/integration/tocsin_daemon.hpp"

#include <sys/resource.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace tocsin::test {
namespace {

// Deterministic "random" bytes, so a failure can be replayed.
std::string garbage(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

// Part `i` (0..2) of `s` cut in three.
std::string third(const std::string& s, int i) {
  const std::size_t n = s.size() / 3;
  return i < 2 ? s.substr(i * n, n) : s.substr(2 * n);
}

// VmRSS of a process in MiB, -1 when unreadable.
double rss_mib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      double kib = -1;
      in >> kib;
      return kib / 1024.0;
    }
    in.ignore(1 << 16, '\n');
  }
  return -1;
}

// AddressSanitizer adds shadow memory and keeps freed blocks in a quarantine (256 MB by
// default), so a sanitizer build gets a looser bound; it still catches unbounded growth.
#if defined(__SANITIZE_ADDRESS__)
#define TOCSIN_IT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TOCSIN_IT_ASAN 1
#endif
#endif
#ifdef TOCSIN_IT_ASAN
constexpr double rss_limit_mib = 1024;
#else
constexpr double rss_limit_mib = 300;
#endif

// Lets this test process hold `n` descriptors; false when the hard limit is too low.
bool allow_open_files(rlim_t n) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return false;
  if (limit.rlim_cur >= n) return true;
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < n) return false;
  limit.rlim_cur = n;
  return ::setrlimit(RLIMIT_NOFILE, &limit) == 0;
}

// UDP may be dropped by a full socket buffer after a flood: resend until it is archived.
bool send_udp_until_archived(const tocsin_daemon& daemon, std::uint16_t port,
                             const std::string& payload, const std::string& message) {
  return wait_until(
      [&] {
        send_udp(port, payload);
        return daemon.wait_for_event_with("message", message, 200ms).has_value();
      },
      patience);
}

// Waits for the open-connection gauge of an input to reach `n` exactly.
bool wait_for_connections(const tocsin_daemon& daemon, const std::string& input, double n) {
  return wait_until([&] { return daemon.input_connections(input) == n; }, patience);
}

TEST(garbage, tcp_syslog_garbage_is_counted_and_later_traffic_flows) {
  tocsin_daemon daemon;
  {
    tcp_client conn(daemon.syslog_port());
    // Frames that cannot be syslog whatever the leniency (bad PRI), then a good one on the same
    // connection: the stream stays in sync after LF-terminated junk.
    ASSERT_TRUE(conn.send_all("<999>1 - - - - - - pri too big\n<abc>junk\n<>\n<01>leading zero\n" +
                              syslog_line("same-conn", "good after junk lines")));
    ASSERT_TRUE(daemon.wait_for_event_with("message", "good after junk lines"));
  }
  EXPECT_TRUE(wait_until([&] { return daemon.input_errors("syslog-tcp") >= 3; }, patience))
      << "errors: " << daemon.input_errors("syslog-tcp");

  // Random binary (NULs, LFs, digit runs that look like octet counts): framing may be lost for
  // the rest of that connection, so the good message goes on a new one.
  for (std::uint32_t seed = 1; seed <= 8; ++seed) {
    tcp_client conn(daemon.syslog_port());
    ASSERT_TRUE(conn.send_all(garbage(64 * 1024, seed)));
  }
  tcp_client fresh(daemon.syslog_port());
  ASSERT_TRUE(fresh.send_all(syslog_line("new-conn", "good after random bytes")));
  EXPECT_TRUE(daemon.wait_for_event_with("message", "good after random bytes"));
  // Each 64 KB of random bytes holds many frames with control bytes: all counted as errors.
  EXPECT_GE(daemon.input_errors("syslog-tcp"), 3 + 8 * 10);
  EXPECT_TRUE(daemon.running());
  EXPECT_TRUE(daemon.healthy());
}

TEST(garbage, udp_syslog_and_gelf_garbage_is_counted_and_later_traffic_flows) {
  tocsin_daemon daemon;
  for (std::uint32_t seed = 1; seed <= 300; ++seed) {
    send_udp(daemon.syslog_port(), garbage(1 + seed * 7 % 1400, seed));
    send_udp(daemon.gelf_port(), garbage(1 + seed * 11 % 1400, seed + 1000));
  }
  // And some that look almost right.
  for (const std::string& bad :
       {std::string("<999>1 - - - - - - bad pri"), std::string("<abc>x"), std::string("<>")}) {
    send_udp(daemon.syslog_port(), bad);
  }
  for (const std::string& bad :
       {std::string("{not json"), std::string("[1,2,3]"), std::string("\"a string\""),
        std::string(R"({"version":"1.1","short_message":"no host"})"),
        std::string("\x78\x9c garbage that is no zlib stream"),
        std::string("\x1f\x8b\x08 garbage that is no gzip stream")}) {
    send_udp(daemon.gelf_port(), bad);
  }
  // Binary without a PRI is rejected as not_syslog; a datagram of a few printable bytes could pass
  // as a PRI-less RFC 3164 line, hence the margin below 303.
  EXPECT_TRUE(wait_until([&] { return daemon.input_errors("syslog-udp") >= 290; }, patience))
      << "syslog-udp errors: " << daemon.input_errors("syslog-udp");
  EXPECT_TRUE(wait_until([&] { return daemon.input_errors("gelf-udp") >= 300; }, patience))
      << "gelf-udp errors: " << daemon.input_errors("gelf-udp")
      << " (random datagrams cannot be GELF)";

  EXPECT_TRUE(send_udp_until_archived(daemon, daemon.syslog_port(),
                                      syslog_line("udp-ok", "syslog udp after garbage"),
                                      "syslog udp after garbage"));
  EXPECT_TRUE(send_udp_until_archived(
      daemon, daemon.gelf_port(), gelf_json("gelf udp after garbage"), "gelf udp after garbage"));
  EXPECT_TRUE(daemon.running());
  EXPECT_TRUE(daemon.healthy());
}

TEST(garbage, tcp_gelf_garbage_is_counted_and_nul_resynchronises) {
  tocsin_daemon daemon;
  tcp_client conn(daemon.gelf_port());
  std::string junk = garbage(256 * 1024, 42);
  junk += '\0';
  junk += "{\"broken\": ";
  junk += '\0';
  junk += "[1,2]";
  junk += '\0';
  junk += gelf_json("gelf tcp after garbage");
  junk += '\0';
  ASSERT_TRUE(conn.send_all(junk));
  EXPECT_TRUE(daemon.wait_for_event_with("message", "gelf tcp after garbage"));
  EXPECT_GE(daemon.input_errors("gelf-tcp"), 2);
  EXPECT_TRUE(daemon.healthy());
}

TEST(oversize, ten_megabyte_frames_are_counted_and_skipped) {
  tocsin_daemon daemon;
  const std::string huge(10 * 1024 * 1024, 'x');

  // LF-framed: the rest of the line is discarded up to its LF, the next frame is fine.
  {
    tcp_client conn(daemon.syslog_port());
    ASSERT_TRUE(conn.send_all("<13>1 2024-05-01T10:00:00Z testhost huge - - - " + huge + "\n" +
                              syslog_line("after-huge", "same connection after lf huge")));
    EXPECT_TRUE(daemon.wait_for_event_with("message", "same connection after lf huge"));
  }
  // Octet-counted: exactly MSG-LEN bytes are discarded.
  {
    const std::string msg = "<13>1 2024-05-01T10:00:00Z testhost huge - - - " + huge;
    tcp_client conn(daemon.syslog_port());
    ASSERT_TRUE(conn.send_all(std::to_string(msg.size()) + " " + msg +
                              syslog_line("after-huge", "same connection after counted huge")));
    EXPECT_TRUE(daemon.wait_for_event_with("message", "same connection after counted huge"));
  }
  {
    tcp_client conn(daemon.syslog_port());
    ASSERT_TRUE(conn.send_all(syslog_line("after-huge", "new connection after huge")));
    EXPECT_TRUE(daemon.wait_for_event_with("message", "new connection after huge"));
  }
  // GELF TCP: up to the NUL.
  {
    tcp_client conn(daemon.gelf_port());
    ASSERT_TRUE(conn.send_all(gelf_json(huge) + std::string(1, '\0') +
                              gelf_json("gelf after huge") + std::string(1, '\0')));
    EXPECT_TRUE(daemon.wait_for_event_with("message", "gelf after huge"));
  }
  EXPECT_EQ(daemon.input_errors("syslog-tcp", "message_too_large"), 2);
  EXPECT_EQ(daemon.input_errors("gelf-tcp", "message_too_large"), 1);
  for (const auto& ev : daemon.events()) {
    EXPECT_NE(text_field(ev, "app"), "huge") << "a part of an oversize frame was archived";
    EXPECT_LT(text_field(ev, "message").size(), 65536u);
  }
  EXPECT_LT(rss_mib(daemon.pid()), rss_limit_mib);
  EXPECT_TRUE(daemon.healthy());
}

TEST(connections, half_open_connections_do_not_block_the_daemon) {
  // Every connection comes from 127.0.0.1: this is about the global limits, so the per-source
  // cap (64 by default) is off.
  daemon_options o;
  o.extra_limits = ", max_connections_per_source: 0";
  tocsin_daemon daemon(o);
  ASSERT_TRUE(wait_for_connections(daemon, "syslog-tcp", 0));
  std::vector<tcp_client> stuck;
  for (int i = 0; i < 30; ++i) {
    tcp_client syslog_lf(daemon.syslog_port());
    ASSERT_TRUE(syslog_lf.send_all("<13>1 2024-05-01T10:00:00Z testhost stuck - - - no newline"));
    tcp_client syslog_counted(daemon.syslog_port());
    ASSERT_TRUE(syslog_counted.send_all("500 <13>1 2024-05-01T10:00:00Z testhost stuck - - - "));
    tcp_client gelf(daemon.gelf_port());
    ASSERT_TRUE(gelf.send_all(R"({"version":"1.1","host":"testhost","short_mes)"));
    stuck.push_back(std::move(syslog_lf));
    stuck.push_back(std::move(syslog_counted));
    stuck.push_back(std::move(gelf));
  }
  EXPECT_TRUE(wait_for_connections(daemon, "syslog-tcp", 60));
  EXPECT_TRUE(wait_for_connections(daemon, "gelf-tcp", 30));
  EXPECT_TRUE(daemon.healthy());

  tcp_client good(daemon.syslog_port());
  ASSERT_TRUE(good.send_all(syslog_line("ok", "flows past half-open peers")));
  EXPECT_TRUE(daemon.wait_for_event_with("message", "flows past half-open peers"));
  tcp_client good_gelf(daemon.gelf_port());
  ASSERT_TRUE(good_gelf.send_all(gelf_json("gelf flows past half-open peers") + '\0'));
  EXPECT_TRUE(daemon.wait_for_event_with("message", "gelf flows past half-open peers"));

  // Nothing half-sent was archived as if complete while the peers are still connected.
  for (const auto& ev : daemon.events()) EXPECT_NE(text_field(ev, "app"), "stuck");
  stuck.clear();
  good.close();
  good_gelf.close();
  EXPECT_TRUE(wait_for_connections(daemon, "syslog-tcp", 0));
  EXPECT_TRUE(wait_for_connections(daemon, "gelf-tcp", 0));
  EXPECT_TRUE(daemon.running());
}

TEST(connections, idle_connections_are_closed_after_idle_timeout) {
  daemon_options options;
  options.idle_timeout = "2s";
  tocsin_daemon daemon(options);
  tcp_client silent(daemon.syslog_port());
  tcp_client half_frame(daemon.syslog_port());
  ASSERT_TRUE(half_frame.send_all("<13>1 2024-05-01T10:00:00Z testhost idle - - - half"));
  tcp_client gelf(daemon.gelf_port());
  ASSERT_TRUE(silent.is_open() && half_frame.is_open() && gelf.is_open());
  EXPECT_TRUE(silent.closed_by_peer(10s));
  EXPECT_TRUE(half_frame.closed_by_peer(10s));
  EXPECT_TRUE(gelf.closed_by_peer(10s));
  EXPECT_TRUE(wait_for_connections(daemon, "syslog-tcp", 0));
  EXPECT_TRUE(daemon.healthy());
}

TEST(connections, a_thousand_idle_connections_while_traffic_flows) {
  if (!allow_open_files(1200)) GTEST_SKIP() << "RLIMIT_NOFILE hard limit below 1200";
  // Every connection comes from 127.0.0.1: this is about the global limits, so the per-source
  // cap (64 by default) is off.
  daemon_options o;
  o.extra_limits = ", max_connections_per_source: 0";
  tocsin_daemon daemon(o);
  ASSERT_TRUE(wait_for_connections(daemon, "syslog-tcp", 0));
  std::vector<tcp_client> idle(1000);
  for (auto& c : idle) ASSERT_TRUE(c.connect(daemon.syslog_port()));
  EXPECT_TRUE(wait_until([&] { return daemon.input_connections("syslog-tcp") >= 1000; }, patience))
      << "tocsin_input_connections{input=\"syslog-tcp\"} = "
      << daemon.input_connections("syslog-tcp");

  tcp_client active(daemon.syslog_port());
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(active.send_all(syslog_line("busy", "message " + std::to_string(i))));
  }
  EXPECT_TRUE(daemon.wait_for_event_with("message", "message 99"));
  EXPECT_TRUE(send_udp_until_archived(daemon, daemon.syslog_port(),
                                      syslog_line("udp", "udp while 1000 idle"),
                                      "udp while 1000 idle"));
  // A few of the idle ones wake up and talk.
  for (int i : {0, 499, 999}) {
    ASSERT_TRUE(idle[i].send_all(syslog_line("woke", "idle " + std::to_string(i) + " speaks")));
    EXPECT_TRUE(daemon.wait_for_event_with("message", "idle " + std::to_string(i) + " speaks"));
  }
  EXPECT_EQ(daemon.input_errors("syslog-tcp"), 0);
  EXPECT_LT(rss_mib(daemon.pid()), rss_limit_mib);

  idle.clear();
  active.close();
  EXPECT_TRUE(wait_for_connections(daemon, "syslog-tcp", 0))
      << daemon.input_connections("syslog-tcp") << " still counted as open";
  EXPECT_TRUE(daemon.healthy());
}

TEST(connections, max_connections_refuses_the_next_one) {
  daemon_options options;
  options.max_connections = 5;
  tocsin_daemon daemon(options);
  ASSERT_TRUE(wait_for_connections(daemon, "syslog-tcp", 0));

  std::vector<tcp_client> admitted(5);
  for (auto& c : admitted) ASSERT_TRUE(c.connect(daemon.syslog_port()));
  ASSERT_TRUE(wait_for_connections(daemon, "syslog-tcp", 5));

  tcp_client sixth(daemon.syslog_port());  // the kernel completes the handshake; tocsin closes it
  EXPECT_TRUE(sixth.closed_by_peer(patience)) << "the 6th connection was not closed";
  EXPECT_TRUE(wait_until(
      [&] { return daemon.input_errors("syslog-tcp", "too_many_connections") >= 1; }, patience));
  EXPECT_EQ(daemon.input_connections("syslog-tcp"), 5);

  // The admitted ones still work, and the limit is per input.
  ASSERT_TRUE(admitted[2].send_all(syslog_line("limit", "from an admitted connection")));
  EXPECT_TRUE(daemon.wait_for_event_with("message", "from an admitted connection"));
  tcp_client gelf(daemon.gelf_port());
  ASSERT_TRUE(gelf.send_all(gelf_json("gelf is another input") + '\0'));
  EXPECT_TRUE(daemon.wait_for_event_with("message", "gelf is another input"));

  // A freed slot can be used again.
  admitted[0].close();
  ASSERT_TRUE(wait_for_connections(daemon, "syslog-tcp", 4));
  tcp_client again(daemon.syslog_port());
  ASSERT_TRUE(again.send_all(syslog_line("limit", "after a slot was freed")));
  EXPECT_TRUE(daemon.wait_for_event_with("message", "after a slot was freed"));
}

TEST(gelf_chunks, bogus_chunks_are_counted_and_good_ones_reassemble) {
  tocsin_daemon daemon;
  const auto port = daemon.gelf_port();
  auto errors = [&] { return daemon.input_errors("gelf-udp"); };
  auto errors_rise_above = [&](double before) {
    return wait_until([&] { return errors() > before; }, patience);
  };

  // Never completed: 1 of 2 chunks. Sent first, so its ~5 s expiry overlaps the other steps.
  ASSERT_TRUE(send_udp(port, gelf_chunk(0xdead, 0, 2, R"({"version":"1.1",)")));

  struct bogus {
    std::string name;
    std::vector<std::string> datagrams;
  };
  std::vector<bogus> cases = {
      {"count_zero", {gelf_chunk(1, 0, 0, gelf_json("count zero"))}},
      {"seq_not_below_count", {gelf_chunk(2, 2, 2, gelf_json("seq 2 of 2"))}},
      {"seq_far_beyond_count", {gelf_chunk(3, 200, 3, gelf_json("seq 200 of 3"))}},
      {"header_too_short", {std::string("\x1e\x0f\x01\x02")}},
  };
  bogus too_many{"count_129", {}};
  for (int seq = 0; seq < 129; ++seq) {
    too_many.datagrams.push_back(gelf_chunk(4, seq, 129, seq == 0 ? R"({"version":)" : " "));
  }
  cases.push_back(std::move(too_many));

  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const double before = errors();
    for (const auto& d : c.datagrams) ASSERT_TRUE(send_udp(port, d));
    EXPECT_TRUE(errors_rise_above(before)) << "not counted as an error";
  }

  // A good message in 3 chunks, out of order and with a duplicate, from one socket like a real
  // sender: exactly one event.
  const std::string good = gelf_json("reassembled from three chunks", "chunky");
  udp_client sender;
  for (int seq : {2, 0, 0, 1}) {
    ASSERT_TRUE(sender.send_to(port, gelf_chunk(0x0123456789abcdefULL, seq, 3, third(good, seq))));
  }
  EXPECT_TRUE(daemon.wait_for_event_with("message", "reassembled from three chunks"));

  // The incomplete message expires after ~5 s and is counted as such.
  EXPECT_TRUE(
      wait_until([&] { return daemon.input_errors("gelf-udp", "chunk_timeout") >= 1; }, 10s))
      << daemon.metrics_text();

  std::size_t chunky = 0;
  for (const auto& ev : daemon.events()) {
    const std::string msg = text_field(ev, "message");
    EXPECT_TRUE(msg == "reassembled from three chunks") << "unexpected event: " << ev.dump();
    chunky += msg == "reassembled from three chunks";
  }
  EXPECT_EQ(chunky, 1u) << "a duplicate chunk produced a second event";
  EXPECT_EQ(daemon.input_messages("gelf-udp"), 1);
  EXPECT_TRUE(daemon.healthy());
}

// Graylog keys chunks by message id alone, so the chunks of one message may come from different
// source ports (a sender with a socket per datagram, several sender threads). With SO_REUSEPORT the
// kernel spreads those over the shards, so the assembler must be shared by the input's shards.
TEST(gelf_chunks, chunks_from_different_source_ports_reassemble) {
  tocsin_daemon daemon;
  constexpr std::size_t messages = 20;
  for (std::uint64_t id = 1; id <= messages; ++id) {
    const std::string good = gelf_json("cross-port message " + std::to_string(id), "crossport");
    for (int seq = 0; seq < 3; ++seq) {
      udp_client own_socket;  // a new source port for every chunk
      ASSERT_TRUE(own_socket.send_to(daemon.gelf_port(), gelf_chunk(id, seq, 3, third(good, seq))));
    }
  }
  EXPECT_TRUE(wait_until([&] { return daemon.events().size() >= messages; }, patience))
      << "reassembled " << daemon.events().size() << " of " << messages << "; chunk_timeout "
      << daemon.input_errors("gelf-udp", "chunk_timeout");
}

TEST(memory, stays_bounded_under_floods) {
  if (!allow_open_files(600)) GTEST_SKIP() << "RLIMIT_NOFILE hard limit below 600";
  // Every connection comes from 127.0.0.1: this is about the global limits, so the per-source
  // cap (64 by default) is off.
  daemon_options o;
  o.extra_limits = ", max_connections_per_source: 0";
  tocsin_daemon daemon(o);
  // Many incomplete chunked messages (each would be ~180 KB if ever completed).
  const std::string filler(1400, 'z');
  for (std::uint64_t id = 0; id < 3000; ++id) {
    for (int seq = 0; seq < 4; ++seq)
      send_udp(daemon.gelf_port(), gelf_chunk(id, seq, 128, filler));
  }
  // Many connections each holding an almost-full frame that never ends.
  std::vector<tcp_client> holders;
  const std::string almost = "<13>1 2024-05-01T10:00:00Z h a - - - " + std::string(60000, 'y');
  for (int i = 0; i < 300; ++i) {
    tcp_client c(daemon.syslog_port());
    ASSERT_TRUE(c.send_all(almost));
    holders.push_back(std::move(c));
  }
  // And connections sending 10 MB lines.
  const std::string huge(10 * 1024 * 1024, 'q');
  for (int i = 0; i < 5; ++i) {
    tcp_client c(daemon.syslog_port());
    ASSERT_TRUE(c.send_all(huge));
    holders.push_back(std::move(c));
  }
  EXPECT_TRUE(wait_until([&] { return daemon.input_connections("syslog-tcp") >= 305; }, patience));
  const double rss = rss_mib(daemon.pid());
  EXPECT_GT(rss, 0);
  EXPECT_LT(rss, rss_limit_mib) << "VmRSS " << rss << " MiB";
  tcp_client good(daemon.syslog_port());
  ASSERT_TRUE(good.send_all(syslog_line("mem", "still flowing under pressure")));
  EXPECT_TRUE(daemon.wait_for_event_with("message", "still flowing under pressure"));
  EXPECT_TRUE(daemon.healthy());
  std::cerr << "tocsin VmRSS under flood: " << rss << " MiB\n";
}

}  // namespace
}  // namespace tocsin::test
