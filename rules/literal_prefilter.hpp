#pragma once
// A quick test run before a field's RE2::Set: which patterns could match this text at all? RE2's
// FilteredRE2 finds, for each pattern, literals one of which every match contains; most log lines
// match no rule and contain none of them. The set's DFA costs more per byte the more patterns it
// holds (and builds states for each new kind of line); this scan costs about the same for one
// pattern as for ten thousand, and leaves only the patterns whose literals it saw to run.

#include <re2/re2.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tocsin::rules {

class literal_prefilter {
 public:
  // Literals (lower case, 4 bytes or longer) one of which every match of `pattern` contains,
  // compared case-insensitively; empty when it has none to require (say "[0-9]+" or "oom"), or
  // does not compile with `options`.
  static std::vector<std::string> required_literals(const std::string& pattern,
                                                    const RE2::Options& options);

  // literals[k]: pattern k's required_literals(), none empty (so each 4 bytes or longer).
  explicit literal_prefilter(const std::vector<std::vector<std::string>>& literals);

  enum class verdict {
    none,  // no pattern can match the text
    some,  // only the patterns put in `candidates` can
    any,   // any may: non-ASCII text (Unicode case folding can turn it into an ASCII
           // literal), or more than max_candidates patterns
  };
  static constexpr std::size_t max_candidates = 32;

  // `candidates` gets the indexes (into `literals`) of the patterns with a literal in the text,
  // ascending, each once. `scratch` gets the lower-cased text.
  verdict candidates(std::string_view text, std::string& scratch,
                     std::vector<std::uint32_t>& candidates) const;

 private:
  // Each literal is found by one window of its bytes, gram_ + stride_ - 1 (at most 12) long: its
  // key. The window's stride_ grams (gram_ bytes at offsets 0..stride_-1) go into grams_, so
  // that looking at every stride_-th position of the text meets one of them.
  struct key_entry {
    std::uint64_t head = 0;            // the window's first 8 bytes
    std::uint32_t tail = 0;            // and the rest
    std::uint32_t begin = 0, end = 0;  // its windows; begin == end: an empty slot
  };
  struct window {
    std::uint32_t literal = 0;
    std::uint32_t offset = 0;  // where the key starts in the literal
  };
  // By a hash of gram_ bytes of text: a bit per offset at which those bytes are in a window,
  // and a tag from the rest of the hash of the one gram there (any_tag: several).
  struct gram_slot {
    std::uint8_t offsets = 0;
    std::uint8_t tag = 0;
  };
  static constexpr std::uint8_t any_tag = 0;

  [[nodiscard]] std::uint64_t load_gram(const char* p) const;
  [[nodiscard]] std::uint64_t load_padded_gram(const char* p) const;
  [[nodiscard]] static std::uint64_t gram_hash(std::uint64_t gram);
  [[nodiscard]] std::uint8_t tag_of(std::uint64_t hash) const;
  [[nodiscard]] static std::pair<std::uint64_t, std::uint32_t> key_of_literal(const char* p,
                                                                              std::size_t length);
  // The window starting at p (in the padded scratch), if it is a key.
  [[nodiscard]] const key_entry* find_key(const char* p) const;
  // Adds the patterns of every literal whose window starts at `at`.
  void literals_at(std::size_t at, std::string_view lowered,
                   std::vector<std::uint32_t>& candidates) const;

  std::vector<std::string> literals_;    // distinct
  std::vector<std::uint32_t> patterns_;  // of literal i: patterns_[first_[i]..first_[i+1])
  std::vector<std::uint32_t> first_pattern_;
  std::vector<key_entry> keys_;  // open addressing, a power of two
  std::vector<window> windows_;
  std::vector<gram_slot> grams_;
  unsigned gram_shift_ = 64;
  std::size_t gram_ = 8;  // 8, or 4 when a literal is shorter than 8
  std::uint64_t gram_mask_ = ~std::uint64_t{0};
  std::uint64_t head_mask_ = ~std::uint64_t{0};  // of a key's 8 + 4 bytes, those in the window
  std::uint32_t tail_mask_ = 0;
  std::size_t stride_ = 1;
};

}  // namespace tocsin::rules
