#include "sinks/label_matcher.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tocsin::sinks {
namespace {

label_matcher must_parse(std::string_view text) {
  std::string problem;
  auto m = label_matcher::parse(text, &problem);
  EXPECT_TRUE(m.has_value()) << text << ": " << problem;
  return m.value_or(*label_matcher::make("x", "", match_op::equal));
}

bool matches(std::string_view text, const rules::label_set& labels) {
  return must_parse(text).matches(labels);
}

TEST(label_matcher, parses_the_four_operators) {
  struct row {
    const char* text;
    match_op op;
    const char* name;
    const char* value;
  };
  const row rows[] = {
      {R"(severity="critical")", match_op::equal, "severity", "critical"},
      {R"(severity!="critical")", match_op::not_equal, "severity", "critical"},
      {R"(instance=~"web.*")", match_op::regex, "instance", "web.*"},
      {R"(instance!~"web.*")", match_op::not_regex, "instance", "web.*"},
      {"severity=critical", match_op::equal, "severity", "critical"},
      {"  env  !=  prod  ", match_op::not_equal, "env", "prod"},
      {R"(team="")", match_op::equal, "team", ""},
      {"team=", match_op::equal, "team", ""},
  };
  for (const row& r : rows) {
    const label_matcher m = must_parse(r.text);
    EXPECT_EQ(m.op(), r.op) << r.text;
    EXPECT_EQ(m.name(), r.name) << r.text;
    EXPECT_EQ(m.value(), r.value) << r.text;
  }
}

TEST(label_matcher, unescapes_like_alertmanager) {
  EXPECT_EQ(must_parse(R"(msg="say \"hi\"")").value(), R"(say "hi")");
  EXPECT_EQ(must_parse(R"(msg="a\\b")").value(), R"(a\b)");
  EXPECT_EQ(must_parse(R"(msg="line\nnext")").value(), "line\nnext");
  // Any other escape keeps its backslash, so regexes need no doubling.
  EXPECT_EQ(must_parse(R"(host=~"web\d+")").value(), R"(web\d+)");
  EXPECT_TRUE(matches(R"(host=~"web\d+")", {{"host", "web12"}}));
}

TEST(label_matcher, refuses_bad_text) {
  for (const char* text :
       {"severity", "=critical", "1abc==x\"", "a b=x", R"(a="unterminated)", R"(a="x"y")",
        R"(a=x"y)", R"(a=~"(")", "a~x", "a!x", R"({a="b"})", R"(a="b",c="d")", R"(""="x")"}) {
    std::string problem;
    EXPECT_FALSE(label_matcher::parse(text, &problem).has_value()) << text;
    EXPECT_FALSE(problem.empty()) << text;
  }
  std::string problem;
  EXPECT_FALSE(label_matcher::make("a", "(", match_op::regex, &problem));
  EXPECT_NE(problem.find("invalid regex"), std::string::npos) << problem;
  EXPECT_FALSE(label_matcher::make("", "x", match_op::equal, &problem));
}

// Alertmanager's default parser falls back to its UTF-8 grammar, which takes names the classic
// one refuses.
TEST(label_matcher, takes_utf8_label_names) {
  EXPECT_EQ(must_parse("a-b=x").name(), "a-b");
  EXPECT_EQ(must_parse("1abc=x").name(), "1abc");
  const label_matcher quoted = must_parse(R"("service name"=~"api|web")");
  EXPECT_EQ(quoted.name(), "service name");
  EXPECT_TRUE(quoted.matches({{"service name", "web"}}));
  EXPECT_EQ(quoted.to_string(), R"("service name"=~"api|web")");
  EXPECT_EQ(must_parse("Grüße=ja").name(), "Grüße");
}

TEST(label_matcher, parse_list_reads_a_brace_item) {
  std::string problem;
  const auto ms = label_matcher::parse_list(R"({owner="team-A",env=~"prod|stage"})", &problem);
  ASSERT_TRUE(ms.has_value()) << problem;
  ASSERT_EQ(ms->size(), 2u);
  EXPECT_TRUE(matches_all(*ms, {{"owner", "team-A"}, {"env", "stage"}}));
  EXPECT_FALSE(matches_all(*ms, {{"owner", "team-A"}, {"env", "dev"}}));
  EXPECT_FALSE(label_matcher::parse_list(R"({a=~"(", b="c"})", &problem).has_value());
  EXPECT_NE(problem.find("invalid regex \"(\""), std::string::npos) << problem;
}

TEST(label_matcher, regex_is_anchored_at_both_ends) {
  EXPECT_FALSE(matches(R"(host=~"web")", {{"host", "web1"}}));
  EXPECT_FALSE(matches(R"(host=~"web")", {{"host", "xweb"}}));
  EXPECT_TRUE(matches(R"(host=~"web")", {{"host", "web"}}));
  EXPECT_TRUE(matches(R"(host=~"web.*")", {{"host", "web1"}}));
  // The alternation is grouped before anchoring: both sides are anchored.
  EXPECT_FALSE(matches(R"(host=~"a|b")", {{"host", "ab"}}));
  EXPECT_TRUE(matches(R"(host=~"a|b")", {{"host", "b"}}));
  EXPECT_TRUE(matches(R"(host!~"web")", {{"host", "web1"}}));
  EXPECT_FALSE(matches(R"(host!~"web.*")", {{"host", "web1"}}));
}

TEST(label_matcher, missing_label_is_the_empty_string) {
  const rules::label_set none = {{"alertname", "x"}};
  EXPECT_TRUE(matches(R"(team!="ops")", none));
  EXPECT_FALSE(matches(R"(team="ops")", none));
  EXPECT_TRUE(matches(R"(team="")", none));
  EXPECT_FALSE(matches(R"(team!="")", none));
  EXPECT_TRUE(matches(R"(team=~".*")", none));
  EXPECT_FALSE(matches(R"(team=~".+")", none));
  EXPECT_TRUE(matches(R"(team!~".+")", none));
  EXPECT_FALSE(matches(R"(team="")", {{"team", "ops"}}));
}

TEST(label_matcher, to_string_is_canonical_and_round_trips) {
  EXPECT_EQ(must_parse("severity=critical").to_string(), R"(severity="critical")");
  EXPECT_EQ(must_parse(R"( a !~ "x.*" )").to_string(), R"(a!~"x.*")");
  EXPECT_EQ(must_parse(R"(a!="b")").to_string(), R"(a!="b")");
  EXPECT_EQ(must_parse(R"(a=~"b")").to_string(), R"(a=~"b")");
  const label_matcher odd = *label_matcher::make("msg", "q\"b\\n\nt\t", match_op::equal);
  // Alertmanager's openMetricsEscape: only \\ \n and \" are escaped.
  EXPECT_EQ(odd.to_string(), "msg=\"q\\\"b\\\\n\\nt\t\"");
  const label_matcher plain = must_parse(R"(msg="q\"b\\n\n")");
  EXPECT_EQ(must_parse(plain.to_string()).value(), plain.value());
}

TEST(label_matcher, matches_all_needs_every_matcher) {
  const std::vector<label_matcher> ms = {must_parse("a=1"), must_parse("b=~\"2|3\"")};
  EXPECT_TRUE(matches_all(ms, {{"a", "1"}, {"b", "3"}}));
  EXPECT_FALSE(matches_all(ms, {{"a", "1"}, {"b", "4"}}));
  EXPECT_TRUE(matches_all({}, {}));
}

TEST(label_matcher, copies_share_the_compiled_regex) {
  const label_matcher m = must_parse(R"(host=~"db[0-9]")");
  const label_matcher copy = m;  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_TRUE(copy.matches({{"host", "db3"}}));
  EXPECT_FALSE(copy.matches({{"host", "db33"}}));
}

}  // namespace
}  // namespace tocsin::sinks
