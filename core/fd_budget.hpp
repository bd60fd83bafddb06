#pragma once
// The file descriptors that inputs (connections) and archive files may hold together. What is
// left of RLIMIT_NOFILE beyond it is a reserve for the admin API, receivers, Kafka and SQLite,
// so a flood of connections or of spoofed host names cannot take the descriptors an alert needs.

#include <atomic>
#include <cstddef>

namespace tocsin {

class fd_budget {
 public:
  explicit fd_budget(std::size_t capacity) : capacity_(capacity) {}

  // The budget for this process: RLIMIT_NOFILE's soft limit less a reserve of a quarter of it
  // (at least 32, at most 1024 descriptors).
  static std::size_t capacity_from_rlimit();

  // Takes one descriptor's worth; false when the budget is spent (nothing taken).
  [[nodiscard]] bool try_acquire() {
    std::size_t used = used_.load(std::memory_order_relaxed);
    do {
      if (used >= capacity_) return false;
    } while (!used_.compare_exchange_weak(used, used + 1, std::memory_order_relaxed));
    return true;
  }
  void release() { used_.fetch_sub(1, std::memory_order_relaxed); }

  [[nodiscard]] std::size_t capacity() const { return capacity_; }
  [[nodiscard]] std::size_t in_use() const { return used_.load(std::memory_order_relaxed); }

 private:
  const std::size_t capacity_;
  std::atomic<std::size_t> used_{0};
};

}  // namespace tocsin
