// Load generator and completion watcher for bench/compare (issues 7 and 19): sends the same
// pre-generated RFC 5424 lines (or GELF documents) to any syslog daemon and measures, from the
// daemon's own output, when it has processed them all. It depends on nothing but the C++ library,
// POSIX sockets, OpenSSL (--tls) and zlib (GELF UDP), so the same binary drives rsyslog,
// syslog-ng and tocsin.
//
//   tocsin_loadgen patterns RULES
//       Prints RULES regex patterns, one a line: rule k's pattern. POSIX ERE, PCRE and RE2 alike
//       (no backslashes, quotes or anchors), so they can go verbatim into rsyslog's re_match,
//       syslog-ng's message() filter and tocsin's rule files. RULES is at most 64 000.
//   tocsin_loadgen lines COUNT RULES
//       Prints the first COUNT lines `send` would send (to check the patterns by hand).
//   tocsin_loadgen send --port P --count N --rules R [--udp --rate MSGS_PER_S]
//                       [--connections C] [--tls] [--gelf-tcp | --gelf-udp-chunked --rate R]
//                       [--metrics HOST:PORT] [--expect-metric NAME=VALUE]...
//                       [--expect-lines DIR=VALUE]... [--timeout SECONDS] [--settle SECONDS]
//       Generates N lines (~180 bytes; line i matches rule (i / 100) % R exactly when
//       i % 100 == 99, so 1 % match and the last line of a multiple of 100 is a match), sends them
//       to 127.0.0.1:P over TCP as fast as the daemon takes them (LF framing), or over UDP at a
//       fixed rate, and polls every 50 ms until every expectation holds:
//         --expect-metric NAME=VALUE  the sum of every NAME series on http://HOST:PORT/metrics
//         --expect-lines DIR=VALUE    the number of lines in the regular files under DIR
//       --connections C  C TCP connections (separate sockets, so SO_REUSEPORT spreads them), each
//                        sending its own contiguous C-th of the lines, all at once; with UDP, C
//                        sockets (source ports) taking turns batch by batch
//       --tls            TCP inside TLS 1.3 (no certificate verification), RFC 5425 style
//       --gelf-tcp       GELF documents (the same host, app and text as the lines: the text is
//                        short_message) over TCP, NUL-framed
//       --gelf-udp-chunked  the same documents zlib-compressed, each split into 2 GELF chunks
//                        (magic 1e 0f), over UDP at --rate messages (2 × rate datagrams) a second
//       Prints one line of key=value pairs: sent, bytes (on the wire, before TLS), send_seconds,
//       complete (1/0), seconds (first byte sent → all expectations seen), rate (messages per
//       second over that time), mb_rate (MB of the wire bytes a second, scaled like rate),
//       progress (the least fraction of any expectation reached) and observed (each expectation's
//       last value). Without completion it stops after --timeout seconds (default 120), or for UDP
//       once the values have not moved for --settle seconds (default 2) after the last datagram.
//   tocsin_loadgen latency --port P --http-port H [--rate MSGS_PER_S] [--markers M]
//                          [--interval-ms MS] [--wait SECONDS] [--metrics HOST:PORT]
//       Log line → webhook POST latency under load: serves HTTP on 127.0.0.1:H (200 to every
//       request; keep-alive, Expect: 100-continue), sends the `send` lines to 127.0.0.1:P over one
//       TCP connection at --rate (default 200 000) and, every --interval-ms (default 50), one
//       marker line `latmark N` (N = 0 .. M-1, default M = 200) between them. A POST's body is
//       searched for `"n":"N"` (the alert's label from the rule's named group n); latency = the
//       first request carrying N (its headers complete) − marker N written. After the last marker
//       it waits up to --wait seconds (default 10) for the rest, then prints markers, received,
//       posts, p50_ms, p99_ms, max_ms, background (messages a second actually sent) and complete;
//       with --metrics, also tocsin's own tocsin_notification_latency_seconds (count, mean).

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using steady = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr std::array<const char*, 40> words = {
    "alpha",   "amber",  "birch",  "cobalt",  "delta",  "ember", "falcon", "garnet",
    "harbor",  "indigo", "jasper", "kestrel", "lumen",  "maple", "nickel", "onyx",
    "pepper",  "quartz", "raven",  "sierra",  "tundra", "umber", "violet", "willow",
    "xenon",   "yarrow", "zephyr", "acorn",   "basalt", "cedar", "dune",   "flint",
    "glacier", "hazel",  "iris",   "juniper", "krill",  "lotus", "meadow", "nectar"};
constexpr std::size_t two_word_rules = words.size() * words.size();
constexpr std::size_t max_rules = two_word_rules * words.size();

// Rule k's tag: two words for k < 1600 (as before issue 19), a third word after them beyond;
// distinct for every k < max_rules, so no two rules match the same line.
std::string rule_tag(std::size_t k) {
  std::string tag =
      std::string(words[k % words.size()]) + "-" + words[(k / words.size()) % words.size()];
  if (k >= two_word_rules) tag += std::string("-") + words[(k / two_word_rules) % words.size()];
  return tag;
}

std::string rule_pattern(std::size_t k) {
  return rule_tag(k) + " (failed|error) unit=[0-9]+ code=" + std::to_string(k) + ";";
}

constexpr std::array<const char*, 5> apps = {"nginx", "sshd", "cron", "worker", "kernel"};

// Line i's message text (syslog MSG, GELF short_message). Non-matching lines look like access and
// worker logs and mention one of the tag words, so a regex engine cannot reject them on the first
// byte.
std::string message_text(std::size_t i, std::size_t rules) {
  char body[192];
  if (i % 100 == 99) {
    const std::size_t k = (i / 100) % rules;
    std::snprintf(body, sizeof body,
                  "%s failed unit=%zu code=%zu; sector check on /dev/sdb reports retries=%zu "
                  "action=remap seq=%zu",
                  rule_tag(k).c_str(), i % 16, k, i % 7, i);
  } else {
    std::snprintf(body, sizeof body,
                  "GET /api/v1/items/%zu status=200 bytes=%zu upstream=10.0.3.%zu:8080 rt=0.0%02zu "
                  "pool=%s client=probe/2.1 seq=%zu",
                  i % 100000, 500 + i % 9000, i % 250, i % 100, words[i % words.size()], i);
  }
  return body;
}

// One line, LF-terminated.
std::string make_line(std::size_t i, std::size_t rules) {
  const std::size_t host = i % 20;
  const char* app = apps[(i / 20) % apps.size()];
  char head[128];
  std::snprintf(head, sizeof head,
                "<134>1 2024-05-01T12:%02zu:%02zu.%06zuZ web%02zu.example.com %s %zu %s - ",
                (i / 60000) % 60, (i / 1000) % 60, i % 1000000, host, app, 1000 + i % 9000,
                i % 100 == 99 ? "DISKIO" : "ACCESS");
  std::string line = head;
  line += message_text(i, rules);
  line += '\n';
  return line;
}

// The same message as a GELF 1.1 document (the text needs no JSON escaping).
std::string make_gelf(std::size_t i, std::size_t rules) {
  char head[160];
  std::snprintf(head, sizeof head,
                "{\"version\":\"1.1\",\"host\":\"web%02zu.example.com\",\"timestamp\":%zu.%03zu,"
                "\"level\":%d,\"_app\":\"%s\",\"short_message\":\"",
                i % 20, 1714564800 + i / 1000, i % 1000, i % 100 == 99 ? 3 : 6,
                apps[(i / 20) % apps.size()]);
  std::string doc = head;
  doc += message_text(i, rules);
  doc += "\"}";
  return doc;
}

// A GELF document zlib-compressed and cut into two chunks (magic 1e 0f, 8-byte message id,
// sequence number, count), appended to `wire`; each chunk's offset goes to `starts`.
void append_gelf_chunks(const std::string& doc, std::uint64_t id, std::string& wire,
                        std::vector<std::size_t>& starts) {
  uLongf size = compressBound(static_cast<uLong>(doc.size()));
  std::string packed(size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(packed.data()), &size,
                reinterpret_cast<const Bytef*>(doc.data()), static_cast<uLong>(doc.size()),
                Z_DEFAULT_COMPRESSION) != Z_OK) {
    throw std::runtime_error("zlib compress2 failed");
  }
  packed.resize(size);
  constexpr std::size_t chunks = 2;
  const std::size_t part = (packed.size() + chunks - 1) / chunks;
  for (std::size_t seq = 0; seq < chunks; ++seq) {
    starts.push_back(wire.size());
    wire += '\x1e';
    wire += '\x0f';
    for (int b = 7; b >= 0; --b) wire += static_cast<char>((id >> (8 * b)) & 0xff);
    wire += static_cast<char>(seq);
    wire += static_cast<char>(chunks);
    wire.append(packed, seq * part, std::min(part, packed.size() - seq * part));
  }
}

struct expectation {
  enum class kind { metric, lines } what;
  std::string name;  // metric name or directory
  std::uint64_t expected = 0;
  std::uint64_t observed = 0;
};

enum class payload { syslog, gelf_tcp, gelf_udp_chunked };

struct options {
  std::uint16_t port = 0;
  std::size_t count = 0;
  std::size_t rules = 1;
  bool udp = false;
  double rate = 0;
  std::size_t connections = 1;
  bool tls = false;
  payload format = payload::syslog;
  std::string metrics_host = "127.0.0.1";
  std::uint16_t metrics_port = 0;
  std::vector<expectation> expectations;
  double timeout_seconds = 120;
  double settle_seconds = 2;
};

sockaddr_in loopback(std::uint16_t port, const std::string& host = "127.0.0.1") {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    throw std::runtime_error("not an IPv4 address: " + host);
  }
  return addr;
}

// GET /metrics over HTTP/1.0; returns the body, empty when the daemon cannot be reached.
std::string scrape(const std::string& host, std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return {};
  const sockaddr_in addr = loopback(port, host);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return {};
  }
  const std::string request = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) < 0) {
    ::close(fd);
    return {};
  }
  std::string body;
  char buf[65536];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
    body.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return body;
}

// Sums every series of each name in `sums` (so labels do not matter). Returns false when the
// daemon cannot be reached.
bool scrape_sum(const std::string& host, std::uint16_t port, std::map<std::string, double>& sums) {
  const std::string body = scrape(host, port);
  if (body.empty()) return false;
  for (auto& [name, sum] : sums) sum = 0;
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t end = body.find('\n', pos);
    if (end == std::string::npos) end = body.size();
    const std::string_view line(body.data() + pos, end - pos);
    pos = end + 1;
    if (line.empty() || line[0] == '#') continue;
    const std::size_t name_end = line.find_first_of("{ ");
    if (name_end == std::string_view::npos) continue;
    const auto it = sums.find(std::string(line.substr(0, name_end)));
    if (it == sums.end()) continue;
    const std::size_t value_at = line.rfind(' ');
    it->second += std::strtod(std::string(line.substr(value_at + 1)).c_str(), nullptr);
  }
  return true;
}

// Counts the lines of every regular file under a directory, reading only what was appended since
// the last call, so polling a growing archive every 50 ms stays cheap.
class line_counter {
 public:
  explicit line_counter(fs::path dir) : dir_(std::move(dir)) {}

  std::uint64_t count() {
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      std::uint64_t& offset = offsets_[it->path().string()];
      const int fd = ::open(it->path().c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      for (ssize_t n;
           (n = ::pread(fd, buf_.data(), buf_.size(), static_cast<off_t>(offset))) > 0;) {
        offset += static_cast<std::uint64_t>(n);
        lines_ += static_cast<std::uint64_t>(std::count(buf_.data(), buf_.data() + n, '\n'));
      }
      ::close(fd);
    }
    return lines_;
  }

 private:
  fs::path dir_;
  std::map<std::string, std::uint64_t> offsets_;
  std::uint64_t lines_ = 0;
  std::vector<char> buf_ = std::vector<char>(1 << 20);
};

// A TCP connection to 127.0.0.1, optionally inside TLS 1.3 (no verification: the benchmark's
// certificate is self-signed). Connected and handshaken in the constructor.
class connection {
 public:
  connection(std::uint16_t port, SSL_CTX* tls) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    const sockaddr_in addr = loopback(port);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
      const int err = errno;
      ::close(fd_);
      throw std::runtime_error(std::string("connect: ") + std::strerror(err));
    }
    if (tls != nullptr) {
      ssl_ = SSL_new(tls);
      if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1 || SSL_connect(ssl_) != 1) {
        char reason[256] = "unknown";
        ERR_error_string_n(ERR_get_error(), reason, sizeof reason);
        if (ssl_ != nullptr) SSL_free(ssl_);
        ::close(fd_);
        throw std::runtime_error(std::string("TLS handshake: ") + reason);
      }
    }
  }
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    ::close(fd_);
  }

  // Writes all of data; false when the peer went away or the socket was shut down.
  bool write_all(std::string_view data) {
    std::size_t off = 0;
    while (off < data.size()) {
      const std::size_t want = std::min<std::size_t>(data.size() - off, 1 << 18);
      ssize_t n;
      if (ssl_ != nullptr) {
        const int w = SSL_write(ssl_, data.data() + off, static_cast<int>(want));
        n = w > 0 ? w : -1;
        if (w <= 0 && SSL_get_error(ssl_, w) == SSL_ERROR_WANT_WRITE) continue;
      } else {
        n = ::send(fd_, data.data() + off, want, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
      }
      if (n < 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }

  // A clean TLS close_notify (so the daemon reads the last record), then FIN.
  void finish() {
    if (ssl_ != nullptr) SSL_shutdown(ssl_);
    ::shutdown(fd_, SHUT_WR);
  }
  // Unblocks a writer stuck on a daemon that stopped reading.
  void abort() { ::shutdown(fd_, SHUT_RDWR); }
  [[nodiscard]] int fd() const { return fd_; }

 private:
  int fd_ = -1;
  SSL* ssl_ = nullptr;
};

struct tls_context_deleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using tls_context = std::unique_ptr<SSL_CTX, tls_context_deleter>;

tls_context make_tls_client() {
  tls_context ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) throw std::runtime_error("SSL_CTX_new failed");
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  return ctx;
}

// UDP at a fixed rate: every 200 µs, send the datagrams the schedule says are due, batched with
// sendmmsg. Datagrams the kernel refuses (ENOBUFS) are retried, so "sent" means "left this host".
// Paced, in batches of up to 64 datagrams, each batch from the next of `fds` in turn: several
// source ports, as from several senders, which SO_REUSEPORT spreads over a daemon's sockets.
void send_udp(const std::vector<int>& fds, const std::vector<std::string_view>& datagrams,
              double rate, std::atomic<bool>& done) {
  constexpr std::size_t batch = 64;
  std::array<mmsghdr, batch> msgs{};
  std::array<iovec, batch> iov{};
  const auto start = steady::now();
  std::size_t next = 0, turn = 0;
  while (next < datagrams.size()) {
    const double elapsed = std::chrono::duration<double>(steady::now() - start).count();
    const std::size_t due =
        std::min(datagrams.size(), static_cast<std::size_t>(elapsed * rate) + 1);
    while (next < due) {
      const std::size_t n = std::min(batch, due - next);
      for (std::size_t j = 0; j < n; ++j) {
        iov[j].iov_base = const_cast<char*>(datagrams[next + j].data());
        iov[j].iov_len = datagrams[next + j].size();
        msgs[j] = mmsghdr{};
        msgs[j].msg_hdr.msg_iov = &iov[j];
        msgs[j].msg_hdr.msg_iovlen = 1;
      }
      const int fd = fds[turn++ % fds.size()];
      const int sent = ::sendmmsg(fd, msgs.data(), static_cast<unsigned>(n), 0);
      if (sent < 0) {
        if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) continue;
        done = true;
        return;
      }
      next += static_cast<std::size_t>(sent);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  done = true;
}

std::uint64_t parse_count(const std::string& s) {
  std::size_t used = 0;
  const unsigned long long v = std::stoull(s, &used);
  if (used != s.size()) throw std::runtime_error("not a number: " + s);
  return v;
}

expectation parse_expectation(expectation::kind kind, const std::string& arg) {
  const std::size_t eq = arg.rfind('=');
  if (eq == std::string::npos) throw std::runtime_error("expected NAME=VALUE: " + arg);
  return expectation{kind, arg.substr(0, eq), parse_count(arg.substr(eq + 1)), 0};
}

void parse_host_port(const std::string& hp, std::string& host, std::uint16_t& port) {
  const std::size_t colon = hp.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("--metrics wants HOST:PORT");
  host = hp.substr(0, colon);
  port = static_cast<std::uint16_t>(parse_count(hp.substr(colon + 1)));
}

options parse_send_options(int argc, char** argv) {
  options opt;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--port")
      opt.port = static_cast<std::uint16_t>(parse_count(value()));
    else if (arg == "--count")
      opt.count = parse_count(value());
    else if (arg == "--rules")
      opt.rules = parse_count(value());
    else if (arg == "--udp")
      opt.udp = true;
    else if (arg == "--rate")
      opt.rate = std::stod(value());
    else if (arg == "--connections")
      opt.connections = parse_count(value());
    else if (arg == "--tls")
      opt.tls = true;
    else if (arg == "--gelf-tcp")
      opt.format = payload::gelf_tcp;
    else if (arg == "--gelf-udp-chunked") {
      opt.format = payload::gelf_udp_chunked;
      opt.udp = true;
    } else if (arg == "--timeout")
      opt.timeout_seconds = std::stod(value());
    else if (arg == "--settle")
      opt.settle_seconds = std::stod(value());
    else if (arg == "--metrics")
      parse_host_port(value(), opt.metrics_host, opt.metrics_port);
    else if (arg == "--expect-metric")
      opt.expectations.push_back(parse_expectation(expectation::kind::metric, value()));
    else if (arg == "--expect-lines")
      opt.expectations.push_back(parse_expectation(expectation::kind::lines, value()));
    else
      throw std::runtime_error("unknown option " + arg);
  }
  if (opt.port == 0 || opt.count == 0) throw std::runtime_error("send needs --port and --count");
  if (opt.rules == 0 || opt.rules > max_rules) {
    throw std::runtime_error("--rules must be 1.." + std::to_string(max_rules));
  }
  if (opt.udp && opt.rate <= 0) throw std::runtime_error("UDP needs --rate");
  if (opt.connections == 0 || opt.connections > opt.count) {
    throw std::runtime_error("--connections must be 1..count");
  }
  if (opt.udp && opt.tls) throw std::runtime_error("--tls is for TCP");
  if (opt.expectations.empty()) throw std::runtime_error("send needs at least one --expect-*");
  for (const auto& e : opt.expectations) {
    if (e.what == expectation::kind::metric && opt.metrics_port == 0) {
      throw std::runtime_error("--expect-metric needs --metrics");
    }
  }
  return opt;
}

int run_send(const options& opt) {
  // Every message generated before the clock starts: the senders only copy bytes. `starts` holds
  // each unit's offset in `data` (a TCP message, or a UDP datagram) and the end.
  std::string data;
  data.reserve(opt.count * (opt.format == payload::syslog ? 190 : 280));
  std::vector<std::size_t> starts;
  starts.reserve(opt.count * (opt.format == payload::gelf_udp_chunked ? 2 : 1) + 1);
  for (std::size_t i = 0; i < opt.count; ++i) {
    switch (opt.format) {
      case payload::syslog:
        starts.push_back(data.size());
        data += make_line(i, opt.rules);
        break;
      case payload::gelf_tcp:
        starts.push_back(data.size());
        data += make_gelf(i, opt.rules);
        data += '\0';
        break;
      case payload::gelf_udp_chunked:
        append_gelf_chunks(make_gelf(i, opt.rules), 0x7463000000000000ULL + i, data, starts);
        break;
    }
  }
  starts.push_back(data.size());
  std::vector<std::string_view> datagrams;  // UDP: one line each, without its LF, or one chunk
  double datagram_rate = opt.rate;
  if (opt.udp) {
    datagrams.reserve(starts.size() - 1);
    const std::size_t trim = opt.format == payload::syslog ? 1 : 0;
    for (std::size_t j = 0; j + 1 < starts.size(); ++j) {
      datagrams.emplace_back(data.data() + starts[j], starts[j + 1] - starts[j] - trim);
    }
    datagram_rate = opt.rate * static_cast<double>(datagrams.size()) / opt.count;
  }
  std::size_t wire_bytes = 0;
  for (const auto& d : datagrams) wire_bytes += d.size();
  if (!opt.udp) wire_bytes = data.size();

  // Every connection open (and handshaken) before the clock starts.
  tls_context tls;
  if (opt.tls) tls = make_tls_client();
  std::vector<std::unique_ptr<connection>> conns;
  std::vector<int> udp_fds;
  if (opt.udp) {
    const sockaddr_in addr = loopback(opt.port);
    for (std::size_t c = 0; c < opt.connections; ++c) {
      const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
      if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr)) {
        throw std::runtime_error(std::string("UDP socket: ") + std::strerror(errno));
      }
      udp_fds.push_back(fd);
    }
  } else {
    for (std::size_t c = 0; c < opt.connections; ++c) {
      conns.push_back(std::make_unique<connection>(opt.port, tls.get()));
    }
  }

  std::map<std::string, double> metric_sums;
  std::map<std::string, line_counter> counters;
  auto expectations = opt.expectations;
  for (const auto& e : expectations) {
    if (e.what == expectation::kind::metric)
      metric_sums[e.name] = 0;
    else
      counters.try_emplace(e.name, e.name);
  }
  // Reads every expectation once; true when all hold.
  auto observe = [&]() {
    if (!metric_sums.empty()) scrape_sum(opt.metrics_host, opt.metrics_port, metric_sums);
    bool all = true;
    for (auto& e : expectations) {
      e.observed = e.what == expectation::kind::metric
                       ? static_cast<std::uint64_t>(metric_sums[e.name])
                       : counters.at(e.name).count();
      all = all && e.observed >= e.expected;
    }
    return all;
  };

  std::vector<std::atomic<bool>> done(std::max<std::size_t>(1, conns.size()));
  const auto start = steady::now();
  std::vector<std::thread> senders;
  if (opt.udp) {
    senders.emplace_back(send_udp, std::cref(udp_fds), std::cref(datagrams), datagram_rate,
                         std::ref(done[0]));
  } else {
    // Connection c sends messages [c·N/C, (c+1)·N/C): contiguous, so the match rate stays 1 %.
    for (std::size_t c = 0; c < conns.size(); ++c) {
      const std::size_t from = starts[c * opt.count / conns.size()];
      const std::size_t to = starts[(c + 1) * opt.count / conns.size()];
      senders.emplace_back([&, c, from, to] {
        if (conns[c]->write_all(std::string_view(data).substr(from, to - from))) {
          conns[c]->finish();
        }
        done[c] = true;
      });
    }
  }
  auto all_sent = [&] {
    return std::all_of(done.begin(), done.end(), [](const auto& d) { return d.load(); });
  };
  double send_seconds = -1;
  bool complete = false;
  auto last_change = steady::now();
  std::vector<std::uint64_t> last_values(expectations.size(), 0);
  while (true) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (send_seconds < 0 && all_sent()) {
      send_seconds = std::chrono::duration<double>(steady::now() - start).count();
      last_change = steady::now();  // UDP settles from the last datagram on
    }
    complete = observe();
    const auto now = steady::now();
    if (complete) break;
    for (std::size_t j = 0; j < expectations.size(); ++j) {
      if (expectations[j].observed != last_values[j]) {
        last_values[j] = expectations[j].observed;
        last_change = now;
      }
    }
    if (std::chrono::duration<double>(now - start).count() > opt.timeout_seconds) break;
    if (opt.udp && send_seconds >= 0 &&
        std::chrono::duration<double>(now - last_change).count() > opt.settle_seconds) {
      break;
    }
  }
  const double seconds = std::chrono::duration<double>(steady::now() - start).count();
  for (const int fd : udp_fds) ::shutdown(fd, SHUT_RDWR);
  for (auto& c : conns) c->abort();
  for (auto& t : senders) t.join();
  conns.clear();
  for (const int fd : udp_fds) ::close(fd);
  if (send_seconds < 0) send_seconds = seconds;

  double progress = 1;
  for (const auto& e : expectations) {
    progress = std::min(progress, e.expected ? static_cast<double>(e.observed) / e.expected : 1.0);
  }
  std::printf(
      "sent=%zu bytes=%zu send_seconds=%.3f complete=%d seconds=%.3f rate=%.0f mb_rate=%.1f "
      "progress=%.4f observed=",
      opt.count, wire_bytes, send_seconds, complete ? 1 : 0, seconds,
      progress * static_cast<double>(opt.count) / seconds,
      progress * static_cast<double>(wire_bytes) / seconds / 1e6, progress);
  for (std::size_t j = 0; j < expectations.size(); ++j) {
    std::printf("%s%llu", j ? "," : "", static_cast<unsigned long long>(expectations[j].observed));
  }
  std::printf("\n");
  return 0;
}

// --- latency ------------------------------------------------------------------------------------

// A minimal HTTP/1.1 server on 127.0.0.1 that answers 200 to every request and records, for every
// marker number found in a body as `"n":"N"`, when the first request carrying it arrived.
class hook_server {
 public:
  explicit hook_server(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const sockaddr_in addr = loopback(port);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 64) != 0) {
      throw std::runtime_error("cannot listen on 127.0.0.1:" + std::to_string(port) + ": " +
                               std::strerror(errno));
    }
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  hook_server(const hook_server&) = delete;
  hook_server& operator=(const hook_server&) = delete;
  ~hook_server() {
    stop_ = true;
    acceptor_.join();
    for (auto& t : handlers_) t.join();
    ::close(fd_);
  }

  std::map<std::uint64_t, steady::time_point> arrivals() {
    std::lock_guard lock(mutex_);
    return arrivals_;
  }
  std::size_t requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  static bool wait_readable(int fd, std::atomic<bool>& stop) {
    pollfd p{fd, POLLIN, 0};
    while (!stop) {
      if (::poll(&p, 1, 100) > 0) return true;
    }
    return false;
  }

  void accept_loop() {
    while (wait_readable(fd_, stop_)) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      const int one = 1;
      ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      handlers_.emplace_back([this, c] { serve(c); });
    }
  }

  void serve(int fd) {
    std::string buf;
    char chunk[65536];
    auto read_more = [&] {
      if (!wait_readable(fd, stop_)) return false;
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      buf.append(chunk, static_cast<std::size_t>(n));
      return true;
    };
    auto reply = [&](std::string_view text) {
      return ::send(fd, text.data(), text.size(), MSG_NOSIGNAL) ==
             static_cast<ssize_t>(text.size());
    };
    while (true) {
      std::size_t head_end;
      while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
        if (!read_more()) return ::close(fd), void();
      }
      const auto arrived = steady::now();
      std::string head = buf.substr(0, head_end + 4);
      for (char& ch : head) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      buf.erase(0, head_end + 4);
      if (head.find("expect: 100-continue") != std::string::npos) {
        if (!reply("HTTP/1.1 100 Continue\r\n\r\n")) return ::close(fd), void();
      }
      std::string body;
      if (head.find("transfer-encoding: chunked") != std::string::npos) {
        while (buf.find("\r\n0\r\n\r\n") == std::string::npos && buf.rfind("0\r\n\r\n", 0) != 0) {
          if (!read_more()) return ::close(fd), void();
        }
        const std::size_t end = buf.rfind("0\r\n\r\n", 0) == 0 ? 0 : buf.find("\r\n0\r\n\r\n") + 2;
        body = buf.substr(0, end);  // chunk sizes stay in it; only the markers matter
        buf.erase(0, end + 5);
      } else {
        std::size_t length = 0;
        const std::size_t at = head.find("content-length:");
        if (at != std::string::npos) length = std::strtoull(head.c_str() + at + 15, nullptr, 10);
        while (buf.size() < length) {
          if (!read_more()) return ::close(fd), void();
        }
        body = buf.substr(0, length);
        buf.erase(0, length);
      }
      record(body, arrived);
      if (!reply("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")) return ::close(fd), void();
    }
  }

  void record(const std::string& body, steady::time_point arrived) {
    std::lock_guard lock(mutex_);
    ++requests_;
    static constexpr std::string_view key = "\"n\":\"";
    for (std::size_t at = body.find(key); at != std::string::npos; at = body.find(key, at + 1)) {
      const char* digits = body.c_str() + at + key.size();
      if (!std::isdigit(static_cast<unsigned char>(*digits))) continue;
      arrivals_.try_emplace(std::strtoull(digits, nullptr, 10), arrived);
    }
  }

  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::vector<std::thread> handlers_;  // only touched by the acceptor, joined after it
  std::mutex mutex_;
  std::map<std::uint64_t, steady::time_point> arrivals_;
  std::size_t requests_ = 0;
};

std::string marker_line(std::size_t n) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
      1000000;
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char stamp[40];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  char line[160];
  std::snprintf(line, sizeof line,
                "<11>1 %s.%06lldZ bench-host latency - - - latmark %zu probe fired\n", stamp,
                static_cast<long long>(micros), n);
  return line;
}

double percentile(const std::vector<double>& sorted, double p) {  // nearest rank
  const auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size()));
  return sorted[std::min(rank, sorted.size() - 1)];
}

int run_latency(int argc, char** argv) {
  std::uint16_t port = 0, http_port = 0, metrics_port = 0;
  std::string metrics_host = "127.0.0.1";
  double rate = 200000, interval_ms = 50, wait_seconds = 10;
  std::size_t markers = 200;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--port")
      port = static_cast<std::uint16_t>(parse_count(value()));
    else if (arg == "--http-port")
      http_port = static_cast<std::uint16_t>(parse_count(value()));
    else if (arg == "--rate")
      rate = std::stod(value());
    else if (arg == "--markers")
      markers = parse_count(value());
    else if (arg == "--interval-ms")
      interval_ms = std::stod(value());
    else if (arg == "--wait")
      wait_seconds = std::stod(value());
    else if (arg == "--metrics")
      parse_host_port(value(), metrics_host, metrics_port);
    else
      throw std::runtime_error("unknown option " + arg);
  }
  if (port == 0 || http_port == 0 || markers == 0 || interval_ms <= 0 || rate < 0) {
    throw std::runtime_error("latency needs --port, --http-port, --markers > 0, --interval-ms > 0");
  }

  hook_server hook(http_port);
  // The background: `send`'s lines for 1 rule (none of them a marker), reused round-robin.
  constexpr std::size_t ring = 100000;
  std::string data;
  data.reserve(ring * 190);
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < ring; ++i) {
    starts.push_back(data.size());
    data += make_line(i, 1);
  }
  starts.push_back(data.size());

  connection conn(port, nullptr);
  std::vector<steady::time_point> sent(markers);
  const auto start = steady::now();
  const auto interval = std::chrono::duration_cast<steady::duration>(
      std::chrono::duration<double, std::milli>(interval_ms));
  auto next_marker = start + interval;
  std::size_t background = 0, marker = 0;
  bool ok = true;
  while (ok && marker < markers) {
    const auto now = steady::now();
    const double elapsed = std::chrono::duration<double>(now - start).count();
    // Due background lines, in pieces of at most 5 000 so a marker is never late by much more
    // than the daemon's own backlog.
    const std::size_t due = static_cast<std::size_t>(elapsed * rate);
    while (ok && background < due && steady::now() < next_marker) {
      const std::size_t from = background % ring;
      const std::size_t n = std::min({due - background, ring - from, std::size_t{5000}});
      ok = conn.write_all(
          std::string_view(data).substr(starts[from], starts[from + n] - starts[from]));
      background += n;
    }
    if (ok && steady::now() >= next_marker) {
      const std::string line = marker_line(marker);
      sent[marker] = steady::now();
      ok = conn.write_all(line);
      ++marker;
      next_marker += interval;
    }
    std::this_thread::sleep_until(
        std::min(next_marker, steady::now() + std::chrono::milliseconds(1)));
  }
  const double send_seconds = std::chrono::duration<double>(steady::now() - start).count();
  if (!ok) std::fprintf(stderr, "tocsin_loadgen: the daemon closed the connection\n");

  const auto deadline = steady::now() + std::chrono::duration_cast<steady::duration>(
                                            std::chrono::duration<double>(wait_seconds));
  while (hook.arrivals().size() < marker && steady::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  conn.finish();
  const auto arrivals = hook.arrivals();
  std::vector<double> latencies;
  for (const auto& [n, at] : arrivals) {
    if (n < marker) {
      latencies.push_back(std::chrono::duration<double, std::milli>(at - sent[n]).count());
    }
  }
  std::sort(latencies.begin(), latencies.end());
  std::printf("markers=%zu received=%zu posts=%zu", marker, latencies.size(), hook.requests());
  if (!latencies.empty()) {
    std::printf(" p50_ms=%.2f p99_ms=%.2f max_ms=%.2f", percentile(latencies, 50),
                percentile(latencies, 99), latencies.back());
  }
  std::printf(" background=%.0f complete=%d", static_cast<double>(background) / send_seconds,
              ok && latencies.size() == markers ? 1 : 0);
  if (metrics_port != 0) {
    std::map<std::string, double> sums = {{"tocsin_notification_latency_seconds_count", 0},
                                          {"tocsin_notification_latency_seconds_sum", 0}};
    if (scrape_sum(metrics_host, metrics_port, sums)) {
      const double n = sums["tocsin_notification_latency_seconds_count"];
      std::printf(" notification_latency_count=%.0f notification_latency_mean_ms=%.2f", n,
                  n > 0 ? 1000 * sums["tocsin_notification_latency_seconds_sum"] / n : 0.0);
    }
  }
  std::printf("\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // TLS writes to a daemon that went away
  try {
    const std::string command = argc > 1 ? argv[1] : "";
    const std::string rules_range = "RULES must be 1.." + std::to_string(max_rules);
    if (command == "patterns" && argc == 3) {
      const std::size_t rules = parse_count(argv[2]);
      if (rules == 0 || rules > max_rules) throw std::runtime_error(rules_range);
      for (std::size_t k = 0; k < rules; ++k) std::printf("%s\n", rule_pattern(k).c_str());
      return 0;
    }
    if (command == "lines" && argc == 4) {
      const std::size_t count = parse_count(argv[2]), rules = parse_count(argv[3]);
      if (rules == 0 || rules > max_rules) throw std::runtime_error(rules_range);
      for (std::size_t i = 0; i < count; ++i) std::fputs(make_line(i, rules).c_str(), stdout);
      return 0;
    }
    if (command == "send") return run_send(parse_send_options(argc, argv));
    if (command == "latency") return run_latency(argc, argv);
    std::fprintf(stderr,
                 "usage: tocsin_loadgen patterns RULES\n"
                 "       tocsin_loadgen lines COUNT RULES\n"
                 "       tocsin_loadgen send --port P --count N --rules R [--udp --rate R]\n"
                 "           [--connections C] [--tls] [--gelf-tcp | --gelf-udp-chunked --rate R]\n"
                 "           [--metrics HOST:PORT] [--expect-metric NAME=V]... "
                 "[--expect-lines DIR=V]...\n"
                 "           [--timeout S] [--settle S]\n"
                 "       tocsin_loadgen latency --port P --http-port H [--rate R] [--markers M]\n"
                 "           [--interval-ms MS] [--wait S] [--metrics HOST:PORT]\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tocsin_loadgen: %s\n", e.what());
    return 2;
  }
}
