// embedded_bus: order, the bound and its metrics, drain(deadline), a destructor that consumes
// what is queued. The consumer is held up by a gate the test opens, never by sleeping.

#include "bus/embedded_bus.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

namespace tocsin::bus {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// Holds the consumer up until the test opens it; records what it consumed.
class held_consumer {
 public:
  embedded_bus::consumer fn() {
    return [this](const rules::alert& a) {
      std::unique_lock lock(mutex_);
      ++arrived_;
      changed_.notify_all();
      changed_.wait(lock, [&] { return open_; });
      seen_.push_back(a.fingerprint);
    };
  }
  [[nodiscard]] bool wait_arrived() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 10s, [&] { return arrived_ > 0; });
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  [[nodiscard]] std::vector<std::string> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int arrived_ = 0;
  bool open_ = false;
  std::vector<std::string> seen_;
};

std::vector<rules::alert> alerts(std::vector<std::string> fingerprints) {
  std::vector<rules::alert> out;
  for (auto& f : fingerprints) {
    rules::alert a;
    a.fingerprint = std::move(f);
    out.push_back(std::move(a));
  }
  return out;
}

std::uint64_t queue_full(metrics_registry& m) {
  return m.get_counter("tocsin_bus_errors_total", "", {{"reason", "queue_full"}}).value();
}

TEST(embedded_bus, hands_alerts_to_the_consumer_in_order) {
  held_consumer consumer;
  consumer.open();
  metrics_registry metrics;
  embedded_bus bus(consumer.fn(), metrics);
  bus.publish(alerts({"a", "b", "c"}));
  EXPECT_TRUE(bus.drain(steady::time_point::max()));
  EXPECT_EQ(consumer.seen(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(metrics.get_counter("tocsin_bus_published_total", "").value(), 3u);
  EXPECT_EQ(queue_full(metrics), 0u);
}

TEST(embedded_bus, a_full_queue_drops_and_counts) {
  held_consumer consumer;
  metrics_registry metrics;
  embedded_bus bus(consumer.fn(), metrics, 2);
  bus.publish(alerts({"a"}));
  ASSERT_TRUE(consumer.wait_arrived());
  bus.publish(alerts({"b", "c", "d"}));
  EXPECT_EQ(queue_full(metrics), 1u);
  EXPECT_EQ(metrics.get_counter("tocsin_bus_published_total", "").value(), 3u);
  auto& depth = metrics.get_gauge("tocsin_queue_depth", "", {{"queue", "bus"}});
  EXPECT_EQ(depth.value(), 2);
  EXPECT_FALSE(bus.drain(steady::now()));

  consumer.open();
  EXPECT_TRUE(bus.drain(steady::time_point::max()));
  EXPECT_EQ(consumer.seen(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(depth.value(), 0);
}

TEST(embedded_bus, the_destructor_consumes_what_is_queued) {
  held_consumer consumer;
  metrics_registry metrics;
  {
    embedded_bus bus(consumer.fn(), metrics);
    bus.publish(alerts({"a", "b", "c"}));
    ASSERT_TRUE(consumer.wait_arrived());
    consumer.open();
  }
  EXPECT_EQ(consumer.seen(), (std::vector<std::string>{"a", "b", "c"}));
}

}  // namespace
}  // namespace tocsin::bus
