// Tests for rules/literal_prefilter.hpp: which patterns it can guard, and that it never says "no"
// to a text a guarded pattern matches (checked exhaustively over positions and against RE2).

#include "rules/literal_prefilter.hpp"

#include <gtest/gtest.h>
#include <re2/re2.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

namespace tocsin::rules {
namespace {

bool may_match(const literal_prefilter& filter, const std::string& text) {
  std::string scratch;
  return filter.may_match(text, scratch);
}

TEST(literal_prefilter, patterns_with_a_literal_of_four_bytes_are_guarded) {
  const std::vector<std::string> patterns = {
      "disk (failed|error) unit=[0-9]+",  // literals on both branches
      "(?i)out of memory",                // case-insensitive
      "[0-9]+",                           // no literal
      ".*",                               // matches everything
      "oom",                              // too short to be worth a key
      "timeout|oom",                      // one branch without a key
      "^kernel: ",                        // anchors do not matter
  };
  const auto split = literal_prefilter::analyse(patterns, RE2::Options());
  EXPECT_EQ(split.filtered, (std::vector<bool>{true, true, false, false, false, false, true}));
  for (const std::string& atom : split.atoms) {
    EXPECT_GE(atom.size(), 4U) << atom;
    for (const char c : atom) EXPECT_FALSE(c >= 'A' && c <= 'Z') << atom;
  }
}

TEST(literal_prefilter, finds_an_atom_anywhere_whatever_its_case) {
  const literal_prefilter filter({"disk failed unit=", "out of memory", "panic"});
  EXPECT_TRUE(may_match(filter, "disk failed unit=3"));
  EXPECT_TRUE(may_match(filter, "kernel: Out Of Memory: killed"));
  EXPECT_TRUE(may_match(filter, "PANIC"));
  EXPECT_TRUE(may_match(filter, "x panic"));
  EXPECT_FALSE(may_match(filter, "disk failed unit"));  // one byte short
  EXPECT_FALSE(may_match(filter, "pani"));
  EXPECT_FALSE(may_match(filter, ""));
  EXPECT_FALSE(may_match(filter, "GET /api/v1/items/5 status=200"));
}

TEST(literal_prefilter, non_ascii_text_always_may_match) {
  // KELVIN SIGN folds to 'k' under (?i): an ASCII-only search would miss it.
  const literal_prefilter filter({"kelvin"});
  EXPECT_TRUE(may_match(filter,
                        "\xE2\x84\xAA"
                        "elvin"));
  EXPECT_TRUE(may_match(filter, "caf\xC3\xA9"));
}

// Every atom at every position of texts of every length up to 40, with only long atoms (the scan
// then looks at every 5th position) and with a short one too (every position).
TEST(literal_prefilter, finds_atoms_at_every_position) {
  const std::vector<std::vector<std::string>> sets = {
      {"abcdefgh", "0123456789xyz", "qwertyuiop[]"},
      {"abcdefgh", "0123456789xyz", "wxyz", "mnopq"},
  };
  for (const auto& atoms : sets) {
    const literal_prefilter filter(atoms);
    for (const std::string& atom : atoms) {
      for (std::size_t length = atom.size(); length <= 40; ++length) {
        for (std::size_t at = 0; at + atom.size() <= length; ++at) {
          std::string text(length, '.');
          text.replace(at, atom.size(), atom);
          ASSERT_TRUE(may_match(filter, text)) << text;
          text[at + atom.size() - 1] = '.';  // no longer the atom
          ASSERT_FALSE(may_match(filter, text)) << text;
        }
      }
    }
  }
}

// Random patterns and texts from one small vocabulary, so many texts hold atoms and many match:
// whenever a guarded pattern matches a text, the prefilter must say it may.
TEST(literal_prefilter, never_says_no_to_a_text_a_guarded_pattern_matches) {
  std::mt19937 rng(20261204);
  const auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  const std::vector<std::string> words = {"alpha", "Beta",  "gamma", "unit=", "code=7;", "fail",
                                          "ERROR", "error", "-",     " ",     "x",       "42"};
  const auto phrase = [&](std::size_t count) {
    std::string out;
    for (std::size_t i = 0; i < count; ++i) out += words[pick(words.size())];
    return out;
  };
  std::vector<std::string> patterns;
  for (int i = 0; i < 300; ++i) {
    switch (pick(4)) {
      case 0:
        patterns.push_back(RE2::QuoteMeta(phrase(1 + pick(3))));
        break;
      case 1:
        patterns.push_back("(?i)" + RE2::QuoteMeta(phrase(1 + pick(2))));
        break;
      case 2:
        patterns.push_back("(" + RE2::QuoteMeta(phrase(1)) + "|" + RE2::QuoteMeta(phrase(2)) +
                           ") [0-9]+ " + RE2::QuoteMeta(phrase(1)));
        break;
      default:
        patterns.push_back(RE2::QuoteMeta(phrase(1)) + ".*" + RE2::QuoteMeta(phrase(1)) + "$");
    }
  }
  const auto split = literal_prefilter::analyse(patterns, RE2::Options());
  const literal_prefilter filter(split.atoms);
  std::vector<std::unique_ptr<RE2>> compiled;
  compiled.reserve(patterns.size());
  for (const std::string& p : patterns) compiled.push_back(std::make_unique<RE2>(p));

  std::size_t guarded_matches = 0;
  std::size_t skipped = 0;
  for (int t = 0; t < 3000; ++t) {
    const std::string text = phrase(pick(12));
    const bool may = may_match(filter, text);
    skipped += may ? 0 : 1;
    for (std::size_t p = 0; p < patterns.size(); ++p) {
      if (!split.filtered[p] || !RE2::PartialMatch(text, *compiled[p])) continue;
      ++guarded_matches;
      ASSERT_TRUE(may) << "pattern " << patterns[p] << " matches " << text;
    }
  }
  // The random texts must exercise both answers.
  EXPECT_GT(guarded_matches, 1000U);
  EXPECT_GT(skipped, 100U);
}

}  // namespace
}  // namespace tocsin::rules
