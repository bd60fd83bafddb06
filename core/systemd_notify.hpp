#pragma once
// The sd_notify(3) protocol for `Type=notify` units: readiness, reload and stop states, status
// text and the watchdog. Every call is a no-op when the process was not started by systemd
// (NOTIFY_SOCKET unset), so the daemon calls them unconditionally.

#include <chrono>
#include <string_view>

namespace tocsin::systemd {

// READY=1 with a STATUS= line, once inputs are bound and the daemon serves.
void notify_ready(std::string_view status);
// RELOADING=1 (+ MONOTONIC_USEC, which Type=notify-reload needs) before a reload starts; the
// daemon sends notify_ready() again when the reload is done, whatever its result.
void notify_reloading();
// STOPPING=1 when shutdown begins.
void notify_stopping();
// A STATUS= line alone (shown by `systemctl status`).
void notify_status(std::string_view status);
// WATCHDOG=1. Call every watchdog_interval().
void notify_watchdog();
// Half the WATCHDOG_USEC systemd set for this process, or zero when there is no watchdog.
std::chrono::microseconds watchdog_interval();

}  // namespace tocsin::systemd
