#pragma once
// Distinct values of a field over a sliding window, for `cardinality` rules; mergeable so that a
// router can combine the per-second partial states of a cluster's collectors.
//
// Semantics, precisely (tests/unit/rules/sliding_distinct_test.cpp pins each of them):
//
// Time. Seconds are Unix seconds. A sighting at second s counts at time `now` while
// s > now - window (window in whole seconds; a window below 1 is treated as 1). A sighting later
// than `now` (a node whose clock runs ahead) counts as inside. A value counts once, by its latest
// sighting; sightings may arrive in any order and an older one never hides a newer one.
// expire(now, window) forgets what can no longer count and remembers its cutoff (now - window):
// later add()s at or below the highest cutoff seen are ignored, since they are already outside.
//
// Exact mode (the start, and again whenever expire() has emptied the estimate): a table of
// value hash -> latest second. Values are told apart by their 64-bit value_hash(), so two values
// collide with probability ~n²/2⁶⁵ (negligible for n <= exact_limit). When a value not in the table
// arrives while exact_limit values are kept, every kept value moves into the estimate.
//
// Estimate mode: a sliding HyperLogLog (Chabchoub & Hébrail, "Sliding HyperLogLog", 2010): per
// register the "list of possible future maxima", (second, rank) pairs with seconds increasing and
// ranks strictly decreasing; a pair is dropped once a pair with a later-or-equal second and an
// equal-or-higher rank exists, because it can never again be the maximum of any window that the
// other is not also in. A register's value at `now` is the rank of its first pair with
// second > now - window; the count is the standard HLL estimate (Flajolet et al. 2007) with linear
// counting below 2.5 × registers. With 2^10 registers the standard error is 1.04/√1024 ≈ 3.25 %.
//
// Merging. add() and add_register() commute: feeding the partial states of several collectors in
// any order gives the same state as one collector seeing all the sightings, except that a mix of
// add() and add_register() is always an estimate (add_register() switches to it).
//
// Memory per group (x86-64, libstdc++; memory_bytes() reports it for one object). Empty:
// sizeof(sliding_distinct), 128 bytes. Exact mode: ~40 bytes per kept value (a 24-byte hash-table
// node with its allocator header, and a bucket pointer): 41 KB measured at 1000 values. Estimate
// mode: an 8-byte slot per register (8 KB, allocated on switching) and one arena of 8-byte pairs
// (second << 8 | rank); a register holds ~1 + log2(n / 1024) / 2 pairs for n values in its
// window (~4 at 100 000), and the arena's room stays within ~1.5-2 × the pairs kept. Measured:
// 17 KB for ~1000 values, 37 KB for 10 000, 46 KB for ~40 000, 52 KB for 100 000.
//
// Costs. Exact mode: add O(1) amortised (hash table). expire() is O(1) while nothing can have
// fallen out (it keeps a lower bound of the oldest kept second) and otherwise one O(n) pass over
// the n <= exact_limit kept values, which also makes the bound exact again: at most one pass per
// second of advancing time. count() is O(1) when it follows an expire() with the same or a later
// cutoff (the engine's order: expire, add, count); otherwise it walks the n kept values.
// Estimate mode: add O(pairs in the register) (a handful; < 8 in every test) amortised: a
// register that outgrows its room moves to the end of the arena, and the arena is rebuilt
// without holes, O(registers + pairs), when its room runs out. count() O(registers + pairs).
// expire() O(1) while nothing can have fallen out, else O(registers + pairs); it rebuilds the
// arena smaller when it holds more than twice the pairs kept.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tocsin::rules {

// A stable 64-bit hash of a value, the same on every node and version: it is part of the cluster
// record format. FNV-1a 64 over the bytes (offset basis 0xcbf29ce484222325, prime 0x100000001b3),
// then the splitmix64 finaliser (z ^= z >> 30; z *= 0xbf58476d1ce4e5b9; z ^= z >> 27;
// z *= 0x94d049bb133111eb; z ^= z >> 31) so every output bit depends on every input byte.
std::uint64_t value_hash(std::string_view value);

// Distinct values seen in a sliding window: exact (by 64-bit hash) up to exact_limit values, then
// a sliding HyperLogLog with 2^precision registers. Mergeable: add() / add_register() in any order.
class sliding_distinct {
 public:
  static constexpr std::size_t exact_limit = 1000;
  static constexpr int precision = 10;  // 1024 registers, ~3.25 % standard error
  static constexpr std::uint32_t registers = 1U << precision;
  // The highest rank: 1 + the 64 - precision bits of the hash that follow the register's.
  static constexpr std::uint8_t max_rank = 64 - precision + 1;

  // The register (the hash's top `precision` bits) and rank (1 + leading zeros of the remaining
  // bits, max_rank when they are all zero) a hash lands in.
  static std::pair<std::uint32_t, std::uint8_t> register_of(std::uint64_t hash);

  void add(std::uint64_t hash, std::int64_t second);
  // A collector's register state: switches to the estimate. A register >= `registers` or a rank
  // of 0 is ignored; a rank above max_rank counts as max_rank.
  void add_register(std::uint32_t reg, std::uint8_t rank, std::int64_t second);
  // Distinct values whose latest sighting is after now - window. Exact while exact().
  [[nodiscard]] std::uint64_t count(std::int64_t now, std::int64_t window) const;
  // Forgets what can no longer count at `now` (or later); back to exact mode when that empties
  // the estimate.
  void expire(std::int64_t now, std::int64_t window);
  [[nodiscard]] bool empty() const;
  [[nodiscard]] bool exact() const { return slots_.empty(); }
  // The heap and object bytes this window holds (an estimate of the allocator's view).
  [[nodiscard]] std::size_t memory_bytes() const;

 private:
  static constexpr std::int64_t no_cutoff = std::numeric_limits<std::int64_t>::min();
  static constexpr std::int64_t no_oldest = std::numeric_limits<std::int64_t>::max();

  // A register's pairs: arena_[offset, offset + length), with room up to offset + capacity.
  struct register_slot {
    std::uint32_t offset = 0;
    std::uint8_t length = 0;
    std::uint8_t capacity = 0;
  };

  void to_estimate();
  void add_pair(std::uint32_t reg, std::uint8_t rank, std::int64_t second);
  void grow(register_slot& slot);
  // Rebuilds arena_ without holes, each register's capacity its length, with room for `extra`
  // more slots plus half again the pairs kept.
  void compact(std::size_t extra);

  // Exact mode: hash -> latest second.
  std::unordered_map<std::uint64_t, std::int64_t> latest_;
  // Estimate mode: `registers` slots into one arena of pairs, each (second << 8) | rank, oldest
  // first. Both empty (no slots at all) in exact mode. One arena rather than a vector per
  // register saves the 24-byte header and the allocator's block per register: registers hold
  // only ~4 pairs each.
  std::vector<register_slot> slots_;
  std::vector<std::uint64_t> arena_;
  std::size_t pairs_ = 0;  // pairs kept over all registers
  // A lower bound of the oldest kept second (exact after an expire() pass); no_oldest when empty.
  std::int64_t oldest_ = no_oldest;
  // The highest cutoff (now - window) expire() has seen: sightings at or below it are ignored.
  std::int64_t cutoff_ = no_cutoff;
};

}  // namespace tocsin::rules
