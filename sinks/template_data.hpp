#pragma once
// Alertmanager's side of notification templates (its template/template.go, 0.25): the data a
// template sees (template.Data: .Receiver .Status .Alerts .GroupLabels .CommonLabels
// .CommonAnnotations .ExternalURL, with KV's and Alerts' methods), its template functions, and
// its template set: default.tmpl and email.tmpl, then the files of the `templates:` list.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sinks/go_template.hpp"
#include "sinks/notification.hpp"

namespace tocsin::sinks {

// template.Data for `n`, as Alertmanager builds it for a notification: Receiver is the receiver
// name through regexp.QuoteMeta (as Alertmanager does), a firing alert's EndsAt is Go's zero
// time, times are shown in UTC.
go_template::value alertmanager_template_data(const notification& n);

// One KV (label or annotation set), with SortedPairs (alertname first), Names, Values, Remove.
go_template::value alertmanager_kv(const std::map<std::string, std::string>& entries);

// text/template's builtins plus Alertmanager 0.25's functions (toUpper, toLower, title, join,
// match, safeHtml, reReplaceAll, stringSlice) and those of later versions that need nothing
// else (trimSpace, safeUrl, urlUnescape, date, tz, since, humanizeDuration).
go_template::function_map alertmanager_template_functions();

// Alertmanager's template set: default.tmpl and email.tmpl (compiled in), then every file that
// matches each of `patterns` (the `templates:` globs, each expanded in sorted order; a pattern
// that matches nothing is fine, as in Alertmanager), with missingkey=zero. Throws
// std::runtime_error on an unreadable file or a parse error ("FILE:LINE: template: …").
go_template::template_set load_alertmanager_templates(
    const std::vector<std::string>& patterns = {});

// Renders a receiver field's text (`title: '{{ template "slack.default.title" . }}'`) for `n`,
// like Alertmanager's ExecuteTextString; with escaping::html, like its ExecuteHTMLString (an
// email's `html`). `where` names the config file and the line the value starts on, for errors.
go_template::render_result render_alertmanager_text(
    const go_template::template_set& templates, std::string_view text, const notification& n,
    const go_template::source_location& where = {},
    go_template::escaping mode = go_template::escaping::text);

// regexp.QuoteMeta: a backslash before each of \.+*?()|[]{}^$
std::string go_quote_meta(std::string_view s);

}  // namespace tocsin::sinks
