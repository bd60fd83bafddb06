// Tests for rules/literal_prefilter.hpp: which literals a pattern requires, and that the scan
// never leaves out a pattern that matches (checked over every position and against RE2).

#include "rules/literal_prefilter.hpp"

#include <gtest/gtest.h>
#include <re2/re2.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace tocsin::rules {
namespace {

using verdict = literal_prefilter::verdict;

// The prefilter over single patterns' literals, as the matcher builds it.
literal_prefilter over(const std::vector<std::vector<std::string>>& literals) {
  return literal_prefilter(literals);
}

std::vector<std::uint32_t> found(const literal_prefilter& filter, const std::string& text) {
  std::string scratch;
  std::vector<std::uint32_t> candidates;
  const verdict v = filter.candidates(text, scratch, candidates);
  if (v == verdict::none) EXPECT_TRUE(candidates.empty());
  if (v == verdict::any) return {999};
  return candidates;
}

TEST(literal_prefilter, required_literals_of_four_bytes_or_more) {
  RE2::Options options;
  options.set_log_errors(false);
  using list = std::vector<std::string>;
  EXPECT_EQ(literal_prefilter::required_literals("disk (failed|error) unit=[0-9]+", options),
            (list{"disk error unit=", "disk failed unit="}));
  EXPECT_EQ(literal_prefilter::required_literals("(?i)Out Of Memory", options),
            list{"out of memory"});
  EXPECT_EQ(literal_prefilter::required_literals("^kernel: ", options), list{"kernel: "});
  // (a|b)…c: the long literals (12 bytes or more) alone find every match, so the short one is
  // dropped; not so when a branch is short.
  EXPECT_EQ(
      literal_prefilter::required_literals("(connection reset|pipe is broken).*errno", options),
      (list{"connection reset", "pipe is broken"}));
  EXPECT_EQ(literal_prefilter::required_literals("(connection reset|broken pipe).*errno", options),
            (list{"broken pipe", "connection reset", "errno"}));
  for (const char* none : {"[0-9]+", ".*", "oom", "timeout|oom", "a+b", "(unclosed"}) {
    EXPECT_TRUE(literal_prefilter::required_literals(none, options).empty()) << none;
  }
}

// A pattern whose one branch has only short literals keeps them, however many long branches it
// has. (RE2's filter tree cuts links from literals used in more than 9 places, so asking it
// whether the short ones alone can match said no here, and the match was missed.)
TEST(literal_prefilter, keeps_short_literals_a_branch_needs) {
  const char* phrases[] = {
      "failed password for",    "invalid user name",        "connection closed by",
      "authentication failure", "session opened for",       "maximum authentication",
      "received disconnect",    "reverse mapping checking", "did not receive identification"};
  std::string pattern;
  for (const char* phrase : phrases) {
    pattern += std::string("sshd.*") + phrase + "|pam_unix.*" + phrase + "|";
  }
  pattern += "sshd.*pam_unix";
  const std::string text = "sshd[12]: pam_unix(sshd:auth): check pass; user unknown";
  ASSERT_TRUE(RE2::PartialMatch(text, RE2(pattern)));
  const auto literals = literal_prefilter::required_literals(pattern, RE2::Options());
  ASSERT_FALSE(literals.empty());
  EXPECT_EQ(found(over({literals}), text), std::vector<std::uint32_t>{0});
}

TEST(literal_prefilter, names_the_patterns_whose_literals_it_sees_whatever_their_case) {
  const auto filter =
      over({{"disk failed unit="}, {"out of memory"}, {"panic"}, {"panic", "oops!"}});
  EXPECT_EQ(found(filter, "disk failed unit=3"), (std::vector<std::uint32_t>{0}));
  EXPECT_EQ(found(filter, "kernel: Out Of Memory: killed"), (std::vector<std::uint32_t>{1}));
  EXPECT_EQ(found(filter, "PANIC"), (std::vector<std::uint32_t>{2, 3}));
  EXPECT_EQ(found(filter, "oops! panic, out of memory"), (std::vector<std::uint32_t>{1, 2, 3}));
  EXPECT_TRUE(found(filter, "disk failed unit").empty());  // one byte short
  EXPECT_TRUE(found(filter, "pani").empty());
  EXPECT_TRUE(found(filter, "").empty());
  EXPECT_TRUE(found(filter, "GET /api/v1/items/5 status=200").empty());
}

TEST(literal_prefilter, non_ascii_text_or_many_candidates_mean_any) {
  // KELVIN SIGN folds to 'k' under (?i): an ASCII-only search would miss it.
  const auto filter = over({{"kelvin"}});
  EXPECT_EQ(found(filter,
                  "\xE2\x84\xAA"
                  "elvin"),
            std::vector<std::uint32_t>{999});
  std::vector<std::vector<std::string>> many(literal_prefilter::max_candidates + 1,
                                             std::vector<std::string>{"shared literal"});
  EXPECT_EQ(found(over(many), "a shared literal"), std::vector<std::uint32_t>{999});
  many.pop_back();
  EXPECT_EQ(found(over(many), "a shared literal").size(), literal_prefilter::max_candidates);
}

// Every literal at every position of texts of every length up to 40: with only long literals
// (the scan then looks at every 5th position), with a short one too (every position), and with
// literals whose chosen windows share a key but differ after it.
TEST(literal_prefilter, finds_literals_at_every_position) {
  const std::vector<std::vector<std::string>> sets = {
      {"abcdefgh", "0123456789xyz", "qwertyuiop[]"},
      {"abcdefgh", "0123456789xyz", "wxyz", "mnopq"},
      {"qqqqqqqqqqq1", "qqqqqqqqqqq2", "qqqqqqqqqqq3"},
  };
  for (const auto& literals : sets) {
    std::vector<std::vector<std::string>> per_pattern;
    for (const std::string& literal : literals) per_pattern.push_back({literal});
    const literal_prefilter filter(per_pattern);
    for (std::uint32_t k = 0; k < literals.size(); ++k) {
      const std::string& literal = literals[k];
      for (std::size_t length = literal.size(); length <= 40; ++length) {
        for (std::size_t at = 0; at + literal.size() <= length; ++at) {
          std::string text(length, '.');
          text.replace(at, literal.size(), literal);
          ASSERT_EQ(found(filter, text), std::vector<std::uint32_t>{k}) << text;
          text[at + literal.size() - 1] = '.';  // no longer the literal
          ASSERT_TRUE(found(filter, text).empty()) << text;
        }
      }
    }
  }
}

// Random patterns and texts from one small vocabulary, so many texts hold literals and many
// match: whenever a guarded pattern matches a text, it must be among the candidates (or the
// verdict any).
TEST(literal_prefilter, never_leaves_out_a_pattern_that_matches) {
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
  std::vector<std::vector<std::string>> literals;
  std::vector<std::size_t> pattern_of;  // guarded pattern k -> index into patterns
  std::vector<std::unique_ptr<RE2>> compiled;
  for (std::size_t p = 0; p < patterns.size(); ++p) {
    compiled.push_back(std::make_unique<RE2>(patterns[p]));
    auto required = literal_prefilter::required_literals(patterns[p], RE2::Options());
    if (required.empty()) continue;
    literals.push_back(std::move(required));
    pattern_of.push_back(p);
  }
  ASSERT_GT(literals.size(), 100U);
  const literal_prefilter filter(literals);

  std::size_t checked = 0;
  std::size_t none = 0;
  std::string scratch;
  std::vector<std::uint32_t> candidates;
  for (int t = 0; t < 3000; ++t) {
    const std::string text = phrase(pick(12));
    const verdict v = filter.candidates(text, scratch, candidates);
    none += v == verdict::none ? 1 : 0;
    if (v == verdict::any) continue;
    for (std::uint32_t k = 0; k < literals.size(); ++k) {
      if (!RE2::PartialMatch(text, *compiled[pattern_of[k]])) continue;
      ++checked;
      ASSERT_TRUE(std::binary_search(candidates.begin(), candidates.end(), k))
          << "pattern " << patterns[pattern_of[k]] << " matches " << text;
    }
  }
  // The random texts must exercise both answers.
  EXPECT_GT(checked, 1000U);
  EXPECT_GT(none, 100U);
}

}  // namespace
}  // namespace tocsin::rules
