#pragma once
// Internal to tocsin_sinks: the built-in notifier factories register_builtin_notifiers() adds,
// and the small pieces they share (settings, secret files, the webhook v4 body).

#include <chrono>
#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "sinks/notification.hpp"
#include "sinks/notifier.hpp"

namespace tocsin::sinks {

std::unique_ptr<notifier> make_webhook_notifier(const config::receiver_config& receiver);
std::unique_ptr<notifier> make_slack_notifier(const config::receiver_config& receiver);
std::unique_ptr<notifier> make_pagerduty_notifier(const config::receiver_config& receiver);
std::unique_ptr<notifier> make_alertmanager_notifier(const config::receiver_config& receiver);
std::unique_ptr<notifier> make_file_notifier(const config::receiver_config& receiver);

// `FILE:LINE:COL: receiver NAME: message`.
config::config_error receiver_error(const config::receiver_config& receiver,
                                    std::string_view message);

// The setting, or `fallback` when it is not set.
std::string setting_or(const config::receiver_config& receiver, const std::string& key,
                       std::string fallback = {});

// The first line of the file the setting `key` names, trailing whitespace removed ("" when the
// setting is absent). Throws receiver_error() when the file cannot be read or is empty.
std::string read_secret_file(const config::receiver_config& receiver, const std::string& key);

// The setting `key` as a duration (`10s`), or `fallback`.
std::chrono::milliseconds duration_setting(const config::receiver_config& receiver,
                                           const std::string& key,
                                           std::chrono::milliseconds fallback);

// RFC 3339 UTC with milliseconds; the zero time_point as Go's zero time "0001-01-01T00:00:00Z".
std::string format_time(std::chrono::system_clock::time_point tp);

// Alertmanager's webhook body, version 4. `max_alerts` 0 sends all; otherwise the rest are
// counted in truncatedAlerts.
nlohmann::ordered_json webhook_v4_body(const notification& n, std::size_t max_alerts = 0);

// At most `max_chars` code points of UTF-8 `text`, ending in "…" when it was cut.
std::string truncate_utf8(std::string_view text, std::size_t max_chars);

}  // namespace tocsin::sinks
