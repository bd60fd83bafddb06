#include "config/matcher_syntax.hpp"

#include <cstdint>
#include <cstdio>

#include "config/yaml_reader.hpp"
#include "core/utf8.hpp"

namespace tocsin::config {
namespace {

constexpr std::string_view expected_matcher_text =
    R"(expected label="value", label!="value", label=~"regex" or label!~"regex")";

void set_problem(std::string* problem, std::string text) {
  if (problem != nullptr) *problem = std::move(text);
}

// ---- UTF-8 ----------------------------------------------------------------------------------

constexpr char32_t invalid_rune = 0xFFFD;

struct decoded {
  char32_t rune = invalid_rune;
  std::size_t width = 1;
  bool valid = false;
};

// The rune at `at` (Go's utf8.DecodeRuneInString: an invalid byte decodes as U+FFFD, width 1).
decoded decode(std::string_view s, std::size_t at) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char b0 = byte(at);
  if (b0 < 0x80) return {b0, 1, true};
  std::size_t width = 0;
  char32_t rune = 0;
  char32_t min = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    width = 2, rune = b0 & 0x1F, min = 0x80;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    width = 3, rune = b0 & 0x0F, min = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    width = 4, rune = b0 & 0x07, min = 0x10000;
  } else {
    return {};
  }
  if (at + width > s.size()) return {};
  for (std::size_t i = 1; i < width; ++i) {
    const unsigned char b = byte(at + i);
    if ((b & 0xC0) != 0x80) return {};
    rune = (rune << 6) | (b & 0x3F);
  }
  if (rune < min || rune > 0x10FFFF || (rune >= 0xD800 && rune <= 0xDFFF)) return {};
  return {rune, width, true};
}

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const decoded d = decode(s, i);
    if (!d.valid) return false;
    i += d.width;
  }
  return true;
}

// Go's unicode.IsSpace.
bool is_unicode_space(char32_t r) {
  switch (r) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return r >= 0x2000 && r <= 0x200A;
  }
}

// Runes that end an unquoted token in the UTF-8 grammar, and that make Matcher.String() quote a
// name (Alertmanager's isReserved).
bool is_reserved(char32_t r) {
  return is_unicode_space(r) ||
         std::u32string_view(U"{}!=~,\\\"'`").find(r) != std::u32string_view::npos;
}

// Go's strings.TrimSpace.
std::string_view trim_unicode_space(std::string_view s) {
  while (!s.empty()) {
    const decoded d = decode(s, 0);
    if (!d.valid || !is_unicode_space(d.rune)) break;
    s.remove_prefix(d.width);
  }
  while (!s.empty()) {
    // Step back to the start of the last rune.
    std::size_t start = s.size() - 1;
    while (start > 0 && s.size() - start < 4 &&
           (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) {
      --start;
    }
    const decoded d = decode(s, start);
    if (!d.valid || start + d.width != s.size() || !is_unicode_space(d.rune)) break;
    s.remove_suffix(d.width);
  }
  return s;
}

// ---- The classic grammar (pkg/labels/parse.go) ------------------------------------------------

// Go regexp's \s.
bool is_classic_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

bool is_classic_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

bool is_classic_name_char(char c) { return is_classic_name_start(c) || (c >= '0' && c <= '9'); }

// ParseMatcher: `^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*((?s).*?)\s*$`, then the value
// unescaped.
std::optional<matcher_spec> parse_classic_matcher(std::string_view s, std::string* problem) {
  std::size_t i = 0;
  while (i < s.size() && is_classic_space(s[i])) ++i;
  const std::size_t name_start = i;
  if (i < s.size() && is_classic_name_start(s[i])) {
    while (i < s.size() && is_classic_name_char(s[i])) ++i;
  }
  matcher_spec m;
  m.name = std::string(s.substr(name_start, i - name_start));
  while (i < s.size() && is_classic_space(s[i])) ++i;
  const std::string_view rest = s.substr(i);
  std::size_t op_size = 2;
  if (rest.starts_with("=~")) {
    m.op = match_op::regex;
  } else if (rest.starts_with("=")) {
    m.op = match_op::equal;
    op_size = 1;
  } else if (rest.starts_with("!=")) {
    m.op = match_op::not_equal;
  } else if (rest.starts_with("!~")) {
    m.op = match_op::not_regex;
  } else {
    op_size = 0;
  }
  if (m.name.empty() || op_size == 0) {
    set_problem(problem, std::string(expected_matcher_text));
    return std::nullopt;
  }
  std::string_view raw = rest.substr(op_size);
  while (!raw.empty() && is_classic_space(raw.front())) raw.remove_prefix(1);
  while (!raw.empty() && is_classic_space(raw.back())) raw.remove_suffix(1);

  bool expect_trailing_quote = false;
  if (raw.starts_with('"')) {
    raw.remove_prefix(1);
    expect_trailing_quote = true;
  }
  if (!valid_utf8(raw)) {
    set_problem(problem, "the value is not valid UTF-8");
    return std::nullopt;
  }
  // \" \\ and \n are escapes; any other backslash is literal, and so is one at the very end. A
  // double quote is only allowed as the closing one of a quoted value.
  bool escaped = false;
  for (std::size_t j = 0; j < raw.size(); ++j) {
    const char c = raw[j];
    if (escaped) {
      escaped = false;
      if (c == 'n') {
        m.value += '\n';
      } else if (c == '"' || c == '\\') {
        m.value += c;
      } else {
        m.value += '\\';
        m.value += c;
      }
      continue;
    }
    if (c == '\\') {
      if (j < raw.size() - 1) {
        escaped = true;
      } else {
        m.value += '\\';
      }
    } else if (c == '"') {
      if (!expect_trailing_quote || j < raw.size() - 1) {
        set_problem(problem, "unescaped double quote in the value (write \\\")");
        return std::nullopt;
      }
      expect_trailing_quote = false;
    } else {
      m.value += c;
    }
  }
  if (expect_trailing_quote) {
    set_problem(problem, "missing closing double quote");
    return std::nullopt;
  }
  return m;
}

// ParseMatchers: an optional `{` and `}` trimmed, split at commas outside double quotes (a quote
// after a backslash does not count), a trailing empty piece ignored.
std::optional<std::vector<matcher_spec>> parse_classic_matchers(std::string_view s,
                                                                std::string* problem) {
  if (s.starts_with('{')) s.remove_prefix(1);
  if (s.ends_with('}')) s.remove_suffix(1);
  std::vector<std::string_view> pieces;
  bool inside_quotes = false;
  bool escaped = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    switch (s[i]) {
      case ',':
        if (!inside_quotes) {
          pieces.push_back(s.substr(start, i - start));
          start = i + 1;
        }
        break;  // Go's loop leaves `escaped` as it is here
      case '"':
        if (!escaped) {
          inside_quotes = !inside_quotes;
        } else {
          escaped = false;
        }
        break;
      case '\\':
        escaped = !escaped;
        break;
      default:
        escaped = false;
    }
  }
  if (auto last = trim_unicode_space(s.substr(start)); !last.empty()) pieces.push_back(last);
  std::vector<matcher_spec> out;
  for (std::string_view piece : pieces) {
    std::string why;
    auto m = parse_classic_matcher(piece, &why);
    if (!m) {
      // Name the piece when the item holds more than it.
      const bool alone = pieces.size() == 1;
      set_problem(problem, alone ? why : quote(trim_unicode_space(piece)) + ": " + why);
      return std::nullopt;
    }
    out.push_back(std::move(*m));
  }
  return out;
}

// ---- The UTF-8 grammar (matcher/parse) --------------------------------------------------------

enum class token_kind { eof, open_brace, close_brace, comma, op, quoted, unquoted };

struct token {
  token_kind kind = token_kind::eof;
  std::string_view text;
  match_op op = match_op::equal;
};

class lexer {
 public:
  explicit lexer(std::string_view input) : input_(input) {}

  // The next token, or nullopt with `problem` set.
  std::optional<token> scan(std::string* problem) {
    while (pos_ < input_.size()) {
      const decoded d = decode(input_, pos_);
      const std::size_t start = pos_;
      const char32_t r = d.rune;
      if (r == '{' || r == '}' || r == ',') {
        ++pos_;
        return token{r == '{'   ? token_kind::open_brace
                     : r == '}' ? token_kind::close_brace
                                : token_kind::comma,
                     input_.substr(start, 1)};
      }
      if (r == '=' || r == '!') {
        const std::string_view rest = input_.substr(pos_);
        token t{token_kind::op, {}};
        if (rest.starts_with("!=")) {
          t.op = match_op::not_equal;
        } else if (rest.starts_with("!~")) {
          t.op = match_op::not_regex;
        } else if (rest.starts_with("=~")) {
          t.op = match_op::regex;
        } else if (r == '=') {
          t.op = match_op::equal;
        } else {
          set_problem(problem, "'!' must be followed by '=' or '~'");
          return std::nullopt;
        }
        const std::size_t size = t.op == match_op::equal ? 1 : 2;
        t.text = input_.substr(pos_, size);
        pos_ += size;
        return t;
      }
      if (r == '"') {
        bool escaped = false;
        for (++pos_; pos_ < input_.size(); ++pos_) {
          if (escaped) {
            escaped = false;
          } else if (input_[pos_] == '\\') {
            escaped = true;
          } else if (input_[pos_] == '"') {
            ++pos_;
            return token{token_kind::quoted, input_.substr(start, pos_ - start)};
          }
        }
        set_problem(problem, "missing closing double quote");
        return std::nullopt;
      }
      if (!is_reserved(r)) {
        while (pos_ < input_.size()) {
          const decoded next = decode(input_, pos_);
          if (is_reserved(next.rune)) break;
          pos_ += next.width;
        }
        return token{token_kind::unquoted, input_.substr(start, pos_ - start)};
      }
      if (is_unicode_space(r)) {
        pos_ += d.width;
        continue;
      }
      set_problem(problem, "unexpected " + quote(input_.substr(start, d.width)));
      return std::nullopt;
    }
    return token{};
  }

  std::optional<token> peek(std::string* problem) {
    const std::size_t saved = pos_;
    auto t = scan(problem);
    pos_ = saved;
    return t;
  }

 private:
  std::string_view input_;
  std::size_t pos_ = 0;
};

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Go's strconv.Unquote for a double-quoted string, then a UTF-8 check (the token's unquote()).
std::optional<std::string> go_unquote(std::string_view quoted) {
  if (quoted.size() < 2 || quoted.front() != '"' || quoted.back() != '"') return std::nullopt;
  const std::string_view s = quoted.substr(1, quoted.size() - 2);
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\n' || c == '"') return std::nullopt;
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i >= s.size()) return std::nullopt;
    const char e = s[i];
    // The `digits` characters after s[i], read in `base`; i moves to the last of them.
    const auto number = [&](std::size_t digits, int base) -> std::optional<std::uint32_t> {
      if (s.size() - (i + 1) < digits) return std::nullopt;
      std::uint32_t v = 0;
      for (std::size_t k = 1; k <= digits; ++k) {
        const int d = base == 8 ? (s[i + k] >= '0' && s[i + k] <= '7' ? s[i + k] - '0' : -1)
                                : hex_digit(s[i + k]);
        if (d < 0) return std::nullopt;
        v = v * static_cast<std::uint32_t>(base) + static_cast<std::uint32_t>(d);
      }
      i += digits;
      return v;
    };
    switch (e) {
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case '\\':
      case '"':
        out += e;
        break;
      case 'x': {
        auto v = number(2, 16);
        if (!v) return std::nullopt;
        out += static_cast<char>(*v);
        break;
      }
      case 'u':
      case 'U': {
        auto v = number(e == 'u' ? 4 : 8, 16);
        if (!v || *v > 0x10FFFF || (*v >= 0xD800 && *v <= 0xDFFF)) return std::nullopt;
        append_utf8(out, *v);
        break;
      }
      default: {
        if (e < '0' || e > '7') return std::nullopt;
        --i;  // \ooo: the escape letter is the first of the three digits
        auto v = number(3, 8);
        if (!v || *v > 0xFF) return std::nullopt;
        out += static_cast<char>(*v);
      }
    }
  }
  if (!valid_utf8(out)) return std::nullopt;
  return out;
}

std::optional<std::string> token_text(const token& t, std::string* problem) {
  if (t.kind == token_kind::unquoted) {
    // Alertmanager does not check unquoted text; refusing bytes that are not UTF-8 keeps every
    // accepted matcher printable and readable back.
    if (valid_utf8(t.text)) return std::string(t.text);
    set_problem(problem, quote(t.text) + " is not valid UTF-8");
    return std::nullopt;
  }
  auto text = go_unquote(t.text);
  if (!text) set_problem(problem, "invalid quoted string " + quote(t.text));
  return text;
}

// parse.Matchers: [ '{' ] [ matcher { ',' matcher } [ ',' ] ] [ '}' if opened ] end.
std::optional<std::vector<matcher_spec>> parse_utf8_matchers(std::string_view input,
                                                             std::string* problem) {
  lexer lex(input);
  std::vector<matcher_spec> out;
  auto t = lex.peek(problem);
  if (!t) return std::nullopt;
  const bool open = t->kind == token_kind::open_brace;
  if (open) {
    lex.scan(problem);
    if (!(t = lex.peek(problem))) return std::nullopt;
  }
  bool more = t->kind == token_kind::quoted || t->kind == token_kind::unquoted;
  if (!more && t->kind != token_kind::eof && t->kind != token_kind::close_brace) {
    set_problem(problem, "expected a label name, got " + quote(t->text));
    return std::nullopt;
  }
  while (more) {
    matcher_spec m;
    auto name = lex.scan(problem);
    if (!name) return std::nullopt;
    auto name_text = token_text(*name, problem);
    if (!name_text) return std::nullopt;
    m.name = std::move(*name_text);
    auto op = lex.scan(problem);
    if (!op) return std::nullopt;
    if (op->kind != token_kind::op) {
      set_problem(problem, "expected =, !=, =~ or !~ after " + quote(name->text));
      return std::nullopt;
    }
    m.op = op->op;
    auto value = lex.scan(problem);
    if (!value) return std::nullopt;
    if (value->kind != token_kind::quoted && value->kind != token_kind::unquoted) {
      set_problem(problem, "expected a value after " + quote(op->text));
      return std::nullopt;
    }
    auto value_text = token_text(*value, problem);
    if (!value_text) return std::nullopt;
    m.value = std::move(*value_text);
    out.push_back(std::move(m));

    if (!(t = lex.peek(problem))) return std::nullopt;
    more = false;
    if (t->kind == token_kind::comma) {
      lex.scan(problem);
      if (!(t = lex.peek(problem))) return std::nullopt;
      more = t->kind == token_kind::quoted || t->kind == token_kind::unquoted;
      if (!more && t->kind != token_kind::eof && t->kind != token_kind::close_brace) {
        set_problem(problem, "expected a matcher after ',', got " + quote(t->text));
        return std::nullopt;
      }
    } else if (t->kind != token_kind::eof && t->kind != token_kind::close_brace) {
      set_problem(problem, "expected ',' between matchers, got " + quote(t->text));
      return std::nullopt;
    }
  }
  // `t` is the end or a closing brace here.
  if (open != (t->kind == token_kind::close_brace)) {
    set_problem(problem, open ? "missing closing '}'" : "'}' without an opening '{'");
    return std::nullopt;
  }
  if (open) lex.scan(problem);
  if (!(t = lex.peek(problem))) return std::nullopt;
  if (t->kind != token_kind::eof) {
    set_problem(problem, "unexpected " + quote(t->text) + " after the matchers");
    return std::nullopt;
  }
  return out;
}

// An empty label name is never a label: refuse it (Alertmanager's quoted `""` would take it).
bool names_ok(const std::vector<matcher_spec>& matchers, std::string* problem) {
  for (const matcher_spec& m : matchers) {
    if (m.name.empty()) {
      set_problem(problem, "empty label name");
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<std::vector<matcher_spec>> parse_matchers(std::string_view text,
                                                        std::string* problem) {
  // Alertmanager's fallback: the classic reading when there is one, else the UTF-8 one, else
  // the classic complaint.
  std::string classic_problem;
  auto classic = parse_classic_matchers(text, &classic_problem);
  if (!classic) classic = parse_utf8_matchers(text, nullptr);
  if (!classic) {
    set_problem(problem, std::move(classic_problem));
    return std::nullopt;
  }
  if (!names_ok(*classic, problem)) return std::nullopt;
  return classic;
}

std::optional<matcher_spec> parse_matcher(std::string_view text, std::string* problem) {
  if (text.starts_with('{') || text.ends_with('}')) {
    set_problem(problem, "one matcher without braces expected");
    return std::nullopt;
  }
  std::string classic_problem;
  auto classic = parse_classic_matcher(text, &classic_problem);
  if (classic) {
    if (!names_ok({*classic}, problem)) return std::nullopt;
    return classic;
  }
  auto utf8 = parse_utf8_matchers(text, nullptr);
  if (!utf8 || utf8->size() != 1) {
    set_problem(problem, utf8 && utf8->size() > 1
                             ? "one matcher expected, found " + std::to_string(utf8->size())
                             : classic_problem);
    return std::nullopt;
  }
  if (!names_ok(*utf8, problem)) return std::nullopt;
  return std::move(utf8->front());
}

std::string_view to_string(match_op op) {
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

std::string to_string(const matcher_spec& matcher) {
  bool reserved = false;
  for (std::size_t i = 0; i < matcher.name.size() && !reserved;) {
    const decoded d = decode(matcher.name, i);
    reserved = is_reserved(d.rune);
    i += d.width;
  }
  if (reserved) {
    return go_quote(matcher.name) + std::string(to_string(matcher.op)) + go_quote(matcher.value);
  }
  // openMetricsEscape
  std::string out = matcher.name + std::string(to_string(matcher.op)) + '"';
  for (const char c : matcher.value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out + '"';
}

std::string go_quote(std::string_view text) {
  std::string out = "\"";
  char hex[16];
  for (std::size_t i = 0; i < text.size();) {
    const decoded d = decode(text, i);
    const char32_t r = d.rune;
    if (!d.valid) {
      std::snprintf(hex, sizeof(hex), "\\x%02x", static_cast<unsigned char>(text[i]));
      out += hex;
      i += 1;
      continue;
    }
    switch (r) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\v':
        out += "\\v";
        break;
      default:
        if (r < 0x20 || r == 0x7F) {
          std::snprintf(hex, sizeof(hex), "\\x%02x", static_cast<unsigned>(r));
          out += hex;
        } else if ((r >= 0x80 && r <= 0xA0) || r == 0xAD || (r != ' ' && is_unicode_space(r))) {
          // Not printable for Go (C1 controls, soft hyphen, spaces other than ' ').
          std::snprintf(hex, sizeof(hex), "\\u%04x", static_cast<unsigned>(r));
          out += hex;
        } else {
          out.append(text.substr(i, d.width));
        }
    }
    i += d.width;
  }
  return out + '"';
}

}  // namespace tocsin::config
