#pragma once
// Polling for a condition with a deadline, instead of sleeping a fixed time.

#include <chrono>
#include <functional>

namespace tocsin::test {

using namespace std::chrono_literals;

// Calls `predicate` every 20 ms until it returns true or `timeout` has passed; returns its last
// result (it is always called at least once, and once more at the deadline).
bool wait_until(const std::function<bool()>& predicate, std::chrono::milliseconds timeout);

}  // namespace tocsin::test
