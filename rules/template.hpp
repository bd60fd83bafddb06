#pragma once
// Annotation templates: text with `{{name}}` placeholders, compiled once per rule.
//
// Syntax, deliberately small:
//   - `{{name}}` is replaced by the value of `name`. Spaces and tabs inside the braces are allowed:
//     `{{ name }}`. A name is [A-Za-z_][A-Za-z0-9_]*.
//   - A name with no value renders as the empty string.
//   - Everything else is literal text, including a `{{` with no closing `}}` or whose content is
//     not a name (`{{ .Labels.host }}` stays as written), so there is no escape syntax to learn.
//
// For alert annotations the names are (first hit wins): the alert's labels, then the named groups
// of the latest matching event, then `count`, `message`, `host`, `first_seen`, `last_seen`
// (RFC 3339 UTC with milliseconds). See rules/engine.cpp for what `count` means per rule kind.

#include <string>
#include <string_view>
#include <vector>

namespace tocsin::rules {

class annotation_template {
 public:
  annotation_template() = default;
  // Parses `text` into literal and placeholder pieces. Never fails: anything that is not a
  // placeholder is literal.
  explicit annotation_template(std::string_view text);

  // Renders the template. `append_value(std::string_view name, std::string& out)` appends the
  // value of `name` to `out`, or nothing when `name` is unknown.
  template <class AppendValue>
  [[nodiscard]] std::string render(AppendValue&& append_value) const {
    std::string out;
    out.reserve(size_hint_);
    for (const piece& p : pieces_) {
      if (p.is_variable) {
        append_value(std::string_view(p.text), out);
      } else {
        out += p.text;
      }
    }
    return out;
  }

  // The placeholder names in order of appearance (duplicates kept), e.g. for validation.
  [[nodiscard]] std::vector<std::string_view> variables() const;

 private:
  struct piece {
    std::string text;  // the literal text, or the variable name
    bool is_variable = false;
  };
  std::vector<piece> pieces_;
  std::size_t size_hint_ = 0;
};

}  // namespace tocsin::rules
