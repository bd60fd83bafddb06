#pragma once
// Fault injection for tests of error paths that no real cause reaches reliably (an fdatasync
// that fails, a write that fails on a disk that is not full). Product code names a site where an
// operation can fail:
//
//   if (fault_injection::fail("spool.fdatasync", EIO) || ::fdatasync(fd) != 0) { ... }
//
// A test arms the sites whose names start with a prefix and picks the n-th call among them to
// fail (Beast's trick: loop n = 0, 1, ... until fired() stays false, so every step of a
// multi-step operation fails once). Disarmed, which is always outside tests, fail() costs one
// relaxed atomic load.

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace tocsin::fault_injection {

namespace detail {
extern std::atomic<bool> armed;
bool count_call(std::string_view site, int error);
}  // namespace detail

// True, with errno set to `error` (0: errno left alone, for an operation that reports its
// failure otherwise), when this call of `site` is the one an armed test chose to fail: the
// caller then takes the path a real failure of the operation takes.
inline bool fail(std::string_view site, int error) {
  return detail::armed.load(std::memory_order_relaxed) && detail::count_call(site, error);
}

// Tests only: among calls of sites whose names start with `prefix`, counting from 0 from now on,
// call number `n` fails (once). Replaces an earlier arm().
void arm(std::string prefix, std::uint64_t n);
// Stops counting; fail() returns false everywhere again.
void disarm();
// Whether the armed failure has happened, and where ("" when it has not).
[[nodiscard]] bool fired();
[[nodiscard]] std::string fired_at();

// Arms for its lifetime, so an ASSERT that leaves the test early disarms too.
class scoped_fault {
 public:
  scoped_fault(std::string prefix, std::uint64_t n) { arm(std::move(prefix), n); }
  ~scoped_fault() { disarm(); }
  scoped_fault(const scoped_fault&) = delete;
  scoped_fault& operator=(const scoped_fault&) = delete;
};

}  // namespace tocsin::fault_injection
