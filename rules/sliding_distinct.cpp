#include "rules/sliding_distinct.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace tocsin::rules {
namespace {

// Seconds are packed with the rank into one word: second << 8 | rank. Clamping keeps the shift
// inside the word; Unix seconds are far inside.
constexpr std::int64_t max_packed_second = (std::int64_t{1} << 55) - 1;

std::uint64_t pack(std::int64_t second, std::uint8_t rank) {
  second = std::clamp(second, -max_packed_second, max_packed_second);
  return (static_cast<std::uint64_t>(second) << 8U) | rank;
}
// C++20: >> of a negative value is an arithmetic shift.
std::int64_t second_of(std::uint64_t pair) { return static_cast<std::int64_t>(pair) >> 8; }
std::uint8_t rank_of(std::uint64_t pair) { return static_cast<std::uint8_t>(pair & 0xffU); }

// now - window without overflow, window at least 1.
std::int64_t cutoff_of(std::int64_t now, std::int64_t window) {
  window = std::max<std::int64_t>(window, 1);
  if (now < std::numeric_limits<std::int64_t>::min() + window) {
    return std::numeric_limits<std::int64_t>::min();
  }
  return now - window;
}

}  // namespace

std::uint64_t value_hash(std::string_view value) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : value) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  h ^= h >> 30U;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27U;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31U;
  return h;
}

std::pair<std::uint32_t, std::uint8_t> sliding_distinct::register_of(std::uint64_t hash) {
  const auto reg = static_cast<std::uint32_t>(hash >> (64U - precision));
  const std::uint64_t rest = hash << static_cast<unsigned>(precision);
  const int rank = rest == 0 ? max_rank : std::countl_zero(rest) + 1;
  return {reg, static_cast<std::uint8_t>(rank)};
}

void sliding_distinct::add(std::uint64_t hash, std::int64_t second) {
  if (second <= cutoff_) return;
  if (!exact()) {
    const auto [reg, rank] = register_of(hash);
    add_pair(reg, rank, second);
    return;
  }
  if (const auto it = latest_.find(hash); it != latest_.end()) {
    it->second = std::max(it->second, second);
    return;
  }
  if (latest_.size() >= exact_limit) {
    to_estimate();
    const auto [reg, rank] = register_of(hash);
    add_pair(reg, rank, second);
    return;
  }
  latest_.emplace(hash, second);
  oldest_ = std::min(oldest_, second);
}

void sliding_distinct::add_register(std::uint32_t reg, std::uint8_t rank, std::int64_t second) {
  if (reg >= registers || rank == 0 || second <= cutoff_) return;
  if (exact()) to_estimate();
  add_pair(reg, std::min(rank, max_rank), second);
}

void sliding_distinct::to_estimate() {
  slots_.resize(registers);
  // Most of the exact values land in registers of their own: room for about one pair each.
  arena_.reserve(latest_.size() + latest_.size() / 2 + 16);
  for (const auto& [hash, second] : latest_) {
    const auto [reg, rank] = register_of(hash);
    add_pair(reg, rank, second);
  }
  // Assigning a fresh table gives its buckets back; clear() would keep them.
  latest_ = {};
}

void sliding_distinct::add_pair(std::uint32_t reg, std::uint8_t rank, std::int64_t second) {
  register_slot& slot = slots_[reg];
  std::uint64_t* first = arena_.data() + slot.offset;
  std::uint64_t* last = first + slot.length;
  // The first pair at or after `second`: it holds the highest rank of all the later ones.
  std::uint64_t* at = std::lower_bound(
      first, last, second, [](std::uint64_t p, std::int64_t s) { return second_of(p) < s; });
  if (at != last && rank_of(*at) >= rank) return;  // never a maximum: `at` outranks it
  // The new pair replaces a pair at the same second (of a lower rank, as just seen) and the
  // earlier pairs it outranks, which are a run just before `at` since ranks decrease.
  std::uint64_t* end = at;
  if (end != last && second_of(*end) == second) ++end;
  std::uint64_t* begin =
      std::find_if(first, at, [&](std::uint64_t p) { return rank_of(p) <= rank; });
  oldest_ = std::min(oldest_, second);
  if (begin != end) {
    *begin = pack(second, rank);
    std::copy(end, last, begin + 1);
    const auto dropped = static_cast<std::uint8_t>(end - begin - 1);
    slot.length = static_cast<std::uint8_t>(slot.length - dropped);
    pairs_ -= dropped;
    return;
  }
  const auto index = static_cast<std::size_t>(begin - first);
  if (slot.length == slot.capacity) grow(slot);  // moves the pairs: `first` is stale
  first = arena_.data() + slot.offset;
  std::copy_backward(first + index, first + slot.length, first + slot.length + 1);
  first[index] = pack(second, rank);
  ++slot.length;
  ++pairs_;
}

void sliding_distinct::grow(register_slot& slot) {
  // A register never holds more than max_rank pairs (ranks strictly decrease), so 64 is enough.
  const std::size_t capacity = slot.capacity == 0 ? 2 : 2U * slot.capacity;
  // Within the arena's room the pairs move to its end, leaving a hole; past it, the arena is
  // rebuilt without holes rather than letting the vector double.
  if (arena_.size() + capacity > arena_.capacity()) compact(capacity);
  const auto offset = static_cast<std::uint32_t>(arena_.size());
  arena_.resize(arena_.size() + capacity);
  std::copy_n(arena_.begin() + slot.offset, slot.length, arena_.begin() + offset);
  slot.offset = offset;
  slot.capacity = static_cast<std::uint8_t>(capacity);
}

void sliding_distinct::compact(std::size_t extra) {
  std::vector<std::uint64_t> next;
  next.reserve(pairs_ + pairs_ / 2 + extra + 16);
  for (register_slot& slot : slots_) {
    const auto offset = static_cast<std::uint32_t>(next.size());
    next.insert(next.end(), arena_.begin() + slot.offset,
                arena_.begin() + slot.offset + slot.length);
    slot.offset = offset;
    slot.capacity = slot.length;
  }
  arena_ = std::move(next);
}

std::uint64_t sliding_distinct::count(std::int64_t now, std::int64_t window) const {
  const std::int64_t cutoff = cutoff_of(now, window);
  if (exact()) {
    if (cutoff < oldest_) return latest_.size();
    return static_cast<std::uint64_t>(std::count_if(
        latest_.begin(), latest_.end(), [&](const auto& kv) { return kv.second > cutoff; }));
  }
  double inverse_sum = 0;
  std::uint32_t zeros = 0;
  for (const register_slot& slot : slots_) {
    const std::uint64_t* first = arena_.data() + slot.offset;
    const std::uint64_t* last = first + slot.length;
    // Ranks decrease with seconds: the first pair inside the window holds the maximum.
    const auto* it =
        std::find_if(first, last, [&](std::uint64_t p) { return second_of(p) > cutoff; });
    const int rank = it == last ? 0 : rank_of(*it);
    if (rank == 0) ++zeros;
    inverse_sum += std::ldexp(1.0, -rank);
  }
  constexpr double m = registers;
  constexpr double alpha = 0.7213 / (1 + 1.079 / m);
  double estimate = alpha * m * m / inverse_sum;
  // Linear counting for small cardinalities; a 64-bit hash needs no large-range correction.
  if (estimate <= 2.5 * m && zeros != 0) estimate = m * std::log(m / zeros);
  // Hostile registers (every rank at its maximum) give estimates past what llround can hold.
  return static_cast<std::uint64_t>(std::llround(std::min(estimate, 1e18)));
}

void sliding_distinct::expire(std::int64_t now, std::int64_t window) {
  const std::int64_t cutoff = cutoff_of(now, window);
  cutoff_ = std::max(cutoff_, cutoff);
  if (cutoff < oldest_) return;
  oldest_ = no_oldest;
  if (exact()) {
    std::erase_if(latest_, [&](const auto& kv) { return kv.second <= cutoff; });
    if (latest_.empty()) {
      latest_ = {};
      return;
    }
    for (const auto& kv : latest_) oldest_ = std::min(oldest_, kv.second);
    return;
  }
  for (register_slot& slot : slots_) {
    std::uint64_t* first = arena_.data() + slot.offset;
    std::uint64_t* last = first + slot.length;
    std::uint64_t* keep =
        std::find_if(first, last, [&](std::uint64_t p) { return second_of(p) > cutoff; });
    if (keep == last) {
      pairs_ -= slot.length;
      slot.length = 0;
      continue;
    }
    oldest_ = std::min(oldest_, second_of(*keep));
    if (keep == first) continue;
    const auto dropped = static_cast<std::uint8_t>(keep - first);
    std::copy(keep, last, first);
    slot.length = static_cast<std::uint8_t>(slot.length - dropped);
    pairs_ -= dropped;
  }
  if (pairs_ == 0) {  // back to exact mode, memory given back
    slots_ = {};
    arena_ = {};
  } else if (arena_.capacity() > 2 * pairs_ + 64) {
    compact(0);
  }
}

bool sliding_distinct::empty() const { return exact() ? latest_.empty() : pairs_ == 0; }

std::size_t sliding_distinct::memory_bytes() const {
  // libstdc++: a hash node is next pointer + key + value (24 bytes, 32 with malloc's header);
  // every heap block costs ~8 bytes of header rounded up to 16.
  constexpr std::size_t block_header = 8;
  std::size_t bytes = sizeof(*this);
  if (exact()) {
    if (latest_.bucket_count() > 1) bytes += latest_.bucket_count() * sizeof(void*) + block_header;
    return bytes + latest_.size() * 32;
  }
  bytes += slots_.capacity() * sizeof(register_slot) + block_header;
  bytes += arena_.capacity() * sizeof(std::uint64_t) + block_header;
  return bytes;
}

}  // namespace tocsin::rules
