#pragma once
// A quick, conservative test run before a field's RE2::Set: does the text contain one of the
// literals ("atoms") that RE2's FilteredRE2 found the patterns need? Most log lines match no rule
// and contain none of them, and the set's DFA costs more per byte the more patterns it holds,
// while this costs about the same for one pattern as for ten thousand.

#include <re2/re2.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tocsin::rules {

class literal_prefilter {
 public:
  // Patterns whose every match contains one of `atoms`, and those that may match without any
  // (no literal of 4 bytes or more to require), which must always run.
  struct split {
    std::vector<std::string> atoms;  // lower case, 4 bytes or longer
    std::vector<bool> filtered;      // per pattern: a match always contains an atom
  };
  // Patterns must compile with `options` (the caller has checked them).
  static split analyse(const std::vector<std::string>& patterns, const RE2::Options& options);

  explicit literal_prefilter(std::vector<std::string> atoms);

  // False only when `text` is ASCII and holds none of the atoms, compared case-insensitively
  // (atoms are lower case, as FilteredRE2 makes them). Non-ASCII text always may match, since
  // Unicode case folding can turn it into an ASCII atom. `scratch` gets the lower-cased text.
  [[nodiscard]] bool may_match(std::string_view text, std::string& scratch) const;

 private:
  // Atoms found by a "key": 8 bytes of each atom of 8 or more, 4 bytes of each shorter one.
  struct key_entry {
    std::uint64_t key = 0;
    std::uint32_t begin = 0, end = 0;  // its candidates; begin == end: an empty slot
  };
  struct candidate {
    std::uint32_t atom = 0;
    std::uint32_t offset = 0;  // where the key starts in the atom
  };
  struct key_table {
    std::vector<key_entry> slots;  // open addressing, a power of two
    std::vector<candidate> candidates;
    [[nodiscard]] const key_entry* find(std::uint64_t key) const;
  };

  [[nodiscard]] bool atom_at(const key_table& table, std::uint64_t key, std::size_t at,
                             std::string_view lowered) const;
  [[nodiscard]] bool key_at(std::size_t at, std::string_view lowered) const;

  std::vector<std::string> atoms_;
  key_table long_keys_;   // 8-byte keys
  key_table short_keys_;  // 4-byte keys
  // By a hash of 4 bytes of text: a bit per offset (0..stride_-1) at which those 4 bytes start
  // some key. The scan looks at every stride_-th position only: any key of 8 bytes has one of
  // its first stride_ 4-byte grams there.
  std::vector<std::uint8_t> grams_;
  unsigned gram_shift_ = 32;
  std::size_t stride_ = 1;
};

}  // namespace tocsin::rules
