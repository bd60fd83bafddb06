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

  // Takes one descriptor's worth for a connection; false when the budget is spent (nothing
  // taken).
  [[nodiscard]] bool try_acquire() { return take(used_, capacity_); }
  void release() { used_.fetch_sub(1, std::memory_order_relaxed); }

  // The same for an archive file. Files may hold at most half of the budget, so spoofed host
  // names cannot take the descriptors a legitimate sender's connection needs.
  [[nodiscard]] bool try_acquire_file() {
    if (!take(files_, capacity_ / 2)) return false;
    if (take(used_, capacity_)) return true;
    files_.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  void release_file() {
    files_.fetch_sub(1, std::memory_order_relaxed);
    release();
  }

  [[nodiscard]] std::size_t capacity() const { return capacity_; }
  [[nodiscard]] std::size_t in_use() const { return used_.load(std::memory_order_relaxed); }

 private:
  static bool take(std::atomic<std::size_t>& used, std::size_t limit) {
    std::size_t now = used.load(std::memory_order_relaxed);
    do {
      if (now >= limit) return false;
    } while (!used.compare_exchange_weak(now, now + 1, std::memory_order_relaxed));
    return true;
  }

  const std::size_t capacity_;
  std::atomic<std::size_t> used_{0};   // connections and files
  std::atomic<std::size_t> files_{0};  // files alone
};

}  // namespace tocsin
