#include "core/fault_injection.hpp"

#include <cerrno>
#include <mutex>

namespace tocsin::fault_injection {

namespace {

// Armed state; only tests touch it, so one mutex is plenty.
struct plan {
  std::mutex mutex;
  std::string prefix;
  std::uint64_t fail_at = 0;
  std::uint64_t calls = 0;
  std::string fired_at;
};

plan& the_plan() {
  static plan p;
  return p;
}

}  // namespace

namespace detail {

std::atomic<bool> armed{false};

bool count_call(std::string_view site, int error) {
  plan& p = the_plan();
  std::lock_guard lock(p.mutex);
  if (!armed.load(std::memory_order_relaxed) || !site.starts_with(p.prefix)) return false;
  if (!p.fired_at.empty() || p.calls++ != p.fail_at) return false;
  p.fired_at = site;
  if (error != 0) errno = error;
  return true;
}

}  // namespace detail

void arm(std::string prefix, std::uint64_t n) {
  plan& p = the_plan();
  std::lock_guard lock(p.mutex);
  p.prefix = std::move(prefix);
  p.fail_at = n;
  p.calls = 0;
  p.fired_at.clear();
  detail::armed.store(true, std::memory_order_relaxed);
}

void disarm() {
  plan& p = the_plan();
  std::lock_guard lock(p.mutex);
  detail::armed.store(false, std::memory_order_relaxed);
}

bool fired() { return !fired_at().empty(); }

std::string fired_at() {
  plan& p = the_plan();
  std::lock_guard lock(p.mutex);
  return p.fired_at;
}

}  // namespace tocsin::fault_injection
