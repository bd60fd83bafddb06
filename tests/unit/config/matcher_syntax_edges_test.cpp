// Alertmanager's UTF-8 matcher grammar at its edges: Go string escapes in quoted names and
// values, Unicode spaces, and go_quote() of what Go does not print as is.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/matcher_syntax.hpp"

namespace tocsin::config {
namespace {

// The value of the one matcher `"a b"=<quoted>` (a name with a space needs the UTF-8 grammar);
// "(refused: why)" when it does not parse.
std::string value_of(const std::string& quoted) {
  std::string problem;
  const auto ms = parse_matchers("{\"a b\"=" + quoted + "}", &problem);
  if (!ms) return "(refused: " + problem + ")";
  if (ms->size() != 1) return "(" + std::to_string(ms->size()) + " matchers)";
  EXPECT_EQ(ms->front().name, "a b");
  return ms->front().value;
}

TEST(matcher_utf8_grammar, go_escapes_in_quoted_values) {
  EXPECT_EQ(value_of(R"("\a\b\f\n\r\t\v")"), "\a\b\f\n\r\t\v");
  EXPECT_EQ(value_of(R"("\\\"")"), "\\\"");
  EXPECT_EQ(value_of(R"("\x41\x7a")"), "Az");
  EXPECT_EQ(value_of(R"("\101\060")"), "A0");
  EXPECT_EQ(value_of(R"("\u00e9\u00C9")"), "\xC3\xA9\xC3\x89");
  EXPECT_EQ(value_of(R"("\u20ac")"), "\xE2\x82\xAC");
  EXPECT_EQ(value_of(R"("\U0001F514")"), "\xF0\x9F\x94\x94");
  EXPECT_EQ(value_of(R"("\u0041")"), "A");
  EXPECT_EQ(value_of(R"("caf\u00e9 ok")"), "caf\xC3\xA9 ok");
}

TEST(matcher_utf8_grammar, refuses_broken_escapes) {
  for (const std::string quoted : {
           R"("\x4")",         // too short
           R"("\xZZ")",        // not hex
           R"("\uD800")",      // a surrogate
           R"("\U00110000")",  // beyond U+10FFFF
           R"("\u12")",        // too short
           R"("\8")",          // no such escape
           R"("\q")",          //
           R"("\400")",        // octal beyond 0xFF
           R"("\19")",         // not octal
           R"("\xff")",        // a byte that is not UTF-8
       }) {
    EXPECT_EQ(value_of(quoted).rfind("(refused: ", 0), 0u) << quoted << " -> " << value_of(quoted);
  }
}

TEST(matcher_utf8_grammar, unquoted_text_must_be_utf8) {
  std::string problem;
  EXPECT_FALSE(parse_matchers("{\"a b\"=x\xFFy}", &problem).has_value());
  EXPECT_FALSE(parse_matcher("\"a b\"=x\xFFy", &problem).has_value());
}

TEST(matcher_utf8_grammar, unicode_spaces_separate_tokens) {
  // U+3000 IDEOGRAPHIC SPACE and U+00A0 NO-BREAK SPACE around the parts.
  const auto ms = parse_matchers("{\xE3\x80\x80\"a b\"\xC2\xA0=\xE3\x80\x80v\xC2\xA0}");
  ASSERT_TRUE(ms.has_value());
  ASSERT_EQ(ms->size(), 1u);
  EXPECT_EQ(ms->front().value, "v");
}

TEST(matcher_utf8_grammar, structure_errors) {
  std::string problem;
  EXPECT_FALSE(parse_matchers("{\"a b\"=v", &problem).has_value());
  EXPECT_FALSE(parse_matchers("\"a b\"=v}", &problem).has_value());
  EXPECT_FALSE(parse_matchers("{\"a b\"=v} x", &problem).has_value());
  EXPECT_FALSE(parse_matchers("{\"a b\"=\"v}", &problem).has_value());
  EXPECT_FALSE(parse_matchers("{\"a b\"'v}", &problem).has_value());
}

TEST(parse_matcher, one_matcher_in_either_grammar) {
  std::string problem;
  const auto utf8 = parse_matcher("\"a b\"!~\"x.*\"", &problem);
  ASSERT_TRUE(utf8.has_value()) << problem;
  EXPECT_EQ(utf8->name, "a b");
  EXPECT_EQ(utf8->op, match_op::not_regex);
  EXPECT_EQ(utf8->value, "x.*");
  EXPECT_FALSE(parse_matcher("\"a b\"=1,\"c d\"=2", &problem).has_value());
  EXPECT_EQ(problem, "one matcher expected, found 2");
  EXPECT_FALSE(parse_matcher("{a=b}", &problem).has_value());
  EXPECT_EQ(problem, "one matcher without braces expected");
  EXPECT_FALSE(parse_matcher("a=b}", &problem).has_value());
}

TEST(go_quote, escapes_what_go_does_not_print) {
  EXPECT_EQ(go_quote("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(go_quote("\a\b\f\n\r\t\v"), R"("\a\b\f\n\r\t\v")");
  EXPECT_EQ(go_quote(std::string("\x01\x1f\x7f", 3)), R"("\x01\x1f\x7f")");
  EXPECT_EQ(go_quote("\xFF"), R"("\xff")");
  // C1 controls, soft hyphen and spaces other than ' ' as \u; other runes as they are.
  EXPECT_EQ(go_quote("\xC2\x85\xC2\xA0\xC2\xAD\xE2\x80\xA8\xE3\x80\x80 \xC3\xA9\xF0\x9F\x94\x94"),
            "\"\\u0085\\u00a0\\u00ad\\u2028\\u3000 \xC3\xA9\xF0\x9F\x94\x94\"");
}

TEST(to_string, quotes_names_that_need_it_and_reads_back) {
  const std::vector<matcher_spec> specs = {
      {"service name", match_op::equal, "a\tb"},
      {"k", match_op::not_equal, "line\nbreak \"q\" \\"},
      {"x\xE3\x80\x80y", match_op::regex, "v"},
  };
  for (const matcher_spec& m : specs) {
    const std::string text = to_string(m);
    const auto back = parse_matchers(text);
    ASSERT_TRUE(back.has_value()) << text;
    ASSERT_EQ(back->size(), 1u) << text;
    EXPECT_EQ(back->front(), m) << text;
  }
  EXPECT_EQ(to_string(specs[1]), R"(k!="line\nbreak \"q\" \\")");
}

}  // namespace
}  // namespace tocsin::config
