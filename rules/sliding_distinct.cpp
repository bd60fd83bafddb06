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
  registers_.resize(registers);
  for (const auto& [hash, second] : latest_) {
    const auto [reg, rank] = register_of(hash);
    add_pair(reg, rank, second);
  }
  // Assigning a fresh table gives its buckets back; clear() would keep them.
  latest_ = {};
}

void sliding_distinct::add_pair(std::uint32_t reg, std::uint8_t rank, std::int64_t second) {
  auto& pairs = registers_[reg];
  // The first pair at or after `second`: it holds the highest rank of all the later ones.
  auto at = std::lower_bound(pairs.begin(), pairs.end(), second,
                             [](std::uint64_t p, std::int64_t s) { return second_of(p) < s; });
  if (at != pairs.end() && rank_of(*at) >= rank) return;  // never a maximum: `at` outranks it
  // The new pair replaces a pair at the same second (of a lower rank, as just seen) and the
  // earlier pairs it outranks, which are a run just before `at` since ranks decrease.
  auto end = at;
  if (end != pairs.end() && second_of(*end) == second) ++end;
  auto begin = std::find_if(pairs.begin(), at, [&](std::uint64_t p) { return rank_of(p) <= rank; });
  pairs_ -= static_cast<std::size_t>(end - begin);
  if (begin == end) {
    pairs.insert(begin, pack(second, rank));
  } else {
    *begin = pack(second, rank);
    pairs.erase(begin + 1, end);
  }
  ++pairs_;
  oldest_ = std::min(oldest_, second);
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
  for (const auto& pairs : registers_) {
    // Ranks decrease with seconds: the first pair inside the window holds the maximum.
    const auto it = std::find_if(pairs.begin(), pairs.end(),
                                 [&](std::uint64_t p) { return second_of(p) > cutoff; });
    const int rank = it == pairs.end() ? 0 : rank_of(*it);
    if (rank == 0) ++zeros;
    inverse_sum += std::ldexp(1.0, -rank);
  }
  constexpr double m = registers;
  constexpr double alpha = 0.7213 / (1 + 1.079 / m);
  double estimate = alpha * m * m / inverse_sum;
  // Linear counting for small cardinalities; a 64-bit hash needs no large-range correction.
  if (estimate <= 2.5 * m && zeros != 0) estimate = m * std::log(m / zeros);
  return static_cast<std::uint64_t>(std::llround(estimate));
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
  for (auto& pairs : registers_) {
    const auto keep = std::find_if(pairs.begin(), pairs.end(),
                                   [&](std::uint64_t p) { return second_of(p) > cutoff; });
    pairs_ -= static_cast<std::size_t>(keep - pairs.begin());
    pairs.erase(pairs.begin(), keep);
    if (pairs.empty()) {
      pairs.shrink_to_fit();
    } else {
      oldest_ = std::min(oldest_, second_of(pairs.front()));
    }
  }
  if (pairs_ == 0) registers_ = {};  // back to exact mode, memory given back
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
  bytes += registers_.capacity() * sizeof(std::vector<std::uint64_t>) + block_header;
  for (const auto& pairs : registers_) {
    if (pairs.capacity() != 0) {
      bytes += (pairs.capacity() * sizeof(std::uint64_t) + block_header + 15) / 16 * 16;
    }
  }
  return bytes;
}

}  // namespace tocsin::rules
