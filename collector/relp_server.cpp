#include "collector/relp_server.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

extern "C" {  // librelp.h has no C++ guard of its own
#include <librelp.h>
}

namespace tocsin::collector {
namespace {

constexpr auto backpressure_poll = std::chrono::milliseconds(10);
// How long one wait for the outputs to write a message lasts before stop is checked again.
constexpr auto write_wait_slice = std::chrono::milliseconds(200);
constexpr auto stop_signal_every = std::chrono::milliseconds(10);
// librelp applies the message size limit to every frame, the `open` command's offers included:
// never below this, whatever max_message_bytes says.
constexpr std::size_t min_relp_frame_bytes = 4096;
// Interrupts librelp's epoll_wait() on stop, as rsyslog's imrelp does.
constexpr int wake_signal = SIGTTIN;

std::string_view trim_newline(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// librelp's debug output: one line per received buffer and more, so only at trace level.
void on_relp_debug(char* fmt, ...) {
  char line[1024];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(line, sizeof line, fmt, args);
  va_end(args);
  spdlog::trace("librelp: {}", trim_newline(line));
}

// Errors that end a session are the peer's business (it reconnects and resends); an oversized
// message is counted as message_too_large by the decoder. Everything else is worth a warning.
bool is_routine(relpRetVal code) {
  return code == RELP_RET_SESSION_BROKEN || code == RELP_RET_SESSION_CLOSED ||
         code == RELP_RET_DATA_TOO_LONG;
}

void on_relp_error(void* user, char* object, char* message, relpRetVal code) {
  const auto* server = static_cast<const relp_server*>(user);
  const std::string_view input =
      server != nullptr ? std::string_view(server->options().name) : std::string_view("?");
  const auto level = is_routine(code) ? spdlog::level::debug : spdlog::level::warn;
  spdlog::log(level, "input {}: librelp: {} ({}, code {})", input, trim_newline(message),
              object != nullptr ? object : "-", code);
}

void on_relp_generic_error(char* object, char* message, relpRetVal code) {
  const auto level = is_routine(code) ? spdlog::level::debug : spdlog::level::warn;
  spdlog::log(level, "librelp: {} ({}, code {})", trim_newline(message),
              object != nullptr ? object : "-", code);
}

relpRetVal on_relp_syslog(void* user, unsigned char* /*hostname*/, unsigned char* ip,
                          unsigned char* data, std::size_t size) {
  // librelp sends "200 OK" when this returns, whatever it returns (librelp 1.11 ignores the
  // result), so on_message() returns only once the message is written.
  static_cast<relp_server*>(user)->on_message(ip, data, size);
  return RELP_RET_OK;
}

void ignore_signal(int) {}

// A handler (not SIG_IGN) so that the signal interrupts epoll_wait() with EINTR; no SA_RESTART.
void install_wake_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action {};
    action.sa_handler = ignore_signal;
    sigemptyset(&action.sa_mask);
    ::sigaction(wake_signal, &action, nullptr);
  });
}

unsigned char* text(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

// Sets TCP_NODELAY on librelp's listening socket(s) on `port`, which accepted sessions inherit
// (Linux copies it to the accepted socket). Without it, Nagle holds back all but the first of a
// window's small "rsp" frames until the sender's delayed ACK (40 ms) arrives: about 128
// messages per 40 ms per sender. librelp does not expose the socket, so it is found among the
// process's descriptors: a listening TCP socket bound to this port. Returns how many it set.
int set_nodelay_on_listeners(std::uint16_t port) {
  int done = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    int fd = -1;
    try {
      fd = std::stoi(entry.path().filename().string());
    } catch (const std::exception&) {
      continue;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    int listening = 0;
    socklen_t len = sizeof listening;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || listening == 0) {
      continue;
    }
    int type = 0;
    len = sizeof type;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) continue;
    sockaddr_storage addr{};
    len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) continue;
    std::uint16_t bound = 0;
    if (addr.ss_family == AF_INET) {
      bound = ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
    } else if (addr.ss_family == AF_INET6) {
      bound = ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
    } else {
      continue;
    }
    const int on = 1;
    if (bound == port && ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) == 0) ++done;
  }
  return done;
}

}  // namespace

relp_server::relp_server(relp_listen_options options, std::unique_ptr<relp_input> input)
    : options_(std::move(options)), input_(std::move(input)) {
  const auto fail = [&](const std::string& what, relpRetVal code) {
    if (engine_ != nullptr) relpEngineDestruct(&engine_);
    throw std::runtime_error("input " + options_.name + ": " + what + " (librelp error " +
                             std::to_string(code) + ")");
  };
  relpRetVal r = relpEngineConstruct(&engine_);
  if (r != RELP_RET_OK) fail("cannot create the RELP engine", r);
  // Always set: a new engine's debug hook is null, and librelp calls it unconditionally.
  relpEngineSetDbgprint(engine_,
                        spdlog::should_log(spdlog::level::trace) ? on_relp_debug : nullptr);
  relpEngineSetDnsLookupMode(engine_, 0);  // peers by address: no DNS lookups on ingest
  relpEngineSetOnErr(engine_, on_relp_error);
  relpEngineSetOnGenericErr(engine_, on_relp_generic_error);
  relpEngineSetSyslogRcv2(engine_, on_relp_syslog);
  std::string syslog_command = "syslog";
  relpEngineSetEnableCmd(engine_, text(syslog_command), eRelpCmdState_Required);

  relpSrv_t* listener = nullptr;
  r = relpEngineListnerConstruct(engine_, &listener);
  if (r != RELP_RET_OK) fail("cannot create the RELP listener", r);
  std::string host = options_.host;
  std::string port = std::to_string(options_.port);
  relpSrvSetUsrPtr(listener, this);
  relpSrvSetLstnAddr(listener, text(host));
  relpSrvSetLstnPort(listener, text(port));
  // A longer message is cut to max_message_bytes + 1 (the session goes on, memory stays
  // bounded), which the decoder then refuses as message_too_large.
  relpSrvSetMaxDataSize(listener, std::max(options_.max_message_bytes + 1, min_relp_frame_bytes));
  relpSrvSetOversizeMode(listener, RELP_OVERSIZE_TRUNCATE);
  relpSrvSetKeepAlive(listener, 1, 0, 0, 0);  // half-open peers: the system's keepalive times
  r = relpEngineListnerConstructFinalize(engine_, listener);
  if (r != RELP_RET_OK) {
    fail("cannot listen on " + options_.host + ":" + port + "/relp", r);
  }
  if (set_nodelay_on_listeners(options_.port) == 0) {
    spdlog::warn(
        "input {}: could not set TCP_NODELAY on the RELP listener; acknowledgements may "
        "be delayed by up to 40 ms per window",
        options_.name);
  }
}

relp_server::~relp_server() {
  stop();
  if (engine_ != nullptr) relpEngineDestruct(&engine_);
}

void relp_server::start() {
  install_wake_handler();
  thread_ = std::thread([this] {
    const std::string thread_name = ("relp " + options_.name).substr(0, 15);  // Linux's limit
    ::pthread_setname_np(::pthread_self(), thread_name.c_str());
    // stop() relies on the wake signal reaching this thread, whatever its creator blocked.
    sigset_t wake;
    sigemptyset(&wake);
    sigaddset(&wake, wake_signal);
    ::pthread_sigmask(SIG_UNBLOCK, &wake, nullptr);
    const relpRetVal r = relpEngineRun(engine_);
    if (r != RELP_RET_OK) {
      spdlog::error("input {}: the RELP engine stopped with librelp error {}", options_.name, r);
    }
    exited_.store(true, std::memory_order_release);
  });
}

void relp_server::stop() {
  if (stopping_.exchange(true)) return;
  if (!thread_.joinable()) return;
  relpEngineSetStop(engine_);
  // The engine checks the flag before and after epoll_wait(), which only a signal interrupts. A
  // signal that lands just before the wait is lost, so send it until the thread is out.
  while (!exited_.load(std::memory_order_acquire)) {
    ::pthread_kill(thread_.native_handle(), wake_signal);
    std::this_thread::sleep_for(stop_signal_every);
  }
  thread_.join();
  // Closes every session ("serverclose" hint) and the listener.
  relpEngineDestruct(&engine_);
  engine_ = nullptr;
}

void relp_server::wait_idle() { std::lock_guard lock(delivering_); }

void relp_server::on_message(const unsigned char* ip, const unsigned char* data, std::size_t size) {
  input_->received(size);
  const std::string_view peer = ip != nullptr ? reinterpret_cast<const char*>(ip) : "unknown";
  if (source_ != peer) source_.assign(peer);
  // Backpressure: RELP senders keep a window of unacknowledged messages, so waiting here
  // slows them down without losing anything. On stop the message is taken anyway: librelp may
  // still acknowledge it, and the outputs are flushed after the inputs stop.
  while (!input_->accepting() && !stopping_.load(std::memory_order_relaxed)) {
    std::this_thread::sleep_for(backpressure_poll);
  }
  std::lock_guard lock(delivering_);
  const std::string_view message(reinterpret_cast<const char*>(data), size);
  // A message that does not decode is counted and still acknowledged: sent again, it would fail
  // again, forever, and hold up everything behind it.
  bool decoded = false;
  try {
    decoded = input_->deliver(message, source_);
  } catch (const std::exception& e) {  // never through librelp's C frames
    spdlog::error("input {}: message not delivered: {}", options_.name, e.what());
  }
  if (!decoded) return;
  // While the disk is full this waits for space (the sender's window holds the rest). On stop
  // it gives up: librelp may still acknowledge, and what is held in the archive is written or
  // counted as lost at shutdown.
  while (!input_->wait_written(write_wait_slice)) {
    if (stopping_.load(std::memory_order_relaxed)) return;
  }
}

}  // namespace tocsin::collector
