// The ingest server's inputs beyond plain syslog TCP/UDP: a forced syslog format, GELF over UDP
// (plain and chunked) and TCP, RELP, messages over max_message_bytes, max_connections, host
// names to resolve, and what describe_bound() reports.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include "collector/ingest_server.hpp"
#include "tests/support/metrics.hpp"
#include "tests/support/support.hpp"

namespace tocsin::collector {
namespace {

using namespace std::chrono_literals;

// Keeps what the tests look at of every event it consumes.
class recording_sink final : public event_sink {
 public:
  struct seen {
    std::string message, host, app, format, parse_error, input, source;
  };
  [[nodiscard]] bool accepting() const override { return true; }
  void consume(const event& ev) override {
    std::lock_guard lock(mutex_);
    events_.push_back({std::string(ev.message), std::string(ev.host), std::string(ev.app),
                       std::string(ev.format), std::string(ev.parse_error), std::string(ev.input),
                       ev.source});
  }
  [[nodiscard]] std::vector<seen> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }
  [[nodiscard]] std::vector<std::string> sources() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const seen& e : events_) out.push_back(e.source);
    return out;
  }
  [[nodiscard]] std::size_t size() const {
    std::lock_guard lock(mutex_);
    return events_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<seen> events_;
};

config::input_config input(std::string name, config::input_type type, config::transport t,
                           std::uint16_t port, std::string host = "127.0.0.1") {
  config::input_config in;
  in.name = std::move(name);
  in.type = type;
  in.transport_kind = t;
  in.listen = {std::move(host), port};
  return in;
}

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

class udp_sender {
 public:
  explicit udp_sender(std::uint16_t port)
      : fd_(::socket(AF_INET, SOCK_DGRAM, 0)), to_(loopback(port)) {}
  ~udp_sender() { ::close(fd_); }
  udp_sender(const udp_sender&) = delete;
  udp_sender& operator=(const udp_sender&) = delete;
  void send(std::string_view datagram) {
    ASSERT_EQ(::sendto(fd_, datagram.data(), datagram.size(), 0,
                       reinterpret_cast<const sockaddr*>(&to_), sizeof to_),
              static_cast<ssize_t>(datagram.size()));
  }

 private:
  int fd_;
  sockaddr_in to_;
};

int connect_tcp(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in addr = loopback(port);
  EXPECT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
  return fd;
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

std::uint64_t errors(metrics_registry& metrics, const std::string& in, const std::string& reason) {
  return test::counter_value(metrics, "tocsin_input_errors_total",
                             {{"input", in}, {"reason", reason}});
}

// The port describe_bound() reports for `name` ("name transport host:port").
std::uint16_t bound_port(const ingest_server& server, const std::string& name) {
  for (const std::string& line : server.describe_bound()) {
    if (line.rfind(name + " ", 0) == 0) {
      return static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
    }
  }
  ADD_FAILURE() << "input " << name << " not bound";
  return 0;
}

// A GELF chunk: magic, 8-byte message id, sequence number, count, then data.
std::string gelf_chunk(char id, unsigned seq, unsigned count, std::string_view data) {
  std::string out = "\x1e\x0f";
  out += std::string(7, 'i') + id;
  out += static_cast<char>(seq);
  out += static_cast<char>(count);
  out += data;
  return out;
}

TEST(ingest_server_inputs, a_forced_syslog_format_decodes_only_that_format) {
  config::config cfg;
  cfg.inputs.push_back(input("r5424", config::input_type::syslog, config::transport::udp, 0));
  cfg.inputs.back().format = config::syslog_format::rfc5424;
  cfg.inputs.push_back(input("r3164", config::input_type::syslog, config::transport::udp, 0));
  cfg.inputs.back().format = config::syslog_format::rfc3164;
  cfg.inputs.back().timezone = "UTC";
  recording_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 1);
  server.start();

  udp_sender to_5424(bound_port(server, "r5424"));
  udp_sender to_3164(bound_port(server, "r3164"));
  to_5424.send("<13>1 2026-11-26T04:10:55Z web1 nginx - - - modern");
  ASSERT_TRUE(test::wait_until([&] { return sink.size() == 1; }, 5s));
  to_3164.send("<13>Nov 26 04:10:55 web2 sshd: classic");
  ASSERT_TRUE(test::wait_until([&] { return sink.size() == 2; }, 5s));
  const auto events = sink.events();
  EXPECT_EQ(events[0].message, "modern");
  EXPECT_EQ(events[0].host, "web1");
  EXPECT_EQ(events[0].format, "rfc5424");
  EXPECT_EQ(events[0].input, "r5424");
  EXPECT_EQ(events[1].message, "classic");
  EXPECT_EQ(events[1].host, "web2");
  EXPECT_EQ(events[1].app, "sshd");
  EXPECT_EQ(events[1].format, "rfc3164");
  EXPECT_EQ(events[1].input, "r3164");
}

TEST(ingest_server_inputs, a_syslog_datagram_over_max_message_bytes_is_refused_and_counted) {
  config::config cfg;
  cfg.limits.max_message_bytes = 64;
  cfg.inputs.push_back(input("udp", config::input_type::syslog, config::transport::udp, 0));
  recording_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 1);
  server.start();
  udp_sender to(bound_port(server, "udp"));
  to.send("<13>1 2026-11-26T04:10:55Z h app - - - " + std::string(100, 'x'));
  to.send("<13>1 2026-11-26T04:10:55Z h app - - - short");
  ASSERT_TRUE(test::wait_until([&] { return sink.size() == 1; }, 5s));
  EXPECT_EQ(sink.events()[0].message, "short");
  EXPECT_TRUE(
      test::wait_until([&] { return errors(metrics, "udp", "message_too_large") == 1; }, 5s));
}

TEST(ingest_server_inputs, a_tcp_frame_over_max_message_bytes_is_skipped_and_the_next_one_read) {
  config::config cfg;
  cfg.limits.max_message_bytes = 64;
  cfg.inputs.push_back(input("tcp", config::input_type::syslog, config::transport::tcp, 0));
  recording_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 1);
  server.start();
  const int fd = connect_tcp(bound_port(server, "tcp"));
  ASSERT_TRUE(send_text(fd, "<13>1 2026-11-26T04:10:55Z h app - - - " + std::string(200, 'x') +
                                "\n<13>1 2026-11-26T04:10:55Z h app - - - next\n"));
  ASSERT_TRUE(test::wait_until([&] { return sink.size() == 1; }, 5s));
  EXPECT_EQ(sink.events()[0].message, "next");
  EXPECT_EQ(errors(metrics, "tcp", "message_too_large"), 1u);
  ::close(fd);
}

TEST(ingest_server_inputs, a_tcp_message_larger_than_the_first_buffer_arrives_whole) {
  config::config cfg;
  cfg.limits.max_message_bytes = 256 * 1024;
  cfg.inputs.push_back(input("tcp", config::input_type::syslog, config::transport::tcp, 0));
  recording_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 1);
  server.start();
  const int fd = connect_tcp(bound_port(server, "tcp"));
  const std::string big(100 * 1024, 'b');
  ASSERT_TRUE(send_text(fd, "<13>1 2026-11-26T04:10:55Z h app - - - " + big + "\n"));
  ASSERT_TRUE(test::wait_until([&] { return sink.size() == 1; }, 5s));
  EXPECT_EQ(sink.events()[0].message, big);
  // The connection still serves small messages after its buffer shrank back.
  ASSERT_TRUE(send_text(fd, "<13>1 2026-11-26T04:10:55Z h app - - - small\n"));
  ASSERT_TRUE(test::wait_until([&] { return sink.size() == 2; }, 5s));
  EXPECT_EQ(sink.events()[1].message, "small");
  ::close(fd);
}

TEST(ingest_server_inputs, gelf_udp_takes_plain_and_chunked_messages) {
  config::config cfg;
  cfg.inputs.push_back(input("gelf", config::input_type::gelf, config::transport::udp, 0));
  recording_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 2);
  server.start();
  udp_sender to(bound_port(server, "gelf"));
  to.send(R"({"version":"1.1","host":"g1","short_message":"plain"})");
  ASSERT_TRUE(test::wait_until([&] { return sink.size() == 1; }, 5s));
  // Two chunks, the second first.
  const std::string json = R"({"version":"1.1","host":"g2","short_message":"chunked"})";
  to.send(gelf_chunk('a', 1, 2, json.substr(20)));
  to.send(gelf_chunk('a', 0, 2, json.substr(0, 20)));
  ASSERT_TRUE(test::wait_until([&] { return sink.size() == 2; }, 5s));
  const auto events = sink.events();
  EXPECT_EQ(events[0].message, "plain");
  EXPECT_EQ(events[0].host, "g1");
  EXPECT_EQ(events[1].message, "chunked");
  EXPECT_EQ(events[1].host, "g2");
  EXPECT_EQ(events[1].format, "gelf");
}

TEST(ingest_server_inputs, gelf_udp_counts_bad_chunks_and_bad_json) {
  config::config cfg;
  cfg.inputs.push_back(input("gelf", config::input_type::gelf, config::transport::udp, 0));
  recording_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 1);
  server.start();
  udp_sender to(bound_port(server, "gelf"));
  to.send(gelf_chunk('b', 0, 0, "{}"));  // a count of zero
  to.send(gelf_chunk('c', 3, 2, "{}"));  // sequence number beyond the count
  to.send("{not json");
  EXPECT_TRUE(
      test::wait_until([&] { return errors(metrics, "gelf", "bad_chunk_count") == 1; }, 5s));
  EXPECT_TRUE(test::wait_until([&] { return errors(metrics, "gelf", "bad_chunk_seq") == 1; }, 5s));
  EXPECT_TRUE(test::wait_until([&] { return errors(metrics, "gelf", "bad_json") == 1; }, 5s));
  EXPECT_EQ(sink.size(), 0u);
}

TEST(ingest_server_inputs, an_incomplete_chunked_gelf_message_times_out_and_is_counted) {
  config::config cfg;
  cfg.inputs.push_back(input("gelf", config::input_type::gelf, config::transport::udp, 0));
  recording_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 1);
  server.start();
  udp_sender to(bound_port(server, "gelf"));
  to.send(gelf_chunk('d', 0, 2, R"({"version":"1.1",)"));
  // GELF gives a message 5 seconds; the input looks for stale ones every second.
  EXPECT_TRUE(test::wait_until([&] { return errors(metrics, "gelf", "chunk_timeout") == 1; }, 20s));
  EXPECT_EQ(sink.size(), 0u);
}

TEST(ingest_server_inputs, gelf_tcp_reads_nul_terminated_json) {
  config::config cfg;
  cfg.inputs.push_back(input("gelf-tcp", config::input_type::gelf, config::transport::tcp, 0));
  recording_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 1);
  server.start();
  const int fd = connect_tcp(bound_port(server, "gelf-tcp"));
  ASSERT_TRUE(send_text(fd, std::string(R"({"version":"1.1","host":"t1","short_message":"one"})") +
                                '\0' + R"({"host":"t1"})" + '\0'));
  ASSERT_TRUE(test::wait_until([&] { return sink.size() == 1; }, 5s));
  EXPECT_EQ(sink.events()[0].message, "one");
  EXPECT_TRUE(
      test::wait_until([&] { return errors(metrics, "gelf-tcp", "missing_message") == 1; }, 5s));
  ::close(fd);
}

TEST(ingest_server_inputs, gelf_http_counts_a_malformed_request) {
  config::config cfg;
  cfg.inputs.push_back(input("gelf-http", config::input_type::gelf, config::transport::http, 0));
  recording_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 1);
  server.start();
  const int fd = connect_tcp(bound_port(server, "gelf-http"));
  ASSERT_TRUE(send_text(fd, "THIS IS NOT HTTP\r\n\r\n"));
  // Answered 400, then closed.
  std::string reply;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) break;
    char chunk[1024];
    const auto n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    reply.append(chunk, static_cast<std::size_t>(n));
  }
  EXPECT_EQ(reply.rfind("HTTP/1.1 400 ", 0), 0u) << reply;
  EXPECT_TRUE(
      test::wait_until([&] { return errors(metrics, "gelf-http", "bad_request") == 1; }, 5s));
  ::close(fd);
}

TEST(ingest_server_inputs, connections_beyond_max_connections_are_refused_and_counted) {
  config::config cfg;
  cfg.limits.max_connections = 1;
  cfg.limits.max_connections_per_source = 0;
  cfg.inputs.push_back(input("tcp", config::input_type::syslog, config::transport::tcp, 0));
  recording_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 1);
  server.start();
  const auto port = bound_port(server, "tcp");
  const int first = connect_tcp(port);
  ASSERT_TRUE(send_text(first, "<13>1 2026-11-26T04:10:55Z h app - - - first\n"));
  ASSERT_TRUE(test::wait_until([&] { return sink.size() == 1; }, 5s));
  const int second = connect_tcp(port);
  EXPECT_TRUE(closed_by_server(second));
  EXPECT_TRUE(
      test::wait_until([&] { return errors(metrics, "tcp", "too_many_connections") == 1; }, 5s));
  ::close(second);
  ::close(first);
}

// Whether this machine has an IPv6 loopback to bind to.
bool ipv6_loopback() {
  const int fd = ::socket(AF_INET6, SOCK_DGRAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

TEST(ingest_server_inputs, a_host_name_is_resolved_and_bound_ports_are_described) {
  config::config cfg;
  cfg.inputs.push_back(
      input("named", config::input_type::syslog, config::transport::tcp, 0, "localhost"));
  recording_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 1);
  server.start();
  const auto bound = server.describe_bound();
  ASSERT_EQ(bound.size(), 1u);
  // localhost is 127.0.0.1 or ::1, whichever the resolver lists first.
  const bool v4 = bound[0].rfind("named tcp 127.0.0.1:", 0) == 0;
  ASSERT_TRUE(v4 || bound[0].rfind("named tcp [::1]:", 0) == 0) << bound[0];
  const auto port = bound_port(server, "named");
  int fd = -1;
  if (v4) {
    fd = connect_tcp(port);
  } else {
    fd = ::socket(AF_INET6, SOCK_STREAM, 0);
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_port = htons(port);
    addr.sin6_addr = in6addr_loopback;
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  }
  ASSERT_TRUE(send_text(fd, "<13>1 2026-11-26T04:10:55Z h app - - - by name\n"));
  ASSERT_TRUE(test::wait_until([&] { return sink.size() == 1; }, 5s));
  // Every shard has finished what it was doing: nothing is half-delivered.
  server.wait_for_shards();
  EXPECT_EQ(sink.events()[0].message, "by name");
  ::close(fd);
}

TEST(ingest_server_inputs, an_ipv6_input_is_described_with_brackets) {
  if (!ipv6_loopback()) GTEST_SKIP() << "no IPv6 loopback";
  config::config cfg;
  cfg.inputs.push_back(input("v6", config::input_type::syslog, config::transport::udp, 0, "::1"));
  recording_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 1);
  server.start();
  const auto bound = server.describe_bound();
  ASSERT_EQ(bound.size(), 1u);
  EXPECT_EQ(bound[0].rfind("v6 udp [::1]:", 0), 0u) << bound[0];
  const int fd = ::socket(AF_INET6, SOCK_DGRAM, 0);
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_port = htons(bound_port(server, "v6"));
  addr.sin6_addr = in6addr_loopback;
  const std::string datagram = "<13>1 - h app - - - over v6";
  ASSERT_EQ(::sendto(fd, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&addr),
                     sizeof addr),
            static_cast<ssize_t>(datagram.size()));
  ASSERT_TRUE(test::wait_until([&] { return sink.size() == 1; }, 5s));
  EXPECT_EQ(sink.events()[0].message, "over v6");
  EXPECT_EQ(sink.sources()[0].rfind("[::1]:", 0), 0u) << sink.sources()[0];
  ::close(fd);
}

TEST(ingest_server_inputs, zero_shards_means_one_per_core) {
  config::config cfg;
  cfg.inputs.push_back(input("tcp", config::input_type::syslog, config::transport::tcp, 0));
  recording_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 0);
  server.start();
  const int fd = connect_tcp(bound_port(server, "tcp"));
  ASSERT_TRUE(send_text(fd, "<13>1 2026-11-26T04:10:55Z h app - - - any shard\n"));
  EXPECT_TRUE(test::wait_until([&] { return sink.size() == 1; }, 5s));
  ::close(fd);
  server.stop();
  server.stop();  // twice is harmless
}

TEST(ingest_server_inputs, a_connection_closed_inside_the_proxy_header_is_counted) {
  config::config cfg;
  cfg.inputs.push_back(input("lb", config::input_type::syslog, config::transport::tcp, 0));
  cfg.inputs.back().proxy_protocol = true;
  recording_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 1);
  server.start();
  const int fd = connect_tcp(bound_port(server, "lb"));
  ASSERT_TRUE(send_text(fd, "PROXY TCP4 203.0.113.7"));
  ::shutdown(fd, SHUT_WR);
  EXPECT_TRUE(closed_by_server(fd));
  EXPECT_TRUE(test::wait_until([&] { return errors(metrics, "lb", "proxy_protocol") == 1; }, 5s));
  EXPECT_EQ(sink.size(), 0u);
  ::close(fd);
}

// A minimal RELP client (RFC-less protocol of rsyslog): "TXNR COMMAND LEN DATA\n".
class relp_client {
 public:
  explicit relp_client(std::uint16_t port) : fd_(connect_tcp(port)) {}
  ~relp_client() { ::close(fd_); }
  relp_client(const relp_client&) = delete;
  relp_client& operator=(const relp_client&) = delete;

  bool send_frame(int txnr, const std::string& command, const std::string& data) {
    std::string frame = std::to_string(txnr) + " " + command + " " + std::to_string(data.size());
    if (!data.empty()) frame += " " + data;
    return send_text(fd_, frame + "\n");
  }

  // Everything the server sent until `needle` shows up (or 5 s pass).
  std::string read_until(std::string_view needle) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (received_.find(needle) == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) != 1) continue;
      char chunk[4096];
      const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) break;
      received_.append(chunk, static_cast<std::size_t>(n));
    }
    return received_;
  }

 private:
  int fd_;
  std::string received_;
};

TEST(ingest_server_inputs, relp_delivers_and_acknowledges) {
  config::config cfg;
  cfg.inputs.push_back(input("relp", config::input_type::syslog, config::transport::relp, 0));
  recording_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 1);
  server.start();
  const auto bound = server.describe_bound();
  ASSERT_EQ(bound.size(), 1u);
  EXPECT_EQ(bound[0].rfind("relp relp 127.0.0.1:", 0), 0u) << bound[0];
  const auto port = bound_port(server, "relp");
  ASSERT_NE(port, 0);
  ASSERT_TRUE(test::wait_for_tcp(port, 5s));

  relp_client client(port);
  ASSERT_TRUE(client.send_frame(1, "open", "relp_version=0\nrelp_software=test\ncommands=syslog"));
  EXPECT_NE(client.read_until("1 rsp ").find("1 rsp "), std::string::npos);
  ASSERT_TRUE(client.send_frame(2, "syslog", "<13>1 2026-11-26T04:10:55Z r1 app - - - reliable"));
  EXPECT_NE(client.read_until("2 rsp 6 200 OK").find("2 rsp 6 200 OK"), std::string::npos);
  ASSERT_EQ(sink.size(), 1u);
  EXPECT_EQ(sink.events()[0].message, "reliable");
  EXPECT_EQ(sink.events()[0].host, "r1");
  server.wait_for_shards();
  EXPECT_EQ(test::counter_value(metrics, "tocsin_input_messages_total", {{"input", "relp"}}), 1u);
}

// A TLS input with its own CA, and a client certificate from that CA named `client_name`.
struct tls_setup {
  test::temp_dir dir{"tocsin-ingest-tls"};
  test::test_ca ca{dir.path(), "ca"};
  test::cert_files server = ca.issue("server", {"localhost", {"localhost"}, {"127.0.0.1"}});
  test::cert_files client = ca.issue("client", {"client", {"intruder.example.org"}, {}});

  config::config config(const std::vector<std::string>& permitted_peers) const {
    config::config cfg;
    cfg.inputs.push_back(input("tls", config::input_type::syslog, config::transport::tls, 0));
    cfg.inputs.back().tls = config::tls_config{.cert = server.cert.string(),
                                               .key = server.key.string(),
                                               .ca = ca.files().cert.string(),
                                               .client_auth = "optional",
                                               .permitted_peers = permitted_peers};
    return cfg;
  }
};

TEST(ingest_server_inputs, a_tls_client_outside_permitted_peers_is_refused_and_counted) {
  const tls_setup setup;
  const auto cfg = setup.config({"*.example.com"});
  recording_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 1);
  server.start();

  namespace asio = boost::asio;
  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_verify_mode(asio::ssl::verify_none);
  ctx.use_certificate_chain_file(setup.client.cert.string());
  ctx.use_private_key_file(setup.client.key.string(), asio::ssl::context::pem);
  asio::ssl::stream<asio::ip::tcp::socket> tls(io, ctx);
  tls.next_layer().connect({asio::ip::make_address("127.0.0.1"), bound_port(server, "tls")});
  tls.handshake(asio::ssl::stream_base::client);
  boost::system::error_code ec;
  asio::write(tls, asio::buffer(std::string("<13>1 - h a - - - refused\n")), ec);
  EXPECT_TRUE(
      test::wait_until([&] { return errors(metrics, "tls", "peer_not_permitted") == 1; }, 5s));
  EXPECT_EQ(sink.size(), 0u);
}

TEST(ingest_server_inputs, a_failed_tls_handshake_is_counted) {
  const tls_setup setup;
  const auto cfg = setup.config({});
  recording_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 1);
  server.start();
  const auto port = bound_port(server, "tls");
  // Plain text where a ClientHello belongs.
  const int garbage = connect_tcp(port);
  ASSERT_TRUE(send_text(garbage, "<13>1 - h a - - - not tls\n"));
  EXPECT_TRUE(closed_by_server(garbage));
  EXPECT_TRUE(test::wait_until([&] { return errors(metrics, "tls", "tls_handshake") == 1; }, 5s));
  ::close(garbage);
  // A client that goes away in the middle of its handshake.
  const int quitter = connect_tcp(port);
  ASSERT_TRUE(send_text(quitter, std::string("\x16\x03\x01\x00\xff\x01", 6)));
  ::close(quitter);
  EXPECT_TRUE(test::wait_until([&] { return errors(metrics, "tls", "tls_handshake") == 2; }, 5s));
  EXPECT_EQ(sink.size(), 0u);
}

TEST(ingest_server_inputs, a_message_decoded_best_effort_is_delivered_and_counted_malformed) {
  config::config cfg;
  cfg.inputs.push_back(input("udp", config::input_type::syslog, config::transport::udp, 0));
  recording_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 1);
  server.start();
  udp_sender to(bound_port(server, "udp"));
  to.send("<13>1 yesterday host app - - - repaired");
  ASSERT_TRUE(test::wait_until([&] { return sink.size() == 1; }, 5s));
  EXPECT_EQ(sink.events()[0].message, "repaired");
  EXPECT_EQ(sink.events()[0].parse_error, "bad_timestamp");
  EXPECT_EQ(test::counter_value(metrics, "tocsin_input_malformed_total",
                                {{"input", "udp"}, {"reason", "bad_timestamp"}}),
            1u);
}

TEST(ingest_server_inputs, udp_datagrams_over_the_per_source_rate_are_dropped_and_counted) {
  config::config cfg;
  cfg.limits.per_source_rate = 1;
  cfg.limits.burst = 2;
  cfg.inputs.push_back(input("udp", config::input_type::syslog, config::transport::udp, 0));
  recording_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 1);
  server.start();
  udp_sender to(bound_port(server, "udp"));
  for (int i = 0; i < 6; ++i) to.send("<13>1 - h a - - - n" + std::to_string(i));
  // Two fit the bucket; of the rest, at most one more token can have come back meanwhile.
  EXPECT_TRUE(test::wait_until(
      [&] { return sink.size() + errors(metrics, "udp", "rate_limited") == 6; }, 5s));
  EXPECT_GE(sink.size(), 2u);
  EXPECT_GE(errors(metrics, "udp", "rate_limited"), 1u);
}

TEST(ingest_server_inputs, each_udp_sender_is_its_own_source) {
  config::config cfg;
  cfg.inputs.push_back(input("udp", config::input_type::syslog, config::transport::udp, 0));
  recording_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 1);
  server.start();
  const auto port = bound_port(server, "udp");
  udp_sender a(port), b(port);
  a.send("<13>1 - h app - - - from a");
  ASSERT_TRUE(test::wait_until([&] { return sink.size() == 1; }, 5s));
  b.send("<13>1 - h app - - - from b");
  ASSERT_TRUE(test::wait_until([&] { return sink.size() == 2; }, 5s));
  a.send("<13>1 - h app - - - a again");
  ASSERT_TRUE(test::wait_until([&] { return sink.size() == 3; }, 5s));
  const auto sources = sink.sources();
  EXPECT_NE(sources[0], sources[1]);
  EXPECT_EQ(sources[0], sources[2]);
  EXPECT_EQ(sources[0].rfind("127.0.0.1:", 0), 0u) << sources[0];
}

TEST(ingest_server_inputs, connections_beyond_the_per_source_cap_are_refused_and_counted) {
  config::config cfg;
  cfg.limits.max_connections_per_source = 1;
  cfg.inputs.push_back(input("tcp", config::input_type::syslog, config::transport::tcp, 0));
  recording_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 1);
  server.start();
  const auto port = bound_port(server, "tcp");
  const int first = connect_tcp(port);
  ASSERT_TRUE(send_text(first, "<13>1 - h a - - - first\n"));
  ASSERT_TRUE(test::wait_until([&] { return sink.size() == 1; }, 5s));
  const int second = connect_tcp(port);
  EXPECT_TRUE(closed_by_server(second));
  EXPECT_TRUE(test::wait_until(
      [&] { return errors(metrics, "tcp", "too_many_connections_from_source") == 1; }, 5s));
  ::close(second);
  ::close(first);
}

TEST(ingest_server_inputs, relp_on_a_fixed_port) {
  const auto port = test::free_port();
  config::config cfg;
  cfg.inputs.push_back(input("relp", config::input_type::syslog, config::transport::relp, port));
  recording_sink sink;
  metrics_registry metrics;
  ingest_server server(cfg, sink, metrics, 1);
  server.start();
  EXPECT_EQ(server.describe_bound(),
            std::vector<std::string>{"relp relp 127.0.0.1:" + std::to_string(port)});
  ASSERT_TRUE(test::wait_for_tcp(port, 5s));
  relp_client client(port);
  ASSERT_TRUE(client.send_frame(1, "open", "relp_version=0\nrelp_software=test\ncommands=syslog"));
  ASSERT_TRUE(client.send_frame(2, "syslog", "<13>1 - h a - - - fixed"));
  EXPECT_NE(client.read_until("2 rsp 6 200 OK").find("2 rsp 6 200 OK"), std::string::npos);
  ASSERT_EQ(sink.size(), 1u);
  EXPECT_EQ(sink.events()[0].message, "fixed");
}

}  // namespace
}  // namespace tocsin::collector
