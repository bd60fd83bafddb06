// Tests for collector/gelf_http_session.hpp: a real loopback connection, raw HTTP/1.1 bytes
// from the test, and a recording gelf_http_input that decodes with the real GELF decoder.

#include "collector/gelf_http_session.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <boost/asio.hpp>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "collector/gelf.hpp"
#include "tests/support/support.hpp"

namespace tocsin::collector {
namespace {

using test::deflate_with;

using namespace std::chrono_literals;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// What the session told its input, shared with the test thread.
struct record {
  std::mutex mutex;
  std::vector<std::string> messages;  // decoded short_message of each accepted body
  std::vector<std::string> errors;    // reject() codes and failed decodes, in order
  std::atomic<bool> accepting{true};
  std::atomic<std::size_t> bytes{0};
  std::atomic<int> pause_next{0};  // ms to pause before the next read, once
  std::atomic<int> pauses{0};
  std::atomic<int> sessions_closed{0};

  std::vector<std::string> got() {
    std::lock_guard lock(mutex);
    return messages;
  }
  std::vector<std::string> rejected() {
    std::lock_guard lock(mutex);
    return errors;
  }
};

class recording_input final : public gelf_http_input {
 public:
  explicit recording_input(record& r) : r_(r) {}
  ~recording_input() override { ++r_.sessions_closed; }
  [[nodiscard]] bool accepting() const override { return r_.accepting; }
  void received(std::size_t bytes) override { r_.bytes += bytes; }
  decode_status deliver(std::string_view body) override {
    event ev;
    const auto status = decode_gelf_payload(body, 65536, scratch_, ev);
    std::lock_guard lock(r_.mutex);
    if (status.is_ok()) {
      r_.messages.emplace_back(ev.message);
    } else {
      r_.errors.emplace_back(status.code);
    }
    return status;
  }
  void reject(const char* code, const char*) override {
    std::lock_guard lock(r_.mutex);
    r_.errors.emplace_back(code);
  }
  std::chrono::steady_clock::duration pause_before_read() override {
    const int ms = r_.pause_next.exchange(0);
    if (ms > 0) ++r_.pauses;
    return std::chrono::milliseconds(ms);
  }

 private:
  record& r_;
  std::string scratch_;
};

// serve_gelf_http() behind a loopback acceptor on its own io_context thread.
class http_server {
 public:
  explicit http_server(gelf_http_options options = {.max_body_bytes = 1000})
      : options_(options), acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~http_server() {
    io_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  record r;

 private:
  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) return;
      serve_gelf_http(std::move(socket), std::make_unique<recording_input>(r), options_);
      accept();
    });
  }

  gelf_http_options options_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

struct response {
  int status = 0;                              // 0: none (closed or timed out)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// A blocking raw HTTP client: the test writes exact bytes and reads responses one by one.
class raw_client {
 public:
  explicit raw_client(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  }
  ~raw_client() { ::close(fd_); }

  bool send(std::string_view data) {
    while (!data.empty()) {
      const auto n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // The next response (status 0 when the connection closed or nothing came within `timeout`).
  response read(std::chrono::milliseconds timeout = 5s) {
    response out;
    std::size_t header_end;
    while ((header_end = in_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill(timeout)) return out;
    }
    const std::string head = in_.substr(0, header_end);
    std::size_t line_end = head.find("\r\n");
    out.status = std::stoi(head.substr(9, 3));
    while (line_end != std::string::npos) {
      const std::size_t start = line_end + 2;
      line_end = head.find("\r\n", start);
      const std::string line = head.substr(start, line_end - start);
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    }
    std::size_t length = 0;
    if (out.headers.count("content-length")) length = std::stoul(out.headers["content-length"]);
    while (in_.size() < header_end + 4 + length) {
      if (!fill(timeout)) return {};
    }
    out.body = in_.substr(header_end + 4, length);
    in_.erase(0, header_end + 4 + length);
    return out;
  }

  // True when the server closed the connection within `timeout`.
  bool closed_by_server(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char buf[4096];
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return true;
    }
    return false;
  }

 private:
  bool fill(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
    char buf[4096];
    const auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    in_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  int fd_;
  std::string in_;
};

std::string gelf(const std::string& message) {
  return R"({"version":"1.1","host":"web1","short_message":")" + message + R"("})";
}

std::string post(std::string_view body, const std::string& extra_headers = "",
                 const std::string& target = "/gelf") {
  return "POST " + target + " HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n" +
         extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         std::string(body);
}

TEST(gelf_http_session, accepts_posts_with_202_on_one_keep_alive_connection) {
  http_server server;
  raw_client client(server.port());
  for (const char* m : {"first", "second", "third"}) {
    ASSERT_TRUE(client.send(post(gelf(m))));
    const auto res = client.read();
    EXPECT_EQ(res.status, 202) << m;
    EXPECT_EQ(res.body, "");
    EXPECT_EQ(res.headers.at("content-length"), "0");
  }
  EXPECT_EQ(server.r.got(), (std::vector<std::string>{"first", "second", "third"}));
  EXPECT_TRUE(server.r.rejected().empty());
  EXPECT_GT(server.r.bytes.load(), 3 * gelf("first").size());
}

TEST(gelf_http_session, pipelined_requests_are_answered_in_order) {
  http_server server;
  raw_client client(server.port());
  ASSERT_TRUE(client.send(post(gelf("p1")) + post("{}") + post(gelf("p3"))));
  EXPECT_EQ(client.read().status, 202);
  EXPECT_EQ(client.read().status, 400);
  EXPECT_EQ(client.read().status, 202);
  EXPECT_EQ(server.r.got(), (std::vector<std::string>{"p1", "p3"}));
}

TEST(gelf_http_session, compressed_bodies_are_read_by_their_magic_bytes) {
  http_server server;
  raw_client client(server.port());
  struct case_t {
    std::string name, body, headers;
  };
  const std::vector<case_t> cases = {
      {"gzip", deflate_with(gelf("gzip"), 31), "Content-Encoding: gzip\r\n"},
      {"deflate", deflate_with(gelf("deflate"), 15), "Content-Encoding: deflate\r\n"},
      // graypy's GELFHTTPHandler announces both on a zlib body.
      {"graypy", deflate_with(gelf("graypy"), 15), "Content-Encoding: gzip,deflate\r\n"},
      {"gzip_unannounced", deflate_with(gelf("gzip_unannounced"), 31), ""},
      {"zlib_unannounced", deflate_with(gelf("zlib_unannounced"), 15), ""},
      {"identity", gelf("identity"), "Content-Encoding: identity\r\n"},
  };
  for (const auto& c : cases) {
    ASSERT_TRUE(client.send(post(c.body, c.headers)));
    EXPECT_EQ(client.read().status, 202) << c.name;
  }
  std::vector<std::string> names;
  for (const auto& c : cases) names.push_back(c.name);
  EXPECT_EQ(server.r.got(), names);
}

TEST(gelf_http_session, invalid_gelf_is_a_400_with_the_reason_and_the_connection_stays) {
  http_server server;
  raw_client client(server.port());
  ASSERT_TRUE(client.send(post(R"({"short_message":"no host"})")));
  auto res = client.read();
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.body.rfind("missing_host", 0), 0u) << res.body;
  EXPECT_EQ(res.headers["content-type"], "text/plain; charset=utf-8");
  ASSERT_TRUE(client.send(post("not json")));
  res = client.read();
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.body.rfind("bad_json", 0), 0u) << res.body;
  ASSERT_TRUE(client.send(post(gelf("after the errors"))));
  EXPECT_EQ(client.read().status, 202);
  EXPECT_EQ(server.r.rejected(), (std::vector<std::string>{"missing_host", "bad_json"}));
}

TEST(gelf_http_session, wrong_path_and_method_are_404_and_405) {
  http_server server;
  raw_client client(server.port());
  ASSERT_TRUE(client.send(post(gelf("x"), "", "/other")));
  // A refused request's body is not read, so the connection cannot carry on.
  EXPECT_EQ(client.read().status, 404);
  EXPECT_TRUE(client.closed_by_server());

  raw_client get(server.port());
  ASSERT_TRUE(get.send("GET /gelf HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto res = get.read();
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(res.headers["allow"], "POST");
  // Without a body the connection carries on.
  ASSERT_TRUE(get.send("GET /nothing-here?x=1 HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_EQ(get.read().status, 404);
  ASSERT_TRUE(get.send(post(gelf("still open"))));
  EXPECT_EQ(get.read().status, 202);
  EXPECT_EQ(server.r.rejected(),
            (std::vector<std::string>{"not_found", "method_not_allowed", "not_found"}));
  EXPECT_EQ(server.r.got(), (std::vector<std::string>{"still open"}));
}

TEST(gelf_http_session, bodies_over_the_limit_are_413_and_end_the_connection) {
  http_server server({.max_body_bytes = 100});
  raw_client client(server.port());
  const std::string big = gelf(std::string(200, 'x'));
  ASSERT_TRUE(client.send(post(big)));
  EXPECT_EQ(client.read().status, 413);
  EXPECT_TRUE(client.closed_by_server());

  // Chunked bodies have no Content-Length: the limit stops them while they are read.
  raw_client chunked(server.port());
  std::string req = "POST /gelf HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 5; ++i) req += "32\r\n" + std::string(50, 'y') + "\r\n";
  req += "0\r\n\r\n";
  ASSERT_TRUE(chunked.send(req));
  EXPECT_EQ(chunked.read().status, 413);
  EXPECT_EQ(server.r.rejected(),
            (std::vector<std::string>{"message_too_large", "message_too_large"}));
  EXPECT_TRUE(server.r.got().empty());
}

TEST(gelf_http_session, unknown_content_encoding_is_415) {
  http_server server;
  raw_client client(server.port());
  ASSERT_TRUE(client.send(post(gelf("br"), "Content-Encoding: br\r\n")));
  EXPECT_EQ(client.read().status, 415);
  EXPECT_EQ(server.r.rejected(), (std::vector<std::string>{"unsupported_encoding"}));
}

TEST(gelf_http_session, malformed_http_is_a_400) {
  http_server server;
  raw_client client(server.port());
  ASSERT_TRUE(client.send("POST /gelf HTTP/1.1\r\nContent-Length: banana\r\n\r\n"));
  EXPECT_EQ(client.read().status, 400);
  EXPECT_TRUE(client.closed_by_server());
  EXPECT_EQ(server.r.rejected(), (std::vector<std::string>{"bad_request"}));
}

TEST(gelf_http_session, expect_100_continue_is_answered_before_the_body) {
  http_server server;
  raw_client client(server.port());
  const std::string body = gelf("continued");
  ASSERT_TRUE(
      client.send("POST /gelf HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                  "Content-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n"));
  EXPECT_EQ(client.read().status, 100);
  ASSERT_TRUE(client.send(body));
  EXPECT_EQ(client.read().status, 202);
  EXPECT_EQ(server.r.got(), (std::vector<std::string>{"continued"}));
}

TEST(gelf_http_session, http_1_0_without_keep_alive_is_closed_after_the_response) {
  http_server server;
  raw_client client(server.port());
  const std::string body = gelf("old client");
  ASSERT_TRUE(client.send("POST /gelf HTTP/1.0\r\nContent-Length: " + std::to_string(body.size()) +
                          "\r\n\r\n" + body));
  EXPECT_EQ(client.read().status, 202);
  EXPECT_TRUE(client.closed_by_server());
  EXPECT_TRUE(test::wait_until([&] { return server.r.sessions_closed.load() == 1; }, 5s));
}

TEST(gelf_http_session, no_request_is_read_while_the_input_is_not_accepting) {
  http_server server;
  raw_client client(server.port());
  ASSERT_TRUE(client.send(post(gelf("before"))));
  EXPECT_EQ(client.read().status, 202);
  server.r.accepting = false;
  ASSERT_TRUE(client.send(post(gelf("held back"))));
  EXPECT_EQ(client.read(300ms).status, 0) << "answered while the outputs were full";
  EXPECT_EQ(server.r.got().size(), 1u);
  server.r.accepting = true;
  EXPECT_EQ(client.read().status, 202);
  EXPECT_EQ(server.r.got(), (std::vector<std::string>{"before", "held back"}));
}

TEST(gelf_http_session, a_throttled_sender_waits_and_loses_nothing) {
  http_server server;
  // The input says "over the rate, wait 300 ms" before the session's first read (set before
  // connecting: the session asks before every read, so a later change could come too late).
  server.r.pause_next = 300;
  raw_client client(server.port());
  ASSERT_TRUE(client.send(post(gelf("one"))));
  EXPECT_EQ(client.read().status, 202);
  ASSERT_TRUE(client.send(post(gelf("two"))));
  EXPECT_EQ(client.read().status, 202);
  EXPECT_EQ(server.r.pauses.load(), 1);
  EXPECT_EQ(server.r.got(), (std::vector<std::string>{"one", "two"}));
}

TEST(gelf_http_session, a_connection_paused_longer_than_idle_timeout_is_kept) {
  // DESIGN.md: a connection paused by backpressure or a rate limit is not idle.
  http_server server({.max_body_bytes = 1000, .idle_timeout = 200ms});
  raw_client client(server.port());
  ASSERT_TRUE(client.send(post(gelf("before"))));
  EXPECT_EQ(client.read().status, 202);
  server.r.accepting = false;
  ASSERT_TRUE(client.send(post(gelf("held back"))));
  std::this_thread::sleep_for(800ms);  // the scenario: four idle timeouts pass while paused
  server.r.accepting = true;
  EXPECT_EQ(client.read().status, 202);
  // Throttled for longer than the idle timeout: still served.
  server.r.pause_next = 800;
  ASSERT_TRUE(client.send(post(gelf("slow"))));
  EXPECT_EQ(client.read().status, 202);
  ASSERT_TRUE(client.send(post(gelf("throttled"))));
  EXPECT_EQ(client.read().status, 202);
  EXPECT_EQ(server.r.got(), (std::vector<std::string>{"before", "held back", "slow", "throttled"}));
  EXPECT_EQ(server.r.sessions_closed.load(), 0);
}

TEST(gelf_http_session, an_idle_connection_is_closed) {
  http_server server({.max_body_bytes = 1000, .idle_timeout = 200ms});
  raw_client idle(server.port());
  EXPECT_TRUE(idle.closed_by_server(5s));
  // Half a request is idle too (slowloris).
  raw_client half(server.port());
  ASSERT_TRUE(half.send("POST /gelf HTTP/1.1\r\nHost: t\r\n"));
  EXPECT_TRUE(half.closed_by_server(5s));
  EXPECT_TRUE(test::wait_until([&] { return server.r.sessions_closed.load() == 2; }, 5s));
}

TEST(gelf_http_session, a_peer_that_closes_mid_request_is_counted) {
  http_server server;
  {
    raw_client client(server.port());
    ASSERT_TRUE(client.send("POST /gelf HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{\"ho"));
  }
  EXPECT_TRUE(test::wait_until([&] { return server.r.sessions_closed.load() == 1; }, 5s));
  EXPECT_EQ(server.r.rejected(), (std::vector<std::string>{"truncated_request"}));
}

}  // namespace
}  // namespace tocsin::collector

namespace tocsin::collector {
namespace {

TEST(gelf_http_session, content_encoding_lists_are_read_token_by_token) {
  http_server server;
  raw_client client(server.port());
  // Spaces and tabs around the tokens, an empty token, any case: all readable codings.
  ASSERT_TRUE(
      client.send(post(gelf("listed"), "Content-Encoding:  gzip ,\tIdentity\t,, deflate \r\n")));
  EXPECT_EQ(client.read().status, 202);
  // One unreadable coding in the list is enough to refuse it.
  ASSERT_TRUE(client.send(post(gelf("br"), "Content-Encoding: x-gzip, br\r\n")));
  EXPECT_EQ(client.read().status, 415);
  EXPECT_EQ(server.r.got(), (std::vector<std::string>{"listed"}));
  EXPECT_EQ(server.r.rejected(), (std::vector<std::string>{"unsupported_encoding"}));
}

TEST(gelf_http_session, a_post_without_a_body_is_a_400_and_the_connection_stays) {
  http_server server;
  raw_client client(server.port());
  ASSERT_TRUE(client.send(post("")));
  EXPECT_EQ(client.read().status, 400);
  ASSERT_TRUE(client.send(post(gelf("after"))));
  EXPECT_EQ(client.read().status, 202);
  EXPECT_EQ(server.r.got(), (std::vector<std::string>{"after"}));
  EXPECT_EQ(server.r.rejected(), (std::vector<std::string>{"bad_json"}));
}

TEST(gelf_http_session, without_an_idle_timeout_requests_are_still_served) {
  http_server server(
      {.max_body_bytes = 1000, .idle_timeout = std::chrono::steady_clock::duration::zero()});
  raw_client client(server.port());
  ASSERT_TRUE(client.send(post(gelf("no timeout"))));
  EXPECT_EQ(client.read().status, 202);
  EXPECT_EQ(server.r.got(), (std::vector<std::string>{"no timeout"}));
}

}  // namespace
}  // namespace tocsin::collector
