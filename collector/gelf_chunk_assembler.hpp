#pragma once
// Reassembly of chunked GELF UDP datagrams.

#include <bitset>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "collector/event.hpp"
#include "collector/source_key.hpp"

namespace tocsin::collector {

struct gelf_chunk_limits {
  // Cap on one reassembled (still compressed) message. The UDP input passes
  // limits.max_message_bytes (factor 1): the decoder caps the decompressed size at the same
  // value, and a message that is legal after decompression is never larger compressed
  // (incompressible data grows by a few bytes of zlib framing only). The default is the most
  // the protocol can carry: 128 chunks of 8192 bytes.
  std::size_t max_message_bytes = std::size_t{128} * 8192;
  // Incomplete messages kept at once; when full, the oldest is evicted (and counted).
  std::size_t max_pending_messages = 1000;
  // Bytes buffered over all incomplete messages; when full, messages are evicted to stay under
  // it. Raised to max_message_bytes if smaller, so one message can always complete.
  std::size_t max_pending_bytes = std::size_t{64} << 20;
  // Memory one source (source_key: an IPv4 address or an IPv6 /64) may hold in incomplete
  // messages, chunk bodies plus bookkeeping (limits.gelf_chunk_bytes_per_source). Chunks beyond
  // it are refused ("chunk_source_budget"). Raised so one largest message always fits.
  std::size_t max_pending_bytes_per_source = std::size_t{4} << 20;
  // GELF: "all chunks MUST arrive within 5 seconds", counted from the first chunk seen.
  std::chrono::steady_clock::duration timeout = std::chrono::seconds(5);
};

// What one datagram did. `payload` is the whole message (a non-chunked datagram as is, or the
// reassembled chunks) and stays valid until the next add() and while the datagram does.
// `timed_out` and `evicted` count incomplete messages dropped during this call; callers count
// them as errors "chunk_timeout" and "chunk_evicted" whatever `state` is.
struct chunk_result {
  enum state_t { complete, pending, rejected };
  state_t state = pending;
  std::string_view payload;
  decode_status error;  // set when state == rejected
  std::uint32_t timed_out = 0;
  std::uint32_t evicted = 0;
};

// Reassembles chunked GELF (magic 1e 0f, 8-byte message id, sequence number, sequence count,
// then data). At most 128 chunks; duplicates are ignored, order does not matter. A message
// whose chunks disagree on the count, or that outgrows max_message_bytes, is rejected once;
// its remaining chunks are swallowed until it would have timed out. Memory is bounded by
// max_pending_messages and max_pending_bytes. Time is passed in so tests need no sleeping.
//
// Fairness between senders: a message is known by its source and id (one sender cannot add
// chunks to, or kill, another's message), each source has a budget
// (max_pending_bytes_per_source), and when a global cap is reached the victim is the oldest
// message of the source holding the most messages (message cap) or the most memory (byte cap),
// not the oldest message overall. So a flood
// of first chunks from one sender evicts that sender's own messages, never another's.
// Not thread-safe: callers lock.
class gelf_chunk_assembler {
 public:
  using clock = std::chrono::steady_clock;

  static constexpr std::size_t header_bytes = 12;
  static constexpr unsigned max_chunks = 128;

  explicit gelf_chunk_assembler(gelf_chunk_limits limits = {});

  // True when the datagram starts with the chunked-GELF magic bytes.
  static bool is_chunk(std::string_view datagram);

  // Feeds one datagram received at `now` from `source` (expiring stale messages first).
  // Errors: "bad_chunk_header" (shorter than 12 bytes), "bad_chunk_count" (0 or > 128),
  // "bad_chunk_seq" (seq >= count), "chunk_count_mismatch", "message_too_large",
  // "chunk_source_budget" (the source is over max_pending_bytes_per_source).
  chunk_result add(std::string_view datagram, clock::time_point now, const source_key& source = {});

  // Drops messages whose first chunk is older than the timeout; returns how many incomplete
  // messages were dropped (count them as "chunk_timeout"). Call it from a timer as well, so
  // timeouts are counted when no traffic arrives.
  std::size_t expire(clock::time_point now);

  std::size_t pending_messages() const { return order_.size(); }
  // Chunk bodies buffered (what max_pending_bytes bounds).
  std::size_t pending_bytes() const { return pending_bytes_; }
  // Memory charged to `source` (what max_pending_bytes_per_source bounds); 0 when it has none.
  std::size_t pending_bytes_of(const source_key& source) const;
  std::size_t pending_sources() const { return sources_.size(); }

 private:
  struct span {
    std::uint32_t offset = 0;
    std::uint32_t size = 0;
  };
  struct message;
  using message_list = std::list<message>;
  // One sender's incomplete messages, oldest first, and the memory they are charged.
  struct source_state {
    std::size_t charge = 0;
    std::list<message_list::iterator> messages;
  };
  struct message {
    std::uint64_t id = 0;
    source_key source{};
    source_state* owner = nullptr;
    std::list<message_list::iterator>::iterator in_owner;
    std::size_t charged = 0;  // what this message adds to owner->charge
    clock::time_point first_seen;
    unsigned count = 0;
    unsigned received = 0;
    bool dead = false;        // rejected: later chunks are swallowed, expiry is not counted
    std::string data;         // chunk bodies in arrival order
    std::vector<span> spans;  // by sequence number, into `data`
    std::bitset<max_chunks> have;
  };
  struct message_key {
    source_key source;
    std::uint64_t id;
    bool operator==(const message_key&) const = default;
  };
  // Message ids are chosen by senders (or attackers): mix them before bucketing.
  struct key_hash {
    std::size_t operator()(const message_key& k) const noexcept;
  };

  // Memory a message holds: its chunk bodies and its bookkeeping.
  static std::size_t charge_of(const message& m);
  // Brings the owner's charge (and the by-weight order) up to date after `m` changed.
  void recharge(message& m);
  void kill(message& m);
  void erase(message_list::iterator it);
  // Which sources are heaviest: by memory (for the byte cap) or by messages (for the count cap).
  using weight_order = std::set<std::pair<std::size_t, source_state*>>;
  // Evicts the oldest message (other than `keep`) of the heaviest source in `order`; false when
  // there is none. Counts it in `r.evicted` unless it was already dead.
  bool evict_from_heaviest(const weight_order& order, message_list::iterator keep, chunk_result& r);

  gelf_chunk_limits limits_;
  message_list order_;  // oldest first
  std::unordered_map<message_key, message_list::iterator, key_hash> index_;
  std::unordered_map<source_key, source_state, source_key_hash> sources_;  // stable addresses
  weight_order by_weight_;  // (charge, source), lightest first
  weight_order by_count_;   // (messages, source), fewest first
  std::size_t pending_bytes_ = 0;
  std::string assembled_;
};

}  // namespace tocsin::collector
