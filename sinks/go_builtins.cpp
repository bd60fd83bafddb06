// text/template's predefined functions (funcs.go), minus `and`/`or`, which the executor
// evaluates lazily, and `call`, which needs function values that templates here never hold.

#include <string>
#include <string_view>

#include "sinks/go_template.hpp"

namespace tocsin::sinks::go_template {
namespace {

// What html, js and urlquery escape: the one string argument, else fmt.Sprint of all, with no
// value shown as "<no value>" (Go's evalArgs).
std::string joined_args(std::span<const value> args) {
  if (args.size() == 1 && args[0].type() == value::kind::string) return args[0].as_string();
  std::string out;
  bool previous_string = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const bool is_string = args[i].type() == value::kind::string || !args[i].is_valid();
    if (i > 0 && !is_string && !previous_string) out += ' ';
    out += args[i].is_valid() ? to_go_string(args[i]) : "<no value>";
    previous_string = is_string;
  }
  return out;
}

std::string html_escape(std::string_view s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '\0':
        out += "\xEF\xBF\xBD";  // U+FFFD
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string js_escape(std::string_view s) {
  static constexpr std::string_view hex = "0123456789ABCDEF";
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\'':
        out += "\\'";
        break;
      case '"':
        out += "\\\"";
        break;
      case '<':
        out += "\\u003C";
        break;
      case '>':
        out += "\\u003E";
        break;
      case '&':
        out += "\\u0026";
        break;
      case '=':
        out += "\\u003D";
        break;
      default:
        if (static_cast<unsigned char>(c) < ' ') {
          out += "\\u00";
          out += hex[static_cast<unsigned char>(c) >> 4];
          out += hex[static_cast<unsigned char>(c) & 0x0F];
        } else {
          out += c;  // printable ASCII and UTF-8 as is
        }
    }
  }
  return out;
}

// url.QueryEscape.
std::string query_escape(std::string_view s) {
  static constexpr std::string_view hex = "0123456789ABCDEF";
  std::string out;
  for (const char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += c;
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[b >> 4];
      out += hex[b & 0x0F];
    }
  }
  return out;
}

// fmt.Sprint: a space between operands when neither is a string.
std::string sprint(std::span<const value> args) {
  std::string out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const bool is_string = args[i].type() == value::kind::string;
    if (i > 0 && !is_string && args[i - 1].type() != value::kind::string) out += ' ';
    out += to_go_string(args[i]);
  }
  return out;
}

std::string sprintln(std::span<const value> args) {
  std::string out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (i > 0) out += ' ';
    out += to_go_string(args[i]);
  }
  return out + "\n";
}

// Go's basicKind classes for comparisons.
enum class basic { invalid, boolean, integer, floating, string, other };

basic basic_kind(const value& v) {
  switch (v.type()) {
    case value::kind::boolean:
      return basic::boolean;
    case value::kind::integer:
    case value::kind::duration:
      return basic::integer;
    case value::kind::floating:
      return basic::floating;
    case value::kind::string:
      return basic::string;
    case value::kind::invalid:
      return basic::invalid;
    default:
      return basic::other;
  }
}

std::int64_t int_of(const value& v) {
  return v.type() == value::kind::duration ? static_cast<std::int64_t>(v.as_duration().count())
                                           : v.as_int();
}

bool equal(const value& a, const value& b) {
  const basic ka = basic_kind(a);
  const basic kb = basic_kind(b);
  if (ka != kb) {
    if (a.is_valid() && b.is_valid() && a.type() != value::kind::nil &&
        b.type() != value::kind::nil) {
      throw exec_error("incompatible types for comparison");
    }
    return false;
  }
  switch (ka) {
    case basic::boolean:
      return a.as_bool() == b.as_bool();
    case basic::integer:
      return int_of(a) == int_of(b);
    case basic::floating:
      return a.as_float() == b.as_float();
    case basic::string:
      return a.as_string() == b.as_string();
    case basic::invalid:
      return true;
    case basic::other:
      break;
  }
  if (a.type() == value::kind::nil || b.type() == value::kind::nil) {
    return a.type() == b.type();
  }
  if (a.type() == value::kind::time && b.type() == value::kind::time) {
    return a.as_time().seconds == b.as_time().seconds && a.as_time().nanos == b.as_time().nanos &&
           a.as_time().offset == b.as_time().offset;
  }
  throw exec_error("non-comparable type " + to_go_string(a) + ": " + go_type_name(a));
}

bool less(const value& a, const value& b) {
  const basic ka = basic_kind(a);
  const basic kb = basic_kind(b);
  if (ka == basic::boolean || ka == basic::other || ka == basic::invalid || kb == basic::boolean ||
      kb == basic::other || kb == basic::invalid) {
    throw exec_error("invalid type for comparison");
  }
  if (ka != kb) throw exec_error("incompatible types for comparison");
  switch (ka) {
    case basic::integer:
      return int_of(a) < int_of(b);
    case basic::floating:
      return a.as_float() < b.as_float();
    default:
      return a.as_string() < b.as_string();
  }
}

value index_of(std::span<const value> args) {
  value item = args[0];
  if (!item.is_valid() || item.type() == value::kind::nil) {
    throw exec_error("index of untyped nil");
  }
  for (std::size_t k = 1; k < args.size(); ++k) {
    const value& key = args[k];
    switch (item.type()) {
      case value::kind::list:
      case value::kind::string: {
        if (key.type() != value::kind::integer) {
          throw exec_error(key.type() == value::kind::nil || !key.is_valid()
                               ? "cannot index slice/array with nil"
                               : "cannot index slice/array with type " + go_type_name(key));
        }
        const std::int64_t x = key.as_int();
        const auto size = static_cast<std::int64_t>(
            item.type() == value::kind::list ? item.as_list().size() : item.as_string().size());
        if (x < 0 || x >= size) {
          throw exec_error("index out of range: " + std::to_string(x));
        }
        if (item.type() == value::kind::list) {
          value next = item.as_list()[static_cast<std::size_t>(x)];
          item = std::move(next);
        } else {
          item = value(static_cast<std::int64_t>(
              static_cast<unsigned char>(item.as_string()[static_cast<std::size_t>(x)])));
        }
        break;
      }
      case value::kind::map: {
        if (key.type() != value::kind::string) {
          throw exec_error("value has type " + go_type_name(key) + "; should be string");
        }
        const auto& m = item.as_map();
        auto it = m.find(key.as_string());
        value next = it != m.end() ? it->second : item.map_missing();
        item = std::move(next);
        break;
      }
      default:
        throw exec_error("can't index item of type " + go_type_name(item));
    }
  }
  return item;
}

value slice_of(std::span<const value> args) {
  const value& item = args[0];
  if (!item.is_valid() || item.type() == value::kind::nil) {
    throw exec_error("slice of untyped nil");
  }
  if (args.size() > 4) {
    throw exec_error("too many slice indexes: " + std::to_string(args.size() - 1));
  }
  std::size_t size = 0;
  if (item.type() == value::kind::string) {
    if (args.size() == 4) throw exec_error("cannot 3-index slice a string");
    size = item.as_string().size();
  } else if (item.type() == value::kind::list) {
    size = item.as_list().size();
  } else {
    throw exec_error("can't slice item of type " + go_type_name(item));
  }
  std::vector<std::int64_t> idx = {0, static_cast<std::int64_t>(size)};
  for (std::size_t k = 1; k < args.size() && k < 3; ++k) {
    if (args[k].type() != value::kind::integer) {
      throw exec_error("cannot index slice/array with type " + go_type_name(args[k]));
    }
    const std::int64_t x = args[k].as_int();
    if (x < 0 || x > static_cast<std::int64_t>(size)) {
      throw exec_error("index out of range: " + std::to_string(x));
    }
    idx[k - 1] = x;
  }
  if (idx[0] > idx[1]) {
    throw exec_error("invalid slice index: " + std::to_string(idx[0]) + " > " +
                     std::to_string(idx[1]));
  }
  const auto from = static_cast<std::size_t>(idx[0]);
  const auto to = static_cast<std::size_t>(idx[1]);
  if (item.type() == value::kind::string) return value(item.as_string().substr(from, to - from));
  const auto& list = item.as_list();
  return value::list(value::list_type(list.begin() + static_cast<std::ptrdiff_t>(from),
                                      list.begin() + static_cast<std::ptrdiff_t>(to)),
                     item.named_type());
}

}  // namespace

function_map builtin_functions() {
  function_map f;
  f["print"] = {0, -1, [](auto a) { return value(sprint(a)); }};
  f["println"] = {0, -1, [](auto a) { return value(sprintln(a)); }};
  f["printf"] = {1, -1, [](auto a) { return value(go_sprintf(want_string(a[0]), a.subspan(1))); }};
  f["html"] = {0, -1, [](auto a) { return value(html_escape(joined_args(a))); }};
  f["js"] = {0, -1, [](auto a) { return value(js_escape(joined_args(a))); }};
  f["urlquery"] = {0, -1, [](auto a) { return value(query_escape(joined_args(a))); }};
  f["not"] = {1, 1, [](auto a) { return value(!is_true(a[0])); }};
  f["len"] = {1, 1, [](auto a) {
                switch (a[0].type()) {
                  case value::kind::string:
                    return value(static_cast<std::int64_t>(a[0].as_string().size()));
                  case value::kind::list:
                    return value(static_cast<std::int64_t>(a[0].as_list().size()));
                  case value::kind::map:
                    return value(static_cast<std::int64_t>(a[0].as_map().size()));
                  case value::kind::invalid:
                  case value::kind::nil:
                    throw exec_error("len of nil pointer");
                  default:
                    throw exec_error("len of type " + go_type_name(a[0]));
                }
              }};
  f["index"] = {1, -1, [](auto a) { return index_of(a); }};
  f["slice"] = {1, -1, [](auto a) { return slice_of(a); }};
  f["eq"] = {1, -1, [](auto a) {
               if (a.size() < 2) throw exec_error("missing argument for comparison");
               for (std::size_t i = 1; i < a.size(); ++i) {
                 if (equal(a[0], a[i])) return value(true);
               }
               return value(false);
             }};
  f["ne"] = {2, 2, [](auto a) { return value(!equal(a[0], a[1])); }};
  f["lt"] = {2, 2, [](auto a) { return value(less(a[0], a[1])); }};
  f["le"] = {2, 2, [](auto a) { return value(less(a[0], a[1]) || equal(a[0], a[1])); }};
  f["gt"] = {2, 2, [](auto a) { return value(!less(a[0], a[1]) && !equal(a[0], a[1])); }};
  f["ge"] = {2, 2, [](auto a) { return value(!less(a[0], a[1])); }};
  return f;
}

}  // namespace tocsin::sinks::go_template
