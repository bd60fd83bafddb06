#pragma once
// Go's text/template language (pkg.go.dev/text/template) for Alertmanager-style notification
// templates: a value model that mirrors the Go values templates see, a template_set that parses
// named templates into one namespace, and execution with Go's semantics and Go's printing.
// What Alertmanager adds (its data model and functions) lives in template_data.hpp.
//
// The language is Go 1.19's (what Alertmanager 0.25 is built with): no `else with`, no range over
// integers or functions. Not here: `call` (values are never functions), complex numbers,
// unsigned integers as a type of their own, custom delimiters.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace tocsin::sinks::go_template {

class value;

// Thrown by functions and methods (and inside the engine) for an execution error; execute()
// catches it and returns it as text, so nothing escapes a render.
class exec_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// An argument of the wrong type: Go reports it as is, where other errors a function returns read
// "error calling NAME: …".
class arg_type_error : public exec_error {
 public:
  using exec_error::exec_error;
};

// Argument checks for functions, with Go's messages ("wrong type for value; expected string; got
// int").
const std::string& want_string(const value& v);
std::int64_t want_int(const value& v);
std::vector<std::string> want_strings(const value& v);  // a []string

// A callable: a function of the template's function map, or a method of a Go type. `min_args` /
// `max_args` (-1: variadic) are checked before the call, with Go's message.
struct callable {
  int min_args = 0;
  int max_args = 0;
  std::function<value(std::span<const value> args)> call;  // for a method, args[0] is self
};

// A named Go type's name (for %T and error messages) and methods. Values of record, list and map
// kind point at one of these; methods are looked up before fields and map keys, as Go does.
struct type_info {
  std::string name;  // e.g. "template.KV", "[]string"
  std::map<std::string, callable, std::less<>> methods;
};

// A Go time.Time: an instant plus the zone it is shown in. Whole seconds and nanoseconds apart,
// because Go's zero time (January 1, year 1) is beyond the range of int64 nanoseconds.
struct time_value {
  std::chrono::sys_seconds seconds{};
  std::int64_t nanos = 0;  // 0 … 999999999
  std::chrono::seconds offset{0};
  std::string zone = "UTC";

  static time_value from(std::chrono::system_clock::time_point t);  // in UTC
  static time_value go_zero();  // Go's time.Time{}: 0001-01-01 00:00:00 +0000 UTC
  [[nodiscard]] bool is_go_zero() const;
};

// One value a template sees. `invalid` is Go's "no value" (a missing map entry, an unset dot):
// printed as "<no value>"; `nil` is the literal nil.
class value {
 public:
  enum class kind {
    invalid,
    nil,
    boolean,
    integer,
    floating,
    string,
    list,
    map,
    record,
    time,
    duration
  };
  using list_type = std::vector<value>;
  using map_type = std::map<std::string, value>;
  using record_type = std::vector<std::pair<std::string, value>>;  // fields in declaration order

  value() = default;
  value(bool b) : data_(b) {}                           // NOLINT(google-explicit-constructor)
  value(int i) : data_(std::int64_t{i}) {}              // NOLINT(google-explicit-constructor)
  value(std::int64_t i) : data_(i) {}                   // NOLINT(google-explicit-constructor)
  value(double d) : data_(d) {}                         // NOLINT(google-explicit-constructor)
  value(std::string s) : data_(std::move(s)) {}         // NOLINT(google-explicit-constructor)
  value(const char* s) : data_(std::string(s)) {}       // NOLINT(google-explicit-constructor)
  value(std::string_view s) : data_(std::string(s)) {}  // NOLINT(google-explicit-constructor)
  value(time_value t) : data_(std::move(t)) {}          // NOLINT(google-explicit-constructor)
  value(std::chrono::nanoseconds d) : data_(d) {}       // NOLINT(google-explicit-constructor)

  static value nil();
  // A string that is HTML already (Alertmanager's safeHtml): printed as is in text; HTML-mode
  // escaping leaves it alone where HTML may go.
  static value safe_html(std::string s);
  // `type` may be null: a plain []interface{}.
  static value list(list_type items, const type_info* type = nullptr);
  // `missing` is what a missing key reads as under missingkey=zero: the zero value of the
  // element type ("" for map[string]string; invalid for map[string]interface{}).
  static value map(map_type entries, value missing, const type_info* type = nullptr);
  static value map(map_type entries);  // a map[string]interface{}
  static value record(record_type fields, const type_info* type);
  // A []string.
  static value strings(const std::vector<std::string>& items);

  [[nodiscard]] kind type() const;
  [[nodiscard]] const type_info* named_type() const;  // null for basic kinds and plain lists/maps
  [[nodiscard]] bool is_valid() const { return type() != kind::invalid; }
  [[nodiscard]] bool is_safe_html() const { return safe_html_; }

  // Accessors; each requires the matching kind.
  [[nodiscard]] bool as_bool() const { return std::get<bool>(data_); }
  [[nodiscard]] std::int64_t as_int() const { return std::get<std::int64_t>(data_); }
  [[nodiscard]] double as_float() const { return std::get<double>(data_); }
  [[nodiscard]] const std::string& as_string() const { return std::get<std::string>(data_); }
  [[nodiscard]] const time_value& as_time() const { return std::get<time_value>(data_); }
  [[nodiscard]] std::chrono::nanoseconds as_duration() const {
    return std::get<std::chrono::nanoseconds>(data_);
  }
  [[nodiscard]] const list_type& as_list() const;
  [[nodiscard]] const map_type& as_map() const;
  [[nodiscard]] const value& map_missing() const;  // the zero value a missing key reads as
  [[nodiscard]] const record_type& as_record() const;
  [[nodiscard]] const value* field(std::string_view name) const;  // record field, or null

 private:
  struct nil_tag {};
  struct compound;  // a list, map or record, shared: templates copy values freely
  std::variant<std::monostate, nil_tag, bool, std::int64_t, double, std::string, time_value,
               std::chrono::nanoseconds, std::shared_ptr<const compound>>
      data_;
  bool safe_html_ = false;
};

// Go's truth: false for no value, nil, false, 0, "" and empty lists and maps.
bool is_true(const value& v);
// fmt.Sprint of one value (what {{.}} prints, except that no value prints "<no value>" there).
std::string to_go_string(const value& v);
// fmt.Sprintf with Go's verbs (%v %+v %s %q %d %x %X %o %b %c %f %e %g %t %T %%, flags, width,
// precision), including Go's "%!d(string=x)" for a wrong argument.
std::string go_sprintf(std::string_view format, std::span<const value> args);
// Go's type name for %T and errors: "string", "int", "[]string", "template.KV"…
std::string go_type_name(const value& v);
// time.Time.String(): "2006-01-02 15:04:05.999999999 -0700 MST".
std::string format_go_time(const time_value& t);
// time.Time.Format with a Go layout ("2006-01-02T15:04:05Z07:00", "Mon Jan _2 15:04:05"...).
std::string format_go_time(const time_value& t, std::string_view layout);
// time.Duration.String(): "1h2m3.5s", "150ms", "0s".
std::string format_go_duration(std::chrono::nanoseconds d);

using function_map = std::map<std::string, callable, std::less<>>;
// Go's predefined functions html, index, slice, js, len, not, print, printf, println, urlquery,
// eq, ne, lt, le, gt, ge. (`and` and `or` are always there: the engine evaluates them lazily, as
// Go does. `call` is not, as template values here are never functions.)
function_map builtin_functions();

// Where a template's text comes from, for error messages: "FILE:LINE: template: …". `line` is
// the line the text starts on (a value in a YAML config file starts mid-file).
struct source_location {
  std::string file;
  int line = 1;
};

// What a missing map key reads as: Go's default (no value), the element type's zero value
// (Alertmanager's "missingkey=zero") or an error.
enum class missing_key { no_value, zero, error };

struct limits {
  std::size_t max_output = 1U << 20;  // bytes one render may produce
  int max_depth = 100;                // nested {{template}} calls
  std::uint64_t max_steps = 1000000;  // nodes evaluated in one render
};

// How actions' output is written: as is (text/template), or escaped for where it lands in the
// HTML the template writes (html/template; see go_html.hpp), as Alertmanager renders an email's
// `html`.
enum class escaping { text, html };

struct render_result {
  std::string text;
  std::string error;  // empty on success
  [[nodiscard]] bool ok() const { return error.empty(); }
};

struct parsed_tree;  // one named template's parse tree (go_parse.hpp)

// Named templates in one namespace, like a Go *template.Template and its associated templates.
// Parsing is not thread-safe; once parsed, execute() may run from several threads at once.
class template_set {
 public:
  explicit template_set(function_map functions = builtin_functions(),
                        missing_key missing = missing_key::no_value, limits lim = {});

  // Parses `text`: its {{define}}s and {{block}}s join the namespace, replacing a same-named
  // template unless the new one is empty (as Go does), and its top-level text becomes template
  // `name`. Returns the parse error ("FILE:LINE: template: …"), or nullopt.
  std::optional<std::string> parse(std::string_view name, std::string_view text,
                                   const source_location& where);
  [[nodiscard]] bool defines(std::string_view name) const;
  [[nodiscard]] std::vector<std::string> names() const;  // sorted

  // Runs template `name` with dot = data.
  [[nodiscard]] render_result execute(std::string_view name, const value& data,
                                      escaping mode = escaping::text) const;
  // Parses `text` as an anonymous template in a copy of this namespace (its defines are seen by
  // itself only) and runs it: Alertmanager's ExecuteTextString. "" renders "" without parsing.
  [[nodiscard]] render_result execute_text(std::string_view text, const value& data,
                                           const source_location& where,
                                           escaping mode = escaping::text) const;

 private:
  std::shared_ptr<const function_map> functions_;  // shared by the copies execute_text makes
  missing_key missing_;
  limits limits_;
  std::map<std::string, std::shared_ptr<const parsed_tree>, std::less<>> templates_;
};

}  // namespace tocsin::sinks::go_template
