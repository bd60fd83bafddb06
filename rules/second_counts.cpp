#include "rules/second_counts.hpp"

#include <algorithm>

namespace tocsin::rules {

second_counts::second_counts(std::int64_t window, int windows_kept)
    : window_(std::max<std::int64_t>(window, 1)), kept_(window_ * std::max(windows_kept, 1)) {}

void second_counts::advance(std::int64_t now) {
  if (now <= now_) return;
  now_ = now;
  while (boundary_ < seconds_.size() && seconds_[boundary_].first <= now_ - window_) {
    current_ -= seconds_[boundary_].second;
    previous_ += seconds_[boundary_].second;
    ++boundary_;
  }
  while (!seconds_.empty() && seconds_.front().first <= now_ - kept_) {
    previous_ -= seconds_.front().second;
    seconds_.pop_front();
    --boundary_;  // the front was outside the current window, so boundary_ > 0
  }
}

void second_counts::add(std::int64_t second, std::uint64_t n) {
  // A second ahead of `now` (a collector whose clock runs ahead) counts in the current window
  // without moving `now`, which only advance() moves.
  if (now_ == INT64_MIN) now_ = second;
  if (second <= now_ - kept_ || n == 0) return;
  const auto at = std::lower_bound(seconds_.begin(), seconds_.end(), second,
                                   [](const auto& s, std::int64_t v) { return s.first < v; });
  const auto index = static_cast<std::size_t>(at - seconds_.begin());
  if (at == seconds_.end() || at->first != second) {
    seconds_.insert(at, {second, 0});
    if (index < boundary_ || (index == boundary_ && second <= now_ - window_)) ++boundary_;
  }
  seconds_[index].second += n;
  (second > now_ - window_ ? current_ : previous_) += n;
}

}  // namespace tocsin::rules
