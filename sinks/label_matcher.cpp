#include "sinks/label_matcher.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <cstdio>

#include "config/yaml_reader.hpp"

namespace tocsin::sinks {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

void set_problem(std::string* problem, std::string text) {
  if (problem != nullptr) *problem = std::move(text);
}

// Alertmanager's unescaping: \" \\ and \n are escapes; any other backslash is kept literally, so
// a regex like `web\d+` needs no doubling. A quoted value must close with its only unescaped
// quote; an unquoted one must contain none.
std::optional<std::string> unescape(std::string_view raw, std::string* problem) {
  const bool quoted = raw.starts_with('"');
  if (quoted) raw.remove_prefix(1);
  bool closed = false;
  std::string value;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (closed) {
      set_problem(problem, "text after the closing quote");
      return std::nullopt;
    }
    if (c == '\\' && i + 1 < raw.size()) {
      const char next = raw[++i];
      if (next == 'n') {
        value += '\n';
      } else if (next == '"' || next == '\\') {
        value += next;
      } else {
        value += '\\';
        value += next;
      }
    } else if (c == '"') {
      if (!quoted) {
        set_problem(problem, "unescaped double quote in an unquoted value");
        return std::nullopt;
      }
      closed = true;
    } else {
      value += c;
    }
  }
  if (quoted && !closed) {
    set_problem(problem, "missing closing quote");
    return std::nullopt;
  }
  return value;
}

// Go's %q, which Alertmanager uses for matcher and label values in keys.
std::string go_quote(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char hex[8];
          std::snprintf(hex, sizeof(hex), "\\x%02x", static_cast<unsigned char>(c));
          out += hex;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

const char* op_text(match_op op) {
  switch (op) {
    case match_op::equal:
      return "=";
    case match_op::not_equal:
      return "!=";
    case match_op::regex:
      return "=~";
    case match_op::not_regex:
      return "!~";
  }
  return "=";
}

}  // namespace

std::optional<label_matcher> label_matcher::parse(std::string_view text, std::string* problem) {
  const auto op_at = text.find_first_of("=!");
  if (op_at == std::string_view::npos) {
    set_problem(problem, "no operator (=, !=, =~ or !~)");
    return std::nullopt;
  }
  std::string_view rest = text.substr(op_at);
  match_op op = match_op::equal;
  if (rest.starts_with("=~")) {
    op = match_op::regex;
  } else if (rest.starts_with("!~")) {
    op = match_op::not_regex;
  } else if (rest.starts_with("!=")) {
    op = match_op::not_equal;
  } else if (!rest.starts_with("=")) {
    set_problem(problem, "no operator (=, !=, =~ or !~)");
    return std::nullopt;
  }
  rest.remove_prefix(op == match_op::equal ? 1 : 2);
  auto value = unescape(trim(rest), problem);
  if (!value) return std::nullopt;
  return make(std::string(trim(text.substr(0, op_at))), std::move(*value), op, problem);
}

std::optional<label_matcher> label_matcher::make(std::string name, std::string value, match_op op,
                                                 std::string* problem) {
  if (!config::valid_label_name(name)) {
    set_problem(problem, "invalid label name \"" + name + "\"");
    return std::nullopt;
  }
  label_matcher m;
  if (op == match_op::regex || op == match_op::not_regex) {
    RE2::Options options;
    options.set_log_errors(false);
    // Anchored at both ends, like Alertmanager's "^(?:" + value + ")$".
    auto regex = std::make_shared<const RE2>("^(?:" + value + ")$", options);
    if (!regex->ok()) {
      set_problem(problem, "invalid regex \"" + value + "\": " + regex->error());
      return std::nullopt;
    }
    m.regex_ = std::move(regex);
  }
  m.name_ = std::move(name);
  m.value_ = std::move(value);
  m.op_ = op;
  return m;
}

bool label_matcher::matches(const rules::label_set& labels) const {
  const auto it = labels.find(name_);
  const std::string empty;
  const std::string& actual = it == labels.end() ? empty : it->second;
  switch (op_) {
    case match_op::equal:
      return actual == value_;
    case match_op::not_equal:
      return actual != value_;
    case match_op::regex:
      return RE2::PartialMatch(actual, *regex_);
    case match_op::not_regex:
      return !RE2::PartialMatch(actual, *regex_);
  }
  return false;
}

std::string label_matcher::to_string() const { return name_ + op_text(op_) + go_quote(value_); }

bool matches_all(const std::vector<label_matcher>& matchers, const rules::label_set& labels) {
  return std::all_of(matchers.begin(), matchers.end(),
                     [&](const label_matcher& m) { return m.matches(labels); });
}

}  // namespace tocsin::sinks
