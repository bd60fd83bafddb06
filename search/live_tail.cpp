#include "search/live_tail.hpp"

#include <algorithm>
#include <shared_mutex>
#include <vector>

namespace tocsin::search {
namespace detail {

struct tail_hub {
  tail_hub(metrics_registry& metrics, std::size_t max, const tocsin::clock& t)
      : max_subscribers(max),
        time(t),
        subscribers_gauge(
            metrics.get_gauge("tocsin_tail_subscribers", "Live tail subscribers (/api/v1/tail).")),
        dropped(metrics.get_counter(
            "tocsin_tail_dropped_total",
            "Events live tail subscribers missed: beyond their rate or their buffer.")) {}

  // Read on every consume(); written under `mutex`.
  std::atomic<std::size_t> count{0};
  mutable std::shared_mutex mutex;
  std::vector<tail_subscription*> subscriptions;  // guarded by mutex
  const std::size_t max_subscribers;
  const tocsin::clock& time;
  gauge& subscribers_gauge;
  counter& dropped;

  std::shared_ptr<tail_subscription> subscribe(const std::shared_ptr<tail_hub>& self,
                                               rules::event_filter filter, tail_limits limits) {
    std::unique_lock lock(mutex);
    if (subscriptions.size() >= max_subscribers) return nullptr;
    auto s = std::make_shared<tail_subscription>(tail_subscription::token{}, self,
                                                 std::move(filter), limits);
    subscriptions.push_back(s.get());
    publish_count();
    return s;
  }

  void remove(const tail_subscription* s) {
    std::unique_lock lock(mutex);
    const auto it = std::find(subscriptions.begin(), subscriptions.end(), s);
    if (it == subscriptions.end()) return;
    subscriptions.erase(it);
    publish_count();
  }

  void publish_count() {
    count.store(subscriptions.size(), std::memory_order_relaxed);
    subscribers_gauge.set(static_cast<std::int64_t>(subscriptions.size()));
  }
};

}  // namespace detail

tail_subscription::tail_subscription(token /*unused*/, std::shared_ptr<detail::tail_hub> hub,
                                     rules::event_filter filter, tail_limits limits)
    : hub_(std::move(hub)),
      filter_(std::move(filter)),
      limits_(limits),
      tokens_(std::max(1.0, limits.max_events_per_second)),
      refilled_(hub_->time.steady_now()) {}

tail_subscription::~tail_subscription() { close(); }

void tail_subscription::close() {
  hub_->remove(this);
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  ready_.notify_all();
}

bool tail_subscription::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

void tail_subscription::offer(const collector::event& ev, std::string& json_cache) {
  if (!filter_.matches(ev)) return;
  const auto now = hub_->time.steady_now();
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    const double burst = std::max(1.0, limits_.max_events_per_second);
    const std::chrono::duration<double> elapsed = now - refilled_;
    tokens_ = std::min(burst, tokens_ + elapsed.count() * limits_.max_events_per_second);
    refilled_ = now;
    if (tokens_ < 1.0 || buffered_ >= limits_.max_buffered) {
      ++dropped_;
      hub_->dropped.inc();
      return;
    }
    tokens_ -= 1.0;
    if (json_cache.empty()) collector::append_event_json(ev, json_cache);
    buffer_ += "event: line\ndata: ";
    buffer_ += json_cache;
    buffer_ += "\n\n";
    ++buffered_;
  }
  ready_.notify_one();
}

std::string tail_subscription::take() {
  std::lock_guard lock(mutex_);
  std::string out = std::move(buffer_);
  buffer_.clear();
  buffered_ = 0;
  if (dropped_ > 0) {
    out += "event: dropped\ndata: {\"dropped\":" + std::to_string(dropped_) + "}\n\n";
    dropped_ = 0;
  }
  return out;
}

bool tail_subscription::wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return ready_.wait_for(lock, timeout, [&] { return buffered_ > 0 || dropped_ > 0 || closed_; }) &&
         (buffered_ > 0 || dropped_ > 0);
}

live_tail::live_tail(metrics_registry& metrics, std::size_t max_subscribers,
                     const tocsin::clock& time)
    : hub_(std::make_shared<detail::tail_hub>(metrics, max_subscribers, time)) {}

live_tail::~live_tail() = default;

void live_tail::consume(const collector::event& ev) {
  if (hub_->count.load(std::memory_order_relaxed) == 0) return;
  thread_local std::string json;
  json.clear();
  std::shared_lock lock(hub_->mutex);
  for (tail_subscription* s : hub_->subscriptions) s->offer(ev, json);
}

std::shared_ptr<tail_subscription> live_tail::subscribe(rules::event_filter filter,
                                                        tail_limits limits) {
  return hub_->subscribe(hub_, std::move(filter), limits);
}

std::size_t live_tail::subscribers() const { return hub_->count.load(std::memory_order_relaxed); }

}  // namespace tocsin::search
