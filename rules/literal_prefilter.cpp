#include "rules/literal_prefilter.hpp"

#include <re2/filtered_re2.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <map>

namespace tocsin::rules {
namespace {

// Shorter literals (say "oom") would stop the prefilter from skipping much; a pattern with none
// longer always runs instead.
constexpr std::size_t min_literal_length = 4;
// Windows of 8-byte grams looked at every 5th position: literals of 12 bytes or more.
constexpr std::size_t max_stride = 5;
constexpr std::size_t long_window = 8 + max_stride - 1;
// Bytes after the text in the scratch buffer: a window's key is read as 8 + 4 bytes from a
// position at most gram (>= 4) bytes before the text's end.
constexpr std::size_t padding = 8;

std::size_t key_hash(std::uint64_t head, std::uint32_t tail) {
  return static_cast<std::size_t>(((head ^ tail) * 0x9E3779B97F4A7C15ULL) >> 32);
}

std::uint64_t low_bytes(std::size_t n) {
  return n >= 8 ? ~std::uint64_t{0} : (1ULL << (8 * n)) - 1;
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

// FilteredRE2's literals for `pattern`, each at least `min_length` bytes; empty when it finds no
// set of them one of which every match contains. (A shorter literal counts as "anything" in
// FilteredRE2's formula: a branch with one matches without a literal.)
std::vector<std::string> literals_of(const std::string& pattern, const RE2::Options& options,
                                     std::size_t min_length) {
  re2::FilteredRE2 filter(static_cast<int>(min_length));
  int id = 0;
  if (filter.Add(pattern, options, &id) != RE2::NoError) return {};
  std::vector<std::string> literals;
  filter.Compile(&literals);
  std::vector<int> without_literals;
  filter.AllPotentials({}, &without_literals);  // passes when no literal is seen: needs none
  const auto shorter = [&](const std::string& literal) { return literal.size() < min_length; };
  if (!without_literals.empty() || literals.empty() ||
      std::any_of(literals.begin(), literals.end(), shorter)) {
    return {};
  }
  std::sort(literals.begin(), literals.end());
  return literals;
}

}  // namespace

std::vector<std::string> literal_prefilter::required_literals(const std::string& pattern,
                                                              const RE2::Options& options) {
  // Long literals let the scan look at every 5th position only; a pattern often has them
  // besides short ones, (connection reset|pipe is broken).*errno.
  auto literals = literals_of(pattern, options, long_window);
  if (literals.empty()) literals = literals_of(pattern, options, min_literal_length);
  return literals;
}

literal_prefilter::literal_prefilter(const std::vector<std::vector<std::string>>& literals) {
  // Distinct literals, each with the patterns that need it.
  std::map<std::string, std::vector<std::uint32_t>, std::less<>> by_literal;
  for (std::size_t k = 0; k < literals.size(); ++k) {
    for (const std::string& literal : literals[k]) {
      by_literal[literal].push_back(static_cast<std::uint32_t>(k));
    }
  }
  std::size_t shortest = long_window;  // callers pass literals of min_literal_length or more
  for (auto& [literal, patterns] : by_literal) {
    shortest = std::min(shortest, literal.size());
    first_pattern_.push_back(static_cast<std::uint32_t>(patterns_.size()));
    patterns_.insert(patterns_.end(), patterns.begin(), patterns.end());
    literals_.push_back(literal);
  }
  first_pattern_.push_back(static_cast<std::uint32_t>(patterns_.size()));
  gram_ = shortest >= 8 ? 8 : 4;
  gram_mask_ = gram_ == 8 ? ~std::uint64_t{0} : 0xFFFFFFFFU;
  shortest = std::max(shortest, min_literal_length);  // never a stride of 0
  stride_ = std::min<std::size_t>(shortest - gram_ + 1, max_stride);
  const std::size_t window_length = gram_ + stride_ - 1;

  // Each literal's window: its bytes least common in logs, and least shared with other
  // literals' (a shared key makes every hit check them all).
  head_mask_ = low_bytes(window_length);
  tail_mask_ = static_cast<std::uint32_t>(low_bytes(window_length > 8 ? window_length - 8 : 0));
  std::map<std::pair<std::uint64_t, std::uint32_t>, std::vector<window>> by_key;
  for (std::size_t i = 0; i < literals_.size(); ++i) {
    const std::string& literal = literals_[i];
    std::size_t best = 0;
    int best_score = 0;
    for (std::size_t at = 0; at + window_length <= literal.size(); ++at) {
      const auto found = by_key.find(key_of_literal(&literal[at], window_length));
      int score = found == by_key.end() ? 0 : 2 * static_cast<int>(found->second.size());
      for (std::size_t b = 0; b < window_length; ++b) {
        score += commonness(static_cast<unsigned char>(literal[at + b]));
      }
      if (at == 0 || score < best_score) {
        best = at;
        best_score = score;
      }
    }
    by_key[key_of_literal(&literal[best], window_length)].push_back(
        {static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(best)});
  }

  // About one used slot in 8; a slot's tag (8 more bits of the hash) rules out most other grams
  // that land there.
  const std::size_t size =
      std::clamp<std::size_t>(std::bit_ceil(by_key.size() * stride_ * 8), 4096, 1U << 20);
  grams_.assign(size, gram_slot{});
  gram_shift_ = 64 - static_cast<unsigned>(std::countr_zero(size));
  keys_.resize(std::bit_ceil(by_key.size() * 2 + 1));
  for (const auto& [key, windows] : by_key) {
    std::size_t slot = key_hash(key.first, key.second) & (keys_.size() - 1);
    while (keys_[slot].begin != keys_[slot].end) slot = (slot + 1) & (keys_.size() - 1);
    keys_[slot] = {key.first, key.second, static_cast<std::uint32_t>(windows_.size()),
                   static_cast<std::uint32_t>(windows_.size() + windows.size())};
    windows_.insert(windows_.end(), windows.begin(), windows.end());
    for (const window& w : windows) {
      const char* start = literals_[w.literal].data() + w.offset;
      for (std::size_t offset = 0; offset < stride_; ++offset) {
        const std::uint64_t hash = gram_hash(load_gram(start + offset));
        gram_slot& slot = grams_[hash >> gram_shift_];
        const std::uint8_t tag = tag_of(hash);
        slot.tag = slot.offsets == 0 || slot.tag == tag ? tag : any_tag;
        slot.offsets = static_cast<std::uint8_t>(slot.offsets | 1U << offset);
      }
    }
  }
}

std::uint64_t literal_prefilter::load_gram(const char* p) const {
  std::uint64_t v = 0;
  std::memcpy(&v, p, gram_);
  return v;
}

std::pair<std::uint64_t, std::uint32_t> literal_prefilter::key_of_literal(const char* p,
                                                                          std::size_t length) {
  char bytes[16] = {};
  std::memcpy(bytes, p, length);
  std::uint64_t head = 0;
  std::uint32_t tail = 0;
  std::memcpy(&head, bytes, sizeof head);
  std::memcpy(&tail, bytes + sizeof head, sizeof tail);
  return {head, tail};
}

// The same as load_gram, as one load, where 8 bytes may be read (the padded scratch).
std::uint64_t literal_prefilter::load_padded_gram(const char* p) const {
  static_assert(std::endian::native == std::endian::little, "gram masks take the first bytes");
  std::uint64_t v = 0;
  std::memcpy(&v, p, sizeof v);
  return v & gram_mask_;
}

std::uint64_t literal_prefilter::gram_hash(std::uint64_t gram) {
  return gram * 0x9E3779B97F4A7C15ULL;
}

// The 8 bits of the hash below the slot's, never any_tag.
std::uint8_t literal_prefilter::tag_of(std::uint64_t hash) const {
  const auto tag = static_cast<std::uint8_t>(hash >> (gram_shift_ - 8));
  return tag == any_tag ? 1 : tag;
}

const literal_prefilter::key_entry* literal_prefilter::find_key(const char* p) const {
  std::uint64_t head = 0;
  std::uint32_t tail = 0;
  std::memcpy(&head, p, sizeof head);
  std::memcpy(&tail, p + sizeof head, sizeof tail);
  head &= head_mask_;
  tail &= tail_mask_;
  const std::size_t mask = keys_.size() - 1;
  for (std::size_t slot = key_hash(head, tail) & mask;; slot = (slot + 1) & mask) {
    const key_entry& entry = keys_[slot];
    if (entry.begin == entry.end) return nullptr;
    if (entry.head == head && entry.tail == tail) return &entry;
  }
}

void literal_prefilter::literals_at(std::size_t at, std::string_view lowered,
                                    std::vector<std::uint32_t>& candidates) const {
  const key_entry* entry = find_key(lowered.data() + at);
  if (entry == nullptr) return;
  for (std::uint32_t w = entry->begin; w < entry->end; ++w) {
    const window& found = windows_[w];
    if (at < found.offset) continue;
    const std::string& literal = literals_[found.literal];
    if (lowered.substr(at - found.offset, literal.size()) != literal) continue;
    candidates.insert(candidates.end(), patterns_.begin() + first_pattern_[found.literal],
                      patterns_.begin() + first_pattern_[found.literal + 1]);
  }
}

literal_prefilter::verdict literal_prefilter::candidates(
    std::string_view text, std::string& scratch, std::vector<std::uint32_t>& candidates) const {
  candidates.clear();
  if (literals_.empty()) return verdict::none;
  scratch.resize(text.size() + padding);  // loads of 8 and 12 bytes near the end
  if (!lower_ascii(text, scratch.data())) return verdict::any;
  const std::string_view lowered(scratch.data(), text.size());
  for (std::size_t at = 0; at + gram_ <= lowered.size(); at += stride_) {
    const std::uint64_t hash = gram_hash(load_padded_gram(lowered.data() + at));
    const gram_slot slot = grams_[hash >> gram_shift_];
    if (slot.offsets == 0 || (slot.tag != any_tag && slot.tag != tag_of(hash))) continue;
    for (std::size_t offset = 0; offset < stride_ && offset <= at; ++offset) {
      if ((slot.offsets >> offset & 1U) != 0) literals_at(at - offset, lowered, candidates);
    }
    // A text full of literals: one pass of the set beats many patterns one by one.
    if (candidates.size() > 4 * max_candidates) return verdict::any;
  }
  if (candidates.empty()) return verdict::none;
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  return candidates.size() > max_candidates ? verdict::any : verdict::some;
}

}  // namespace tocsin::rules
