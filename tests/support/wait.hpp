#pragma once
// Time in tests: polling for a condition with a deadline (instead of sleeping a fixed time), and
// the current time as a log line would carry it.

#include <chrono>
#include <functional>
#include <string>

namespace tocsin::test {

using namespace std::chrono_literals;

// Calls `predicate` every 20 ms until it returns true or `timeout` has passed; returns its last
// result (it is always called at least once, and once more at the deadline).
bool wait_until(const std::function<bool()>& predicate, std::chrono::milliseconds timeout);

// Now as RFC 3339 UTC with milliseconds ("2026-11-26T10:00:00.123Z"): lines for daemons whose
// rules run on wall-clock time.
std::string now_rfc3339();

}  // namespace tocsin::test
