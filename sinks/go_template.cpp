// Go's text/template: a lexer and parser that follow text/template/parse (lex.go, parse.go) and
// an executor that follows text/template/exec.go, over go_template::value.

#include "sinks/go_template.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <ranges>
#include <utility>

#include "sinks/go_html.hpp"

namespace tocsin::sinks::go_template {

// ---------------------------------------------------------------------------------------------
// Parse tree
// ---------------------------------------------------------------------------------------------

struct pipeline;

// One operand of a command.
struct operand {
  enum class kind { field, variable, identifier, dot, nil, literal, pipe, chain };
  kind what = kind::dot;
  int line = 0;
  std::vector<std::string> idents;  // field: {"A","B"}; variable: {"$x","A"}; identifier: {"f"}
                                    // chain: the fields after the term
  value literal;
  std::shared_ptr<const pipeline> pipe;  // kind::pipe
  std::shared_ptr<const operand> term;   // kind::chain: what the fields apply to
  std::string text;                      // source text, for error messages
};

struct command {
  std::vector<operand> args;
  int line = 0;
  std::string text;
};

struct pipeline {
  int line = 0;
  bool is_assign = false;         // `$x = …` rather than `$x := …`
  std::vector<std::string> decl;  // declared or assigned variables
  std::vector<command> cmds;
};

struct node {
  enum class kind {
    text,
    action,
    if_action,
    range_action,
    with_action,
    call,
    break_action,
    continue_action
  };
  kind what = kind::text;
  int line = 0;
  std::string text;  // text; the called template's name
  std::shared_ptr<const pipeline> pipe;
  std::vector<node> list, else_list;
  bool has_else = false;
};

struct parsed_tree {
  std::string name;
  std::string file;
  std::vector<node> root;
};

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_alnum(char c) {
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (static_cast<unsigned char>(c) >= 0x80);  // Go allows Unicode letters in names
}

// A parse error; parse() turns it into "FILE:LINE: template: …".
struct parse_failure {
  int line;
  std::string message;
};

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

void append_utf8_rune(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

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
        append_utf8_rune(out, *v);
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
    if (it == trees_.end() || is_empty(it->second->root)) {
      trees_[tree->name] = std::move(tree);
      return;
    }
    if (!is_empty(tree->root)) {
      fail(peek_line_, "template: multiple definition of template \"" + tree->name + "\"");
    }
  }

 public:
  static bool is_empty(const std::vector<node>& list) {
    return std::all_of(list.begin(), list.end(), [](const node& n) {
      return n.what == node::kind::text &&
             std::all_of(n.text.begin(), n.text.end(), [](char c) { return is_space(c); });
    });
  }

 private:
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

// ---------------------------------------------------------------------------------------------
// Executor
// ---------------------------------------------------------------------------------------------

struct break_signal {};
struct continue_signal {};

// Where execution is, for the error message.
struct exec_failure {
  std::string message;
};

class executor {
 public:
  using lookup_fn = std::function<const parsed_tree*(std::string_view)>;

  // `html`: null for plain text, else the HTML context the output is escaped for.
  executor(const function_map& functions, lookup_fn lookup, missing_key missing, limits lim,
           std::string& out, html_context* html)
      : functions_(functions),
        lookup_(std::move(lookup)),
        missing_(missing),
        limits_(lim),
        out_(out),
        html_(html) {}

  void run(const parsed_tree& tree, const value& data) {
    tree_ = &tree;
    vars_ = {{"$", data}};
    try {
      walk_list(data, tree.root);
    } catch (const exec_error& e) {
      std::string where = tree_->file.empty() ? tree_->name : tree_->file;
      throw exec_failure{where + ":" + std::to_string(line_) + ": template: executing \"" +
                         tree_->name + "\" at <" + at_ + ">: " + e.what()};
    }
  }

 private:
  void step() {
    if (++steps_ > limits_.max_steps) {
      throw exec_error("exceeded the limit of " + std::to_string(limits_.max_steps) +
                       " evaluation steps");
    }
  }

  void write(std::string_view s) {
    if (out_.size() + s.size() > limits_.max_output) {
      throw exec_error("output exceeds " + std::to_string(limits_.max_output) + " bytes");
    }
    out_ += s;
  }

  void walk_list(const value& dot, const std::vector<node>& list) {
    for (const node& n : list) walk(dot, n);
  }

  void walk(const value& dot, const node& n) {
    step();
    line_ = n.line;
    switch (n.what) {
      case node::kind::text:
        if (html_ != nullptr) {
          write(html_->template_text(n.text));
        } else {
          write(n.text);
        }
        return;
      case node::kind::action: {
        const value v = eval_pipeline(dot, *n.pipe);
        if (!n.pipe->decl.empty()) return;
        if (html_ != nullptr) {
          write(html_->escape(v, predefined_escaper(*n.pipe)));
        } else {
          write(v.is_valid() ? to_go_string(v) : "<no value>");
        }
        return;
      }
      case node::kind::if_action:
      case node::kind::with_action: {
        const std::size_t mark = vars_.size();
        const value v = eval_pipeline(dot, *n.pipe);
        if (is_true(v)) {
          walk_list(n.what == node::kind::with_action ? v : dot, n.list);
        } else if (n.has_else) {
          walk_list(dot, n.else_list);
        }
        vars_.resize(mark);
        return;
      }
      case node::kind::range_action:
        walk_range(dot, n);
        return;
      case node::kind::call:
        walk_template(dot, n);
        return;
      case node::kind::break_action:
        throw break_signal{};
      case node::kind::continue_action:
        throw continue_signal{};
    }
  }

  // "html" or "urlquery" when the pipeline ends with that function (html/template lets it stand
  // in for an escaper it would add), else "".
  static std::string_view predefined_escaper(const pipeline& p) {
    const operand& last = p.cmds.back().args[0];
    if (last.what != operand::kind::identifier) return {};
    const std::string& name = last.idents[0];
    return name == "html" || name == "urlquery" ? std::string_view(name) : std::string_view();
  }

  void walk_range(const value& dot, const node& n) {
    const std::size_t outer = vars_.size();
    const value v = eval_pipeline(dot, *n.pipe);
    const std::size_t mark = vars_.size();
    const std::size_t decls = n.pipe->decl.size();
    auto one = [&](const value& index, const value& elem) {
      if (decls > 0) {
        if (n.pipe->is_assign) {
          set_var(n.pipe->decl[decls == 1 ? 0 : 1], elem);
          if (decls > 1) set_var(n.pipe->decl[0], index);
        } else {
          vars_[mark - 1].second = elem;
          if (decls > 1) vars_[mark - 2].second = index;
        }
      }
      bool stop = false;
      try {
        walk_list(elem, n.list);
      } catch (const continue_signal&) {
      } catch (const break_signal&) {
        stop = true;
      }
      vars_.resize(mark);
      return !stop;
    };
    bool any = false;
    switch (v.type()) {
      case value::kind::list: {
        std::int64_t i = 0;
        for (const value& elem : v.as_list()) {
          any = true;
          if (!one(value(i++), elem)) break;
        }
        break;
      }
      case value::kind::map:
        for (const auto& [key, elem] : v.as_map()) {
          any = true;
          if (!one(value(key), elem)) break;
        }
        break;
      case value::kind::invalid:
      case value::kind::nil:
        break;  // a nil list or map: not an error
      default:
        throw exec_error("range can't iterate over " + to_go_string(v));
    }
    if (!any && n.has_else) walk_list(dot, n.else_list);
    vars_.resize(outer);
  }

  void walk_template(const value& dot, const node& n) {
    const parsed_tree* t = lookup_(n.text);
    if (t == nullptr) throw exec_error("template \"" + n.text + "\" not defined");
    if (depth_ >= limits_.max_depth) {
      throw exec_error("exceeded maximum template depth (" + std::to_string(limits_.max_depth) +
                       ")");
    }
    const value new_dot = n.pipe ? eval_pipeline(dot, *n.pipe) : value();
    auto saved_vars = std::exchange(vars_, {{"$", new_dot}});
    const parsed_tree* saved_tree = std::exchange(tree_, t);
    ++depth_;
    walk_list(new_dot, t->root);
    --depth_;
    tree_ = saved_tree;
    vars_ = std::move(saved_vars);
  }

  value eval_pipeline(const value& dot, const pipeline& p) {
    std::optional<value> final;
    for (const command& c : p.cmds) final = eval_command(dot, c, final);
    for (const std::string& d : p.decl) {
      if (p.is_assign) {
        set_var(d, *final);
      } else {
        vars_.emplace_back(d, *final);
      }
    }
    return *final;
  }

  void set_var(const std::string& name, const value& v) {
    for (std::size_t i = vars_.size(); i-- > 0;) {  // the innermost declaration wins
      if (vars_[i].first == name) {
        vars_[i].second = v;
        return;
      }
    }
    throw exec_error("undefined variable: " + name);
  }

  const value& var_value(const std::string& name) {
    for (std::size_t i = vars_.size(); i-- > 0;) {
      if (vars_[i].first == name) return vars_[i].second;
    }
    throw exec_error("undefined variable: " + name);
  }

  static void not_a_function(const std::vector<operand>& args, const std::optional<value>& final) {
    if (args.size() > 1 || final) {
      throw exec_error("can't give argument to non-function " + args[0].text);
    }
  }

  value eval_command(const value& dot, const command& c, const std::optional<value>& final) {
    step();
    at_ = c.text;
    line_ = c.line;
    const operand& first = c.args[0];
    switch (first.what) {
      case operand::kind::field:
        return eval_field_chain(dot, dot, first.text, first.idents, c.args, final);
      case operand::kind::chain: {
        const value receiver = eval_arg(dot, *first.term);
        return eval_field_chain(dot, receiver, first.text, first.idents, c.args, final);
      }
      case operand::kind::identifier:
        return eval_function(dot, first.idents[0], c.args, final);
      case operand::kind::pipe:
        not_a_function(c.args, final);
        return eval_pipeline(dot, *first.pipe);
      case operand::kind::variable: {
        const value& v = var_value(first.idents[0]);
        if (first.idents.size() == 1) {
          not_a_function(c.args, final);
          return v;
        }
        const std::vector<std::string> fields(first.idents.begin() + 1, first.idents.end());
        return eval_field_chain(dot, v, first.text, fields, c.args, final);
      }
      case operand::kind::dot:
        not_a_function(c.args, final);
        return dot;
      case operand::kind::literal:
        not_a_function(c.args, final);
        return first.literal;
      case operand::kind::nil:
        throw exec_error("nil is not a command");
    }
    return {};
  }

  value eval_arg(const value& dot, const operand& a) {
    switch (a.what) {
      case operand::kind::dot:
        return dot;
      case operand::kind::nil:
        return value::nil();
      case operand::kind::literal:
        return a.literal;
      case operand::kind::field:
        return eval_field_chain(dot, dot, a.text, a.idents, {a}, std::nullopt);
      case operand::kind::variable: {
        const value& v = var_value(a.idents[0]);
        if (a.idents.size() == 1) return v;
        const std::vector<std::string> fields(a.idents.begin() + 1, a.idents.end());
        return eval_field_chain(dot, v, a.text, fields, {a}, std::nullopt);
      }
      case operand::kind::pipe:
        return eval_pipeline(dot, *a.pipe);
      case operand::kind::identifier:
        return eval_function(dot, a.idents[0], {a}, std::nullopt);
      case operand::kind::chain: {
        const value receiver = eval_arg(dot, *a.term);
        return eval_field_chain(dot, receiver, a.text, a.idents, {a}, std::nullopt);
      }
    }
    return {};
  }

  value eval_field_chain(const value& dot, value receiver, const std::string& text,
                         const std::vector<std::string>& fields, const std::vector<operand>& args,
                         const std::optional<value>& final) {
    static const std::vector<operand> no_args(1);
    for (std::size_t i = 0; i + 1 < fields.size(); ++i) {
      receiver = eval_field(dot, fields[i], text, no_args, std::nullopt, receiver);
    }
    return eval_field(dot, fields.back(), text, args, final, receiver);
  }

  value eval_field(const value& dot, const std::string& name, const std::string& text,
                   const std::vector<operand>& args, const std::optional<value>& final,
                   const value& receiver) {
    if (!receiver.is_valid()) {
      if (missing_ == missing_key::error) {
        throw exec_error("nil data; no entry for key \"" + name + "\"");
      }
      return {};
    }
    if (const callable* m = find_method(receiver, name)) {
      std::vector<value> argv{receiver};
      for (std::size_t i = 1; i < args.size(); ++i) argv.push_back(eval_arg(dot, args[i]));
      if (final) argv.push_back(*final);
      return call(*m, name, argv, 1);
    }
    const bool has_args = args.size() > 1 || final.has_value();
    switch (receiver.type()) {
      case value::kind::record: {
        const value* f = receiver.field(name);
        if (f == nullptr) {
          throw exec_error("can't evaluate field " + name + " in type " + go_type_name(receiver));
        }
        if (has_args) throw exec_error(name + " has arguments but cannot be invoked as function");
        return *f;
      }
      case value::kind::map: {
        if (has_args) throw exec_error(name + " is not a method but has arguments");
        const auto& m = receiver.as_map();
        auto it = m.find(name);
        if (it != m.end()) return it->second;
        switch (missing_) {
          case missing_key::no_value:
            return {};
          case missing_key::zero:
            return receiver.map_missing();
          case missing_key::error:
            throw exec_error("map has no entry for key \"" + name + "\"");
        }
        return {};
      }
      case value::kind::nil:
        throw exec_error("nil pointer evaluating " + text);
      default:
        throw exec_error("can't evaluate field " + name + " in type " + go_type_name(receiver));
    }
  }

  static const callable* find_method(const value& receiver, const std::string& name);

  value eval_function(const value& dot, const std::string& name, const std::vector<operand>& args,
                      const std::optional<value>& final) {
    if (name == "and" || name == "or") {
      // Go 1.18+: evaluate left to right and stop at the first false (and) / true (or) value.
      const std::size_t n = args.size() - 1 + (final ? 1 : 0);
      if (n == 0) throw exec_error("wrong number of args for " + name + ": want at least 1 got 0");
      value v;
      for (std::size_t i = 1; i <= n; ++i) {
        v = i < args.size() ? eval_arg(dot, args[i]) : *final;
        if (is_true(v) != (name == "and")) return v;
      }
      return v;
    }
    auto it = functions_.find(name);
    if (it == functions_.end()) throw exec_error("\"" + name + "\" is not a defined function");
    std::vector<value> argv;
    for (std::size_t i = 1; i < args.size(); ++i) argv.push_back(eval_arg(dot, args[i]));
    if (final) argv.push_back(*final);
    return call(it->second, name, argv, 0);
  }

  static value call(const callable& f, const std::string& name, const std::vector<value>& argv,
                    std::size_t self) {
    const auto n = static_cast<int>(argv.size() - self);
    if (f.max_args < 0 ? n < f.min_args : (n < f.min_args || n > f.max_args)) {
      throw exec_error("wrong number of args for " + name + ": want " +
                       (f.max_args < 0 ? "at least " : "") + std::to_string(f.min_args) + " got " +
                       std::to_string(n));
    }
    try {
      return f.call(argv);
    } catch (const arg_type_error&) {
      throw;
    } catch (const exec_error& e) {
      throw exec_error("error calling " + name + ": " + e.what());
    } catch (const std::exception& e) {  // a function's own failure must not escape a render
      throw exec_error("error calling " + name + ": " + e.what());
    }
  }

  const function_map& functions_;
  lookup_fn lookup_;
  missing_key missing_;
  limits limits_;
  std::string& out_;
  html_context* html_;
  const parsed_tree* tree_ = nullptr;
  std::vector<std::pair<std::string, value>> vars_;
  int depth_ = 0;
  std::uint64_t steps_ = 0;
  int line_ = 0;
  std::string at_;
};

// Methods of time.Time and time.Duration; other types carry theirs in their type_info.
const type_info& time_type() {
  static const type_info t = [] {
    type_info info{"time.Time", {}};
    auto self = [](std::span<const value> a) -> const time_value& { return a[0].as_time(); };
    info.methods["String"] = {0, 0, [self](auto a) { return value(format_go_time(self(a))); }};
    info.methods["Format"] = {
        1, 1, [self](auto a) { return value(format_go_time(self(a), want_string(a[1]))); }};
    info.methods["UTC"] = {0, 0, [self](auto a) {
                             time_value t = self(a);
                             t.offset = std::chrono::seconds(0);
                             t.zone = "UTC";
                             return value(std::move(t));
                           }};
    info.methods["Unix"] = {
        0, 0, [self](auto a) {
          return value(static_cast<std::int64_t>(self(a).seconds.time_since_epoch().count()));
        }};
    info.methods["UnixMilli"] = {
        0, 0, [self](auto a) {
          return value(static_cast<std::int64_t>(self(a).seconds.time_since_epoch().count() * 1000 +
                                                 self(a).nanos / 1000000));
        }};
    info.methods["IsZero"] = {0, 0, [self](auto a) { return value(self(a).is_go_zero()); }};
    return info;
  }();
  return t;
}

const type_info& duration_type() {
  static const type_info t = [] {
    type_info info{"time.Duration", {}};
    info.methods["String"] = {0, 0,
                              [](auto a) { return value(format_go_duration(a[0].as_duration())); }};
    info.methods["Seconds"] = {
        0, 0, [](auto a) { return value(static_cast<double>(a[0].as_duration().count()) / 1e9); }};
    info.methods["Minutes"] = {
        0, 0, [](auto a) { return value(static_cast<double>(a[0].as_duration().count()) / 60e9); }};
    info.methods["Hours"] = {
        0, 0,
        [](auto a) { return value(static_cast<double>(a[0].as_duration().count()) / 3600e9); }};
    return info;
  }();
  return t;
}

const callable* executor::find_method(const value& receiver, const std::string& name) {
  const type_info* t = receiver.named_type();
  if (receiver.type() == value::kind::time) t = &time_type();
  if (receiver.type() == value::kind::duration) t = &duration_type();
  if (t == nullptr) return nullptr;
  auto it = t->methods.find(name);
  return it == t->methods.end() ? nullptr : &it->second;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Argument checks
// ---------------------------------------------------------------------------------------------

const std::string& want_string(const value& v) {
  if (v.type() == value::kind::string) return v.as_string();
  if (!v.is_valid()) throw arg_type_error("invalid value; expected string");
  throw arg_type_error("wrong type for value; expected string; got " + go_type_name(v));
}

std::int64_t want_int(const value& v) {
  if (v.type() == value::kind::integer) return v.as_int();
  if (!v.is_valid()) throw arg_type_error("invalid value; expected int");
  throw arg_type_error("wrong type for value; expected int; got " + go_type_name(v));
}

std::vector<std::string> want_strings(const value& v) {
  const bool string_list = v.type() == value::kind::list && v.named_type() != nullptr &&
                           std::all_of(v.as_list().begin(), v.as_list().end(), [](const value& e) {
                             return e.type() == value::kind::string;
                           });
  if (v.type() == value::kind::nil || v.type() == value::kind::invalid) return {};
  if (!string_list) {
    throw arg_type_error("wrong type for value; expected []string; got " + go_type_name(v));
  }
  std::vector<std::string> out;
  out.reserve(v.as_list().size());
  for (const value& e : v.as_list()) out.push_back(e.as_string());
  return out;
}

// ---------------------------------------------------------------------------------------------
// template_set
// ---------------------------------------------------------------------------------------------

template_set::template_set(function_map functions, missing_key missing, limits lim)
    : functions_(std::make_shared<const function_map>(std::move(functions))),
      missing_(missing),
      limits_(lim) {}

std::optional<std::string> template_set::parse(std::string_view name, std::string_view text,
                                               const source_location& where) {
  try {
    lexer lex(text, where.line);
    parser p(lex.run(), std::string(name), where.file, [this](std::string_view f) {
      return f == "and" || f == "or" || functions_->find(f) != functions_->end();
    });
    for (auto& [tree_name, tree] : p.run()) {
      auto it = templates_.find(tree_name);
      // Go keeps an existing template rather than replace it with an empty one.
      if (it != templates_.end() && parser::is_empty(tree->root)) continue;
      templates_[tree_name] = std::move(tree);
    }
    return std::nullopt;
  } catch (const parse_failure& f) {
    const std::string file = where.file.empty() ? std::string(name) : where.file;
    return file + ":" + std::to_string(f.line) + ": template: " + f.message;
  }
}

bool template_set::defines(std::string_view name) const {
  return templates_.find(name) != templates_.end();
}

std::vector<std::string> template_set::names() const {
  std::vector<std::string> out;
  out.reserve(templates_.size());
  for (const auto& entry : templates_) out.push_back(entry.first);
  return out;
}

render_result template_set::execute(std::string_view name, const value& data, escaping mode) const {
  render_result result;
  auto it = templates_.find(name);
  if (it == templates_.end()) {
    result.error = "template: no template \"" + std::string(name) + "\" associated with template";
    return result;
  }
  html_context html;
  try {
    executor ex(
        *functions_,
        [this](std::string_view n) -> const parsed_tree* {
          auto t = templates_.find(n);
          return t == templates_.end() ? nullptr : t->second.get();
        },
        missing_, limits_, result.text, mode == escaping::html ? &html : nullptr);
    ex.run(*it->second, data);
  } catch (const exec_failure& f) {
    result.error = f.message;
  } catch (const std::exception& e) {  // e.g. std::bad_alloc: a render never throws
    result.error = std::string("template: ") + e.what();
  } catch (...) {
    result.error = "template: internal error";
  }
  if (!result.ok()) result.text.clear();
  return result;
}

render_result template_set::execute_text(std::string_view text, const value& data,
                                         const source_location& where, escaping mode) const {
  if (text.empty()) return {};
  template_set copy = *this;
  if (auto error = copy.parse("", text, where)) return {{}, *error};
  return copy.execute("", data, mode);
}

}  // namespace tocsin::sinks::go_template
