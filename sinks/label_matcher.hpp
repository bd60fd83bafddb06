#pragma once
// Alertmanager label matchers: `name="value"`, `name!="value"`, `name=~"regex"`, `name!~"regex"`.
// Values may be unquoted (`severity=critical`); quoted values take \" \\ \n escapes. Regexes are
// RE2, anchored at both ends (Alertmanager's rule). A missing label matches as "".

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/alert.hpp"

namespace re2 {
class RE2;
}

namespace tocsin::sinks {

enum class match_op { equal, not_equal, regex, not_regex };

class label_matcher {
 public:
  // nullopt and `problem` says why for text that is not a matcher or a regex RE2 rejects.
  static std::optional<label_matcher> parse(std::string_view text, std::string* problem = nullptr);
  // For the API, whose matchers come as {name, value, isRegex, isEqual}.
  static std::optional<label_matcher> make(std::string name, std::string value, match_op op,
                                           std::string* problem = nullptr);

  [[nodiscard]] bool matches(const rules::label_set& labels) const;
  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] const std::string& value() const { return value_; }
  [[nodiscard]] match_op op() const { return op_; }
  [[nodiscard]] std::string to_string() const;  // canonical: name=~"value"

 private:
  label_matcher() = default;
  std::string name_, value_;
  match_op op_ = match_op::equal;
  std::shared_ptr<const re2::RE2> regex_;  // for regex ops; shared so matchers copy cheaply
};

// All must match (an empty list matches everything).
bool matches_all(const std::vector<label_matcher>& matchers, const rules::label_set& labels);

}  // namespace tocsin::sinks
