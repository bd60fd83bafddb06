#include "collector/source_limiter.hpp"

#include <algorithm>
#include <utility>

namespace tocsin::collector {

namespace {
// How far from the least recently seen end a full stripe looks for a source it may forget
// (one with no open connection); bounded so making room stays O(1) under a flood of new sources.
constexpr int eviction_search = 16;
}  // namespace

source_limiter::source_limiter(source_limits limits, std::function<clock::time_point()> now)
    : limits_(limits),
      now_(std::move(now)),
      per_stripe_cap_(std::max<std::size_t>(1, limits.max_sources / stripe_count)),
      stripes_(std::make_unique<stripe[]>(stripe_count)) {
  if (limits_.rate < 0) limits_.rate = 0;
  if (limits_.rate > 0) limits_.burst = std::max(1.0, limits_.burst);
}

source_limiter::~source_limiter() = default;

source_limiter::stripe& source_limiter::stripe_for(const key& k) {
  return stripes_[key_hash{}(k) % stripe_count];
}

void source_limiter::refill(entry& e, clock::time_point now) const {
  if (now > e.refilled) {
    const double seconds = std::chrono::duration<double>(now - e.refilled).count();
    e.tokens = std::min(limits_.burst, e.tokens + seconds * limits_.rate);
    e.refilled = now;
  }
}

bool source_limiter::is_idle(const entry& e, clock::time_point now) const {
  if (e.connections > 0) return false;
  if (limits_.rate <= 0) return true;
  const double seconds =
      now > e.refilled ? std::chrono::duration<double>(now - e.refilled).count() : 0.0;
  return e.tokens + seconds * limits_.rate >= limits_.burst;
}

source_limiter::entry& source_limiter::touch(stripe& s, const key& k, clock::time_point now) {
  // Forget up to two idle sources at the least recently seen end: more than one per call, so
  // the map shrinks back to the sources that are really being limited (forgetting the one about
  // to be looked up is harmless: it comes back as it was, with a full bucket).
  for (int i = 0; i < 2 && !s.recent.empty() && is_idle(s.recent.back(), now); ++i) {
    s.index.erase(s.recent.back().source);
    s.recent.pop_back();
  }
  if (const auto it = s.index.find(k); it != s.index.end()) {
    s.recent.splice(s.recent.begin(), s.recent, it->second);
    refill(*it->second, now);
    return *it->second;
  }
  if (s.index.size() >= per_stripe_cap_) {
    // Full: forget an old source without connections. Its bucket restarts full, which a real
    // sender that is still over its rate notices only once (it is seen again and again, so it
    // stays near the front). Sources with connections are bounded by max_connections anyway.
    auto victim = s.recent.end();
    int looked = 0;
    for (auto it = s.recent.rbegin(); it != s.recent.rend() && looked < eviction_search;
         ++it, ++looked) {
      if (it->connections == 0) {
        victim = std::prev(it.base());
        break;
      }
    }
    if (victim != s.recent.end()) {
      s.index.erase(victim->source);
      s.recent.erase(victim);
    }
  }
  s.recent.push_front(entry{k, limits_.burst, now, 0});
  s.index.emplace(k, s.recent.begin());
  return s.recent.front();
}

bool source_limiter::try_take(const address& source) {
  if (!limits_rate()) return true;
  const key k = source_key_of(source);
  stripe& s = stripe_for(k);
  const auto now = now_();
  std::lock_guard lock(s.mutex);
  entry& e = touch(s, k, now);
  if (e.tokens < 1.0) return false;
  e.tokens -= 1.0;
  return true;
}

source_limiter::clock::duration source_limiter::take(const address& source, std::size_t messages) {
  if (!limits_rate() || messages == 0) return clock::duration::zero();
  const key k = source_key_of(source);
  stripe& s = stripe_for(k);
  const auto now = now_();
  std::lock_guard lock(s.mutex);
  entry& e = touch(s, k, now);
  e.tokens -= static_cast<double>(messages);
  if (e.tokens >= 0) return clock::duration::zero();
  return std::chrono::ceil<clock::duration>(
      std::chrono::duration<double>(-e.tokens / limits_.rate));
}

std::optional<source_limiter::connection_slot> source_limiter::open_connection(
    const address& source) {
  if (!limits_connections()) return connection_slot{};
  const key k = source_key_of(source);
  stripe& s = stripe_for(k);
  const auto now = now_();
  std::lock_guard lock(s.mutex);
  entry& e = touch(s, k, now);
  if (e.connections >= limits_.max_connections) return std::nullopt;
  ++e.connections;
  return connection_slot(this, source);
}

void source_limiter::close_connection(const address& source) {
  const key k = source_key_of(source);
  stripe& s = stripe_for(k);
  std::lock_guard lock(s.mutex);
  const auto it = s.index.find(k);
  if (it == s.index.end()) return;  // cannot happen: an entry with connections is never evicted
  entry& e = *it->second;
  if (e.connections > 0) --e.connections;
  if (is_idle(e, now_())) {
    s.recent.erase(it->second);
    s.index.erase(it);
  }
}

std::size_t source_limiter::tracked_sources() const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < stripe_count; ++i) {
    std::lock_guard lock(stripes_[i].mutex);
    n += stripes_[i].index.size();
  }
  return n;
}

source_limiter::connection_slot::connection_slot(connection_slot&& o) noexcept
    : limiter_(std::exchange(o.limiter_, nullptr)), source_(std::move(o.source_)) {}

source_limiter::connection_slot& source_limiter::connection_slot::operator=(
    connection_slot&& o) noexcept {
  if (this != &o) {
    if (limiter_ != nullptr) limiter_->close_connection(source_);
    limiter_ = std::exchange(o.limiter_, nullptr);
    source_ = o.source_;
  }
  return *this;
}

source_limiter::connection_slot::~connection_slot() {
  if (limiter_ != nullptr) limiter_->close_connection(source_);
}

}  // namespace tocsin::collector
