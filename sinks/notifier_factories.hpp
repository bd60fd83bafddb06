#pragma once
// Internal to tocsin_sinks: the built-in notifier factories register_builtin_notifiers() adds,
// and the small pieces they share (the webhook v4 body, text helpers). Each factory reads its
// own section with config::section_reader.

#include <chrono>
#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "config/section_reader.hpp"
#include "sinks/http_post.hpp"
#include "sinks/notification.hpp"
#include "sinks/notifier.hpp"

namespace tocsin::sinks {

std::unique_ptr<notifier> make_webhook_notifier(const config::receiver_config& receiver);
std::unique_ptr<notifier> make_slack_notifier(const config::receiver_config& receiver);
// A `slack_configs` item: Alertmanager's Slack message, field for field.
std::unique_ptr<notifier> make_alertmanager_slack_notifier(const config::receiver_config& receiver);
std::unique_ptr<notifier> make_pagerduty_notifier(const config::receiver_config& receiver);
std::unique_ptr<notifier> make_alertmanager_notifier(const config::receiver_config& receiver);
std::unique_ptr<notifier> make_file_notifier(const config::receiver_config& receiver);
std::unique_ptr<notifier> make_msteamsv2_notifier(const config::receiver_config& receiver);
std::unique_ptr<notifier> make_telegram_notifier(const config::receiver_config& receiver);
std::unique_ptr<notifier> make_discord_notifier(const config::receiver_config& receiver);
std::unique_ptr<notifier> make_mattermost_notifier(const config::receiver_config& receiver);
std::unique_ptr<notifier> make_opsgenie_notifier(const config::receiver_config& receiver);

// A JSON request body; invalid UTF-8 in alert data becomes U+FFFD instead of an exception.
std::string json_body(const nlohmann::ordered_json& body);

// Alertmanager's `http_config` of an integration written in its syntax, or else the one in
// `global:`, into `request`: authorization, basic_auth, bearer_token(_file), tls_config's
// ca/cert/key files and insecure_skip_verify, proxy_url. Other keys of it are ignored with a
// warning, oauth2 is refused. Its problems join `in`'s.
void read_http_config(config::section_reader& in, const config::receiver_config& receiver,
                      http_post_request& request);

// `key` or `key_file` (a secret in a file), as Alertmanager takes them: not both, and with
// presence::required one of the two; nullopt when neither is there. With value_kind::url,
// `key`'s value must be an http(s) URL.
enum class value_kind { text, url };
enum class presence { optional, required };
std::optional<std::string> value_or_file(config::section_reader& in, std::string_view key,
                                         value_kind kind = value_kind::text,
                                         presence need = presence::optional);

// The global defaults behind `receiver` (an empty global_config when it has none).
const config::global_config& global_of(const config::receiver_config& receiver);

// Alertmanager's integrations tocsin does not have: a receiver naming one is refused rather than
// left silent.
bool is_unsupported_alertmanager_integration(std::string_view integration);

// RFC 3339 UTC with milliseconds; the zero time_point as Go's zero time "0001-01-01T00:00:00Z".
std::string format_time(std::chrono::system_clock::time_point tp);

// Alertmanager's webhook body, version 4. `max_alerts` 0 sends all; otherwise the rest are
// counted in truncatedAlerts.
nlohmann::ordered_json webhook_v4_body(const notification& n, std::size_t max_alerts = 0);

// At most `max_chars` code points of UTF-8 `text`, ending in "…" when it was cut.
std::string truncate_utf8(std::string_view text, std::size_t max_chars);

// Appends `text` with &, < and > as HTML entities and, with `quotes`, " and ' too (needed inside
// attribute values). Slack's mrkdwn takes the first three only: it shows other entities as typed.
enum class html_quotes { keep, escape };
void append_html_escaped(std::string_view text, std::string& out,
                         html_quotes quotes = html_quotes::escape);
std::string html_escaped(std::string_view text, html_quotes quotes = html_quotes::escape);

}  // namespace tocsin::sinks
