// Alertmanager's template data, functions and template set (template/template.go, 0.25).

#include "sinks/template_data.hpp"

#include <glob.h>
#include <locale.h>
#include <re2/re2.h>
#include <wctype.h>

#include <date/tz.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/utf8.hpp"
#include "sinks/embedded_templates.hpp"

namespace tocsin::sinks {

using go_template::callable;
using go_template::exec_error;
using go_template::time_value;
using go_template::type_info;
using go_template::value;

namespace {

// Go's type names, as %T and error messages show them.
const type_info string_slice_type{"[]string", {}};
const type_info alert_slice_type{"[]template.Alert", {}};

// Pairs and KV return []string from Names/Values; Remove returns a KV.
const type_info& pair_type() {
  static const type_info t{"template.Pair", {}};
  return t;
}

value strings_of(const value& pairs, std::string_view field) {
  std::vector<std::string> out;
  for (const value& p : pairs.as_list()) out.push_back(p.field(field)->as_string());
  return value::strings(out);
}

const type_info& pairs_type() {
  static const type_info t = [] {
    type_info info{"template.Pairs", {}};
    info.methods["Names"] = {0, 0, [](auto a) { return strings_of(a[0], "Name"); }};
    info.methods["Values"] = {0, 0, [](auto a) { return strings_of(a[0], "Value"); }};
    return info;
  }();
  return t;
}

// KV.SortedPairs: sorted by name, except that alertname comes first.
value sorted_pairs(const value& kv) {
  value::list_type pairs;
  auto add = [&](const std::string& name, const value& v) {
    pairs.push_back(value::record({{"Name", value(name)}, {"Value", v}}, &pair_type()));
  };
  const auto& m = kv.as_map();
  if (auto it = m.find("alertname"); it != m.end()) add(it->first, it->second);
  for (const auto& [name, v] : m) {
    if (name != "alertname") add(name, v);
  }
  return value::list(std::move(pairs), &pairs_type());
}

const type_info& kv_type() {
  static const type_info t = [] {
    type_info info{"template.KV", {}};
    info.methods["SortedPairs"] = {0, 0, [](auto a) { return sorted_pairs(a[0]); }};
    info.methods["Names"] = {0, 0, [](auto a) { return strings_of(sorted_pairs(a[0]), "Name"); }};
    info.methods["Values"] = {0, 0, [](auto a) { return strings_of(sorted_pairs(a[0]), "Value"); }};
    info.methods["Remove"] = {1, 1, [](auto a) {
                                const std::vector<std::string> keys =
                                    go_template::want_strings(a[1]);
                                value::map_type rest = a[0].as_map();
                                for (const auto& k : keys) rest.erase(k);
                                return value::map(std::move(rest), value(""), &kv_type());
                              }};
    return info;
  }();
  return t;
}

const type_info& alert_type() {
  static const type_info t{"template.Alert", {}};
  return t;
}

value alerts_with_status(const value& alerts, std::string_view status) {
  value::list_type out;
  for (const value& a : alerts.as_list()) {
    if (a.field("Status")->as_string() == status) out.push_back(a);
  }
  return value::list(std::move(out), &alert_slice_type);
}

const type_info& alerts_type() {
  static const type_info t = [] {
    type_info info{"template.Alerts", {}};
    info.methods["Firing"] = {0, 0, [](auto a) { return alerts_with_status(a[0], "firing"); }};
    info.methods["Resolved"] = {0, 0, [](auto a) { return alerts_with_status(a[0], "resolved"); }};
    return info;
  }();
  return t;
}

const type_info& data_type() {
  static const type_info t{"*template.Data", {}};
  return t;
}

// --- functions -----------------------------------------------------------------------------

// Unicode's simple case mappings, as Go's unicode.ToUpper/ToLower, from glibc's C.UTF-8 tables
// (ASCII only where that locale is missing).
locale_t utf8_ctype() {
  static const locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", nullptr);
  return loc;
}

char32_t upper_rune(char32_t c) {
  if (c < 0x80) return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
  return utf8_ctype() != nullptr
             ? static_cast<char32_t>(towupper_l(static_cast<wint_t>(c), utf8_ctype()))
             : c;
}

char32_t lower_rune(char32_t c) {
  if (c < 0x80) return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
  return utf8_ctype() != nullptr
             ? static_cast<char32_t>(towlower_l(static_cast<wint_t>(c), utf8_ctype()))
             : c;
}

// Title case differs from upper case for the digraphs: ǆ is Ǆ in upper case, ǅ in title case.
char32_t title_rune(char32_t c) {
  if (c < 0x80 || utf8_ctype() == nullptr) return upper_rune(c);
  static const wctrans_t to_title = wctrans_l("totitle", utf8_ctype());
  return to_title != nullptr
             ? static_cast<char32_t>(towctrans_l(static_cast<wint_t>(c), to_title, utf8_ctype()))
             : upper_rune(c);
}

// Calls f(rune) for each code point of s; an invalid byte is U+FFFD, as Go's range over a string.
template <class F>
void for_each_rune(std::string_view s, F f) {
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      f(static_cast<char32_t>(b));
      ++i;
      continue;
    }
    const std::size_t n = utf8_sequence_length(s, i);
    if (n == 0) {
      f(char32_t{0xFFFD});
      ++i;
      continue;
    }
    char32_t cp = b & (n == 2 ? 0x1F : (n == 3 ? 0x0F : 0x07));
    for (std::size_t k = 1; k < n; ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    f(cp);
    i += n;
  }
}

std::string map_runes(std::string_view s, char32_t (*mapping)(char32_t)) {
  std::string out;
  out.reserve(s.size());
  for_each_rune(s, [&](char32_t c) { append_utf8(out, mapping(c)); });
  return out;
}

// cases.Title(language.AmericanEnglish): the first cased letter of a word upper case, the rest
// lower case. Words break at spaces and punctuation; digits, '_' and a single "mid-word"
// character (' . :) keep a word going, so "it's" is "It's" but "3am" is "3Am", as in Go.
std::string title_case(std::string_view s) {
  std::string out;
  bool mid_word = false;
  bool previous_mid = false;
  for_each_rune(s, [&](char32_t c) {
    const char32_t upper = upper_rune(c);
    const char32_t lower = lower_rune(c);
    const bool cased = upper != c || lower != c;
    const bool mid = c == '\'' || c == '.' || c == ':';
    if (cased) {
      append_utf8(out, mid_word ? lower : title_rune(c));
      mid_word = true;
    } else {
      append_utf8(out, c);
      const bool keeps_word = (c >= '0' && c <= '9') || c == '_' || mid ||
                              (c >= 0x80 && utf8_ctype() != nullptr &&
                               iswalnum_l(static_cast<wint_t>(c), utf8_ctype()) != 0);
      if (!keeps_word || (mid && previous_mid)) mid_word = false;
    }
    previous_mid = mid;
  });
  return out;
}

std::string trim_space(std::string_view s) {
  const auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

std::unique_ptr<RE2> compile_regexp(const std::string& pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_unique<RE2>(pattern, options);
  if (!re->ok()) {
    throw exec_error("error parsing regexp: " + re->error() + ": `" + pattern + "`");
  }
  return re;
}

// Go's Regexp.Expand for a template: $1, ${1}, $name, ${name}, $$.
void expand(std::string& out, std::string_view repl, const RE2& re,
            const std::vector<re2::StringPiece>& groups) {
  const auto& names = re.NamedCapturingGroups();
  while (!repl.empty()) {
    const auto dollar = repl.find('$');
    if (dollar == std::string_view::npos) break;
    out += repl.substr(0, dollar);
    repl.remove_prefix(dollar + 1);
    if (!repl.empty() && repl[0] == '$') {
      out += '$';
      repl.remove_prefix(1);
      continue;
    }
    std::string_view rest = repl;
    const bool brace = !rest.empty() && rest[0] == '{';
    if (brace) rest.remove_prefix(1);
    std::size_t n = 0;
    while (n < rest.size() && (std::isalnum(static_cast<unsigned char>(rest[n])) != 0 ||
                               rest[n] == '_' || static_cast<unsigned char>(rest[n]) >= 0x80)) {
      ++n;
    }
    if (n == 0 || (brace && (n >= rest.size() || rest[n] != '}'))) {
      out += '$';  // malformed: the $ is text
      continue;
    }
    const std::string name(rest.substr(0, n));
    repl = rest.substr(n + (brace ? 1 : 0));
    int number = 0;
    for (const char c : name) {
      if (c < '0' || c > '9' || number >= 100000000) {
        number = -1;
        break;
      }
      number = number * 10 + (c - '0');
    }
    if (name[0] == '0' && name.size() > 1) number = -1;
    if (number < 0) {
      auto it = names.find(name);
      if (it != names.end()) number = it->second;
    }
    if (number >= 0 && static_cast<std::size_t>(number) < groups.size() &&
        groups[static_cast<std::size_t>(number)].data() != nullptr) {
      const auto& g = groups[static_cast<std::size_t>(number)];
      out.append(g.data(), g.size());
    }
  }
  out += repl;
}

// Regexp.ReplaceAllString, with Go's rules for empty matches.
std::string replace_all(const std::string& pattern, std::string_view repl, std::string_view text) {
  const auto re = compile_regexp(pattern);
  std::vector<re2::StringPiece> groups(static_cast<std::size_t>(re->NumberOfCapturingGroups()) + 1);
  std::string out;
  std::size_t search = 0;
  std::size_t last_end = 0;
  const re2::StringPiece input(text.data(), text.size());
  while (search <= text.size()) {
    if (!re->Match(input, search, text.size(), RE2::UNANCHORED, groups.data(),
                   static_cast<int>(groups.size()))) {
      break;
    }
    const auto begin = static_cast<std::size_t>(groups[0].data() - text.data());
    const std::size_t end = begin + groups[0].size();
    out += text.substr(last_end, begin - last_end);
    // No replacement for an empty match right after a match.
    if (end > last_end || begin == 0) expand(out, repl, *re, groups);
    last_end = end;
    // Advance past this match, and always at least one character (a whole UTF-8 sequence).
    std::size_t width = 0;
    if (search < text.size()) {
      width = 1;
      while (search + width < text.size() &&
             (static_cast<unsigned char>(text[search + width]) & 0xC0) == 0x80) {
        ++width;
      }
    }
    if (search + width > end) {
      search += width;
    } else if (search + 1 > end) {
      ++search;
    } else {
      search = end;
    }
  }
  out += text.substr(std::min(last_end, text.size()));
  return out;
}

// url.QueryUnescape.
std::string query_unescape(std::string_view s) {
  std::string out;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%') {
      if (i + 2 >= s.size() || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0) {
        const std::string_view bad = s.substr(i, std::min<std::size_t>(3, s.size() - i));
        throw exec_error("invalid URL escape \"" + std::string(bad) + "\"");
      }
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

const time_value& want_time(const value& v) {
  if (v.type() != value::kind::time) {
    throw go_template::arg_type_error("wrong type for value; expected time.Time; got " +
                                      go_template::go_type_name(v));
  }
  return v.as_time();
}

time_value in_zone(const time_value& t, const std::string& name) {
  time_value out = t;
  if (name.empty() || name == "UTC") {
    out.offset = std::chrono::seconds(0);
    out.zone = "UTC";
    return out;
  }
  try {
    const date::time_zone* zone = name == "Local" ? date::current_zone() : date::locate_zone(name);
    const auto info = zone->get_info(t.seconds);
    out.offset = info.offset;
    out.zone = info.abbrev;
    return out;
  } catch (const std::exception&) {
    throw exec_error("unknown time zone " + name);
  }
}

// prometheus/common's HumanizeDuration: seconds as "1d 2h 3m 4s", "1.5s", "12ms".
std::string humanize_duration(double v) {
  char buf[128];
  if (std::isnan(v) || std::isinf(v)) {
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return buf;
  }
  if (v == 0) return "0s";
  if (std::abs(v) >= 1) {
    const char* sign = v < 0 ? "-" : "";
    v = std::abs(v);
    const auto d = static_cast<std::int64_t>(v);
    const auto seconds = d % 60;
    const auto minutes = (d / 60) % 60;
    const auto hours = (d / 3600) % 24;
    const auto days = d / 86400;
    if (days != 0) {
      std::snprintf(buf, sizeof buf, "%s%lldd %lldh %lldm %llds", sign,
                    static_cast<long long>(days), static_cast<long long>(hours),
                    static_cast<long long>(minutes), static_cast<long long>(seconds));
    } else if (hours != 0) {
      std::snprintf(buf, sizeof buf, "%s%lldh %lldm %llds", sign, static_cast<long long>(hours),
                    static_cast<long long>(minutes), static_cast<long long>(seconds));
    } else if (minutes != 0) {
      std::snprintf(buf, sizeof buf, "%s%lldm %llds", sign, static_cast<long long>(minutes),
                    static_cast<long long>(seconds));
    } else {
      std::snprintf(buf, sizeof buf, "%s%.4gs", sign, v);
    }
    return buf;
  }
  const char* prefix = "";
  for (const char* p : {"m", "u", "n", "p", "f", "a", "z", "y"}) {
    if (std::abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  std::snprintf(buf, sizeof buf, "%.4g%ss", v, prefix);
  return buf;
}

double seconds_of(const value& v) {
  switch (v.type()) {
    case value::kind::integer:
      return static_cast<double>(v.as_int());
    case value::kind::floating:
      return v.as_float();
    case value::kind::duration:
      return static_cast<double>(v.as_duration().count()) / 1e9;
    case value::kind::string: {
      try {
        std::size_t used = 0;
        const double d = std::stod(v.as_string(), &used);
        if (used == v.as_string().size()) return d;
      } catch (const std::exception&) {
      }
      throw exec_error("strconv.ParseFloat: parsing \"" + v.as_string() + "\": invalid syntax");
    }
    default:
      throw exec_error("can't convert " + go_template::go_type_name(v) + " to float");
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot read template file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw std::runtime_error(path + ": cannot read template file");
  return text.str();
}

std::vector<std::string> expand_glob(const std::string& pattern) {
  glob_t g{};
  std::vector<std::string> out;
  const int rc = ::glob(pattern.c_str(), 0, nullptr, &g);
  if (rc == 0) {
    for (std::size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  ::globfree(&g);
  if (rc != 0 && rc != GLOB_NOMATCH) throw std::runtime_error(pattern + ": bad template glob");
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::string go_quote_meta(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (std::string_view(R"(\.+*?()|[]{}^$)").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

value alertmanager_kv(const std::map<std::string, std::string>& entries) {
  value::map_type m;
  for (const auto& [k, v] : entries) m.emplace(k, value(v));
  return value::map(std::move(m), value(""), &kv_type());
}

namespace {

// Alertmanager's order of a notification's alerts (types.AlertSlice): by the `job` label, then
// `instance` (an alert without one after those with it), then the label sets as sorted pairs.
bool alertmanager_before(const rules::alert& a, const rules::alert& b) {
  for (const char* key : {"job", "instance"}) {
    const auto x = a.labels.find(key);
    const auto y = b.labels.find(key);
    if (x == a.labels.end() && y == b.labels.end()) continue;
    if (x == a.labels.end()) return false;
    if (y == b.labels.end()) return true;
    if (x->second != y->second) return x->second < y->second;
  }
  // model.LabelSet.Before: pair by pair (name, then value) in name order; a prefix first.
  return std::lexicographical_compare(a.labels.begin(), a.labels.end(), b.labels.begin(),
                                      b.labels.end());
}

}  // namespace

value alertmanager_template_data(const notification& n) {
  std::vector<const rules::alert*> sorted;
  sorted.reserve(n.alerts.size());
  for (const rules::alert& a : n.alerts) sorted.push_back(&a);
  std::stable_sort(sorted.begin(), sorted.end(), [](const rules::alert* a, const rules::alert* b) {
    return alertmanager_before(*a, *b);
  });
  value::list_type alerts;
  alerts.reserve(n.alerts.size());
  for (const rules::alert* alert : sorted) {
    const rules::alert& a = *alert;
    alerts.push_back(value::record(
        {
            {"Status", value(a.firing ? "firing" : "resolved")},
            {"Labels", alertmanager_kv(a.labels)},
            {"Annotations", alertmanager_kv(a.annotations)},
            {"StartsAt", value(time_value::from(a.starts_at))},
            // Alertmanager hides an end time that has not been reached yet.
            {"EndsAt", value(a.firing ? time_value::go_zero() : time_value::from(a.ends_at))},
            {"GeneratorURL", value(a.generator_url)},
            {"Fingerprint", value(a.fingerprint)},
        },
        &alert_type()));
  }
  return value::record(
      {
          {"Receiver", value(go_quote_meta(n.receiver))},
          {"Status", value(n.firing() ? "firing" : "resolved")},
          {"Alerts", value::list(std::move(alerts), &alerts_type())},
          {"GroupLabels", alertmanager_kv(n.group_labels)},
          {"CommonLabels", alertmanager_kv(n.common_labels())},
          {"CommonAnnotations", alertmanager_kv(n.common_annotations())},
          {"ExternalURL", value(n.external_url)},
      },
      &data_type());
}

go_template::function_map alertmanager_template_functions() {
  using go_template::want_string;
  go_template::function_map f = go_template::builtin_functions();
  f["toUpper"] = {1, 1, [](auto a) { return value(map_runes(want_string(a[0]), upper_rune)); }};
  f["toLower"] = {1, 1, [](auto a) { return value(map_runes(want_string(a[0]), lower_rune)); }};
  f["title"] = {1, 1, [](auto a) { return value(title_case(want_string(a[0]))); }};
  f["trimSpace"] = {1, 1, [](auto a) { return value(trim_space(want_string(a[0]))); }};
  // join is strings.Join with the separator first, for pipelines: {{ .Values | join ", " }}.
  f["join"] = {2, 2, [](auto a) {
                 const std::string& sep = want_string(a[0]);
                 std::string out;
                 bool first = true;
                 for (const auto& s : go_template::want_strings(a[1])) {
                   if (!first) out += sep;
                   first = false;
                   out += s;
                 }
                 return value(out);
               }};
  f["match"] = {2, 2, [](auto a) {
                  const auto re = compile_regexp(want_string(a[0]));
                  return value(RE2::PartialMatch(want_string(a[1]), *re));
                }};
  f["reReplaceAll"] = {
      3, 3, [](auto a) {
        return value(replace_all(want_string(a[0]), want_string(a[1]), want_string(a[2])));
      }};
  f["safeHtml"] = {1, 1, [](auto a) { return value::safe_html(want_string(a[0])); }};
  f["safeUrl"] = {1, 1, [](auto a) { return value(want_string(a[0])); }};
  f["urlUnescape"] = {1, 1, [](auto a) { return value(query_unescape(want_string(a[0]))); }};
  f["stringSlice"] = {0, -1, [](auto a) {
                        std::vector<std::string> out;
                        for (const value& v : a) out.push_back(want_string(v));
                        return value::strings(out);
                      }};
  f["date"] = {2, 2, [](auto a) {
                 return value(go_template::format_go_time(want_time(a[1]), want_string(a[0])));
               }};
  f["tz"] = {2, 2, [](auto a) { return value(in_zone(want_time(a[1]), want_string(a[0]))); }};
  f["since"] = {
      1, 1, [](auto a) {
        const time_value& t = want_time(a[0]);
        const auto now = time_value::from(std::chrono::system_clock::now());
        const auto secs = (now.seconds - t.seconds).count();
        // Go's Duration saturates at ±292 years.
        if (std::abs(secs) > 9'000'000'000LL) {
          return value(std::chrono::nanoseconds(secs > 0 ? INT64_MAX : INT64_MIN));
        }
        return value(std::chrono::nanoseconds(secs * 1'000'000'000LL + now.nanos - t.nanos));
      }};
  f["humanizeDuration"] = {1, 1, [](auto a) { return value(humanize_duration(seconds_of(a[0]))); }};
  return f;
}

go_template::template_set load_alertmanager_templates(const std::vector<std::string>& patterns) {
  go_template::template_set set(alertmanager_template_functions(), go_template::missing_key::zero);
  for (const embedded_template& t : generated::alertmanager_templates()) {
    // Alertmanager parses both into its root template, named "".
    if (auto error = set.parse("", t.text, {std::string(t.name), 1})) {
      throw std::runtime_error(*error);
    }
  }
  for (const std::string& pattern : patterns) {
    for (const std::string& path : expand_glob(pattern)) {
      const std::string name = path.substr(path.find_last_of('/') + 1);
      if (auto error = set.parse(name, read_file(path), {path, 1})) {
        throw std::runtime_error(*error);
      }
    }
  }
  return set;
}

go_template::render_result render_alertmanager_text(const go_template::template_set& templates,
                                                    std::string_view text, const notification& n,
                                                    const go_template::source_location& where,
                                                    go_template::escaping mode) {
  try {
    return templates.execute_text(text, alertmanager_template_data(n), where, mode);
  } catch (const std::exception& e) {  // building the data can only fail to allocate
    return {{}, e.what()};
  }
}

}  // namespace tocsin::sinks
