#pragma once
// A filter over events for search and live tail: `app="sshd" message=~"Failed password"
// host!~"^test"`. Terms are separated by whitespace outside double quotes and all must hold. A term
// is `FIELD OP VALUE` (Alertmanager's matcher syntax, config/matcher_syntax.hpp) with OP one of
// `=` (exact), `!=`, `=~` and `!~` (RE2, unanchored: `message=~"fail"` finds "login failed"),
// over the fields rules see (compiled_rules::field_value(): message host app procid msgid
// facility severity input source format, fields.NAME, sd.ID.PARAM); a field the event lacks is
// "". A term with no operator (a word, or a "quoted phrase") means: the message contains it,
// ignoring ASCII case.

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "collector/event.hpp"
#include "config/matcher_syntax.hpp"
#include "rules/alert.hpp"
#include "rules/rule.hpp"

namespace re2 {
class RE2;
}

namespace tocsin::rules {

// Thrown by event_filter::parse(); what() names the term and the problem.
class event_filter_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One term. A bare word has an empty `field`, op `regex` unused, and `value` the word as typed.
struct filter_term {
  std::string field;  // "" = a bare word (message contains `value`, ignoring case)
  config::match_op op = config::match_op::equal;
  std::string value;
  [[nodiscard]] bool is_word() const { return field.empty(); }
};

class event_filter {
 public:
  // The empty filter: matches every event.
  event_filter();
  ~event_filter();
  event_filter(event_filter&&) noexcept;
  event_filter& operator=(event_filter&&) noexcept;
  event_filter(const event_filter&) = delete;
  event_filter& operator=(const event_filter&) = delete;

  // Parses `text`. Throws event_filter_error naming the term (`term 2 (foo="x"): unknown field
  // "foo"; ...`) for a bad matcher, an unknown field or a regex RE2 refuses.
  static event_filter parse(std::string_view text);
  // Each argument is a filter text of its own (what a command line hands over); all must hold.
  static event_filter parse(const std::vector<std::string>& texts);

  // Whether `ev` passes every term. Const and thread-safe.
  [[nodiscard]] bool matches(const collector::event& ev) const;

  [[nodiscard]] const std::vector<filter_term>& terms() const { return terms_; }
  [[nodiscard]] bool empty() const { return terms_.empty(); }
  // The value of the first `FIELD="..."` term on `field` (e.g. host), or nullptr.
  [[nodiscard]] const std::string* exact_value(std::string_view field) const;
  // The filter as text that parse() reads back to the same terms.
  [[nodiscard]] std::string to_string() const;

 private:
  void add(filter_term term, std::size_t number, std::string_view written);

  std::vector<filter_term> terms_;
  std::vector<std::string> lowered_words_;                // per term: the bare word, ASCII-lowered
  std::vector<std::unique_ptr<const re2::RE2>> regexes_;  // per term: null unless =~ or !~
};

// Splits a filter text into terms at whitespace outside double quotes (a backslash inside
// quotes escapes the next character). Throws event_filter_error for an unclosed quote.
std::vector<std::string> split_filter_terms(std::string_view text);

// The filter that finds the events `rule`'s match conditions (and min_severity) select,
// narrowed to one alert group by the `labels` that are event fields the rule groups by
// (host="web1"): the "show the lines that fired this alert" search.
std::string search_filter_for_alert(const rule_definition& rule, const label_set& labels);

}  // namespace tocsin::rules
