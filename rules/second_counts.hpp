#pragma once
// Matches per Unix second over a sliding window of whole seconds, with the window's total and,
// when asked for, the total of the window before it (spike rules compare the two). A second `s`
// is in the current window at `now` while s > now - window, in the previous one while
// s > now - 2 × window. Seconds may arrive out of order (a router merging collectors' hits):
// each is added to its own second while it is still kept.

#include <cstdint>
#include <deque>
#include <utility>

namespace tocsin::rules {

class second_counts {
 public:
  // `windows_kept`: 1, or 2 to keep the previous window's total too.
  second_counts(std::int64_t window, int windows_kept);

  // Moves `now` forward (never back); seconds leave the current window, then are dropped.
  void advance(std::int64_t now);
  // Adds n at `second`; ignored when the second is no longer kept. The first add sets `now`.
  void add(std::int64_t second, std::uint64_t n);

  [[nodiscard]] std::uint64_t current() const { return current_; }
  [[nodiscard]] std::uint64_t previous() const { return previous_; }
  [[nodiscard]] bool empty() const { return seconds_.empty(); }

 private:
  std::int64_t window_;
  std::int64_t kept_;  // window × windows_kept
  std::int64_t now_ = INT64_MIN;
  std::deque<std::pair<std::int64_t, std::uint64_t>> seconds_;  // oldest first
  std::size_t boundary_ = 0;  // index of the first second of the current window
  std::uint64_t current_ = 0;
  std::uint64_t previous_ = 0;
};

}  // namespace tocsin::rules
