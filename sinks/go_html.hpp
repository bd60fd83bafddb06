#pragma once
// Contextual escaping for templates that produce HTML, after Go's html/template (which
// Alertmanager uses for an email's `html`): the template's own text is followed through HTML
// (text, tags, attribute values, URLs, <script>, <style>, <title>/<textarea>, comments) and each
// action's output is escaped for the place it lands in. Comments in the template text are
// dropped, a stray '<' in text becomes "&lt;", as Go does.
//
// Unlike Go, the context is followed while the template runs rather than worked out before, so
// a template whose branches end in different contexts is not an error here: the branch taken
// decides. JavaScript is followed only as far as string literals; CSS values are filtered.

#include <string>
#include <string_view>

#include "sinks/go_template.hpp"

namespace tocsin::sinks::go_template {

class html_context {
 public:
  // Template text as written: returns it as it goes out, and moves the context along.
  std::string template_text(std::string_view text);

  // What a value printed by an action here becomes. `predefined` is the escaping function the
  // action's pipeline ends with ("html", "urlquery" or ""), already applied to `text`: where it
  // is as strict as one the context needs, Go uses it instead of that one.
  [[nodiscard]] std::string escape(const value& v, std::string_view predefined) const;

 private:
  enum class state {
    text,
    tag,
    attr_name,
    after_name,
    before_value,
    attr,
    url,
    js,
    css,
    rcdata,
    comment
  };
  enum class delim { none, double_quote, single_quote, space_or_tag_end };
  enum class attr_kind { none, url, js, css };
  enum class url_part { none, pre_query, query_or_fragment };
  enum class element { none, script, style, textarea, title };

  std::size_t advance(std::string_view s, std::string& out);  // one transition

  state state_ = state::text;
  delim delim_ = delim::none;
  attr_kind attr_ = attr_kind::none;
  url_part url_part_ = url_part::none;
  element element_ = element::none;
  char js_quote_ = 0;  // inside a JavaScript string literal: its quote
};

}  // namespace tocsin::sinks::go_template
