#include "rules/template.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace tocsin::rules {
namespace {

std::string render(const annotation_template& t) {
  static const std::map<std::string, std::string, std::less<>> values{
      {"host", "web1"}, {"count", "5"}, {"user", "root"}, {"empty", ""}, {"a_1", "x"}};
  return t.render([](std::string_view name, std::string& out) {
    if (auto it = values.find(name); it != values.end()) out += it->second;
  });
}

TEST(annotation_template, renders) {
  struct test_case {
    std::string text;
    std::string expected;
  };
  const std::vector<test_case> cases = {
      {"", ""},
      {"no placeholders", "no placeholders"},
      {"{{host}}", "web1"},
      {"{{count}} failed logins for {{user}} on {{host}}", "5 failed logins for root on web1"},
      {"{{ host }}", "web1"},
      {"{{\thost\t}}", "web1"},
      {"{{  host}}-{{count  }}", "web1-5"},
      {"{{host}}{{host}}", "web1web1"},
      {"{{a_1}}", "x"},
      // Unknown and empty values render as nothing.
      {"[{{nope}}]", "[]"},
      {"[{{empty}}]", "[]"},
      // Not placeholders: kept as written.
      {"{{}}", "{{}}"},
      {"{{ }}", "{{ }}"},
      {"{{ .Labels.host }}", "{{ .Labels.host }}"},
      {"{{ $labels.host }}", "{{ $labels.host }}"},
      {"{{host name}}", "{{host name}}"},
      {"{{1host}}", "{{1host}}"},
      {"{{host", "{{host"},
      {"host}}", "host}}"},
      {"{host}", "{host}"},
      {"{ {host} }", "{ {host} }"},
      // Extra braces around a placeholder stay as text.
      {"{{{host}}}", "{web1}"},
      {"{{{{host}}}}", "{{web1}}"},
      {"{{x{{host}}", "{{xweb1"},
      {"{{host}}}}", "web1}}"},
      {"a {{ host }} b {{ nope }} c {{count}}", "a web1 b  c 5"},
      {"ünïcödé {{user}} ✓", "ünïcödé root ✓"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(render(annotation_template(c.text)), c.expected) << "template: " << c.text;
  }
}

TEST(annotation_template, lists_variables) {
  const annotation_template t("{{a}} {{ b }} {{ .c }} {{a}}");
  const std::vector<std::string_view> expected{"a", "b", "a"};
  EXPECT_EQ(t.variables(), expected);
  EXPECT_TRUE(annotation_template("plain").variables().empty());
}

TEST(annotation_template, default_is_empty) { EXPECT_EQ(render(annotation_template()), ""); }

TEST(annotation_template, renders_many_times_from_one_compile) {
  const annotation_template t("{{n}}!");
  for (int i = 0; i < 3; ++i) {
    const std::string value = std::to_string(i);
    EXPECT_EQ(t.render([&](std::string_view, std::string& out) { out += value; }), value + "!");
  }
}

}  // namespace
}  // namespace tocsin::rules
