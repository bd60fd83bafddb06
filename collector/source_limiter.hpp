#pragma once
// Abuse limits per sender, shared by every shard of every input: a token bucket of messages per
// second (limits.per_source_rate, limits.burst) and a cap on open connections
// (limits.max_connections_per_source). One noisy or hostile host then cannot crowd out the rest.
// A sender is an IPv4 address or a native IPv6 /64 (see source_key.hpp).

#include <array>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "collector/source_key.hpp"

namespace tocsin::collector {

struct source_limits {
  double rate = 0;                   // messages per second per source; 0: no rate limit
  double burst = 0;                  // bucket size (raised to 1 when a rate is set)
  std::size_t max_connections = 0;   // open connections per source; 0: no cap
  std::size_t max_sources = 65'536;  // addresses tracked at once (memory bound)
};

// Thread-safe. The map of sources is split into stripes, each with its own lock, so shards
// rarely contend. Memory is bounded: a source whose bucket is full again and that has no open
// connection is forgotten (it is indistinguishable from a new one), and when max_sources are
// tracked the least recently seen source without connections makes room.
class source_limiter {
 public:
  using clock = std::chrono::steady_clock;
  using address = boost::asio::ip::address;

  // `now` is injected so tests need no sleeping.
  explicit source_limiter(source_limits limits,
                          std::function<clock::time_point()> now = clock::now);
  ~source_limiter();
  source_limiter(const source_limiter&) = delete;
  source_limiter& operator=(const source_limiter&) = delete;

  [[nodiscard]] bool limits_rate() const { return limits_.rate > 0; }
  [[nodiscard]] bool limits_connections() const { return limits_.max_connections > 0; }

  // Datagrams (cannot be paused): takes one token if there is one. False: drop the datagram.
  bool try_take(const address& source);

  // Streams (can be paused): takes `messages` tokens for messages already read, into debt if
  // need be, and returns how long the connection should stop reading to pay the debt back
  // (zero: go on). Nothing is dropped; the sender's own buffers fill and slow it down.
  clock::duration take(const address& source, std::size_t messages);

  // An open connection counted against its source; gives its place back when destroyed.
  class connection_slot {
   public:
    connection_slot() = default;  // counts nothing
    connection_slot(connection_slot&& o) noexcept;
    connection_slot& operator=(connection_slot&& o) noexcept;
    ~connection_slot();

   private:
    friend class source_limiter;
    connection_slot(source_limiter* limiter, const address& source)
        : limiter_(limiter), source_(source) {}
    source_limiter* limiter_ = nullptr;
    address source_;
  };

  // A slot for a new connection from `source`, or nullopt when the source already has
  // max_connections open. Without a cap the slot counts nothing.
  std::optional<connection_slot> open_connection(const address& source);

  // Sources currently tracked (tests, and a bound that must hold).
  [[nodiscard]] std::size_t tracked_sources() const;

 private:
  using key = source_key;
  using key_hash = source_key_hash;
  struct entry {
    key source;
    double tokens = 0;
    clock::time_point refilled;
    std::size_t connections = 0;
  };
  struct stripe {
    mutable std::mutex mutex;
    std::list<entry> recent;  // most recently seen first
    std::unordered_map<key, std::list<entry>::iterator, key_hash> index;
  };
  static constexpr std::size_t stripe_count = 16;

  stripe& stripe_for(const key& k);
  // The source's entry, refilled to `now`, moved to the front; created (with a full bucket)
  // when absent, making room first if the stripe is full.
  entry& touch(stripe& s, const key& k, clock::time_point now);
  void refill(entry& e, clock::time_point now) const;
  // True when forgetting `e` changes nothing: no connections and a full bucket.
  bool is_idle(const entry& e, clock::time_point now) const;
  void close_connection(const address& source);

  source_limits limits_;
  std::function<clock::time_point()> now_;
  std::size_t per_stripe_cap_;
  std::unique_ptr<stripe[]> stripes_;
};

// One stream connection's share of its source's bucket: each message read is counted, and
// before the next read the connection learns how long to pause. Without a limiter (or without
// a rate) it never pauses.
class stream_throttle {
 public:
  stream_throttle() = default;
  stream_throttle(source_limiter* limiter, const source_limiter::address& source)
      : limiter_(limiter != nullptr && limiter->limits_rate() ? limiter : nullptr),
        source_(source) {}

  void count(std::size_t messages = 1) { pending_ += messages; }

  // Takes the tokens of the messages counted since the last call; how long to pause reading.
  source_limiter::clock::duration pause_before_read() {
    if (limiter_ == nullptr || pending_ == 0) return source_limiter::clock::duration::zero();
    const std::size_t n = pending_;
    pending_ = 0;
    return limiter_->take(source_, n);
  }

 private:
  source_limiter* limiter_ = nullptr;
  source_limiter::address source_;
  std::size_t pending_ = 0;
};

}  // namespace tocsin::collector
