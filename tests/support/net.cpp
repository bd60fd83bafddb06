#include "tests/support/net.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <stdexcept>
#include <thread>

namespace tocsin::test {

namespace {

// Closes a socket fd on scope exit.
struct fd_guard {
  int fd = -1;
  explicit fd_guard(int f) : fd(f) {}
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
};

bool make_addr(const std::string& host, std::uint16_t port, sockaddr_in& addr) {
  addr = {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  return ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) == 1;
}

// Connects with a deadline; returns the fd or -1.
int connect_tcp(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout) {
  sockaddr_in addr;
  if (!make_addr(host, port, addr)) return -1;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) {
      ::close(fd);
      return -1;
    }
    pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1 ||
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      ::close(fd);
      return -1;
    }
  }
  return fd;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Removes chunked transfer coding; false if malformed or incomplete.
bool dechunk(std::string_view in, std::string& out) {
  out.clear();
  for (;;) {
    const auto eol = in.find("\r\n");
    if (eol == std::string_view::npos) return false;
    std::size_t size = 0;
    std::size_t i = 0;
    for (; i < eol && i < 16; ++i) {  // hex digits, then maybe ";extension"
      const char c = in[i];
      const int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
      if (d < 0) break;
      size = size * 16 + static_cast<std::size_t>(d);
    }
    if (i == 0) return false;
    in.remove_prefix(eol + 2);
    if (size == 0) return true;  // trailers, if any, are ignored
    if (in.size() < size + 2) return false;
    out.append(in.substr(0, size));
    in.remove_prefix(size + 2);
  }
}

http_response parse_response(const std::string& raw) {
  http_response r;
  const auto head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos || raw.compare(0, 5, "HTTP/") != 0) return r;
  const std::string_view head(raw.data(), head_end);
  std::string_view body(raw.data() + head_end + 4, raw.size() - head_end - 4);

  const auto first_eol = head.find("\r\n");
  const std::string_view status_line = head.substr(0, first_eol);
  const auto sp = status_line.find(' ');
  if (sp == std::string_view::npos || status_line.size() < sp + 4) return r;
  const std::string code(status_line.substr(sp + 1, 3));
  if (!std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; })) return r;

  std::string_view rest = first_eol == std::string_view::npos ? "" : head.substr(first_eol + 2);
  while (!rest.empty()) {
    const auto eol = rest.find("\r\n");
    const std::string_view line = rest.substr(0, eol);
    const auto colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
        value.remove_suffix(1);
      r.headers[lower(std::string(line.substr(0, colon)))] = std::string(value);
    }
    if (eol == std::string_view::npos) break;
    rest.remove_prefix(eol + 2);
  }

  if (const auto te = r.headers.find("transfer-encoding");
      te != r.headers.end() && lower(te->second).find("chunked") != std::string::npos) {
    if (!dechunk(body, r.body)) return {};
  } else if (const auto cl = r.headers.find("content-length"); cl != r.headers.end()) {
    std::size_t n = 0;
    try {
      n = std::stoul(cl->second);
    } catch (const std::exception&) {
      return {};
    }
    if (body.size() < n) return {};  // truncated
    r.body = std::string(body.substr(0, n));
  } else {
    r.body = std::string(body);  // delimited by connection close
  }
  r.status = std::stoi(code);
  return r;
}

}  // namespace

std::uint16_t free_port() {
  for (int attempt = 0; attempt < 100; ++attempt) {
    fd_guard tcp(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    fd_guard udp(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (tcp.fd < 0 || udp.fd < 0) break;
    sockaddr_in addr;
    make_addr("127.0.0.1", 0, addr);
    if (::bind(tcp.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) continue;
    socklen_t len = sizeof addr;
    if (::getsockname(tcp.fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) continue;
    // The kernel picked a TCP port; it is only useful if UDP can have the same number.
    if (::bind(udp.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      return ntohs(addr.sin_port);
    }
  }
  throw std::runtime_error("free_port: no port free for both TCP and UDP");
}

bool wait_for_tcp(std::uint16_t port, std::chrono::milliseconds timeout, const std::string& host) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const int fd = connect_tcp(host, port, 200ms);
    if (fd >= 0) {
      ::close(fd);
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

http_response http_request(std::string_view method, const std::string& host, std::uint16_t port,
                           std::string_view path, std::string_view body,
                           std::string_view content_type, std::chrono::milliseconds timeout,
                           const std::map<std::string, std::string>& headers) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  fd_guard sock(connect_tcp(host, port, timeout));
  if (sock.fd < 0) return {};

  std::string req;
  req.append(method).append(" ").append(path).append(" HTTP/1.1\r\n");
  req.append("Host: ").append(host).append(":").append(std::to_string(port)).append("\r\n");
  req.append("User-Agent: tocsin-test\r\nAccept: */*\r\nConnection: close\r\n");
  for (const auto& [name, value] : headers)
    req.append(name).append(": ").append(value).append("\r\n");
  if (!body.empty() || method == "POST" || method == "PUT") {
    if (!content_type.empty()) req.append("Content-Type: ").append(content_type).append("\r\n");
    req.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  req.append("\r\n").append(body);

  // Send everything, then read until the server closes (we asked for Connection: close).
  auto wait_ready = [&](short events) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{sock.fd, events, 0};
    return ::poll(&p, 1, static_cast<int>(left.count())) == 1;
  };
  std::string_view out(req);
  while (!out.empty()) {
    if (!wait_ready(POLLOUT)) return {};
    const ssize_t n = ::send(sock.fd, out.data(), out.size(), MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) return {};
    if (n > 0) out.remove_prefix(static_cast<std::size_t>(n));
  }
  std::string raw;
  char buf[16384];
  for (;;) {
    if (!wait_ready(POLLIN)) return {};
    const ssize_t n = ::recv(sock.fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      if (errno == ECONNRESET && !raw.empty()) break;  // some servers reset after replying
      return {};
    }
    raw.append(buf, static_cast<std::size_t>(n));
  }
  return parse_response(raw);
}

}  // namespace tocsin::test
