// bounded_worker: order, the bound and its drop counter, the depth gauge, drain() at a deadline,
// stop() during a handler. The handler is held up by a gate the test opens, never by sleeping.

#include "core/bounded_worker.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

namespace tocsin {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// Holds handlers up until the test opens it, and tells the test how many have arrived.
class gate {
 public:
  void pass() {
    std::unique_lock lock(mutex_);
    ++arrived_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return open_; });
  }
  [[nodiscard]] bool wait_arrived(int n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 10s, [&] { return arrived_ >= n; });
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int arrived_ = 0;
  bool open_ = false;
};

// The items a handler saw, readable while the worker runs.
class item_log {
 public:
  void add(int v) {
    std::lock_guard lock(mutex_);
    items_.push_back(v);
  }
  [[nodiscard]] std::vector<int> items() const {
    std::lock_guard lock(mutex_);
    return items_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<int> items_;
};

struct test_metrics {
  gauge depth;
  counter dropped;
  [[nodiscard]] worker_metrics refs() { return {.depth = depth, .dropped = dropped}; }
};

constexpr auto forever = steady::time_point::max();

TEST(bounded_worker, handles_items_in_order) {
  test_metrics m;
  item_log seen;
  bounded_worker<int> worker(10, m.refs(), [&](int v) { seen.add(v); });
  for (int i = 1; i <= 5; ++i) EXPECT_TRUE(worker.try_push(i));
  EXPECT_TRUE(worker.drain(forever));
  EXPECT_EQ(seen.items(), (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_EQ(m.depth.value(), 0);
  EXPECT_EQ(m.dropped.value(), 0u);
}

TEST(bounded_worker, a_full_queue_drops_and_counts_without_blocking) {
  test_metrics m;
  gate held;
  item_log seen;
  bounded_worker<int> worker(2, m.refs(), [&](int v) {
    if (v == 1) held.pass();
    seen.add(v);
  });
  ASSERT_TRUE(worker.try_push(1));
  ASSERT_TRUE(held.wait_arrived(1));  // 1 is in progress: the capacity counts waiting items only
  EXPECT_EQ(m.depth.value(), 0);
  EXPECT_TRUE(worker.try_push(2));
  EXPECT_TRUE(worker.try_push(3));
  EXPECT_EQ(m.depth.value(), 2);
  EXPECT_FALSE(worker.try_push(4));
  EXPECT_FALSE(worker.try_push(5));
  EXPECT_EQ(m.dropped.value(), 2u);
  EXPECT_EQ(m.depth.value(), 2);

  held.open();
  EXPECT_TRUE(worker.drain(forever));
  EXPECT_EQ(seen.items(), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(m.depth.value(), 0);
}

TEST(bounded_worker, drain_is_false_at_the_deadline_while_an_item_is_in_progress) {
  test_metrics m;
  gate held;
  bounded_worker<int> worker(10, m.refs(), [&](int) { held.pass(); });
  EXPECT_TRUE(worker.drain(steady::now()));  // idle: true even with the deadline passed
  ASSERT_TRUE(worker.try_push(1));
  ASSERT_TRUE(held.wait_arrived(1));
  EXPECT_FALSE(worker.drain(steady::now()));  // empty queue, but 1 is in progress
  ASSERT_TRUE(worker.try_push(2));
  EXPECT_FALSE(worker.drain(steady::now() + 1ms));
  held.open();
  EXPECT_TRUE(worker.drain(forever));
}

TEST(bounded_worker, stop_during_a_handler_finishes_it_and_discards_the_rest) {
  test_metrics m;
  gate held;
  item_log seen;
  bounded_worker<int> worker(10, m.refs(), [&](int v) {
    held.pass();
    seen.add(v);
  });
  ASSERT_TRUE(worker.try_push(1));
  ASSERT_TRUE(held.wait_arrived(1));
  ASSERT_TRUE(worker.try_push(2));
  ASSERT_TRUE(worker.try_push(3));

  worker.request_stop();  // returns with 1 still in progress
  EXPECT_FALSE(worker.finished());
  EXPECT_EQ(m.depth.value(), 0);  // 2 and 3 discarded
  EXPECT_FALSE(worker.try_push(4));
  EXPECT_EQ(m.dropped.value(), 1u);
  worker.request_stop();  // idempotent

  held.open();
  worker.stop();  // waits for 1
  EXPECT_TRUE(worker.finished());
  EXPECT_EQ(seen.items(), (std::vector<int>{1}));
  EXPECT_TRUE(worker.drain(forever));
  worker.stop();  // idempotent
}

TEST(bounded_worker, wait_for_ends_early_when_stopped) {
  test_metrics m;
  gate held;
  std::vector<bool> waits;  // read after stop() joined the thread
  bounded_worker<int> worker(10, m.refs(), [&](int v) {
    if (v == 1) {
      waits.push_back(worker.wait_for(1ms));  // not stopping: waits it out
      return;
    }
    held.pass();
    waits.push_back(worker.wait_for(std::chrono::hours(1)));
  });
  ASSERT_TRUE(worker.try_push(1));
  ASSERT_TRUE(worker.try_push(2));
  ASSERT_TRUE(held.wait_arrived(1));
  held.open();
  worker.stop();  // whether before or during the hour's wait, it ends it
  EXPECT_EQ(waits, (std::vector<bool>{true, false}));
}

TEST(bounded_worker, workers_sharing_a_depth_gauge_move_it_by_their_own_items) {
  test_metrics m;
  gate held;
  bounded_worker<int> first(10, m.refs(), [&](int) { held.pass(); });
  bounded_worker<int> second(10, m.refs(), [&](int) { held.pass(); });
  ASSERT_TRUE(first.try_push(1));
  ASSERT_TRUE(second.try_push(1));
  ASSERT_TRUE(held.wait_arrived(2));
  ASSERT_TRUE(first.try_push(2));
  ASSERT_TRUE(first.try_push(3));
  ASSERT_TRUE(second.try_push(2));
  EXPECT_EQ(m.depth.value(), 3);
  first.request_stop();
  EXPECT_EQ(m.depth.value(), 1);  // the retired worker's items only
  held.open();
  EXPECT_TRUE(second.drain(forever));
  EXPECT_EQ(m.depth.value(), 0);
}

}  // namespace
}  // namespace tocsin
