#pragma once
// The live tail hub: an event sink that hands the events matching each subscriber's filter to
// that subscriber as server-sent-event text, for the admin API's /api/v1/tail.
//
// The collector adds it to its outputs always. With no subscriber, consume() costs one relaxed
// atomic load. It never backpressures ingest (accepting() is always true): a subscriber gets at
// most `max_events_per_second` (a token bucket, one second of burst) and holds at most
// `max_buffered` events not yet taken; what is beyond either is dropped, counted, and announced
// to the subscriber by one `dropped` event on its next take().
//
// Metrics: tocsin_tail_subscribers (gauge), tocsin_tail_dropped_total (counter).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "collector/event_sink.hpp"
#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "rules/event_filter.hpp"

namespace tocsin::search {

struct tail_limits {
  double max_events_per_second = 50;
  std::size_t max_buffered = 500;  // events waiting for take()
};

namespace detail {
struct tail_hub;
}

// One subscriber's filter and buffer. Thread-safe: ingest shards fill it, the reader takes.
class tail_subscription {
 public:
  ~tail_subscription();  // close()
  tail_subscription(const tail_subscription&) = delete;
  tail_subscription& operator=(const tail_subscription&) = delete;

  // What is ready, and clears it: `event: line\ndata: <Event JSON>\n\n` per event, then, when
  // events were dropped since the last take(), `event: dropped\ndata: {"dropped":N}\n\n`.
  // "" when nothing is ready.
  std::string take();
  // Waits until take() has something or `timeout` passes (or close()); true when it has.
  bool wait(std::chrono::milliseconds timeout);
  // Unsubscribes: no more events arrive (what is buffered can still be taken). Idempotent.
  void close();
  [[nodiscard]] bool closed() const;

  // Called by the hub on an ingest thread.
  void offer(const collector::event& ev, std::string& json_cache);

  // Only the hub creates them (subscribe()); public for std::make_shared.
  struct token {
   private:
    friend struct detail::tail_hub;
    token() = default;
  };
  tail_subscription(token, std::shared_ptr<detail::tail_hub> hub, rules::event_filter filter,
                    tail_limits limits);

 private:
  const std::shared_ptr<detail::tail_hub> hub_;
  const rules::event_filter filter_;
  const tail_limits limits_;

  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::string buffer_;         // guarded by mutex_
  std::size_t buffered_ = 0;   // events in buffer_
  std::uint64_t dropped_ = 0;  // since the last take()
  double tokens_;              // the rate limit's bucket
  std::chrono::steady_clock::time_point refilled_;
  bool closed_ = false;
};

class live_tail final : public collector::event_sink {
 public:
  // `metrics` and `time` must outlive the hub and every subscription.
  explicit live_tail(metrics_registry& metrics, std::size_t max_subscribers = 16,
                     const tocsin::clock& time = real_clock());
  ~live_tail() override;
  live_tail(const live_tail&) = delete;
  live_tail& operator=(const live_tail&) = delete;

  [[nodiscard]] bool accepting() const override { return true; }
  void consume(const collector::event& ev) override;

  // A new subscriber, or nullptr when max_subscribers are subscribed already.
  std::shared_ptr<tail_subscription> subscribe(rules::event_filter filter, tail_limits limits = {});
  [[nodiscard]] std::size_t subscribers() const;

 private:
  std::shared_ptr<detail::tail_hub> hub_;
};

}  // namespace tocsin::search
