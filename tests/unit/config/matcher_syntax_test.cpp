#include "config/matcher_syntax.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tocsin::config {
namespace {

using specs = std::vector<matcher_spec>;

constexpr match_op eq = match_op::equal;
constexpr match_op ne = match_op::not_equal;
constexpr match_op re = match_op::regex;
constexpr match_op nre = match_op::not_regex;

std::string describe(const std::optional<specs>& ms) {
  if (!ms) return "(refused)";
  std::string out;
  for (const matcher_spec& m : *ms) out += "[" + to_string(m) + "]";
  return out;
}

struct accepted {
  const char* input;
  specs want;
};

// Alertmanager's pkg/labels/parse_test.go (TestMatchers), the classic grammar: every valid input
// and the matchers it must give.
TEST(matcher_syntax, alertmanagers_classic_parse_tests) {
  const accepted cases[] = {
      {"{}", {}},
      {"{foo='}", {{"foo", eq, "'"}}},
      {"{foo=`}", {{"foo", eq, "`"}}},
      {"{foo=\\\"}", {{"foo", eq, "\""}}},
      {"{foo=bar}", {{"foo", eq, "bar"}}},
      {R"({foo="bar"})", {{"foo", eq, "bar"}}},
      {"{foo=~bar.*}", {{"foo", re, "bar.*"}}},
      {R"({foo=~"bar.*"})", {{"foo", re, "bar.*"}}},
      {"{foo!=bar}", {{"foo", ne, "bar"}}},
      {R"({foo!="bar"})", {{"foo", ne, "bar"}}},
      {"{foo!~bar.*}", {{"foo", nre, "bar.*"}}},
      {R"({foo!~"bar.*"})", {{"foo", nre, "bar.*"}}},
      {R"({foo="bar", baz!="quux"})", {{"foo", eq, "bar"}, {"baz", ne, "quux"}}},
      {R"({foo="bar", baz!~"quux.*"})", {{"foo", eq, "bar"}, {"baz", nre, "quux.*"}}},
      {R"({foo="bar",baz!~".*quux", derp="wat"})",
       {{"foo", eq, "bar"}, {"baz", nre, ".*quux"}, {"derp", eq, "wat"}}},
      {R"({foo="bar", baz!="quux", derp="wat"})",
       {{"foo", eq, "bar"}, {"baz", ne, "quux"}, {"derp", eq, "wat"}}},
      {R"({foo="bar", baz!~".*quux.*", derp="wat"})",
       {{"foo", eq, "bar"}, {"baz", nre, ".*quux.*"}, {"derp", eq, "wat"}}},
      {R"({foo="bar", instance=~"some-api.*"})",
       {{"foo", eq, "bar"}, {"instance", re, "some-api.*"}}},
      {R"({foo=""})", {{"foo", eq, ""}}},
      {R"({foo="bar,quux", job="job1"})", {{"foo", eq, "bar,quux"}, {"job", eq, "job1"}}},
      {R"({foo = "bar", dings != "bums", })", {{"foo", eq, "bar"}, {"dings", ne, "bums"}}},
      {"foo=bar,dings!=bums", {{"foo", eq, "bar"}, {"dings", ne, "bums"}}},
      {"foo=bar, dings!=bums", {{"foo", eq, "bar"}, {"dings", ne, "bums"}}},
      {R"({quote="She said: \"Hi, ladies! That's gender-neutral…\""})",
       {{"quote", eq, R"(She said: "Hi, ladies! That's gender-neutral…")"}}},
      {R"(statuscode=~"5..")", {{"statuscode", re, "5.."}}},
      {"tricky=~~~", {{"tricky", re, "~~"}}},
      {R"(trickier==\\=\=\")", {{"trickier", eq, R"(=\=\=")"}}},
      {R"(contains_quote != "\"" , contains_comma !~ "foo,bar" , )",
       {{"contains_quote", ne, "\""}, {"contains_comma", nre, "foo,bar"}}},
      {"{foo=bar}}", {{"foo", eq, "bar}"}}},
      {"{foo=bar}},}", {{"foo", eq, "bar}}"}}},
      {"{foo=,bar=}}", {{"foo", eq, ""}, {"bar", eq, "}"}}},
      {R"({foo=bar\t})", {{"foo", eq, R"(bar\t)"}}},
      {R"({foo=bar\n})", {{"foo", eq, "bar\n"}}},
      {R"({foo=bar\})", {{"foo", eq, R"(bar\)"}}},
      {R"({foo=bar\\})", {{"foo", eq, R"(bar\)"}}},
      {R"({foo=bar\"})", {{"foo", eq, "bar\""}}},
      {"job=", {{"job", eq, ""}}},
      // Prometheus-style names may hold colons.
      {"job:rate=x", {{"job:rate", eq, "x"}}},
      {"", {}},
      // The classic grammar's leniency, which Alertmanager keeps: the braces are optional on
      // each side.
      {"{", {}},
      {"}", {}},
      {R"({a="b")", {{"a", eq, "b"}}},
      {"foo=bar}x", {{"foo", eq, "bar}x"}}},
  };
  for (const accepted& c : cases) {
    std::string problem;
    const auto got = parse_matchers(c.input, &problem);
    EXPECT_EQ(describe(got), describe(c.want)) << c.input << ": " << problem;
    if (got) EXPECT_EQ(*got, c.want) << c.input;
  }
}

// The classic grammar's refusals that the UTF-8 grammar refuses too, so Alertmanager refuses them.
TEST(matcher_syntax, alertmanagers_refusals) {
  for (const char* input : {
           ",",
           "{,}",
           R"(job="value)",
           R"(job=value")",
           R"(trickier==\\=\=\"")",
           R"(contains_unescaped_quote = foo"bar)",
           R"("{foo=\"bar"})",
           R"("foo=\"bar")",
           R"("foo=\"bar\"")",
           R"("foo=\"bar\")",
           R"("{foo=\"bar\"}")",
           R"("foo="bar"")",
           "severity",
           "=critical",
           "a=b,,c=d",
           R"({foo="bar", baz})",
           R"(""="empty name")",
           "a!b",
       }) {
    std::string problem;
    EXPECT_FALSE(parse_matchers(input, &problem).has_value()) << input;
    EXPECT_FALSE(problem.empty()) << input;
  }
}

// Alertmanager's matcher/parse/parse_test.go: what the UTF-8 grammar adds, taken when the
// classic one refuses the text (Alertmanager's default "fallback" mode).
TEST(matcher_syntax, alertmanagers_utf8_parse_tests) {
  const accepted cases[] = {
      {"{foo=🙂}", {{"foo", eq, "🙂"}}},
      {"{foo=🙂bar}", {{"foo", eq, "🙂bar"}}},
      {R"({"foo"="bar"})", {{"foo", eq, "bar"}}},
      {R"({"foo"="bar",})", {{"foo", eq, "bar"}}},
      {R"({"foo"!="bar"})", {{"foo", ne, "bar"}}},
      {R"({"foo"=~"[a-z]+"})", {{"foo", re, "[a-z]+"}}},
      {R"({"foo"=~"\\d+"})", {{"foo", re, R"(\d+)"}}},
      {R"({"foo"!~"[a-z]+"})", {{"foo", nre, "[a-z]+"}}},
      {R"({"foo"="\xf0\x9f\x99\x82"})", {{"foo", eq, "🙂"}}},
      {R"({"foo"="\U0001f642"})", {{"foo", eq, "🙂"}}},
      {R"({"foo"="bar\n"})", {{"foo", eq, "bar\n"}}},
      {R"({"foo"="bar\t"})", {{"foo", eq, "bar\t"}}},
      {R"({"foo"="\"bar\""})", {{"foo", eq, "\"bar\""}}},
      {R"({"foo"="bar\\"})", {{"foo", eq, "bar\\"}}},
      {R"("foo"="bar")", {{"foo", eq, "bar"}}},
      {R"("foo"="bar",)", {{"foo", eq, "bar"}}},
      {R"({foo="bar",bar!="baz"})", {{"foo", eq, "bar"}, {"bar", ne, "baz"}}},
      // UTF-8 label names, quoted or not.
      {R"({"service name"="api", env=~"prod|stage"})",
       {{"service name", eq, "api"}, {"env", re, "prod|stage"}}},
      {R"("owner"="team-A")", {{"owner", eq, "team-A"}}},
      {"Grüße=hallo", {{"Grüße", eq, "hallo"}}},
      {"http.status=500", {{"http.status", eq, "500"}}},
      {R"({"a,b"="c", "d}"!~"e"})", {{"a,b", eq, "c"}, {"d}", nre, "e"}}},
      {"  {  foo = bar  }  ", {{"foo", eq, "bar"}}},
  };
  for (const accepted& c : cases) {
    std::string problem;
    const auto got = parse_matchers(c.input, &problem);
    EXPECT_EQ(describe(got), describe(c.want)) << c.input << ": " << problem;
  }
  // Refused by both grammars.
  for (const char* input : {R"({foo=:"bar"})", R"({"foo"="\xf0\x9f"})", R"({"foo"="\'"})",
                            R"({"foo"=bar"})", R"({"foo" "bar"})"}) {
    EXPECT_FALSE(parse_matchers(input).has_value()) << input;
  }
}

TEST(matcher_syntax, parse_matcher_takes_exactly_one_without_braces) {
  EXPECT_EQ(parse_matcher(R"( team = "a,b" )"), (matcher_spec{"team", eq, "a,b"}));
  EXPECT_EQ(parse_matcher(R"("service name"=api)"), (matcher_spec{"service name", eq, "api"}));
  EXPECT_EQ(parse_matcher("severity=critical"), (matcher_spec{"severity", eq, "critical"}));
  for (const char* input : {R"({a="b"})", R"(a="b",c="d")", "", "a", R"("a"="b","c"="d")"}) {
    std::string problem;
    EXPECT_FALSE(parse_matcher(input, &problem).has_value()) << input;
    EXPECT_FALSE(problem.empty()) << input;
  }
}

TEST(matcher_syntax, to_string_is_alertmanagers_and_reads_back) {
  const struct {
    matcher_spec m;
    const char* text;
  } cases[] = {
      {{"severity", eq, "critical"}, R"(severity="critical")"},
      {{"env", re, "^(?:produ.*)$"}, R"(env=~"^(?:produ.*)$")"},
      {{"msg", ne, "a\"b\\c\nd\te"}, "msg!=\"a\\\"b\\\\c\\nd\te\""},
      {{"a:b", nre, ""}, R"(a:b!~"")"},
      {{"http.status", eq, "5xx"}, R"(http.status="5xx")"},
      {{"service name", eq, "a\tb"}, R"("service name"="a\tb")"},
      {{"a,b", eq, "x"}, R"("a,b"="x")"},
      {{"ünïcode", eq, "ok"}, R"(ünïcode="ok")"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(to_string(c.m), c.text);
    const auto back = parse_matchers(to_string(c.m));
    ASSERT_TRUE(back.has_value()) << c.text;
    ASSERT_EQ(back->size(), 1u) << c.text;
    EXPECT_EQ(back->front(), c.m) << c.text;
  }
}

TEST(matcher_syntax, go_quote_is_strconv_quote) {
  EXPECT_EQ(go_quote("plain"), R"("plain")");
  EXPECT_EQ(go_quote("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(go_quote("\a\b\f\n\r\t\v"), R"("\a\b\f\n\r\t\v")");
  EXPECT_EQ(go_quote(std::string("\x01\x7f", 2)), R"("\x01\x7f")");
  EXPECT_EQ(go_quote("é🙂"), "\"é🙂\"");
  EXPECT_EQ(go_quote("\xff"), R"("\xff")");
  EXPECT_EQ(go_quote("\u00a0"), R"("\u00a0")");
}

}  // namespace
}  // namespace tocsin::config
