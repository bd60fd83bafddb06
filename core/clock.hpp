#pragma once
// The one source of time for everything that decides by it (router groups, silences, receiver
// retries, rule windows), so tests drive time by hand instead of sleeping (Envoy's TimeSource).

#include <chrono>
#include <mutex>

namespace tocsin {

class clock {
 public:
  virtual ~clock() = default;
  // Wall time: what alerts, silences and notifications record and compare.
  [[nodiscard]] virtual std::chrono::system_clock::time_point now() const = 0;
  // Monotonic time: what timeouts, retries and back-off measure.
  [[nodiscard]] virtual std::chrono::steady_clock::time_point steady_now() const = 0;
};

// The real clock; the default everywhere outside tests.
clock& real_clock();

// A clock that moves only when told to; both faces advance together. Thread-safe.
class manual_clock final : public clock {
 public:
  // Starts at 2024-10-01T00:00:00Z unless told otherwise: a fixed, recent, unremarkable day.
  explicit manual_clock(std::chrono::system_clock::time_point start =
                            std::chrono::system_clock::time_point{std::chrono::seconds(1727740800)})
      : wall_(start) {}
  [[nodiscard]] std::chrono::system_clock::time_point now() const override {
    std::lock_guard lock(mutex_);
    return wall_;
  }
  [[nodiscard]] std::chrono::steady_clock::time_point steady_now() const override {
    std::lock_guard lock(mutex_);
    return steady_;
  }
  void advance(std::chrono::system_clock::duration by) {
    std::lock_guard lock(mutex_);
    wall_ += by;
    steady_ += std::chrono::duration_cast<std::chrono::steady_clock::duration>(by);
  }

 private:
  mutable std::mutex mutex_;
  std::chrono::system_clock::time_point wall_;
  std::chrono::steady_clock::time_point steady_{std::chrono::hours(1)};
};

}  // namespace tocsin
