#include "rules/literal_prefilter.hpp"

#include <re2/filtered_re2.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <map>
#include <unordered_map>

namespace tocsin::rules {
namespace {

// Shorter literals (say "oom") would stop the prefilter from skipping much; a pattern with none
// longer always runs instead.
constexpr int min_atom_length = 4;
constexpr std::size_t long_key = 8;
constexpr std::size_t short_key = 4;
constexpr std::size_t gram = 4;

std::uint32_t load4(const char* p) {
  std::uint32_t v = 0;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::uint64_t load_key(const char* p, std::size_t length) {
  std::uint64_t v = 0;
  std::memcpy(&v, p, length);
  return v;
}

std::uint32_t gram_hash(std::uint32_t g) { return g * 0x9E3779B1U; }

std::size_t key_hash(std::uint64_t key) {
  return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ULL) >> 32);
}

// How often a byte shows up in log text, roughly (letters by English frequency, digits and the
// usual separators often). Keys are picked where this is low, so the text rarely hits them.
int commonness(unsigned char c) {
  static constexpr std::string_view by_frequency = "etaoinsrhldcumfpgwybvkxjqz";
  if (c == ' ' || (c >= '0' && c <= '9')) return 10;
  if (const auto at = by_frequency.find(static_cast<char>(c)); at != std::string_view::npos) {
    return 10 - static_cast<int>(at * 9 / by_frequency.size());
  }
  if (c == '.' || c == ':' || c == '/' || c == '=' || c == '-' || c == '_' || c == ',') return 7;
  return 1;
}

// Lower-cases ASCII letters 8 bytes at a time into `out`; true when every byte is ASCII.
bool lower_ascii(std::string_view text, char* out) {
  constexpr std::uint64_t high = 0x8080808080808080ULL;
  std::uint64_t seen = 0;
  std::size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, text.data() + i, 8);
    seen |= w;
    // High bit of each byte set where the (ASCII) byte is 'A'..'Z': >= 0x41 and not >= 0x5B.
    const std::uint64_t upper = (w + 0x3F3F3F3F3F3F3F3FULL) & ~(w + 0x2525252525252525ULL) & high;
    w |= upper >> 2;  // 0x20 on those bytes
    std::memcpy(out + i, &w, 8);
  }
  for (; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    seen |= c;
    out[i] = static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
  }
  return (seen & high) == 0;
}

}  // namespace

literal_prefilter::split literal_prefilter::analyse(const std::vector<std::string>& patterns,
                                                    const RE2::Options& options) {
  split result;
  result.filtered.assign(patterns.size(), false);
  re2::FilteredRE2 filter(min_atom_length);
  std::vector<std::size_t> pattern_of;  // FilteredRE2's id -> index into patterns
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    int id = 0;
    if (filter.Add(patterns[i], options, &id) == RE2::NoError) pattern_of.push_back(i);
  }
  if (pattern_of.empty()) return result;
  filter.Compile(&result.atoms);
  const auto too_short = [](const std::string& atom) { return atom.size() < short_key; };
  if (std::any_of(result.atoms.begin(), result.atoms.end(), too_short)) {
    result.atoms.clear();  // not expected from FilteredRE2; no key could find such an atom
    return result;
  }
  // With no atom found, only the patterns that need none may match.
  std::vector<int> need_none;
  filter.AllPotentials({}, &need_none);
  for (const std::size_t i : pattern_of) result.filtered[i] = true;
  for (const int id : need_none) result.filtered[pattern_of[static_cast<std::size_t>(id)]] = false;
  return result;
}

literal_prefilter::literal_prefilter(std::vector<std::string> atoms) : atoms_(std::move(atoms)) {
  // Each atom is found by one key: the window of its bytes least common in logs, and least
  // shared with other atoms' keys (a shared key makes every hit check them all).
  std::map<std::pair<std::uint64_t, std::size_t>, std::vector<candidate>> by_key;
  std::unordered_map<std::uint64_t, int> taken;
  bool all_long = true;
  for (std::size_t a = 0; a < atoms_.size(); ++a) {
    const std::string& atom = atoms_[a];
    const std::size_t length = atom.size() >= long_key ? long_key : short_key;
    all_long = all_long && length == long_key;
    std::size_t best = 0;
    int best_score = 0;
    for (std::size_t at = 0; at + length <= atom.size(); ++at) {
      int score = 0;
      for (std::size_t i = 0; i < length; ++i) {
        score += commonness(static_cast<unsigned char>(atom[at + i]));
      }
      score = score * static_cast<int>(long_key / length) + 2 * taken[load_key(&atom[at], length)];
      if (at == 0 || score < best_score) {
        best = at;
        best_score = score;
      }
    }
    const std::uint64_t key = load_key(&atom[best], length);
    ++taken[key];
    by_key[{key, length}].push_back(
        {static_cast<std::uint32_t>(a), static_cast<std::uint32_t>(best)});
  }

  // 8-byte keys have 5 grams of 4 bytes; looking at every 5th position finds one of them.
  stride_ = all_long ? long_key - gram + 1 : 1;
  const std::size_t grams = by_key.size() * stride_;
  // About one set byte in 16 or fewer, for few hits on text that holds no key.
  const std::size_t size = std::clamp<std::size_t>(std::bit_ceil(grams * 16), 4096, 1U << 20);
  grams_.assign(size, 0);
  gram_shift_ = 32 - static_cast<unsigned>(std::countr_zero(size));

  std::size_t long_count = 0;
  std::size_t short_count = 0;
  for (const auto& [key, found] : by_key) ++(key.second == long_key ? long_count : short_count);
  long_keys_.slots.resize(std::bit_ceil(long_count * 2 + 1));
  short_keys_.slots.resize(std::bit_ceil(short_count * 2 + 1));
  for (const auto& [key, found] : by_key) {
    const auto [value, length] = key;
    key_table& table = length == long_key ? long_keys_ : short_keys_;
    std::size_t slot = key_hash(value) & (table.slots.size() - 1);
    while (table.slots[slot].begin != table.slots[slot].end) {
      slot = (slot + 1) & (table.slots.size() - 1);
    }
    table.slots[slot] = {value, static_cast<std::uint32_t>(table.candidates.size()),
                         static_cast<std::uint32_t>(table.candidates.size() + found.size())};
    table.candidates.insert(table.candidates.end(), found.begin(), found.end());
    char bytes[long_key] = {};
    std::memcpy(bytes, &value, sizeof value);
    for (std::size_t offset = 0; offset < stride_; ++offset) {
      grams_[gram_hash(load4(bytes + offset)) >> gram_shift_] |=
          static_cast<std::uint8_t>(1U << offset);
    }
  }
}

const literal_prefilter::key_entry* literal_prefilter::key_table::find(std::uint64_t key) const {
  if (candidates.empty()) return nullptr;
  const std::size_t mask = slots.size() - 1;
  for (std::size_t slot = key_hash(key) & mask;; slot = (slot + 1) & mask) {
    const key_entry& entry = slots[slot];
    if (entry.begin == entry.end) return nullptr;
    if (entry.key == key) return &entry;
  }
}

bool literal_prefilter::atom_at(const key_table& table, std::uint64_t key, std::size_t at,
                                std::string_view lowered) const {
  const key_entry* entry = table.find(key);
  if (entry == nullptr) return false;
  for (std::uint32_t c = entry->begin; c < entry->end; ++c) {
    const candidate& cand = table.candidates[c];
    const std::string& atom = atoms_[cand.atom];
    if (at < cand.offset) continue;
    const std::size_t start = at - cand.offset;
    if (lowered.substr(start, atom.size()) == atom) return true;
  }
  return false;
}

bool literal_prefilter::key_at(std::size_t at, std::string_view lowered) const {
  const char* p = lowered.data() + at;
  if (at + long_key <= lowered.size() && atom_at(long_keys_, load_key(p, long_key), at, lowered)) {
    return true;
  }
  return atom_at(short_keys_, load_key(p, short_key), at, lowered);
}

bool literal_prefilter::may_match(std::string_view text, std::string& scratch) const {
  scratch.resize(text.size());
  if (!lower_ascii(text, scratch.data())) return true;
  const std::string_view lowered = scratch;
  for (std::size_t at = 0; at + gram <= lowered.size(); at += stride_) {
    const std::uint8_t offsets = grams_[gram_hash(load4(lowered.data() + at)) >> gram_shift_];
    if (offsets == 0) continue;
    for (std::size_t offset = 0; offset < stride_ && offset <= at; ++offset) {
      if ((offsets >> offset & 1U) != 0 && key_at(at - offset, lowered)) return true;
    }
  }
  return false;
}

}  // namespace tocsin::rules
