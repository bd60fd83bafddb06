// Self-test of tests/support: the helpers integration tests rely on must themselves be right.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "tests/support/http_capture.hpp"
#include "tests/support/support.hpp"

namespace tocsin::test {
namespace {

// --- temp_dir ---------------------------------------------------------------------------------

TEST(temp_dir, created_under_tmp_and_removed) {
  ::unsetenv("TOCSIN_KEEP_TMP");
  std::filesystem::path p;
  {
    temp_dir dir("support-test");
    p = dir.path();
    EXPECT_TRUE(std::filesystem::is_directory(p));
    EXPECT_EQ(p.parent_path(), "/tmp");
    EXPECT_EQ(p.filename().string().rfind("support-test-", 0), 0u);
    const auto f = dir.write_file("sub/dir/a.txt", "hello");
    EXPECT_EQ(f, dir / "sub/dir/a.txt");
    EXPECT_EQ(read_file(f), "hello");
  }
  EXPECT_FALSE(std::filesystem::exists(p));
}

TEST(temp_dir, kept_when_asked) {
  ::setenv("TOCSIN_KEEP_TMP", "1", 1);
  std::filesystem::path p;
  {
    temp_dir dir("support-keep");
    p = dir.path();
  }
  ::unsetenv("TOCSIN_KEEP_TMP");
  EXPECT_TRUE(std::filesystem::is_directory(p));
  std::filesystem::remove_all(p);
}

TEST(temp_dir, move_transfers_ownership) {
  ::unsetenv("TOCSIN_KEEP_TMP");
  temp_dir a("support-move");
  const auto p = a.path();
  {
    temp_dir b(std::move(a));
    EXPECT_EQ(b.path(), p);
    EXPECT_TRUE(a.path().empty());  // NOLINT(bugprone-use-after-move): checking the moved-from
  }
  EXPECT_FALSE(std::filesystem::exists(p));
}

// --- free_port / wait_for_tcp -------------------------------------------------------------------

int bind_loopback(int type, std::uint16_t port) {
  const int fd = ::socket(AF_INET, type, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST(free_port, bindable_for_tcp_and_udp) {
  const std::uint16_t port = free_port();
  EXPECT_GT(port, 0);
  const int tcp = bind_loopback(SOCK_STREAM, port);
  const int udp = bind_loopback(SOCK_DGRAM, port);
  EXPECT_GE(tcp, 0);
  EXPECT_GE(udp, 0);
  if (tcp >= 0) ::close(tcp);
  if (udp >= 0) ::close(udp);
}

TEST(wait_for_tcp, sees_listener_and_reports_closed_port) {
  const std::uint16_t port = free_port();
  EXPECT_FALSE(wait_for_tcp(port, 100ms));
  const int fd = bind_loopback(SOCK_STREAM, port);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  EXPECT_TRUE(wait_for_tcp(port, 5s));
  ::close(fd);
}

// --- wait_until -------------------------------------------------------------------------------

TEST(wait_until, returns_when_predicate_holds) {
  int calls = 0;
  EXPECT_TRUE(wait_until([&] { return ++calls == 3; }, 10s));
  EXPECT_EQ(calls, 3);
  EXPECT_FALSE(wait_until([] { return false; }, 50ms));
}

// --- run_command ------------------------------------------------------------------------------

struct command_case {
  const char* name;
  std::vector<std::string> argv;
  std::string stdin_text;
  env_list env;
  int exit_code;
  std::string out;
  std::string err;
};
void PrintTo(const command_case& c, std::ostream* os) { *os << c.name; }

class run_command_table : public ::testing::TestWithParam<command_case> {};

TEST_P(run_command_table, runs) {
  const auto& c = GetParam();
  const auto r = run_command(c.argv, c.stdin_text, {.env = c.env});
  EXPECT_EQ(r.exit_code, c.exit_code);
  EXPECT_EQ(r.stdout_text, c.out);
  EXPECT_EQ(r.stderr_text, c.err);
}

const std::string big(1 << 20, 'x');  // larger than a pipe buffer: both directions must flow

INSTANTIATE_TEST_SUITE_P(
    cases, run_command_table,
    ::testing::Values(
        command_case{"echo", {"echo", "hello"}, "", {}, 0, "hello\n", ""},
        command_case{"stdin_to_stdout", {"cat"}, "a\nb\n", {}, 0, "a\nb\n", ""},
        command_case{"big_stdin", {"cat"}, big, {}, 0, big, ""},
        command_case{
            "stderr_and_code", {"sh", "-c", "echo oops >&2; exit 3"}, "", {}, 3, "", "oops\n"},
        command_case{"killed_by_signal", {"sh", "-c", "kill -TERM $$"}, "", {}, 143, "", ""},
        command_case{
            "env_added", {"sh", "-c", "echo \"$TOCSIN_X\""}, "", {{"TOCSIN_X", "v"}}, 0, "v\n", ""},
        command_case{"env_replaced",
                     {"sh", "-c", "echo \"$HOME\""},
                     "",
                     {{"HOME", "/nowhere"}},
                     0,
                     "/nowhere\n",
                     ""},
        command_case{"exits_without_reading_stdin", {"true"}, big, {}, 0, "", ""},
        command_case{"absolute_path", {"/bin/sh", "-c", "printf abc"}, "", {}, 0, "abc", ""}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(run_command, cwd_and_timeout) {
  temp_dir dir("support-cwd");
  EXPECT_EQ(run_command({"pwd"}, {}, {.cwd = dir.path()}).stdout_text, dir.path().string() + "\n");
  EXPECT_EQ(run_command({"sleep", "30"}, {}, {}, 100ms).exit_code, 137);
}

TEST(run_command, unknown_program_throws) {
  EXPECT_THROW(run_command({"tocsin-no-such-program"}), std::runtime_error);
  EXPECT_THROW(run_command({}), std::invalid_argument);
}

// --- child_process ----------------------------------------------------------------------------

TEST(child_process, stop_sends_sigterm) {
  child_process p({"sleep", "30"});
  EXPECT_GT(p.pid(), 0);
  EXPECT_TRUE(p.running());
  EXPECT_EQ(p.wait_for(10ms), std::nullopt);
  EXPECT_EQ(p.stop(), 143);
  EXPECT_FALSE(p.running());
  EXPECT_EQ(p.stop(), 143);  // idempotent
}

TEST(child_process, stop_escalates_to_sigkill) {
  // The shell ignores SIGTERM, so only SIGKILL ends it. The trap is set before "ready" is printed.
  temp_dir dir("support-child");
  child_process p({"sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done"},
                  {.stdout_path = dir / "out"});
  ASSERT_TRUE(wait_until([&] { return read_file(dir / "out") == "ready\n"; }, 10s));
  EXPECT_EQ(p.stop(100ms), 137);
}

TEST(child_process, kill9_and_signal) {
  child_process a({"sleep", "30"});
  EXPECT_EQ(a.kill9(), 137);
  child_process b({"sleep", "30"});
  b.signal(SIGHUP);
  EXPECT_EQ(b.wait(), 129);
  b.signal(SIGHUP);  // exited: no-op
}

TEST(child_process, exit_code_output_files_and_env) {
  temp_dir dir("support-child");
  child_process p({"sh", "-c", "echo \"out $TOCSIN_Y\"; echo err >&2; exit 7"},
                  {.env = {{"TOCSIN_Y", "y"}},
                   .stdout_path = dir / "stdout.txt",
                   .stderr_path = dir / "stderr.txt"});
  EXPECT_EQ(p.wait(), 7);
  EXPECT_EQ(read_file(dir / "stdout.txt"), "out y\n");
  EXPECT_EQ(read_file(dir / "stderr.txt"), "err\n");
}

TEST(child_process, shared_output_file) {
  temp_dir dir("support-child");
  child_process p({"sh", "-c", "echo a; echo b >&2"},
                  {.stdout_path = dir / "both.txt", .stderr_path = dir / "both.txt"});
  EXPECT_EQ(p.wait(), 0);
  EXPECT_EQ(read_file(dir / "both.txt"), "a\nb\n");
}

TEST(child_process, destructor_kills) {
  pid_t pid;
  {
    child_process p({"sleep", "30"});
    pid = p.pid();
  }
  EXPECT_NE(::kill(pid, 0), 0);  // reaped: the pid no longer exists (or is not ours)
}

TEST(child_process, start_failures_throw) {
  EXPECT_THROW(child_process({"tocsin-no-such-program"}), std::runtime_error);
  EXPECT_THROW(child_process({"/etc/hostname"}), std::runtime_error);  // not executable
  EXPECT_THROW(child_process({"true"}, {.cwd = "/nonexistent-dir"}), std::runtime_error);
}

// --- find_program -----------------------------------------------------------------------------

TEST(find_program, finds_system_programs_first) {
  EXPECT_FALSE(find_program("sh").empty());
  EXPECT_TRUE(find_program("tocsin-no-such-program").empty());
  EXPECT_TRUE(find_program("").empty());
  EXPECT_EQ(find_program("/bin/sh"), "/bin/sh");
  EXPECT_TRUE(find_program("/nonexistent/sh").empty());
  if (std::filesystem::exists("/usr/bin/python3")) {
    EXPECT_EQ(find_program("python3"), "/usr/bin/python3");
  }
}

// --- http ---------------------------------------------------------------------------------------

// Accepts one connection, records the request head, replies with `response` and closes.
class one_shot_http_server {
 public:
  explicit one_shot_http_server(std::string response) : response_(std::move(response)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(fd_, 1);
    thread_ = std::thread([this] {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      while (request_.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        request_.append(buf, static_cast<std::size_t>(n));
      }
      ::send(c, response_.data(), response_.size(), MSG_NOSIGNAL);
      ::close(c);
    });
  }
  ~one_shot_http_server() {
    ::shutdown(fd_, SHUT_RDWR);  // unblocks accept() if no client came
    thread_.join();
    ::close(fd_);
  }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  // Valid after the client got its response (the server wrote it after reading the request).
  [[nodiscard]] const std::string& request() const { return request_; }

 private:
  std::string response_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::string request_;
  std::thread thread_;
};

struct http_case {
  const char* name;
  std::string response;
  int status;
  std::string body;
};
void PrintTo(const http_case& c, std::ostream* os) { *os << c.name; }

class http_get_table : public ::testing::TestWithParam<http_case> {};

TEST_P(http_get_table, parses) {
  const auto& c = GetParam();
  one_shot_http_server server(c.response);
  const auto r = http_get("127.0.0.1", server.port(), "/metrics");
  EXPECT_EQ(r.status, c.status);
  EXPECT_EQ(r.body, c.body);
  if (c.status != 0) {
    EXPECT_EQ(server.request().rfind("GET /metrics HTTP/1.1\r\n", 0), 0u);
    EXPECT_NE(server.request().find("Host: 127.0.0.1:" + std::to_string(server.port())),
              std::string::npos);
  }
}

INSTANTIATE_TEST_SUITE_P(
    cases, http_get_table,
    ::testing::Values(
        http_case{"content_length",
                  "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
                  200, "hello"},
        http_case{"chunked",
                  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "5\r\nhello\r\nA;ext=1\r\n, world!!!\r\n0\r\n\r\n",
                  200, "hello, world!!!"},
        http_case{"close_delimited", "HTTP/1.0 503 Service Unavailable\r\n\r\nnot ready\n", 503,
                  "not ready\n"},
        http_case{"not_found_empty", "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 404,
                  ""},
        http_case{"truncated_body", "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort", 0, ""},
        http_case{"garbage", "SSH-2.0-OpenSSH_9.2\r\n", 0, ""}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(http_get, closed_port_gives_status_zero) {
  EXPECT_EQ(http_get("127.0.0.1", free_port(), "/healthz", 1s).status, 0);
}

TEST(http_request, post_sends_body) {
  one_shot_http_server server("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  const auto r = http_request("POST", "127.0.0.1", server.port(), "/-/reload", "{}");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.at("content-length"), "2");
  EXPECT_NE(server.request().find("Content-Length: 2\r\n"), std::string::npos);
}

// --- http_capture -------------------------------------------------------------------------------

TEST(http_capture, records_requests_and_plays_the_script) {
  http_capture server;
  EXPECT_EQ(server.url("/x"), "http://127.0.0.1:" + std::to_string(server.port()) + "/x");
  server.push_response({.status = 429, .body = "slow down", .headers = {{"Retry-After", "7"}}});
  server.set_default_response({.status = 202, .body = "ok"});

  const auto first = http_request("POST", "127.0.0.1", server.port(), "/hook?a=1", "{\"n\":1}");
  EXPECT_EQ(first.status, 429);
  EXPECT_EQ(first.body, "slow down");
  EXPECT_EQ(first.headers.at("retry-after"), "7");
  const auto second =
      http_request("PUT", "127.0.0.1", server.port(), "/other", "two", "text/plain");
  EXPECT_EQ(second.status, 202);
  EXPECT_EQ(second.body, "ok");

  ASSERT_TRUE(server.wait_for(2, 1s));
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/hook?a=1");
  EXPECT_EQ(requests[0].body, "{\"n\":1}");
  EXPECT_EQ(requests[0].headers.at("content-type"), "application/json");
  EXPECT_EQ(requests[1].method, "PUT");
  EXPECT_EQ(requests[1].body, "two");
  EXPECT_LE(requests[0].received, requests[1].received);
  EXPECT_FALSE(server.wait_for(3, 50ms));
}

TEST(http_capture, delays_a_response) {
  http_capture server;
  server.push_response({.status = 200, .delay = 300ms});
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(http_get("127.0.0.1", server.port(), "/").status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 300ms);
  // A client that gives up first sees no response.
  server.push_response({.status = 200, .delay = 2s});
  EXPECT_EQ(http_get("127.0.0.1", server.port(), "/", 200ms).status, 0);
}

// --- files --------------------------------------------------------------------------------------

TEST(read_json_lines, complete_lines_only) {
  temp_dir dir("support-json");
  EXPECT_TRUE(read_json_lines(dir / "missing.jsonl").empty());
  const auto f = dir.write_file("a.jsonl", "{\"a\":1}\n\n{\"b\":[2]}\r\n{\"partial\":");
  const auto lines = read_json_lines(f);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["a"], 1);
  EXPECT_EQ(lines[1]["b"][0], 2);
  dir.write_file("bad.jsonl", "{\"a\":1}\nnot json\n");
  EXPECT_THROW(read_json_lines(dir / "bad.jsonl"), std::runtime_error);
}

TEST(find_files, by_suffix_recursive_sorted) {
  temp_dir dir("support-find");
  dir.write_file("web1/sshd.log", "");
  dir.write_file("web1/nginx.log", "");
  dir.write_file("web2/app.txt", "");
  dir.write_file("top.log", "");
  std::filesystem::create_directories(dir / "empty.log");  // a directory is not a file
  const auto files = find_files(dir.path(), ".log");
  EXPECT_EQ(files, (std::vector<std::filesystem::path>{dir / "top.log", dir / "web1/nginx.log",
                                                       dir / "web1/sshd.log"}));
  EXPECT_TRUE(find_files(dir / "missing", ".log").empty());
}

TEST(paths, binary_and_source_dir) {
  EXPECT_EQ(tocsin_binary().filename(), "tocsin");
  EXPECT_TRUE(std::filesystem::exists(source_dir() / "CMakeLists.txt"));
}

TEST(log_lines, syslog_line_is_one_rfc5424_frame) {
  EXPECT_EQ(syslog_line("nginx", "hello", {.pri = 11, .timestamp = "2026-11-26T10:00:00Z"}),
            "<11>1 2026-11-26T10:00:00Z testhost nginx - - - hello\n");
  const std::string now = syslog_line("app", "x", {.host = "h1"});
  EXPECT_EQ(now.rfind("<13>1 20", 0), 0U) << now;
  EXPECT_NE(now.find("Z h1 app - - - x\n"), std::string::npos) << now;
}

TEST(log_lines, gelf_chunk_header) {
  const std::string c = gelf_chunk(0x0102030405060708, 1, 3, "data");
  EXPECT_EQ(c, bytes("\x1e\x0f\x01\x02\x03\x04\x05\x06\x07\x08\x01\x03") + "data");
  EXPECT_EQ(
      nlohmann::json::parse(gelf_json("m", "a", "h")),
      (nlohmann::json{{"version", "1.1"}, {"host", "h"}, {"short_message", "m"}, {"_app", "a"}}));
}

TEST(has_open_file, sees_a_descriptor_come_and_go) {
  temp_dir dir;
  const auto path = dir.write_file("f", "x");
  EXPECT_FALSE(has_open_file(::getpid(), path));
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_TRUE(has_open_file(::getpid(), path));
  ::close(fd);
  EXPECT_FALSE(has_open_file(::getpid(), path));
}

}  // namespace
}  // namespace tocsin::test
