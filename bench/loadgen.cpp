// Load generator and completion watcher for bench/compare (issue 7): sends the same pre-generated
// RFC 5424 lines to any syslog daemon and measures, from the daemon's own output, when it has
// processed them all. It depends on nothing but the C++ library and POSIX sockets, so the same
// binary drives rsyslog, syslog-ng and tocsin.
//
//   tocsin_loadgen patterns RULES
//       Prints RULES regex patterns, one a line: rule k's pattern. POSIX ERE and RE2 alike (no
//       backslashes, quotes or anchors), so they can go verbatim into rsyslog's re_match and into
//       tocsin's rule files.
//   tocsin_loadgen lines COUNT RULES
//       Prints the first COUNT lines `send` would send (to check the patterns by hand).
//   tocsin_loadgen send --port P --count N --rules R [--udp --rate MSGS_PER_S]
//                       [--metrics HOST:PORT] [--expect-metric NAME=VALUE]...
//                       [--expect-lines DIR=VALUE]... [--timeout SECONDS] [--settle SECONDS]
//       Generates N lines (~180 bytes; line i matches rule (i / 100) % R exactly when
//       i % 100 == 99, so 1 % match and the last line of a multiple of 100 is a match), sends them
//       to 127.0.0.1:P over one TCP connection as fast as the daemon takes them (LF framing), or
//       over UDP at a fixed rate, and polls every 50 ms until every expectation holds:
//         --expect-metric NAME=VALUE  the sum of every NAME series on http://HOST:PORT/metrics
//         --expect-lines DIR=VALUE    the number of lines in the regular files under DIR
//       Prints one line of key=value pairs: sent, send_seconds, complete (1/0), seconds (first byte
//       sent → all expectations seen), rate (messages per second over that time), progress (the
//       least fraction of any expectation reached) and observed (each expectation's last value).
//       Without completion it stops after --timeout seconds (default 120), or for UDP once the
//       values have not moved for --settle seconds (default 2) after the last datagram.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
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
constexpr std::size_t max_rules = words.size() * words.size();

// Rule k's two-word tag: distinct for every k < max_rules, so no two rules match the same line.
std::string rule_tag(std::size_t k) {
  return std::string(words[k % words.size()]) + "-" + words[(k / words.size()) % words.size()];
}

std::string rule_pattern(std::size_t k) {
  return rule_tag(k) + " (failed|error) unit=[0-9]+ code=" + std::to_string(k) + ";";
}

// One line, LF-terminated. Non-matching lines look like access and worker logs and mention one of
// the tag words, so a regex engine cannot reject them on the first byte.
std::string make_line(std::size_t i, std::size_t rules) {
  static constexpr std::array<const char*, 5> apps = {"nginx", "sshd", "cron", "worker", "kernel"};
  const std::size_t host = i % 20;
  const char* app = apps[(i / 20) % apps.size()];
  char head[128];
  std::snprintf(head, sizeof head,
                "<134>1 2024-05-01T12:%02zu:%02zu.%06zuZ web%02zu.example.com %s %zu %s - ",
                (i / 60000) % 60, (i / 1000) % 60, i % 1000000, host, app, 1000 + i % 9000,
                i % 100 == 99 ? "DISKIO" : "ACCESS");
  std::string line = head;
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
  line += body;
  line += '\n';
  return line;
}

struct expectation {
  enum class kind { metric, lines } what;
  std::string name;  // metric name or directory
  std::uint64_t expected = 0;
  std::uint64_t observed = 0;
};

struct options {
  std::uint16_t port = 0;
  std::size_t count = 0;
  std::size_t rules = 1;
  bool udp = false;
  double rate = 0;
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

// GET /metrics over HTTP/1.0 and sum every series of `name` (so labels do not matter).
// Returns false when the daemon cannot be reached.
bool scrape_sum(const options& opt, std::map<std::string, std::uint64_t>& sums) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  const sockaddr_in addr = loopback(opt.metrics_port, opt.metrics_host);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return false;
  }
  const std::string request = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) < 0) {
    ::close(fd);
    return false;
  }
  std::string body;
  char buf[65536];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
    body.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
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
    it->second += static_cast<std::uint64_t>(
        std::strtod(std::string(line.substr(value_at + 1)).c_str(), nullptr));
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

// The sender: one TCP connection, whole buffer, as fast as the peer reads.
void send_tcp(int fd, const std::string& data, std::atomic<bool>& done) {
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::send(fd, data.data() + off,
                             std::min<std::size_t>(data.size() - off, 1 << 18), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // the watcher shut the socket down (timeout) or the daemon went away
    }
    off += static_cast<std::size_t>(n);
  }
  done = true;
}

// UDP at a fixed rate: every 200 µs, send the datagrams the schedule says are due, batched with
// sendmmsg. Datagrams the kernel refuses (ENOBUFS) are retried, so "sent" means "left this host".
void send_udp(int fd, const std::vector<std::string_view>& lines, double rate,
              std::atomic<bool>& done) {
  constexpr std::size_t batch = 64;
  std::array<mmsghdr, batch> msgs{};
  std::array<iovec, batch> iov{};
  const auto start = steady::now();
  std::size_t next = 0;
  while (next < lines.size()) {
    const double elapsed = std::chrono::duration<double>(steady::now() - start).count();
    const std::size_t due = std::min(lines.size(), static_cast<std::size_t>(elapsed * rate) + 1);
    while (next < due) {
      const std::size_t n = std::min(batch, due - next);
      for (std::size_t j = 0; j < n; ++j) {
        iov[j].iov_base = const_cast<char*>(lines[next + j].data());
        iov[j].iov_len = lines[next + j].size();
        msgs[j] = mmsghdr{};
        msgs[j].msg_hdr.msg_iov = &iov[j];
        msgs[j].msg_hdr.msg_iovlen = 1;
      }
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
    else if (arg == "--timeout")
      opt.timeout_seconds = std::stod(value());
    else if (arg == "--settle")
      opt.settle_seconds = std::stod(value());
    else if (arg == "--metrics") {
      const std::string hp = value();
      const std::size_t colon = hp.rfind(':');
      if (colon == std::string::npos) throw std::runtime_error("--metrics wants HOST:PORT");
      opt.metrics_host = hp.substr(0, colon);
      opt.metrics_port = static_cast<std::uint16_t>(parse_count(hp.substr(colon + 1)));
    } else if (arg == "--expect-metric") {
      opt.expectations.push_back(parse_expectation(expectation::kind::metric, value()));
    } else if (arg == "--expect-lines") {
      opt.expectations.push_back(parse_expectation(expectation::kind::lines, value()));
    } else {
      throw std::runtime_error("unknown option " + arg);
    }
  }
  if (opt.port == 0 || opt.count == 0) throw std::runtime_error("send needs --port and --count");
  if (opt.rules == 0 || opt.rules > max_rules) {
    throw std::runtime_error("--rules must be 1.." + std::to_string(max_rules));
  }
  if (opt.udp && opt.rate <= 0) throw std::runtime_error("--udp needs --rate");
  if (opt.expectations.empty()) throw std::runtime_error("send needs at least one --expect-*");
  for (const auto& e : opt.expectations) {
    if (e.what == expectation::kind::metric && opt.metrics_port == 0) {
      throw std::runtime_error("--expect-metric needs --metrics");
    }
  }
  return opt;
}

int run_send(const options& opt) {
  // Every line generated before the clock starts: the sender only copies bytes.
  std::string data;
  data.reserve(opt.count * 190);
  std::vector<std::size_t> starts;
  starts.reserve(opt.count + 1);
  for (std::size_t i = 0; i < opt.count; ++i) {
    starts.push_back(data.size());
    data += make_line(i, opt.rules);
  }
  starts.push_back(data.size());
  std::vector<std::string_view> datagrams;  // UDP: one line each, without its LF
  if (opt.udp) {
    datagrams.reserve(opt.count);
    for (std::size_t i = 0; i < opt.count; ++i) {
      datagrams.emplace_back(data.data() + starts[i], starts[i + 1] - starts[i] - 1);
    }
  }

  const int fd = ::socket(AF_INET, opt.udp ? SOCK_DGRAM : SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  const sockaddr_in addr = loopback(opt.port);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
  }

  std::map<std::string, std::uint64_t> metric_sums;
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
    if (!metric_sums.empty()) scrape_sum(opt, metric_sums);
    bool all = true;
    for (auto& e : expectations) {
      e.observed =
          e.what == expectation::kind::metric ? metric_sums[e.name] : counters.at(e.name).count();
      all = all && e.observed >= e.expected;
    }
    return all;
  };

  std::atomic<bool> send_done{false};
  const auto start = steady::now();
  std::thread sender =
      opt.udp ? std::thread(send_udp, fd, std::cref(datagrams), opt.rate, std::ref(send_done))
              : std::thread(send_tcp, fd, std::cref(data), std::ref(send_done));
  double send_seconds = -1;
  bool complete = false;
  auto last_change = steady::now();
  std::vector<std::uint64_t> last_values(expectations.size(), 0);
  while (true) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (send_done && send_seconds < 0) {
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
    if (opt.udp && send_done &&
        std::chrono::duration<double>(now - last_change).count() > opt.settle_seconds) {
      break;
    }
  }
  const double seconds = std::chrono::duration<double>(steady::now() - start).count();
  ::shutdown(fd, SHUT_RDWR);  // unblocks a sender stuck on a daemon that stopped reading
  sender.join();
  ::close(fd);
  if (send_seconds < 0) send_seconds = seconds;

  double progress = 1;
  for (const auto& e : expectations) {
    progress = std::min(progress, e.expected ? static_cast<double>(e.observed) / e.expected : 1.0);
  }
  std::printf(
      "sent=%zu send_seconds=%.3f complete=%d seconds=%.3f rate=%.0f progress=%.4f observed=",
      opt.count, send_seconds, complete ? 1 : 0, seconds,
      progress * static_cast<double>(opt.count) / seconds, progress);
  for (std::size_t j = 0; j < expectations.size(); ++j) {
    std::printf("%s%llu", j ? "," : "", static_cast<unsigned long long>(expectations[j].observed));
  }
  std::printf("\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string command = argc > 1 ? argv[1] : "";
    if (command == "patterns" && argc == 3) {
      const std::size_t rules = parse_count(argv[2]);
      if (rules == 0 || rules > max_rules) throw std::runtime_error("RULES must be 1..1600");
      for (std::size_t k = 0; k < rules; ++k) std::printf("%s\n", rule_pattern(k).c_str());
      return 0;
    }
    if (command == "lines" && argc == 4) {
      const std::size_t count = parse_count(argv[2]), rules = parse_count(argv[3]);
      if (rules == 0 || rules > max_rules) throw std::runtime_error("RULES must be 1..1600");
      for (std::size_t i = 0; i < count; ++i) std::fputs(make_line(i, rules).c_str(), stdout);
      return 0;
    }
    if (command == "send") return run_send(parse_send_options(argc, argv));
    std::fprintf(stderr,
                 "usage: tocsin_loadgen patterns RULES\n"
                 "       tocsin_loadgen lines COUNT RULES\n"
                 "       tocsin_loadgen send --port P --count N --rules R [--udp --rate R]\n"
                 "           [--metrics HOST:PORT] [--expect-metric NAME=V]... "
                 "[--expect-lines DIR=V]...\n"
                 "           [--timeout S] [--settle S]\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tocsin_loadgen: %s\n", e.what());
    return 2;
  }
}
