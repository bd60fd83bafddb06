#include "rules/template.hpp"

namespace tocsin::rules {
namespace {

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }
bool is_blank(char c) { return c == ' ' || c == '\t'; }

// The name inside `{{ ... }}`, or empty when the content is not a single name.
std::string_view placeholder_name(std::string_view inner) {
  while (!inner.empty() && is_blank(inner.front())) inner.remove_prefix(1);
  while (!inner.empty() && is_blank(inner.back())) inner.remove_suffix(1);
  if (inner.empty() || !is_name_start(inner.front())) return {};
  for (char c : inner) {
    if (!is_name_char(c)) return {};
  }
  return inner;
}

}  // namespace

annotation_template::annotation_template(std::string_view text) {
  std::string literal;
  auto flush_literal = [&] {
    if (literal.empty()) return;
    size_hint_ += literal.size();
    pieces_.push_back({std::move(literal), false});
    literal.clear();
  };
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) break;
    const std::size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    const std::string_view name = placeholder_name(text.substr(open + 2, close - open - 2));
    if (name.empty()) {
      // Not a placeholder: keep the first brace as text and rescan from the next one, so
      // `{{{x}}}` renders as `{` + x + `}`.
      literal.append(text.substr(pos, open + 1 - pos));
      pos = open + 1;
      continue;
    }
    literal.append(text.substr(pos, open - pos));
    flush_literal();
    pieces_.push_back({std::string(name), true});
    size_hint_ += 16;  // a guess at a typical value
    pos = close + 2;
  }
  literal.append(text.substr(pos));
  flush_literal();
}

std::vector<std::string_view> annotation_template::variables() const {
  std::vector<std::string_view> names;
  for (const piece& p : pieces_) {
    if (p.is_variable) names.emplace_back(p.text);
  }
  return names;
}

}  // namespace tocsin::rules
