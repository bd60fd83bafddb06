#pragma once
// The one worker primitive: a bounded queue of items drained by one thread (STYLE.md, "Async and
// threads"): the embedded bus, the receiver workers and the Kafka spool writer. Threads that are
// not item queues keep their own loop: the archive's writer (byte buffers per file, coalesced),
// the router's tick, librdkafka poll loops and the Asio/librelp event loops.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

#include "core/metrics.hpp"

namespace tocsin {

// Where a bounded_worker reports. The owner looks the metrics up, so each keeps its own names and
// labels (tocsin_queue_depth{queue=...}, its own drop counter).
struct worker_metrics {
  // Items waiting, not counting the one being handled. Moved by deltas, never set(), so a worker
  // and its replacement (a reload) may share one series.
  gauge& depth;
  // Items refused by try_push(): queue full, or the worker stopping.
  counter& dropped;
};

// A FIFO of at most `capacity` waiting items, handed one at a time, in order, to `handler` on the
// worker's own thread. try_push() never blocks; stop() finishes the item in progress and discards
// the ones still waiting (the owner decides whether to drain() first). The handler must not throw.
template <typename T>
class bounded_worker {
 public:
  using handler = std::function<void(T)>;
  using time_point = std::chrono::steady_clock::time_point;

  // Starts the thread: whatever `h` uses must be ready before this constructor runs (make the
  // worker its owner's last member, so it is also the first one destroyed).
  bounded_worker(std::size_t capacity, worker_metrics metrics, handler h)
      : capacity_(capacity), metrics_(metrics), handler_(std::move(h)) {
    thread_ = std::thread([this] { run(); });
  }
  ~bounded_worker() { stop(); }
  bounded_worker(const bounded_worker&) = delete;
  bounded_worker& operator=(const bounded_worker&) = delete;

  // Queues `item`; false (and counted as dropped) when the queue is full or the worker stopping.
  bool try_push(T item) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_ || queue_.size() >= capacity_) {
        metrics_.dropped.inc();
        return false;
      }
      queue_.push_back(std::move(item));
      metrics_.depth.add(1);
    }
    wake_.notify_one();
    return true;
  }

  // True once the queue is empty and no item is being handled; false at `deadline`.
  // time_point::max() waits as long as it takes.
  bool drain(time_point deadline) {
    std::unique_lock lock(mutex_);
    const auto idle = [&] { return queue_.empty() && !busy_; };
    if (deadline == time_point::max()) {
      idle_.wait(lock, idle);
      return true;
    }
    return idle_.wait_until(lock, deadline, idle);
  }

  // Discards the waiting items and tells the thread to end after the item in progress; returns
  // at once (finished() says when the thread is done). Idempotent.
  void request_stop() {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      stopping_ = true;
      metrics_.depth.add(-static_cast<std::int64_t>(queue_.size()));
      queue_.clear();
    }
    wake_.notify_all();
    idle_.notify_all();
  }

  // request_stop(), then waits for the item in progress. Idempotent.
  void stop() {
    request_stop();
    std::lock_guard lock(join_mutex_);
    if (thread_.joinable()) thread_.join();
  }

  [[nodiscard]] bool finished() const {
    std::lock_guard lock(mutex_);
    return finished_;
  }

  // For the handler: waits `d` (a retry's back-off) unless the worker is told to stop first;
  // false when stopping.
  bool wait_for(std::chrono::milliseconds d) {
    std::unique_lock lock(mutex_);
    return !wake_.wait_for(lock, d, [&] { return stopping_; });
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) break;
      T item = std::move(queue_.front());
      queue_.pop_front();
      metrics_.depth.add(-1);
      busy_ = true;
      lock.unlock();
      handler_(std::move(item));
      lock.lock();
      busy_ = false;
      if (queue_.empty()) idle_.notify_all();
    }
    finished_ = true;
    idle_.notify_all();
  }

  const std::size_t capacity_;
  worker_metrics metrics_;
  handler handler_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;  // the thread: an item, or stop (also ends wait_for)
  std::condition_variable idle_;  // drain(): the queue ran empty, or the thread ended
  std::deque<T> queue_;
  bool busy_ = false;  // the handler is running
  bool stopping_ = false;
  bool finished_ = false;  // run() has returned
  std::mutex join_mutex_;  // stop() from two threads joins once
  std::thread thread_;
};

}  // namespace tocsin
