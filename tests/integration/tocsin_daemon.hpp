#pragma once
// Shared by the integration tests: a real `tocsin run` (or `collector`, `router`) on loopback
// ports with its own temp dir, plus the small socket and metrics helpers the tests need.
// Header-only because every tests/integration/*_test.cpp is its own executable and this folder
// has no library target.

#include "tests/support/support.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace tocsin::test {

using json = nlohmann::json;
using namespace std::chrono_literals;

// How long a test waits for something the daemon does "soon" (archive flush is ≤ 200 ms).
inline constexpr auto patience = 10s;

// --- sockets -------------------------------------------------------------------------------------

inline sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// One datagram to 127.0.0.1:port; false if it could not be sent.
inline bool send_udp(std::uint16_t port, std::string_view payload) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const sockaddr_in addr = loopback(port);
  const auto n = ::sendto(fd, payload.data(), payload.size(), 0,
                          reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  ::close(fd);
  return n == static_cast<ssize_t>(payload.size());
}

// One UDP socket for many datagrams, so they share a source port like a real sender's (with
// SO_REUSEPORT the kernel picks the receiving shard by the source address and port).
class udp_client {
 public:
  udp_client() : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {}
  ~udp_client() {
    if (fd_ >= 0) ::close(fd_);
  }
  udp_client(const udp_client&) = delete;
  udp_client& operator=(const udp_client&) = delete;

  bool send_to(std::uint16_t port, std::string_view payload) const {
    const sockaddr_in addr = loopback(port);
    return ::sendto(fd_, payload.data(), payload.size(), 0,
                    reinterpret_cast<const sockaddr*>(&addr),
                    sizeof addr) == static_cast<ssize_t>(payload.size());
  }

 private:
  int fd_ = -1;
};

// A blocking TCP client connection to 127.0.0.1 that closes itself.
class tcp_client {
 public:
  tcp_client() = default;
  explicit tcp_client(std::uint16_t port) { connect(port); }
  ~tcp_client() { close(); }
  tcp_client(const tcp_client&) = delete;
  tcp_client& operator=(const tcp_client&) = delete;
  tcp_client(tcp_client&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  tcp_client& operator=(tcp_client&& o) noexcept {
    if (this != &o) {
      close();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }

  // From `source_ip` when given: all of 127/8 is loopback, so "127.0.0.2" is another host.
  bool connect(std::uint16_t port, const char* source_ip = nullptr) {
    close();
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    if (source_ip != nullptr) {
      sockaddr_in local{};
      local.sin_family = AF_INET;
      if (::inet_pton(AF_INET, source_ip, &local.sin_addr) != 1 ||
          ::bind(fd_, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
        close();
        return false;
      }
    }
    const sockaddr_in addr = loopback(port);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) close();
    return fd_ >= 0;
  }

  [[nodiscard]] bool is_open() const { return fd_ >= 0; }
  [[nodiscard]] int fd() const { return fd_; }

  // Writes everything (MSG_NOSIGNAL: a reset connection is a false return, not SIGPIPE).
  bool send_all(std::string_view data) {
    if (fd_ < 0) return false;
    while (!data.empty()) {
      const auto n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // True when the peer closed (EOF or reset) within `timeout`; data it sent is discarded.
  bool closed_by_peer(std::chrono::milliseconds timeout) {
    if (fd_ < 0) return true;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[512];
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      const int r = ::poll(&p, 1, static_cast<int>(left.count()));
      if (r <= 0) continue;
      const auto n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n == 0) return true;
      if (n < 0 && errno != EAGAIN && errno != EINTR) return true;
    }
  }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// --- Prometheus text -----------------------------------------------------------------------------

using label_set = std::map<std::string, std::string>;

struct metric_sample {
  std::string name;
  label_set labels;
  double value = 0;
};

inline std::vector<metric_sample> parse_metrics(std::string_view text) {
  std::vector<metric_sample> out;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    metric_sample s;
    std::size_t i = line.find_first_of("{ ");
    if (i == std::string::npos) continue;
    s.name = line.substr(0, i);
    if (line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        const auto eq = line.find('=', i);
        if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') break;
        std::string key = line.substr(i, eq - i), value;
        std::size_t j = eq + 2;
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\' && j + 1 < line.size()) {
            ++j;
            value += line[j] == 'n' ? '\n' : line[j];
          } else {
            value += line[j];
          }
        }
        s.labels.emplace(std::move(key), std::move(value));
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      i = line.find(' ', i);
      if (i == std::string::npos) continue;
    }
    try {
      s.value = std::stod(line.substr(i + 1));
    } catch (const std::exception&) {
      continue;
    }
    out.push_back(std::move(s));
  }
  return out;
}

// --- the daemon ----------------------------------------------------------------------------------

struct daemon_options {
  // The subcommand: "run", "collector" (inputs, rules, Kafka producer) or "router" (Kafka
  // consumer, receivers).
  std::string command = "run";
  // false (a router): no inputs and no outputs; readiness is /healthz alone.
  bool inputs = true;
  std::size_t max_message_bytes = 65536;
  std::size_t max_connections = 1024;
  std::string idle_timeout = "5m";
  // Archive path template relative to the daemon's temp dir; {host} {app} {date} as in DESIGN.md.
  std::string archive_template = "log/{host}/{app}.log";
  // YAML appended to the generated config (rules_files, route, receivers ...), and files written
  // into the daemon's directory before it starts (relative paths resolve there: it is the cwd).
  std::string extra_config;
  std::map<std::string, std::string> files;
  // YAML list items ("  - { type: kafka, topic: t }\n") appended under `outputs:`, after the file
  // archive (only with inputs).
  std::string extra_outputs;
  // YAML list items appended under `inputs:` after the four standard inputs (only with inputs).
  std::string extra_inputs;
  // More `limits:` keys, written inside its flow mapping: ", per_source_rate: 10".
  std::string extra_limits;
  // More `admin:` keys, the same way: ", token_file: /path".
  std::string extra_admin;
  // Runs the daemon through this command, e.g. {"prlimit", "--nofile=256:256", "--"}.
  std::vector<std::string> launcher;
};

// `tocsin run` with syslog UDP+TCP on one port, GELF UDP+TCP on another, admin on a third, all on
// 127.0.0.1, and a file archive under its temp dir. Started by the constructor (throws with the
// daemon's log when it does not become ready); SIGTERM on stop() or destruction. kill9() and
// restart() simulate a crash and a restart in the same directory with the same config and ports.
// When the test has failed, the daemon's log (every run's) is printed.
class tocsin_daemon {
 public:
  explicit tocsin_daemon(daemon_options options = {}) : options_(std::move(options)) {
    std::set<std::uint16_t> ports;
    while (ports.size() < 3) ports.insert(free_port());
    auto it = ports.begin();
    admin_port_ = *it++;
    syslog_port_ = *it++;
    gelf_port_ = *it;

    const std::string ip = "127.0.0.1:";
    std::ostringstream cfg;
    cfg << "data_dir: " << (dir_ / "lib").string() << "\n"
        << "admin: { listen: " << ip << admin_port_ << options_.extra_admin << " }\n";
    if (options_.inputs) {
      cfg << "inputs:\n"
          << "  - { name: syslog-udp, type: syslog, transport: udp, listen: " << ip << syslog_port_
          << " }\n"
          << "  - { name: syslog-tcp, type: syslog, transport: tcp, listen: " << ip << syslog_port_
          << " }\n"
          << "  - { name: gelf-udp, type: gelf, transport: udp, listen: " << ip << gelf_port_
          << " }\n"
          << "  - { name: gelf-tcp, type: gelf, transport: tcp, listen: " << ip << gelf_port_
          << " }\n"
          << options_.extra_inputs << "limits: { max_message_bytes: " << options_.max_message_bytes
          << ", max_connections: " << options_.max_connections
          << ", idle_timeout: " << options_.idle_timeout << options_.extra_limits << " }\n"
          << "outputs:\n"
          << "  - { type: file, path: \"" << (dir_ / options_.archive_template).string() << "\" }\n"
          << options_.extra_outputs;
    }
    cfg << options_.extra_config;
    for (const auto& [name, content] : options_.files) dir_.write_file(name, content);
    config_path_ = dir_.write_file("tocsin.yaml", cfg.str());
    start();
  }

  ~tocsin_daemon() {
    if (process_ && process_->running()) process_->stop();
    if (::testing::Test::HasFailure()) {
      std::cerr << "---- tocsin log (" << dir_.path().string() << ") ----\n"
                << tail(log_text(), 8000) << "---- end of tocsin log ----\n";
    }
  }
  tocsin_daemon(const tocsin_daemon&) = delete;
  tocsin_daemon& operator=(const tocsin_daemon&) = delete;

  [[nodiscard]] const temp_dir& dir() const { return dir_; }
  // The fixed directory part of the archive template: every archive file is below it.
  [[nodiscard]] std::filesystem::path log_root() const {
    const std::string& t = options_.archive_template;
    const auto slash = t.rfind('/', t.find('{'));
    return slash == std::string::npos ? dir_.path() : dir_ / t.substr(0, slash);
  }
  [[nodiscard]] const std::filesystem::path& config_path() const { return config_path_; }
  [[nodiscard]] std::uint16_t syslog_port() const { return syslog_port_; }
  [[nodiscard]] std::uint16_t gelf_port() const { return gelf_port_; }
  [[nodiscard]] std::uint16_t admin_port() const { return admin_port_; }
  [[nodiscard]] pid_t pid() const { return process_->pid(); }
  [[nodiscard]] bool running() { return process_->running(); }
  void signal(int sig) { process_->signal(sig); }
  // SIGTERM; the exit status (0 for a clean shutdown).
  int stop() { return process_->stop(); }
  // SIGKILL, like a crash or the OOM killer; the exit status (137).
  int kill9() { return process_->kill9(); }
  // Starts the daemon again (after stop() or kill9()) with the same directory, config and ports;
  // waits for readiness like the constructor.
  void restart() {
    if (process_->running()) process_->stop();
    ++runs_;
    start();
  }

  // What the daemon logged so far (stdout then stderr), run after run.
  [[nodiscard]] std::string log_text() const {
    std::string out;
    for (int run = 1; run <= runs_; ++run) {
      if (run > 1) out += "---- restart " + std::to_string(run - 1) + " ----\n";
      for (const char* stream : {"stdout", "stderr"}) {
        out += read_file_if_present(dir_ / log_name(run, stream));
      }
    }
    return out;
  }

  // Every archived event in every file under the archive root, file by file.
  [[nodiscard]] std::vector<json> events() const {
    std::vector<json> out;
    for (const auto& file : find_files(log_root(), ".log")) {
      auto lines = read_json_lines(file);
      out.insert(out.end(), std::make_move_iterator(lines.begin()),
                 std::make_move_iterator(lines.end()));
    }
    return out;
  }

  // The first archived event for which `pred` holds, polling until `timeout`.
  std::optional<json> wait_for_event(const std::function<bool(const json&)>& pred,
                                     std::chrono::milliseconds timeout = patience) const {
    std::optional<json> found;
    wait_until(
        [&] {
          for (auto& ev : events()) {
            if (pred(ev)) {
              found = std::move(ev);
              return true;
            }
          }
          return false;
        },
        timeout);
    return found;
  }

  // The archived event whose `field` equals `value` (e.g. a unique message or app).
  std::optional<json> wait_for_event_with(const std::string& field, const std::string& value,
                                          std::chrono::milliseconds timeout = patience) const {
    return wait_for_event([&](const json& ev) { return ev.contains(field) && ev[field] == value; },
                          timeout);
  }

  [[nodiscard]] std::string metrics_text() const {
    return http_get("127.0.0.1", admin_port_, "/metrics", 5s).body;
  }

  // Sum of the samples of `name` whose labels include all of `labels`.
  [[nodiscard]] double metric(std::string_view name, const label_set& labels = {}) const {
    double sum = 0;
    for (const auto& s : parse_metrics(metrics_text())) {
      if (s.name != name) continue;
      bool match = true;
      for (const auto& [k, v] : labels) {
        const auto f = s.labels.find(k);
        if (f == s.labels.end() || f->second != v) match = false;
      }
      if (match) sum += s.value;
    }
    return sum;
  }

  [[nodiscard]] double input_errors(const std::string& input,
                                    const std::string& reason = {}) const {
    label_set labels{{"input", input}};
    if (!reason.empty()) labels.emplace("reason", reason);
    return metric("tocsin_input_errors_total", labels);
  }
  [[nodiscard]] double input_messages(const std::string& input) const {
    return metric("tocsin_input_messages_total", {{"input", input}});
  }
  [[nodiscard]] double input_connections(const std::string& input) const {
    return metric("tocsin_input_connections", {{"input", input}});
  }

  // Polls until the metric sum satisfies `pred`; returns whether it did.
  bool wait_for_metric(std::string_view name, const label_set& labels,
                       const std::function<bool(double)>& pred,
                       std::chrono::milliseconds timeout = patience) const {
    return wait_until([&] { return pred(metric(name, labels)); }, timeout);
  }

  [[nodiscard]] bool healthy() const {
    const auto r = http_get("127.0.0.1", admin_port_, "/healthz", 5s);
    return r.status == 200 && r.body.rfind("ok", 0) == 0;
  }

 private:
  static std::string tail(const std::string& s, std::size_t n) {
    return s.size() <= n ? s : "...\n" + s.substr(s.size() - n);
  }

  // tocsin.stdout for the first run, tocsin.2.stdout for the second ... (the runner truncates).
  static std::string log_name(int run, const char* stream) {
    return run == 1 ? std::string("tocsin.") + stream
                    : "tocsin." + std::to_string(run) + "." + stream;
  }

  void start() {
    process_options po;
    po.stdout_path = dir_ / log_name(runs_, "stdout");
    po.stderr_path = dir_ / log_name(runs_, "stderr");
    po.cwd = dir_.path();
    std::vector<std::string> argv = options_.launcher;
    for (std::string arg :
         {tocsin_binary().string(), options_.command, std::string("-c"), config_path_.string()}) {
      argv.push_back(std::move(arg));
    }
    process_ = std::make_unique<child_process>(argv, po);

    const bool ready = wait_until(
        [&] {
          if (!process_->running()) return true;  // stop waiting; reported below
          return http_get("127.0.0.1", admin_port_, "/healthz", 1s).status == 200;
        },
        patience);
    if (!ready || !process_->running() ||
        (options_.inputs &&
         (!wait_for_tcp(syslog_port_, patience) || !wait_for_tcp(gelf_port_, patience)))) {
      throw std::runtime_error("tocsin " + options_.command + " did not become ready; its log:\n" +
                               log_text());
    }
    // The ports answer a moment before start-up ends (/readyz says "starting", SIGHUP is not
    // handled yet); the status line comes after.
    wait_until(
        [&] {
          if (!process_->running()) return true;
          for (const char* stream : {"stdout", "stderr"}) {
            if (read_file_if_present(dir_ / log_name(runs_, stream)).find(" running as ") !=
                std::string::npos) {
              return true;
            }
          }
          return false;
        },
        patience);
  }

  daemon_options options_;
  temp_dir dir_{"tocsin-it"};
  std::filesystem::path config_path_;
  std::uint16_t admin_port_ = 0, syslog_port_ = 0, gelf_port_ = 0;
  std::unique_ptr<child_process> process_;
  int runs_ = 1;
};

// The short host name, as `logger` puts it in RFC 3164 headers.
inline std::string short_hostname() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  std::string h = buf;
  return h.substr(0, h.find('.'));
}

// A value of `field` as a string ("" when absent or not a string).
inline std::string text_field(const json& ev, const std::string& field) {
  const auto it = ev.find(field);
  return it != ev.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace tocsin::test
