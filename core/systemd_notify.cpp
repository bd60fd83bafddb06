#include "core/systemd_notify.hpp"

#include <systemd/sd-daemon.h>

#include <ctime>
#include <string>

namespace tocsin::systemd {

namespace {

// The protocol is one "KEY=VALUE" assignment per line, so a newline inside the status text
// would start a bogus assignment: flatten it.
std::string status_line(std::string_view status) {
  std::string line = "STATUS=";
  for (const char c : status) line += (c == '\n' || c == '\r') ? ' ' : c;
  return line;
}

// sd_notify() returns 0 when NOTIFY_SOCKET is unset and a negative errno when the manager cannot
// be reached; neither may disturb the daemon, so the result is deliberately ignored.
void send(const std::string& message) { (void)sd_notify(0, message.c_str()); }

}  // namespace

void notify_ready(std::string_view status) { send("READY=1\n" + status_line(status)); }

void notify_reloading() {
  // MONOTONIC_USEC lets the manager tell this reload apart from an older one (systemd ≥ 253
  // requires it for Type=notify-reload; older versions ignore it).
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const auto usec = static_cast<unsigned long long>(now.tv_sec) * 1'000'000ULL +
                    static_cast<unsigned long long>(now.tv_nsec) / 1'000ULL;
  send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

void notify_stopping() { send("STOPPING=1"); }

void notify_status(std::string_view status) { send(status_line(status)); }

void notify_watchdog() { send("WATCHDOG=1"); }

std::chrono::microseconds watchdog_interval() {
  // sd_watchdog_enabled() also checks WATCHDOG_PID, so a child that inherited the environment
  // does not ping on its parent's behalf.
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::chrono::microseconds{0};
  return std::chrono::microseconds{usec / 2};
}

}  // namespace tocsin::systemd
