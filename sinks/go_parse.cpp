// Go's text/template parser: a lexer and parser that follow text/template/parse (lex.go,
// parse.go), with its error messages.

#include "sinks/go_parse.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <utility>

#include "core/utf8.hpp"

namespace tocsin::sinks::go_template {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_alnum(char c) {
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (static_cast<unsigned char>(c) >= 0x80);  // Go allows Unicode letters in names
}

// ---------------------------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------------------------

enum class tok {
  text,
  left,
  right,
  identifier,
  field,
  variable,
  string,
  raw_string,
  character,
  number,
  dot,
  pipe,
  lparen,
  rparen,
  declare,
  assign,
  comma,
  eof
};

struct token {
  tok type = tok::eof;
  std::string text;
  int line = 0;
  bool space_before = false;  // whitespace separates it from the previous token
};

class lexer {
 public:
  lexer(std::string_view input, int first_line) : in_(input), line_(first_line) {}

  std::vector<token> run() {
    bool trim_next = false;  // the previous action ended with " -}}"
    while (pos_ <= in_.size()) {
      std::size_t at = in_.find("{{", pos_);
      std::size_t text_end = at == std::string_view::npos ? in_.size() : at;
      // "{{- " trims the text before it.
      const bool trim_left = at != std::string_view::npos && at + 3 < in_.size() &&
                             in_[at + 2] == '-' && is_space(in_[at + 3]);
      std::size_t text_begin = pos_;
      if (trim_next) {
        while (text_begin < text_end && is_space(in_[text_begin])) ++text_begin;
      }
      std::size_t trimmed_end = text_end;
      if (trim_left) {
        while (trimmed_end > text_begin && is_space(in_[trimmed_end - 1])) --trimmed_end;
      }
      if (trimmed_end > text_begin) {
        advance_line_to(text_begin);
        out_.push_back({tok::text, std::string(in_.substr(text_begin, trimmed_end - text_begin)),
                        line_, false});
      }
      if (at == std::string_view::npos) break;
      advance_line_to(at);
      pos_ = at + 2 + (trim_left ? 2 : 0);
      trim_next = false;
      if (in_.substr(pos_).starts_with("/*")) {
        const std::size_t end = in_.find("*/", pos_ + 2);
        if (end == std::string_view::npos) fail("unclosed comment");
        pos_ = end + 2;
        int trim = right_delim_at(pos_);
        if (trim < 0) fail("comment ends before closing delimiter");
        trim_next = trim == 1;
        pos_ += trim == 1 ? 4 : 2;
        continue;
      }
      out_.push_back({tok::left, "{{", line_, false});
      trim_next = lex_action();
    }
    advance_line_to(in_.size());
    out_.push_back({tok::eof, "", line_, false});
    return std::move(out_);
  }

 private:
  [[noreturn]] void fail(const std::string& message) { throw parse_failure{line_, message}; }

  void advance_line_to(std::size_t p) {
    for (; counted_ < p && counted_ < in_.size(); ++counted_) {
      if (in_[counted_] == '\n') ++line_;
    }
  }

  // -1: no right delimiter at p; 0: "}}"; 1: " -}}" (trims the following text).
  [[nodiscard]] int right_delim_at(std::size_t p) const {
    if (p + 1 < in_.size() && is_space(in_[p]) && in_[p + 1] == '-' &&
        in_.substr(p + 2).starts_with("}}")) {
      return 1;
    }
    if (in_.substr(p).starts_with("}}")) return 0;
    return -1;
  }

  void emit(tok type, std::size_t begin, bool space) {
    advance_line_to(begin);
    out_.push_back({type, std::string(in_.substr(begin, pos_ - begin)), line_, space});
  }

  // Lexes one action's tokens up to and including its right delimiter; returns whether it ends
  // with a trim marker.
  bool lex_action() {
    int parens = 0;
    bool space = false;
    for (;;) {
      const int delim = right_delim_at(pos_);
      if (delim >= 0) {
        if (parens > 0) fail("unclosed left paren");
        advance_line_to(pos_);
        out_.push_back({tok::right, "}}", line_, space});
        pos_ += delim == 1 ? 4 : 2;
        return delim == 1;
      }
      if (pos_ >= in_.size()) fail("unclosed action");
      const char c = in_[pos_];
      const std::size_t begin = pos_;
      if (is_space(c)) {
        while (pos_ < in_.size() && is_space(in_[pos_]) && right_delim_at(pos_) != 1) ++pos_;
        space = true;
        continue;
      }
      if (c == '=') {
        ++pos_;
        emit(tok::assign, begin, space);
      } else if (c == ':') {
        if (pos_ + 1 >= in_.size() || in_[pos_ + 1] != '=') fail("expected :=");
        pos_ += 2;
        emit(tok::declare, begin, space);
      } else if (c == '|') {
        ++pos_;
        emit(tok::pipe, begin, space);
      } else if (c == '"') {
        ++pos_;
        for (;;) {
          if (pos_ >= in_.size() || in_[pos_] == '\n') fail("unterminated quoted string");
          if (in_[pos_] == '\\') {
            pos_ += 2;
            continue;
          }
          if (in_[pos_++] == '"') break;
        }
        emit(tok::string, begin, space);
      } else if (c == '`') {
        const std::size_t end = in_.find('`', pos_ + 1);
        if (end == std::string_view::npos) fail("unterminated raw quoted string");
        pos_ = end + 1;
        emit(tok::raw_string, begin, space);
      } else if (c == '\'') {
        ++pos_;
        for (;;) {
          if (pos_ >= in_.size() || in_[pos_] == '\n') fail("unterminated character constant");
          if (in_[pos_] == '\\') {
            pos_ += 2;
            continue;
          }
          if (in_[pos_++] == '\'') break;
        }
        emit(tok::character, begin, space);
      } else if (c == '$') {
        ++pos_;
        while (pos_ < in_.size() && is_alnum(in_[pos_])) ++pos_;
        emit(tok::variable, begin, space);
      } else if (c == '.') {
        if (pos_ + 1 < in_.size() && in_[pos_ + 1] >= '0' && in_[pos_ + 1] <= '9') {
          lex_number(begin, space);
        } else if (pos_ + 1 < in_.size() && is_alnum(in_[pos_ + 1])) {
          ++pos_;
          while (pos_ < in_.size() && is_alnum(in_[pos_])) ++pos_;
          emit(tok::field, begin, space);
        } else {
          ++pos_;
          emit(tok::dot, begin, space);
        }
      } else if (c == '+' || c == '-' || (c >= '0' && c <= '9')) {
        lex_number(begin, space);
      } else if (is_alnum(c)) {
        while (pos_ < in_.size() && is_alnum(in_[pos_])) ++pos_;
        // An identifier must end at a terminator (Go's atTerminator).
        if (pos_ < in_.size() && right_delim_at(pos_) < 0) {
          const char n = in_[pos_];
          if (!is_space(n) && n != '.' && n != ',' && n != '|' && n != ':' && n != ')' &&
              n != '(') {
            fail(std::string("bad character ") + quote_char(n));
          }
        }
        emit(tok::identifier, begin, space);
      } else if (c == '(') {
        ++pos_;
        ++parens;
        emit(tok::lparen, begin, space);
      } else if (c == ')') {
        ++pos_;
        if (--parens < 0) fail("unexpected right paren");
        emit(tok::rparen, begin, space);
      } else if (c == ',') {
        ++pos_;
        emit(tok::comma, begin, space);
      } else {
        fail(std::string("unrecognized character in action: ") + quote_char(c));
      }
      space = false;
    }
  }

  static std::string quote_char(char c) {
    char b[16];
    std::snprintf(b, sizeof b, "U+%04X", static_cast<unsigned char>(c));
    return std::string(b) + " '" + c + "'";
  }

  // Go's scanNumber: sign, base prefix, digits with '_', fraction, exponent.
  void lex_number(std::size_t begin, bool space) {
    auto accept = [&](std::string_view set) {
      if (pos_ < in_.size() && set.find(in_[pos_]) != std::string_view::npos) {
        ++pos_;
        return true;
      }
      return false;
    };
    auto accept_run = [&](std::string_view set) {
      while (accept(set)) {
      }
    };
    accept("+-");
    std::string_view digits = "0123456789_";
    bool hex = false;
    if (accept("0")) {
      if (accept("xX")) {
        digits = "0123456789abcdefABCDEF_";
        hex = true;
      } else if (accept("oO")) {
        digits = "01234567_";
      } else if (accept("bB")) {
        digits = "01_";
      }
    }
    accept_run(digits);
    if (accept(".")) accept_run(digits);
    if (!hex && accept("eE")) {
      accept("+-");
      accept_run("0123456789_");
    }
    if (hex && accept("pP")) {
      accept("+-");
      accept_run("0123456789_");
    }
    if (pos_ < in_.size() && is_alnum(in_[pos_])) {
      ++pos_;
      fail("bad number syntax: \"" + std::string(in_.substr(begin, pos_ - begin)) + "\"");
    }
    emit(tok::number, begin, space);
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  std::size_t counted_ = 0;
  int line_;
  std::vector<token> out_;
};

// ---------------------------------------------------------------------------------------------
// Literals
// ---------------------------------------------------------------------------------------------

// strconv.Unquote for "…" and '…' bodies (without the quotes); nullopt on a bad escape.
std::optional<std::string> unescape(std::string_view body, char quote) {
  std::string out;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i >= body.size()) return std::nullopt;
    const char e = body[i];
    auto hex_digits = [&](std::size_t n) -> std::optional<std::uint32_t> {
      std::uint32_t v = 0;
      for (std::size_t k = 1; k <= n; ++k) {
        if (i + k >= body.size()) return std::nullopt;
        const char h = body[i + k];
        v <<= 4;
        if (h >= '0' && h <= '9') {
          v |= static_cast<std::uint32_t>(h - '0');
        } else if (h >= 'a' && h <= 'f') {
          v |= static_cast<std::uint32_t>(h - 'a' + 10);
        } else if (h >= 'A' && h <= 'F') {
          v |= static_cast<std::uint32_t>(h - 'A' + 10);
        } else {
          return std::nullopt;
        }
      }
      i += n;
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
        out += '\\';
        break;
      case '"':
      case '\'':
        if (e != quote) return std::nullopt;
        out += e;
        break;
      case 'x': {
        auto v = hex_digits(2);
        if (!v) return std::nullopt;
        out += static_cast<char>(*v);
        break;
      }
      case 'u':
      case 'U': {
        auto v = hex_digits(e == 'u' ? 4 : 8);
        if (!v || *v > 0x10FFFF || (*v >= 0xD800 && *v <= 0xDFFF)) return std::nullopt;
        append_utf8(out, *v);
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          if (i + 2 >= body.size()) return std::nullopt;
          std::uint32_t v = 0;
          for (std::size_t k = 0; k < 3; ++k) {
            const char o = body[i + k];
            if (o < '0' || o > '7') return std::nullopt;
            v = v * 8 + static_cast<std::uint32_t>(o - '0');
          }
          if (v > 255) return std::nullopt;
          i += 2;
          out += static_cast<char>(v);
          break;
        }
        return std::nullopt;
    }
  }
  return out;
}

std::optional<value> parse_number(std::string text) {
  std::erase(text, '_');
  std::string_view t = text;
  bool negative = false;
  if (!t.empty() && (t[0] == '+' || t[0] == '-')) {
    negative = t[0] == '-';
    t.remove_prefix(1);
  }
  int base = 10;
  std::string_view digits = t;
  if (t.size() > 1 && t[0] == '0') {
    const char p = t[1];
    if (p == 'x' || p == 'X') {
      base = 16;
      digits = t.substr(2);
    } else if (p == 'o' || p == 'O') {
      base = 8;
      digits = t.substr(2);
    } else if (p == 'b' || p == 'B') {
      base = 2;
      digits = t.substr(2);
    } else if (t.find_first_of(".eE") == std::string_view::npos) {
      base = 8;
      digits = t.substr(1);
    }
  }
  const bool is_float = base == 10
                            ? t.find_first_of(".eE") != std::string_view::npos
                            : (base == 16 && t.find_first_of(".pP") != std::string_view::npos);
  if (!is_float) {
    std::uint64_t u = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), u, base);
    if (ec == std::errc() && end == digits.data() + digits.size() && !digits.empty()) {
      if (!negative && u <= static_cast<std::uint64_t>(INT64_MAX)) {
        return value(static_cast<std::int64_t>(u));
      }
      if (negative && u <= static_cast<std::uint64_t>(INT64_MAX) + 1) {
        return value(static_cast<std::int64_t>(0 - u));
      }
      return value(negative ? -static_cast<double>(u) : static_cast<double>(u));
    }
    if (ec != std::errc::result_out_of_range) return std::nullopt;
  }
  char* end = nullptr;
  const double d = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return std::nullopt;
  return value(d);
}

// ---------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------

constexpr int max_parse_nesting = 200;  // parens and control structures, against stack exhaustion

class parser {
 public:
  using has_function_fn = std::function<bool(std::string_view)>;

  parser(std::vector<token> tokens, std::string name, std::string file, has_function_fn has_fn)
      : toks_(std::move(tokens)),
        name_(std::move(name)),
        file_(std::move(file)),
        has_function_(std::move(has_fn)) {}

  // The trees this text defines: its top-level text as `name` plus every define/block.
  std::map<std::string, std::shared_ptr<parsed_tree>> run() {
    auto root = std::make_shared<parsed_tree>();
    root->name = name_;
    root->file = file_;
    vars_ = {"$"};
    while (peek().type != tok::eof) {
      if (peek().type == tok::left && next_non_space_is(1, "define")) {
        next();
        next();
        parse_definition();
        continue;
      }
      auto [n, end] = text_or_action();
      if (end != nullptr) fail(peek_line_, "unexpected {{" + *end + "}}");
      if (n) root->root.push_back(std::move(*n));
    }
    add_tree(std::move(root));
    return std::move(trees_);
  }

 private:
  [[noreturn]] static void fail(int line, const std::string& message) {
    throw parse_failure{line, message};
  }
  const token& peek() const { return toks_[pos_]; }
  const token& next() {
    peek_line_ = toks_[pos_].line;
    return toks_[pos_ < toks_.size() - 1 ? pos_++ : pos_];
  }
  bool next_non_space_is(std::size_t ahead, std::string_view ident) const {
    const std::size_t i = pos_ + ahead;
    return i < toks_.size() && toks_[i].type == tok::identifier && toks_[i].text == ident;
  }
  void expect(tok type, const std::string& context) {
    const token& t = next();
    if (t.type != type) unexpected(t, context);
  }
  [[noreturn]] static void unexpected(const token& t, const std::string& context) {
    std::string shown;
    switch (t.type) {
      case tok::eof:
        shown = "EOF";
        break;
      case tok::right:
        shown = "\"}}\"";
        break;
      case tok::identifier:
        if (is_keyword(t.text)) {
          shown = "<" + t.text + ">";
          break;
        }
        [[fallthrough]];
      default:
        shown = "\"" + (t.text.size() > 10 ? t.text.substr(0, 10) + "\"..." : t.text + "\"");
        if (t.text.size() > 10) shown = "\"" + t.text.substr(0, 10) + "\"...";
    }
    fail(t.line, "unexpected " + shown + " in " + context);
  }
  static bool is_keyword(std::string_view s) {
    return s == "block" || s == "break" || s == "continue" || s == "define" || s == "else" ||
           s == "end" || s == "if" || s == "range" || s == "nil" || s == "template" || s == "with";
  }

  void add_tree(std::shared_ptr<parsed_tree> tree) {
    auto it = trees_.find(tree->name);
    if (it == trees_.end() || is_empty_tree(it->second->root)) {
      trees_[tree->name] = std::move(tree);
      return;
    }
    if (!is_empty_tree(tree->root)) {
      fail(peek_line_, "template: multiple definition of template \"" + tree->name + "\"");
    }
  }

  void parse_definition() {
    const token& name_tok = next();
    if (name_tok.type != tok::string && name_tok.type != tok::raw_string) {
      unexpected(name_tok, "define clause");
    }
    std::string name = string_literal(name_tok);
    expect(tok::right, "define clause");
    auto tree = std::make_shared<parsed_tree>();
    tree->name = std::move(name);
    tree->file = file_;
    const auto saved_vars = vars_;
    vars_ = {"$"};
    auto [list, end] = item_list();
    if (*end != "end") fail(peek_line_, "unexpected {{" + *end + "}} in define clause");
    tree->root = std::move(list);
    vars_ = saved_vars;
    add_tree(std::move(tree));
  }

  std::string string_literal(const token& t) {
    if (t.type == tok::raw_string) return t.text.substr(1, t.text.size() - 2);
    auto s = unescape(std::string_view(t.text).substr(1, t.text.size() - 2), '"');
    if (!s) fail(t.line, "invalid syntax: " + t.text);
    return *s;
  }

  // A list of nodes up to {{end}} or {{else}}; returns the list and which ended it.
  std::pair<std::vector<node>, const std::string*> item_list() {
    std::vector<node> list;
    for (;;) {
      if (peek().type == tok::eof) fail(peek().line, "unexpected EOF");
      auto [n, end] = text_or_action();
      if (end != nullptr) return {std::move(list), end};
      if (n) list.push_back(std::move(*n));
    }
  }

  // A node, or (nullopt, "end"/"else") for those delimiters.
  std::pair<std::optional<node>, const std::string*> text_or_action() {
    static const std::string end_word = "end";
    static const std::string else_word = "else";
    const token& t = next();
    if (t.type == tok::text) {
      node n;
      n.what = node::kind::text;
      n.line = t.line;
      n.text = t.text;
      return {std::move(n), nullptr};
    }
    if (t.type != tok::left) unexpected(t, "input");
    const token& k = peek();
    if (k.type == tok::identifier) {
      if (k.text == "end") {
        next();
        expect(tok::right, "end");
        return {std::nullopt, &end_word};
      }
      if (k.text == "else") {
        next();
        // `else if` leaves the `if` for the caller.
        if (!(peek().type == tok::identifier && peek().text == "if")) expect(tok::right, "else");
        return {std::nullopt, &else_word};
      }
      if (k.text == "if" || k.text == "range" || k.text == "with") {
        next();
        return {control(k.text), nullptr};
      }
      if (k.text == "template" || k.text == "block") {
        next();
        return {template_call(k.text), nullptr};
      }
      if (k.text == "break" || k.text == "continue") {
        const std::string word = k.text;
        const int line = k.line;
        next();
        expect(tok::right, word);
        if (range_depth_ == 0) fail(line, "{{" + word + "}} outside {{range}}");
        node n;
        n.what = word == "break" ? node::kind::break_action : node::kind::continue_action;
        n.line = line;
        return {std::move(n), nullptr};
      }
    }
    node n;
    n.what = node::kind::action;
    n.line = t.line;
    n.pipe = parse_pipeline("command", tok::right);
    return {std::move(n), nullptr};
  }

  node control(const std::string& context) {
    if (++nesting_ > max_parse_nesting) fail(peek().line, "template nested too deeply");
    const std::size_t saved_vars = vars_.size();
    node n;
    n.what = context == "if"
                 ? node::kind::if_action
                 : (context == "range" ? node::kind::range_action : node::kind::with_action);
    n.line = peek().line;
    n.pipe = parse_pipeline(context, tok::right);
    if (n.what == node::kind::range_action) ++range_depth_;
    auto [list, end] = item_list();
    if (n.what == node::kind::range_action) --range_depth_;
    n.list = std::move(list);
    if (*end == "else") {
      n.has_else = true;
      if (context == "if" && peek().type == tok::identifier && peek().text == "if") {
        // {{else if b}}…{{end}} is {{else}}{{if b}}…{{end}}{{end}}: one {{end}} closes both.
        next();
        n.else_list.push_back(control("if"));
      } else {
        auto [else_list, else_end] = item_list();
        if (*else_end != "end") fail(peek_line_, "expected end; found {{else}}");
        n.else_list = std::move(else_list);
      }
    }
    vars_.resize(saved_vars);
    --nesting_;
    return n;
  }

  node template_call(const std::string& context) {
    const token& name_tok = next();
    const std::string clause = context + " clause";
    if (name_tok.type != tok::string && name_tok.type != tok::raw_string) {
      unexpected(name_tok, clause);
    }
    node n;
    n.what = node::kind::call;
    n.line = name_tok.line;
    n.text = string_literal(name_tok);
    if (peek().type != tok::right)
      n.pipe = parse_pipeline(clause, tok::right);
    else
      next();
    if (context == "block") {
      // {{block "x" .}}body{{end}} defines x and calls it.
      auto tree = std::make_shared<parsed_tree>();
      tree->name = n.text;
      tree->file = file_;
      const auto saved_vars = vars_;
      const int saved_range_depth = std::exchange(range_depth_, 0);
      vars_ = {"$"};
      auto [list, end] = item_list();
      if (*end != "end") fail(peek_line_, "unexpected {{else}} in block clause");
      vars_ = saved_vars;
      range_depth_ = saved_range_depth;
      tree->root = std::move(list);
      add_tree(std::move(tree));
    }
    return n;
  }

  std::shared_ptr<const pipeline> parse_pipeline(const std::string& context, tok end) {
    auto pipe = std::make_shared<pipeline>();
    pipe->line = peek().line;
    // Declarations: `$x :=`, `$x =`, and in range `$i, $e :=`.
    while (peek().type == tok::variable &&
           (toks_[pos_ + 1].type == tok::declare || toks_[pos_ + 1].type == tok::assign ||
            toks_[pos_ + 1].type == tok::comma)) {
      const token& v = next();
      const token& op = next();
      if (op.type == tok::assign && std::find(vars_.begin(), vars_.end(), v.text) == vars_.end()) {
        fail(v.line, "undefined variable \"" + v.text + "\"");
      }
      pipe->decl.push_back(v.text);
      if (op.type == tok::comma) {
        if (context != "range" || pipe->decl.size() >= 2) {
          fail(v.line, "too many declarations in " + context);
        }
        if (peek().type != tok::variable) fail(v.line, "range can only initialize variables");
        continue;
      }
      pipe->is_assign = op.type == tok::assign;
      break;
    }
    for (const auto& d : pipe->decl) {
      if (!pipe->is_assign) vars_.push_back(d);
    }
    for (;;) {
      const token& t = peek();
      if (t.type == end) {
        next();
        break;
      }
      switch (t.type) {
        case tok::identifier:
        case tok::character:
        case tok::dot:
        case tok::field:
        case tok::number:
        case tok::string:
        case tok::raw_string:
        case tok::variable:
        case tok::lparen:
          pipe->cmds.push_back(parse_command(end));
          continue;
        default:
          next();
          unexpected(t, context);
      }
    }
    if (pipe->cmds.empty()) fail(peek_line_, "missing value for " + context);
    for (std::size_t i = 1; i < pipe->cmds.size(); ++i) {
      const operand& first = pipe->cmds[i].args[0];
      if (first.what == operand::kind::literal || first.what == operand::kind::dot ||
          first.what == operand::kind::nil) {
        fail(pipe->cmds[i].line,
             "non executable command in pipeline stage " + std::to_string(i + 1));
      }
    }
    return pipe;
  }

  command parse_command(tok end) {
    command cmd;
    cmd.line = peek().line;
    for (;;) {
      auto op = parse_operand();
      if (!op) unexpected(peek(), "operand");
      cmd.args.push_back(std::move(*op));
      const token& t = peek();
      if (t.type == end || (t.type == tok::rparen && end == tok::rparen)) break;
      if (t.type == tok::pipe) {
        next();
        break;
      }
      if (!t.space_before) {
        next();
        unexpected(t, "operand");
      }
    }
    for (const auto& a : cmd.args) cmd.text += (cmd.text.empty() ? "" : " ") + a.text;
    return cmd;
  }

  std::optional<operand> parse_operand() {
    auto term = parse_term();
    if (!term) return std::nullopt;
    if (peek().type == tok::field && !peek().space_before) {
      std::vector<std::string> fields;
      std::string text = term->text;
      while (peek().type == tok::field && !peek().space_before) {
        fields.push_back(next().text.substr(1));
        text += "." + fields.back();
      }
      switch (term->what) {
        case operand::kind::field:
        case operand::kind::variable:
          term->idents.insert(term->idents.end(), fields.begin(), fields.end());
          term->text = text;
          return term;
        case operand::kind::literal:
        case operand::kind::nil:
        case operand::kind::dot:
          fail(term->line, "unexpected . after term \"" + term->text + "\"");
        default: {
          operand chain;
          chain.what = operand::kind::chain;
          chain.line = term->line;
          chain.idents = std::move(fields);
          chain.text = text;
          chain.term = std::make_shared<const operand>(std::move(*term));
          return chain;
        }
      }
    }
    return term;
  }

  std::optional<operand> parse_term() {
    const token& t = peek();
    operand op;
    op.line = t.line;
    op.text = t.text;
    switch (t.type) {
      case tok::identifier:
        next();
        if (t.text == "true" || t.text == "false") {
          op.what = operand::kind::literal;
          op.literal = value(t.text == "true");
        } else if (t.text == "nil") {
          op.what = operand::kind::nil;
        } else if (is_keyword(t.text)) {
          unexpected(t, "command");
        } else {
          if (!has_function_(t.text)) fail(t.line, "function \"" + t.text + "\" not defined");
          op.what = operand::kind::identifier;
          op.idents = {t.text};
        }
        return op;
      case tok::dot:
        next();
        op.what = operand::kind::dot;
        return op;
      case tok::variable:
        next();
        if (std::find(vars_.begin(), vars_.end(), t.text) == vars_.end()) {
          fail(t.line, "undefined variable \"" + t.text + "\"");
        }
        op.what = operand::kind::variable;
        op.idents = {t.text};
        return op;
      case tok::field:
        next();
        op.what = operand::kind::field;
        op.idents = {t.text.substr(1)};
        return op;
      case tok::number: {
        next();
        auto v = parse_number(t.text);
        if (!v) fail(t.line, "bad number syntax: \"" + t.text + "\"");
        op.what = operand::kind::literal;
        op.literal = std::move(*v);
        return op;
      }
      case tok::character: {
        next();
        auto s = unescape(std::string_view(t.text).substr(1, t.text.size() - 2), '\'');
        std::uint32_t cp = 0;
        std::size_t runes = 0;
        if (s) {
          for (std::size_t i = 0; i < s->size(); ++i) {
            const auto b = static_cast<unsigned char>((*s)[i]);
            if ((b & 0xC0) == 0x80) {
              cp = (cp << 6) | (b & 0x3F);
            } else {
              ++runes;
              cp = b < 0x80 ? b : (b < 0xE0 ? b & 0x1F : (b < 0xF0 ? b & 0x0F : b & 0x07));
            }
          }
        }
        if (!s || runes != 1) fail(t.line, "malformed character constant: " + t.text);
        op.what = operand::kind::literal;
        op.literal = value(static_cast<std::int64_t>(cp));
        return op;
      }
      case tok::string:
      case tok::raw_string:
        next();
        op.what = operand::kind::literal;
        op.literal = value(string_literal(t));
        return op;
      case tok::lparen:
        next();
        if (++nesting_ > max_parse_nesting) fail(t.line, "template nested too deeply");
        op.what = operand::kind::pipe;
        op.pipe = parse_pipeline("parenthesized pipeline", tok::rparen);
        --nesting_;
        op.text = "(" + pipe_text(*op.pipe) + ")";
        return op;
      default:
        return std::nullopt;
    }
  }

  static std::string pipe_text(const pipeline& p) {
    std::string s;
    for (const auto& c : p.cmds) s += (s.empty() ? "" : " | ") + c.text;
    return s;
  }

  std::vector<token> toks_;
  std::size_t pos_ = 0;
  int peek_line_ = 0;
  std::string name_, file_;
  has_function_fn has_function_;
  std::vector<std::string> vars_;
  int range_depth_ = 0;
  int nesting_ = 0;
  std::map<std::string, std::shared_ptr<parsed_tree>> trees_;
};

}  // namespace

std::map<std::string, std::shared_ptr<parsed_tree>> parse_templates(
    std::string_view text, int first_line, const std::string& name, const std::string& file,
    const std::function<bool(std::string_view)>& has_function) {
  lexer lex(text, first_line);
  parser p(lex.run(), name, file, has_function);
  return p.run();
}

bool is_empty_tree(const std::vector<node>& list) {
  return std::all_of(list.begin(), list.end(), [](const node& n) {
    return n.what == node::kind::text &&
           std::all_of(n.text.begin(), n.text.end(), [](char c) { return is_space(c); });
  });
}

}  // namespace tocsin::sinks::go_template
