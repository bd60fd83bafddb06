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
#include "sinks/notification.hpp"
#include "sinks/notifier.hpp"

namespace tocsin::sinks {

std::unique_ptr<notifier> make_webhook_notifier(const config::receiver_config& receiver);
std::unique_ptr<notifier> make_slack_notifier(const config::receiver_config& receiver);
std::unique_ptr<notifier> make_pagerduty_notifier(const config::receiver_config& receiver);
std::unique_ptr<notifier> make_alertmanager_notifier(const config::receiver_config& receiver);
std::unique_ptr<notifier> make_file_notifier(const config::receiver_config& receiver);
std::unique_ptr<notifier> make_msteamsv2_notifier(const config::receiver_config& receiver);
std::unique_ptr<notifier> make_telegram_notifier(const config::receiver_config& receiver);
std::unique_ptr<notifier> make_discord_notifier(const config::receiver_config& receiver);
std::unique_ptr<notifier> make_mattermost_notifier(const config::receiver_config& receiver);
std::unique_ptr<notifier> make_opsgenie_notifier(const config::receiver_config& receiver);

// A secret given in the config (`key`) or in a file (`key`_file), as Alertmanager takes them:
// exactly one of the two; both or neither is reported. `url`: the inline value must be one.
enum class secret_kind { text, url };
std::optional<std::string> read_secret(config::section_reader& in, std::string_view key,
                                       secret_kind kind);

// A JSON request body; invalid UTF-8 in alert data becomes U+FFFD instead of an exception.
std::string json_body(const nlohmann::ordered_json& body);

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
