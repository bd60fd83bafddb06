// Go's printing of template values: the value model itself, fmt's %v rules, Sprintf's verbs,
// strconv.Quote, time.Time and time.Duration formatting.

#include <algorithm>
#include <array>
#include <charconv>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>

#include "core/utf8.hpp"
#include "sinks/go_template.hpp"

namespace tocsin::sinks::go_template {

struct value::compound {
  kind what = kind::list;
  const type_info* type = nullptr;
  list_type list;
  map_type map;
  value missing;
  record_type record;
};

time_value time_value::from(std::chrono::system_clock::time_point t) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch());
  const auto secs = std::chrono::floor<std::chrono::seconds>(ns);
  return {std::chrono::sys_seconds(secs), (ns - secs).count(), std::chrono::seconds(0), "UTC"};
}

time_value time_value::go_zero() {
  using namespace std::chrono;
  return {sys_seconds(sys_days(year(1) / January / 1)), 0, std::chrono::seconds(0), "UTC"};
}

bool time_value::is_go_zero() const {
  const time_value z = go_zero();
  return seconds == z.seconds && nanos == 0;
}

value value::nil() {
  value v;
  v.data_ = nil_tag{};
  return v;
}

value value::safe_html(std::string s) {
  value v(std::move(s));
  v.safe_html_ = true;
  return v;
}

value value::list(list_type items, const type_info* type) {
  auto c = std::make_shared<compound>();
  c->what = kind::list;
  c->type = type;
  c->list = std::move(items);
  value v;
  v.data_ = std::shared_ptr<const compound>(std::move(c));
  return v;
}

value value::map(map_type entries, value missing, const type_info* type) {
  auto c = std::make_shared<compound>();
  c->what = kind::map;
  c->type = type;
  c->map = std::move(entries);
  c->missing = std::move(missing);
  value v;
  v.data_ = std::shared_ptr<const compound>(std::move(c));
  return v;
}

value value::map(map_type entries) { return map(std::move(entries), value(), nullptr); }

value value::record(record_type fields, const type_info* type) {
  auto c = std::make_shared<compound>();
  c->what = kind::record;
  c->type = type;
  c->record = std::move(fields);
  value v;
  v.data_ = std::shared_ptr<const compound>(std::move(c));
  return v;
}

value value::strings(const std::vector<std::string>& items) {
  static const type_info string_slice{"[]string", {}};
  list_type list;
  list.reserve(items.size());
  for (const auto& s : items) list.emplace_back(s);
  return value::list(std::move(list), &string_slice);
}

value::kind value::type() const {
  switch (data_.index()) {
    case 0:
      return kind::invalid;
    case 1:
      return kind::nil;
    case 2:
      return kind::boolean;
    case 3:
      return kind::integer;
    case 4:
      return kind::floating;
    case 5:
      return kind::string;
    case 6:
      return kind::time;
    case 7:
      return kind::duration;
    default:
      return std::get<std::shared_ptr<const compound>>(data_)->what;
  }
}

const type_info* value::named_type() const {
  const auto* c = std::get_if<std::shared_ptr<const compound>>(&data_);
  return c != nullptr ? (*c)->type : nullptr;
}

const value::list_type& value::as_list() const {
  return std::get<std::shared_ptr<const compound>>(data_)->list;
}
const value::map_type& value::as_map() const {
  return std::get<std::shared_ptr<const compound>>(data_)->map;
}
const value& value::map_missing() const {
  return std::get<std::shared_ptr<const compound>>(data_)->missing;
}
const value::record_type& value::as_record() const {
  return std::get<std::shared_ptr<const compound>>(data_)->record;
}
const value* value::field(std::string_view name) const {
  for (const auto& [field_name, field_value] : as_record()) {
    if (field_name == name) return &field_value;
  }
  return nullptr;
}

bool is_true(const value& v) {
  switch (v.type()) {
    case value::kind::invalid:
    case value::kind::nil:
      return false;
    case value::kind::boolean:
      return v.as_bool();
    case value::kind::integer:
      return v.as_int() != 0;
    case value::kind::floating:
      return v.as_float() != 0;
    case value::kind::string:
      return !v.as_string().empty();
    case value::kind::list:
      return !v.as_list().empty();
    case value::kind::map:
      return !v.as_map().empty();
    case value::kind::duration:
      return v.as_duration().count() != 0;
    case value::kind::record:
    case value::kind::time:
      return true;  // a struct is always true in Go
  }
  return false;
}

std::string go_type_name(const value& v) {
  if (const type_info* t = v.named_type()) return t->name;
  switch (v.type()) {
    case value::kind::invalid:
    case value::kind::nil:
      return "<nil>";
    case value::kind::boolean:
      return "bool";
    case value::kind::integer:
      return "int";
    case value::kind::floating:
      return "float64";
    case value::kind::string:
      return "string";
    case value::kind::list:
      return "[]interface {}";
    case value::kind::map:
      return "map[string]interface {}";
    case value::kind::record:
      return "struct";
    case value::kind::time:
      return "time.Time";
    case value::kind::duration:
      return "time.Duration";
  }
  return "?";
}

namespace {

// strconv.FormatFloat(f, 'g', -1, 64): the shortest digits that read back as f, in %e form when
// the exponent is < -4 or >= 6 (Go's rule for the shortest %g).
std::string shortest_float(double f) {
  if (std::isnan(f)) return "NaN";
  if (std::isinf(f)) return f > 0 ? "+Inf" : "-Inf";
  if (f == 0) return std::signbit(f) ? "-0" : "0";
  std::array<char, 64> buf{};
  auto [end, ec] =
      std::to_chars(buf.data(), buf.data() + buf.size(), f, std::chars_format::scientific);
  std::string sci(buf.data(), end);  // "-1.2345e+06"
  std::string sign;
  if (sci[0] == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  const auto e = sci.find('e');
  std::string digits = sci.substr(0, e);
  if (digits.size() > 1) digits.erase(1, 1);  // drop the '.'
  const int exp = std::stoi(sci.substr(e + 1));
  if (exp < -4 || exp >= 6) {
    std::string out = sign + digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char ebuf[16];
    std::snprintf(ebuf, sizeof ebuf, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    return out + ebuf;
  }
  const int dp = exp + 1;  // digits before the point
  std::string out;
  if (dp <= 0) {
    out = "0." + std::string(static_cast<std::size_t>(-dp), '0') + digits;
  } else if (static_cast<std::size_t>(dp) >= digits.size()) {
    out = digits + std::string(static_cast<std::size_t>(dp) - digits.size(), '0');
  } else {
    out = digits.substr(0, static_cast<std::size_t>(dp)) + "." +
          digits.substr(static_cast<std::size_t>(dp));
  }
  return sign + out;
}

// Decodes one UTF-8 code point at s[i]; returns its length, 0 when invalid.
std::size_t utf8_length(std::string_view s, std::size_t i, char32_t& cp) {
  const auto b = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  if (b < 0x80) {
    cp = b;
    return 1;
  }
  if ((b & 0xE0) == 0xC0) {
    n = 2;
    cp = b & 0x1F;
  } else if ((b & 0xF0) == 0xE0) {
    n = 3;
    cp = b & 0x0F;
  } else if ((b & 0xF8) == 0xF0) {
    n = 4;
    cp = b & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (c & 0x3F);
  }
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
      cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return n;
}

// strconv.Quote: printable text as is, the usual backslash escapes, \x for bad bytes.
std::string go_quote(std::string_view s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size();) {
    char32_t cp = 0;
    const std::size_t n = utf8_length(s, i, cp);
    if (n == 0) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", static_cast<unsigned char>(s[i]));
      out += b;
      ++i;
      continue;
    }
    i += n;
    switch (cp) {
      case '\a':
        out += "\\a";
        continue;
      case '\b':
        out += "\\b";
        continue;
      case '\f':
        out += "\\f";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\v':
        out += "\\v";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '"':
        out += "\\\"";
        continue;
      default:
        break;
    }
    if (cp < 0x20 || cp == 0x7F) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", static_cast<unsigned>(cp));
      out += b;
    } else if (cp >= 0x80 && cp < 0xA0) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", static_cast<unsigned>(cp));
      out += b;
    } else {
      append_utf8(out, cp);
    }
  }
  return out + "\"";
}

struct spec {
  bool minus = false, plus = false, sharp = false, space = false, zero = false;
  int width = -1, precision = -1;
  char verb = 'v';
};

std::string pad(std::string s, const spec& sp, bool numeric = false) {
  // Width counts runes, as Go's fmt does.
  std::size_t runes = 0;
  for (const char c : s) runes += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  if (sp.width < 0 || runes >= static_cast<std::size_t>(sp.width)) return s;
  const std::size_t fill = static_cast<std::size_t>(sp.width) - runes;
  if (sp.minus) return s + std::string(fill, ' ');
  if (sp.zero && numeric) {
    const std::size_t at = (!s.empty() && (s[0] == '-' || s[0] == '+' || s[0] == ' ')) ? 1 : 0;
    s.insert(at, fill, '0');
    return s;
  }
  return std::string(fill, ' ') + s;
}

std::string format_value(const value& v, const spec& sp, int depth);

std::string bad_verb(const value& v, const spec& sp) {
  if (v.type() == value::kind::invalid || v.type() == value::kind::nil) {
    return std::string("%!") + sp.verb + "(<nil>)";
  }
  spec plain;
  return std::string("%!") + sp.verb + "(" + go_type_name(v) + "=" + format_value(v, plain, 0) +
         ")";
}

std::string format_int(std::int64_t i, const spec& sp) {
  const bool negative = i < 0;
  const std::uint64_t u =
      negative ? 0 - static_cast<std::uint64_t>(i) : static_cast<std::uint64_t>(i);
  std::string digits;
  switch (sp.verb) {
    case 'd':
    case 'v':
      digits = std::to_string(u);
      break;
    case 'x':
    case 'X': {
      std::array<char, 32> b{};
      auto [end, ec] = std::to_chars(b.data(), b.data() + b.size(), u, 16);
      digits.assign(b.data(), end);
      if (sp.verb == 'X') {
        for (char& c : digits) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      if (sp.sharp) digits = (sp.verb == 'x' ? "0x" : "0X") + digits;
      break;
    }
    case 'o': {
      std::array<char, 32> b{};
      auto [end, ec] = std::to_chars(b.data(), b.data() + b.size(), u, 8);
      digits.assign(b.data(), end);
      if (sp.sharp) digits = "0" + digits;
      break;
    }
    case 'b': {
      std::array<char, 72> b{};
      auto [end, ec] = std::to_chars(b.data(), b.data() + b.size(), u, 2);
      digits.assign(b.data(), end);
      break;
    }
    default:
      return {};
  }
  if (sp.precision >= 0 && digits.size() < static_cast<std::size_t>(sp.precision)) {
    digits.insert(0, static_cast<std::size_t>(sp.precision) - digits.size(), '0');
  }
  std::string sign = negative ? "-" : (sp.plus ? "+" : (sp.space ? " " : ""));
  return pad(sign + digits, sp, sp.precision < 0);
}

std::string format_float(double f, const spec& sp) {
  if (sp.verb == 'v' || (sp.verb == 'g' && sp.precision < 0)) {
    std::string s = shortest_float(f);
    if (sp.plus && f >= 0) s = "+" + s;
    return pad(s, sp, true);
  }
  std::string fmt = "%";
  if (sp.plus) fmt += '+';
  if (sp.space) fmt += ' ';
  if (sp.sharp) fmt += '#';
  if (sp.precision >= 0) fmt += "." + std::to_string(sp.precision);
  fmt += sp.verb == 'F' ? 'f' : sp.verb;
  // Measure first: a precision of thousands of digits is legal.
  const int n = std::snprintf(nullptr, 0, fmt.c_str(), f);
  std::string s(static_cast<std::size_t>(std::max(n, 0)) + 1, '\0');
  std::snprintf(s.data(), s.size(), fmt.c_str(), f);
  s.resize(static_cast<std::size_t>(std::max(n, 0)));
  if (std::isinf(f)) s = f > 0 ? "+Inf" : "-Inf";  // Go shows the sign of an infinity always
  if (std::isnan(f)) s = "NaN";
  return pad(s, sp, true);
}

std::string format_string(const std::string& s, const spec& sp) {
  std::string text = s;
  if (sp.precision >= 0) {  // precision counts runes
    std::size_t runes = 0;
    std::size_t i = 0;
    for (; i < text.size(); ++i) {
      if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
        if (runes == static_cast<std::size_t>(sp.precision)) break;
        ++runes;
      }
    }
    text.resize(i);
  }
  switch (sp.verb) {
    case 'v':
    case 's':
      return pad(text, sp);
    case 'q':
      return pad(go_quote(text), sp);
    case 'x':
    case 'X': {
      std::string hex;
      for (const char c : text) {
        char b[4];
        std::snprintf(b, sizeof b, sp.verb == 'x' ? "%02x" : "%02X", static_cast<unsigned char>(c));
        hex += b;
      }
      return pad(hex, sp);
    }
    default:
      return bad_verb(value(s), sp);
  }
}

std::string format_value(const value& v, const spec& sp, int depth) {
  switch (v.type()) {
    case value::kind::invalid:
    case value::kind::nil:
      if (sp.verb == 'v' || sp.verb == 's') return pad("<nil>", sp);
      return bad_verb(v, sp);
    case value::kind::boolean:
      if (sp.verb == 'v' || sp.verb == 't') return pad(v.as_bool() ? "true" : "false", sp);
      return bad_verb(v, sp);
    case value::kind::integer:
      switch (sp.verb) {
        case 'v':
        case 'd':
        case 'x':
        case 'X':
        case 'o':
        case 'b':
          return format_int(v.as_int(), sp);
        case 'c': {
          std::string s;
          append_utf8(s, static_cast<char32_t>(v.as_int()));
          return pad(s, sp);
        }
        case 'q': {
          std::string s = "'";
          append_utf8(s, static_cast<char32_t>(v.as_int()));
          return pad(s + "'", sp);
        }
        case 'e':
        case 'E':
        case 'f':
        case 'F':
        case 'g':
        case 'G':
        default:
          return bad_verb(v, sp);
      }
    case value::kind::floating:
      switch (sp.verb) {
        case 'v':
        case 'e':
        case 'E':
        case 'f':
        case 'F':
        case 'g':
        case 'G':
          return format_float(v.as_float(), sp);
        default:
          return bad_verb(v, sp);
      }
    case value::kind::string:
      return format_string(v.as_string(), sp);
    case value::kind::time:
      // time.Time has a String method: %v and %s use it.
      if (sp.verb == 'v' || sp.verb == 's') return pad(format_go_time(v.as_time()), sp);
      if (sp.verb == 'q') return pad(go_quote(format_go_time(v.as_time())), sp);
      return bad_verb(v, sp);
    case value::kind::duration:
      if (sp.verb == 'v' || sp.verb == 's') return pad(format_go_duration(v.as_duration()), sp);
      if (sp.verb == 'd') {
        return format_int(static_cast<std::int64_t>(v.as_duration().count()), sp);
      }
      return bad_verb(v, sp);
    case value::kind::list: {
      std::string out = "[";
      bool first = true;
      for (const value& item : v.as_list()) {
        if (!first) out += ' ';
        first = false;
        out += format_value(item, sp, depth + 1);
      }
      return out + "]";
    }
    case value::kind::map: {
      std::string out = "map[";
      bool first = true;
      for (const auto& [key, item] : v.as_map()) {
        if (!first) out += ' ';
        first = false;
        out += format_string(key, sp) + ":" + format_value(item, sp, depth + 1);
      }
      return out + "]";
    }
    case value::kind::record: {
      std::string out = "{";
      bool first = true;
      for (const auto& [name, item] : v.as_record()) {
        if (!first) out += ' ';
        first = false;
        if (sp.plus) out += name + ":";
        out += format_value(item, sp, depth + 1);
      }
      return out + "}";
    }
  }
  return {};
}

}  // namespace

std::string to_go_string(const value& v) {
  if (v.type() == value::kind::string) return v.as_string();
  return format_value(v, spec{}, 0);
}

std::string go_sprintf(std::string_view format, std::span<const value> args) {
  std::string out;
  std::size_t next_arg = 0;
  for (std::size_t i = 0; i < format.size();) {
    const char c = format[i];
    if (c != '%') {
      out += c;
      ++i;
      continue;
    }
    ++i;
    if (i >= format.size()) {
      out += "%!(NOVERB)";
      break;
    }
    spec sp;
    for (; i < format.size(); ++i) {  // flags
      const char f = format[i];
      if (f == '-') {
        sp.minus = true;
      } else if (f == '+') {
        sp.plus = true;
      } else if (f == '#') {
        sp.sharp = true;
      } else if (f == ' ') {
        sp.space = true;
      } else if (f == '0') {
        sp.zero = !sp.minus;
      } else {
        break;
      }
    }
    auto read_number = [&](int& target) {
      if (i < format.size() && format[i] == '*') {
        ++i;
        if (next_arg < args.size() && args[next_arg].type() == value::kind::integer) {
          target = static_cast<int>(args[next_arg].as_int());
          if (target < 0 && &target == &sp.width) {
            sp.minus = true;
            target = -target;
          }
        } else {
          out += "%!(BADWIDTH)";
        }
        ++next_arg;
        return;
      }
      int n = -1;
      while (i < format.size() && format[i] >= '0' && format[i] <= '9') {
        n = (n < 0 ? 0 : n * 10) + (format[i] - '0');
        if (n > 1000000) n = 1000000;  // Go refuses absurd widths too
        ++i;
      }
      if (n >= 0) target = n;
    };
    read_number(sp.width);
    if (i < format.size() && format[i] == '.') {
      ++i;
      sp.precision = 0;
      read_number(sp.precision);
    }
    if (i >= format.size()) {
      out += "%!(NOVERB)";
      break;
    }
    // The verb is one rune.
    char32_t verb_cp = 0;
    std::size_t verb_len = utf8_length(format, i, verb_cp);
    if (verb_len == 0) verb_len = 1;
    const std::string verb_text(format.substr(i, verb_len));
    i += verb_len;
    if (verb_text == "%") {
      out += '%';
      continue;
    }
    if (next_arg >= args.size()) {
      out += "%!" + verb_text + "(MISSING)";
      continue;
    }
    const value& arg = args[next_arg++];
    if (verb_text == "T") {
      out += pad(go_type_name(arg), sp);
      continue;
    }
    sp.verb = verb_len == 1 ? verb_text[0] : '?';
    static constexpr std::string_view known = "vsqdxXobcfFeEgGt";
    if (verb_len != 1 || known.find(sp.verb) == std::string_view::npos) {
      sp.verb = '?';
      std::string bad = bad_verb(arg, sp);
      out += "%!" + verb_text + bad.substr(3);
      continue;
    }
    // Zero padding applies to numbers only in Go; strings pad with spaces... except Go does
    // pad strings with zeros too under %05s. Keep Go's behaviour for numbers, spaces elsewhere.
    out += format_value(arg, sp, 0);
  }
  if (next_arg < args.size()) {
    out += "%!(EXTRA ";
    for (std::size_t k = next_arg; k < args.size(); ++k) {
      if (k > next_arg) out += ", ";
      out += go_type_name(args[k]) + "=" + to_go_string(args[k]);
    }
    out += ")";
  }
  return out;
}

namespace {

constexpr std::array<std::string_view, 12> long_months = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};
constexpr std::array<std::string_view, 7> long_days = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                       "Thursday", "Friday", "Saturday"};

std::string two(int n) {
  char b[16];
  std::snprintf(b, sizeof b, "%02d", n);
  return b;
}

// Go's fmtFrac + fmtInt for Duration.String(): v/10^prec with the fraction's trailing zeros cut.
std::string duration_part(std::uint64_t v, int prec, std::uint64_t& rest) {
  std::string frac;
  bool print = false;
  for (int k = 0; k < prec; ++k) {
    const auto digit = static_cast<char>('0' + v % 10);
    print = print || digit != '0';
    if (print) frac.insert(frac.begin(), digit);
    v /= 10;
  }
  rest = v;
  return print ? "." + frac : "";
}

}  // namespace

std::string format_go_duration(std::chrono::nanoseconds d) {
  const std::int64_t ns = d.count();
  if (ns == 0) return "0s";
  const bool negative = ns < 0;
  std::uint64_t u = negative ? 0 - static_cast<std::uint64_t>(ns) : static_cast<std::uint64_t>(ns);
  std::string out;
  if (u < 1000000000ULL) {
    std::uint64_t whole = 0;
    std::string frac;
    std::string unit;
    if (u < 1000ULL) {
      out = std::to_string(u) + "ns";
    } else if (u < 1000000ULL) {
      frac = duration_part(u, 3, whole);
      out = std::to_string(whole) + frac + "µs";
    } else {
      frac = duration_part(u, 6, whole);
      out = std::to_string(whole) + frac + "ms";
    }
  } else {
    std::uint64_t secs = 0;
    const std::string frac = duration_part(u, 9, secs);
    out = std::to_string(secs % 60) + frac + "s";
    const std::uint64_t mins = secs / 60;
    if (mins > 0) {
      out = std::to_string(mins % 60) + "m" + out;
      const std::uint64_t hours = mins / 60;
      if (hours > 0) out = std::to_string(hours) + "h" + out;
    }
  }
  return negative ? "-" + out : out;
}

std::string format_go_time(const time_value& t) {
  return format_go_time(t, "2006-01-02 15:04:05.999999999 -0700 MST");
}

std::string format_go_time(const time_value& t, std::string_view layout) {
  using namespace std::chrono;
  const auto local = t.seconds + t.offset;  // wall clock in the value's zone
  const auto day = floor<days>(local);
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> tod{local - day};
  const int year = static_cast<int>(ymd.year());
  const int month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  const int mday = static_cast<int>(static_cast<unsigned>(ymd.day()));
  const int hour = static_cast<int>(tod.hours().count());
  const int minute = static_cast<int>(tod.minutes().count());
  const int second = static_cast<int>(tod.seconds().count());
  const std::int64_t nanos = t.nanos;
  const auto week_day = static_cast<int>(std::chrono::weekday{day}.c_encoding());
  const int yday = (day - sys_days{ymd.year() / January / 1}).count() + 1;
  const auto offset_min = static_cast<int>(t.offset.count() / 60);
  const auto offset_sec = static_cast<int>(t.offset.count() % 60);
  const int hour12 = hour % 12 == 0 ? 12 : hour % 12;

  auto zone_offset = [&](bool z, bool colon, bool with_seconds, bool hours_only) {
    if (z && t.offset.count() == 0) return std::string("Z");
    const int total = std::abs(offset_min);
    std::string s = offset_min < 0 || (offset_min == 0 && offset_sec < 0) ? "-" : "+";
    s += two(total / 60);
    if (hours_only) return s;
    if (colon) s += ':';
    s += two(total % 60);
    if (with_seconds) {
      if (colon) s += ':';
      s += two(std::abs(offset_sec));
    }
    return s;
  };

  std::string out;
  std::size_t i = 0;
  auto starts = [&](std::string_view p) { return layout.substr(i).starts_with(p); };
  while (i < layout.size()) {
    const char c = layout[i];
    if (c == 'J' && starts("January")) {
      out += long_months[static_cast<std::size_t>(month - 1)];
      i += 7;
    } else if (c == 'J' && starts("Jan")) {
      out += long_months[static_cast<std::size_t>(month - 1)].substr(0, 3);
      i += 3;
    } else if (c == 'M' && starts("Monday")) {
      out += long_days[static_cast<std::size_t>(week_day)];
      i += 6;
    } else if (c == 'M' && starts("Mon")) {
      out += long_days[static_cast<std::size_t>(week_day)].substr(0, 3);
      i += 3;
    } else if (c == 'M' && starts("MST")) {
      out += t.zone.empty() ? zone_offset(false, false, false, false) : t.zone;
      i += 3;
    } else if (c == '0' && starts("002")) {
      char b[8];
      std::snprintf(b, sizeof b, "%03d", yday);
      out += b;
      i += 3;
    } else if (c == '0' && i + 1 < layout.size() && layout[i + 1] >= '1' && layout[i + 1] <= '6') {
      const int values[] = {month, mday, hour12, minute, second, year % 100};
      out += two(values[layout[i + 1] - '1']);
      i += 2;
    } else if (c == '1' && starts("15")) {
      out += two(hour);
      i += 2;
    } else if (c == '1') {
      out += std::to_string(month);
      i += 1;
    } else if (c == '2' && starts("2006")) {
      char b[16];
      std::snprintf(b, sizeof b, "%04d", year);
      out += b;
      i += 4;
    } else if (c == '2') {
      out += std::to_string(mday);
      i += 1;
    } else if (c == '_' && starts("_2006")) {
      out += '_';
      i += 1;  // a literal '_' before a year
    } else if (c == '_' && starts("__2")) {
      char b[8];
      std::snprintf(b, sizeof b, "%3d", yday);
      out += b;
      i += 3;
    } else if (c == '_' && starts("_2")) {
      char b[8];
      std::snprintf(b, sizeof b, "%2d", mday);
      out += b;
      i += 2;
    } else if (c == '3') {
      out += std::to_string(hour12);
      i += 1;
    } else if (c == '4') {
      out += std::to_string(minute);
      i += 1;
    } else if (c == '5') {
      out += std::to_string(second);
      i += 1;
    } else if (c == 'P' && starts("PM")) {
      out += hour >= 12 ? "PM" : "AM";
      i += 2;
    } else if (c == 'p' && starts("pm")) {
      out += hour >= 12 ? "pm" : "am";
      i += 2;
    } else if ((c == '-' || c == 'Z') &&
               (starts(c == '-' ? "-070000" : "Z070000") ||
                starts(c == '-' ? "-07:00:00" : "Z07:00:00") ||
                starts(c == '-' ? "-0700" : "Z0700") || starts(c == '-' ? "-07:00" : "Z07:00") ||
                starts(c == '-' ? "-07" : "Z07"))) {
      const bool z = c == 'Z';
      const std::string_view rest = layout.substr(i + 1);
      if (rest.starts_with("070000")) {
        out += zone_offset(z, false, true, false);
        i += 7;
      } else if (rest.starts_with("07:00:00")) {
        out += zone_offset(z, true, true, false);
        i += 9;
      } else if (rest.starts_with("0700")) {
        out += zone_offset(z, false, false, false);
        i += 5;
      } else if (rest.starts_with("07:00")) {
        out += zone_offset(z, true, false, false);
        i += 6;
      } else {
        out += zone_offset(z, false, false, true);
        i += 3;
      }
    } else if ((c == '.' || c == ',') && i + 1 < layout.size() &&
               (layout[i + 1] == '0' || layout[i + 1] == '9')) {
      // A fraction: a run of one digit not followed by another digit.
      const char digit = layout[i + 1];
      std::size_t j = i + 1;
      while (j < layout.size() && layout[j] == digit) ++j;
      if (j < layout.size() && layout[j] >= '0' && layout[j] <= '9') {
        out += c;
        ++i;
        continue;
      }
      const auto n = j - i - 1;
      char b[16];
      std::snprintf(b, sizeof b, "%09" PRId64, nanos);
      std::string frac(b, std::min<std::size_t>(n, 9));
      if (digit == '9') {
        while (!frac.empty() && frac.back() == '0') frac.pop_back();
        if (!frac.empty()) out += c + frac;
      } else {
        out += c + frac;
      }
      i = j;
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

}  // namespace tocsin::sinks::go_template
