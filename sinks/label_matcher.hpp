#pragma once
// Alertmanager label matchers: `name="value"`, `name!="value"`, `name=~"regex"`, `name!~"regex"`,
// compiled. The text is read by config/matcher_syntax.hpp (the one matcher grammar: unquoted and
// quoted values, brace lists, quoted UTF-8 names). Regexes are RE2, anchored at both ends
// (Alertmanager's rule). A missing label matches as "".

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/matcher_syntax.hpp"
#include "rules/alert.hpp"

namespace re2 {
class RE2;
}

namespace tocsin::sinks {

using match_op = config::match_op;

class label_matcher {
 public:
  // One matcher (no braces); nullopt and `problem` says why for text that is not a matcher or a
  // regex RE2 rejects.
  static std::optional<label_matcher> parse(std::string_view text, std::string* problem = nullptr);
  // One `matchers:` list item: zero or more matchers, `{a="b",c=~"d"}` or `a=b, c=~d`.
  static std::optional<std::vector<label_matcher>> parse_list(std::string_view text,
                                                              std::string* problem = nullptr);
  // For the API, whose matchers come as {name, value, isRegex, isEqual}. Refuses an empty name
  // and a regex RE2 rejects; the caller checks what else it requires of names.
  static std::optional<label_matcher> make(std::string name, std::string value, match_op op,
                                           std::string* problem = nullptr);
  static std::optional<label_matcher> make(config::matcher_spec spec,
                                           std::string* problem = nullptr);

  [[nodiscard]] bool matches(const rules::label_set& labels) const;
  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] const std::string& value() const { return value_; }
  [[nodiscard]] match_op op() const { return op_; }
  // Alertmanager's Matcher.String(): name=~"value" (see config::to_string(matcher_spec)).
  [[nodiscard]] std::string to_string() const;

 private:
  label_matcher() = default;
  std::string name_, value_;
  match_op op_ = match_op::equal;
  std::shared_ptr<const re2::RE2> regex_;  // for regex ops; shared so matchers copy cheaply
};

// All must match (an empty list matches everything).
bool matches_all(const std::vector<label_matcher>& matchers, const rules::label_set& labels);

}  // namespace tocsin::sinks
