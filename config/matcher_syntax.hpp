#pragma once
// Alertmanager's label matcher syntax: the one grammar tocsin reads matchers in. The config
// loader checks route and inhibit-rule matchers with it, `routes test` reads its label arguments
// with it, and sinks::label_matcher (API filters, silences, the route tree) compiles what it
// parses.
//
// A matcher is `name OP value` with OP one of `=`, `!=`, `=~`, `!~`. A list item holds zero or
// more matchers separated by commas, optionally in braces: `{owner="team-A",env=~"prod|stage"}`.
// Accepted, like Alertmanager's default ("fallback") parser, is the union of its two grammars:
// - classic (pkg/labels): a Prometheus-style name (`[a-zA-Z_:][a-zA-Z0-9_:]*`), a value quoted or
//   not, whitespace around each part; in values \" \\ and \n are escapes and any other backslash
//   is literal (so `web\d+` needs no doubling); commas inside double quotes do not split;
// - UTF-8 (matcher/parse), tried when the classic one refuses the text: names and values are
//   either double-quoted Go strings (`"service name"="api"`, `\t`, `\u00e9`...) or unquoted runs
//   of anything but whitespace and `{}!=~,\"'` and backquote.
// Where both grammars accept a text, the classic reading wins, as in Alertmanager.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tocsin::config {

enum class match_op { equal, not_equal, regex, not_regex };

// One matcher as written: regexes are kept as text (compiled, anchored, by sinks::label_matcher).
struct matcher_spec {
  std::string name;
  match_op op = match_op::equal;
  std::string value;
  bool operator==(const matcher_spec&) const = default;
};

// Exactly one matcher, without braces (Alertmanager's compat.Matcher: `filter=`, amtool labels).
// nullopt, and `problem` says why, for anything else.
std::optional<matcher_spec> parse_matcher(std::string_view text, std::string* problem = nullptr);

// One list item of `matchers:`: zero or more matchers (Alertmanager's compat.Matchers). An
// empty item and `{}` hold none.
std::optional<std::vector<matcher_spec>> parse_matchers(std::string_view text,
                                                        std::string* problem = nullptr);

// `=`, `!=`, `=~` or `!~`.
std::string_view to_string(match_op op);

// Alertmanager's Matcher.String(), used in route keys: `name=~"value"` with \\ \" \n escaped; a
// name holding whitespace or one of `{}!=~,\"'` and backquote is printed as a Go string, and so
// is its value. parse_matchers() reads it back to the same matcher.
std::string to_string(const matcher_spec& matcher);

// Go's strconv.Quote (`%q`): the form Alertmanager prints label values in, e.g. in group keys.
std::string go_quote(std::string_view text);

}  // namespace tocsin::config
