#include "sinks/notifier_email.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/rfc3339.hpp"
#include "rules/template.hpp"
#include "sinks/notification_text.hpp"
#include "sinks/notifier_factories.hpp"

namespace tocsin::sinks {
namespace {

constexpr long connect_timeout_seconds = 10;
constexpr long transfer_timeout_seconds = 60;
constexpr std::size_t detail_limit = 512;
// Unstructured header values up to this length go out as written; longer or non-ASCII ones
// become RFC 2047 encoded words, folded, so no line comes near the 998 octet limit.
constexpr std::size_t plain_header_limit = 900;
// 52 base64 characters make a 64 character encoded word: within RFC 2047's 75, and with
// "Subject: " in front within RFC 5322's recommended 78.
constexpr std::size_t encoded_word_bytes = 39;
// Quoted-printable lines: 75 characters plus the `=` of a soft break (RFC 2045's 76).
constexpr std::size_t quoted_printable_line = 75;

// ---- small text helpers ----

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

// Header fields are one line: CR and LF from labels or templates must not start a new field.
std::string single_line(std::string_view s) {
  std::string out(s);
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
  return out;
}

bool is_printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= 0x20 && c < 0x7f) || c == '\t'; });
}

std::string base64(std::string_view bytes) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const auto n = (std::uint32_t(std::uint8_t(bytes[i])) << 16) |
                   (std::uint32_t(std::uint8_t(bytes[i + 1])) << 8) | std::uint8_t(bytes[i + 2]);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    out += alphabet[n & 63];
  }
  if (i < bytes.size()) {
    std::uint32_t n = std::uint32_t(std::uint8_t(bytes[i])) << 16;
    if (i + 1 < bytes.size()) n |= std::uint32_t(std::uint8_t(bytes[i + 1])) << 8;
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? alphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// RFC 2047 encoded words, folded onto continuation lines. Chunks end on UTF-8 character
// boundaries because each word must decode to whole characters.
std::string encoded_words(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    std::size_t n = std::min(text.size(), encoded_word_bytes);
    while (n < text.size() && n > 1 && (std::uint8_t(text[n]) & 0xC0) == 0x80) --n;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?";
    out += base64(text.substr(0, n));
    out += "?=";
    text.remove_prefix(n);
  }
  return out;
}

// An unstructured header value (Subject, custom headers).
std::string header_text(std::string_view value) {
  std::string line = single_line(value);
  if (is_printable_ascii(line) && line.size() <= plain_header_limit) return line;
  return encoded_words(line);
}

// RFC 2045 quoted-printable with CRLF line ends; the input's line ends may be LF or CRLF. No
// line end is added after the last line: the CRLF before a boundary belongs to the boundary.
std::string quoted_printable(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  std::size_t line_length = 0;
  auto put = [&](std::string_view piece) {
    if (line_length + piece.size() > quoted_printable_line) {
      out += "=\r\n";
      line_length = 0;
    }
    out += piece;
    line_length += piece.size();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n' || (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) {
      if (c == '\r') ++i;
      out += "\r\n";
      line_length = 0;
      continue;
    }
    const bool line_ends_next = i + 1 == text.size() || text[i + 1] == '\n' ||
                                (text[i + 1] == '\r' && i + 2 < text.size() && text[i + 2] == '\n');
    const auto byte = std::uint8_t(c);
    // Whitespace before a line end would be stripped by relays, so it is encoded too.
    const bool literal =
        (byte >= 33 && byte <= 126 && c != '=') || ((c == ' ' || c == '\t') && !line_ends_next);
    if (literal) {
      put(std::string_view(&c, 1));
    } else {
      const char encoded[] = {'=', hex[byte >> 4], hex[byte & 15]};
      put(std::string_view(encoded, 3));
    }
  }
  return out;
}

std::string random_hex(std::size_t digits) {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(digits);
  for (std::size_t i = 0; i < digits; ++i) out += hex[generator() & 15];
  return out;
}

// RFC 5322 date-time in UTC, e.g. "Thu, 26 Nov 2026 04:10:55 +0000". Written out by hand
// because strftime's day and month names follow the locale.
std::string rfc5322_date(std::chrono::system_clock::time_point tp) {
  static constexpr std::array<const char*, 7> days = {"Sun", "Mon", "Tue", "Wed",
                                                      "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t t = std::chrono::system_clock::to_time_t(tp);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday],
                tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

// ---- addresses ----

// `a@b, "Ops, EU" <c@d>` → its mailboxes; commas inside quotes or <> do not split.
std::vector<std::string> split_mailboxes(std::string_view list) {
  std::vector<std::string> out;
  bool quoted = false;
  bool angle = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= list.size(); ++i) {
    const char c = i < list.size() ? list[i] : ',';
    if (c == '"') quoted = !quoted;
    if (!quoted && c == '<') angle = true;
    if (!quoted && c == '>') angle = false;
    if (c == ',' && (i == list.size() || (!quoted && !angle))) {
      const std::string_view one = trim(list.substr(start, i - start));
      if (!one.empty()) out.emplace_back(one);
      start = i + 1;
    }
  }
  return out;
}

struct mailbox {
  std::string header;   // for From:/To:, display name encoded when needed
  std::string address;  // for MAIL FROM / RCPT TO
};

// `alerts@example.com` or `Name <alerts@example.com>`; nullopt when there is no usable address.
std::optional<mailbox> parse_mailbox(std::string_view text) {
  text = trim(text);
  std::string_view name;
  std::string_view address = text;
  const auto open = text.rfind('<');
  if (open != std::string_view::npos) {
    const auto close = text.find('>', open);
    if (close == std::string_view::npos || !trim(text.substr(close + 1)).empty()) {
      return std::nullopt;
    }
    name = trim(text.substr(0, open));
    address = trim(text.substr(open + 1, close - open - 1));
  }
  const auto at = address.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == address.size()) return std::nullopt;
  const bool bad = std::any_of(address.begin(), address.end(), [](char c) {
    return std::uint8_t(c) <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == ',' || c == '"';
  });
  if (bad) return std::nullopt;

  mailbox m;
  m.address = std::string(address);
  if (name.empty()) {
    m.header = m.address;
  } else if (!is_printable_ascii(name) && !(name.size() >= 2 && name.front() == '"')) {
    m.header = encoded_words(name) + " <" + m.address + ">";
  } else {
    m.header = single_line(name) + " <" + m.address + ">";
  }
  return m;
}

// ---- settings ----

// A subject, body or header template: the email's own `{{name}}` vocabulary (subject, alerts,
// receiver … below), or a Go template over Alertmanager's data (notification_text.hpp).
struct email_text {
  std::optional<rules::annotation_template> placeholders;
  std::optional<notification_text> go;
};

// The text at `key`, in the language its receiver's syntax and its own syntax call for.
std::optional<email_text> read_email_text(config::section_reader& in, text_reader& texts,
                                          const config::receiver_config& receiver,
                                          std::string_view key, std::string_view value,
                                          go_template::escaping mode) {
  if (receiver.syntax == config::receiver_syntax::tocsin && !uses_go_syntax(value)) {
    return email_text{rules::annotation_template(value), std::nullopt};
  }
  auto go = texts.go(key, value, in.where(key), mode);
  if (!go) return std::nullopt;
  return email_text{std::nullopt, std::move(go)};
}

struct email_settings {
  std::string url;  // smtp://host:port, or smtps://host:465
  bool require_tls = true;
  mailbox from;
  std::vector<mailbox> to;
  std::optional<std::string> username;
  std::string password;
  std::string ca_file;  // empty: libcurl's default CA store
  // Extra header fields in configuration order; From/To/Subject here replace the defaults.
  std::vector<std::pair<std::string, email_text>> headers;
  std::optional<email_text> subject;
  std::optional<email_text> text;
  std::optional<email_text> html;
  std::string message_id_domain;
  bool send_resolved = false;
};

constexpr std::string_view setting_keys[] = {"smarthost", "from", "to",      "require_tls",
                                             "auth",      "tls",  "headers", "send_resolved",
                                             "subject",   "text", "html"};
constexpr std::string_view required_keys[] = {"smarthost", "from", "to"};
constexpr std::string_view auth_keys[] = {"username", "password_file"};
constexpr std::string_view tls_keys[] = {"ca_file"};
constexpr std::string_view alertmanager_keys[] = {"to",
                                                  "from",
                                                  "hello",
                                                  "smarthost",
                                                  "auth_username",
                                                  "auth_password",
                                                  "auth_password_file",
                                                  "auth_secret",
                                                  "auth_identity",
                                                  "headers",
                                                  "html",
                                                  "text",
                                                  "require_tls",
                                                  "tls_config",
                                                  "send_resolved"};
constexpr std::string_view alertmanager_ignored_keys[] = {"hello", "auth_secret", "auth_identity"};
// Fields that describe the message structure are ours alone.
constexpr std::string_view reserved_headers[] = {"Date",
                                                 "Message-ID",
                                                 "MIME-Version",
                                                 "Content-Type",
                                                 "Content-Transfer-Encoding",
                                                 "X-Tocsin-Notification-Id"};

// smtp(s)://host:port for `smarthost`, or "" after reporting why not.
std::string smtp_url(config::section_reader& in, const std::optional<config::endpoint>& endpoint) {
  if (!endpoint) return {};
  if (endpoint->port == 0) {
    in.error("smarthost",
             "must be host:port with a port, not " + config::quote(config::to_string(*endpoint)));
    return {};
  }
  // 465 is SMTP submission over implicit TLS (RFC 8314); elsewhere TLS comes from STARTTLS.
  return (endpoint->port == 465 ? "smtps://" : "smtp://") + config::to_string(*endpoint);
}

void read_from(config::section_reader& in, const std::string& from, email_settings& s) {
  if (auto from_mailbox = parse_mailbox(from)) {
    s.from = std::move(*from_mailbox);
    s.message_id_domain = s.from.address.substr(s.from.address.rfind('@') + 1);
  } else {
    in.error("from", "not an address: " + config::quote(from));
  }
}

// `to` items, each possibly several comma-separated addresses.
void read_to(config::section_reader& in, const std::vector<std::string>& to, email_settings& s) {
  bool bad_entry = false;
  for (const std::string& item : to) {
    for (const std::string& one : split_mailboxes(item)) {
      if (auto to_mailbox = parse_mailbox(one)) {
        s.to.push_back(std::move(*to_mailbox));
      } else {
        in.error("to", "has an entry that is not an address: " + config::quote(one));
        bad_entry = true;
      }
    }
  }
  if (to.empty()) {
    in.error("to", "must not be empty");
  } else if (s.to.empty() && !bad_entry) {  // entries that are only separators: `to: ","`
    in.error("to", "needs at least one address");
  }
}

void read_ca_file(config::section_reader& tls, email_settings& s) {
  if (const auto ca_path = tls.path("ca_file")) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(*ca_path, ec)) {
      tls.error("ca_file", config::quote(ca_path->string()) + " is not a readable file");
    }
    s.ca_file = ca_path->string();
  }
}

void read_headers(config::section_reader& in, text_reader& texts,
                  const config::receiver_config& receiver, email_settings& s) {
  const auto headers = in.text_map("headers");
  for (const auto& header : headers.value_or(std::map<std::string, std::string>{})) {
    // Named, not structured bindings: clang 14 cannot capture those in a lambda.
    const std::string& name = header.first;
    const std::string& value = header.second;
    const bool valid_name = std::all_of(name.begin(), name.end(),
                                        [](char c) { return c > 0x20 && c < 0x7f && c != ':'; });
    if (!valid_name) {
      in.error("headers", config::quote(name) + " is not a valid field name");
      continue;
    }
    if (std::any_of(std::begin(reserved_headers), std::end(reserved_headers),
                    [&](std::string_view reserved) { return iequals(name, reserved); })) {
      in.error("headers", config::quote(name) + " is set by tocsin");
      continue;
    }
    if (auto text =
            read_email_text(in, texts, receiver, "headers", value, go_template::escaping::text)) {
      s.headers.emplace_back(name, std::move(*text));
    }
  }
}

// Reads the `email:` section, reporting every problem at its key (config::section_reader).
email_settings read_settings(const config::receiver_config& receiver) {
  config::section_reader in(receiver, setting_keys);
  in.require(required_keys);
  email_settings s;
  s.url = smtp_url(in, in.address("smarthost"));
  s.require_tls = in.flag("require_tls").value_or(true);
  s.send_resolved = in.flag("send_resolved").value_or(false);
  if (const auto from = in.text("from")) read_from(in, *from, s);
  if (const auto to = in.text_list("to")) read_to(in, *to, s);
  if (in.has("auth")) {
    config::section_reader auth = in.section("auth", auth_keys);
    auth.require(auth_keys);
    s.username = auth.text("username");
    if (auto password = auth.secret_file("password_file")) s.password = std::move(*password);
  }
  if (in.has("tls")) {
    config::section_reader tls = in.section("tls", tls_keys);
    read_ca_file(tls, s);
  }
  text_reader texts(in, receiver);
  read_headers(in, texts, receiver, s);
  const auto text_at = [&](std::string_view key, go_template::escaping mode) {
    const auto v = in.text(key);
    return v ? read_email_text(in, texts, receiver, key, *v, mode) : std::nullopt;
  };
  s.subject = text_at("subject", go_template::escaping::text);
  s.text = text_at("text", go_template::escaping::text);
  s.html = text_at("html", go_template::escaping::html);
  in.check();
  return s;
}

// An `email_configs` item: Alertmanager's keys, with `global:`'s smtp_* behind them. `to` is one
// string of comma-separated addresses there; the subject is the `Subject` header.
email_settings read_alertmanager_settings(const config::receiver_config& receiver) {
  config::section_reader in(receiver, alertmanager_keys);
  in.ignore(alertmanager_ignored_keys, "tocsin does not implement this email setting");
  const config::global_config& global = global_of(receiver);
  email_settings s;
  if (in.has("smarthost")) {
    s.url = smtp_url(in, in.address("smarthost"));
  } else if (!global.smtp_smarthost.empty()) {
    s.url = smtp_url(in, config::parse_endpoint(global.smtp_smarthost));
  } else {
    in.error("smarthost", "missing smarthost (or global.smtp_smarthost)");
  }
  s.require_tls = in.flag("require_tls").value_or(global.smtp_require_tls.value_or(true));
  s.send_resolved = in.flag("send_resolved").value_or(false);
  if (const auto from = in.text("from")) {
    read_from(in, *from, s);
  } else if (!global.smtp_from.empty()) {
    read_from(in, global.smtp_from, s);
  } else {
    in.error("from", "missing from (or global.smtp_from)");
  }
  constexpr std::string_view to_key[] = {"to"};
  in.require(to_key);
  if (const auto to = in.text("to")) read_to(in, {*to}, s);
  if (auto user = in.text("auth_username")) {
    s.username = std::move(user);
  } else if (!global.smtp_auth_username.empty()) {
    s.username = global.smtp_auth_username;
  }
  if (auto password = value_or_file(in, "auth_password")) {
    s.password = std::move(*password);
  } else {
    s.password = global.smtp_auth_password;
  }
  if (in.has("tls_config")) {
    constexpr std::string_view am_tls_keys[] = {
        "ca",          "ca_file",    "cert",        "cert_file",
        "key",         "key_file",   "server_name", "insecure_skip_verify",
        "min_version", "max_version"};
    config::section_reader tls = in.section("tls_config", am_tls_keys);
    constexpr std::string_view other_tls_keys[] = {"ca",
                                                   "cert",
                                                   "cert_file",
                                                   "key",
                                                   "key_file",
                                                   "server_name",
                                                   "insecure_skip_verify",
                                                   "min_version",
                                                   "max_version"};
    tls.ignore(other_tls_keys, "tocsin's email takes tls_config.ca_file only");
    read_ca_file(tls, s);
  }
  text_reader texts(in, receiver);
  read_headers(in, texts, receiver, s);
  for (auto it = s.headers.begin(); it != s.headers.end(); ++it) {
    if (!iequals(it->first, "Subject")) continue;
    s.subject = std::move(it->second);
    s.headers.erase(it);
    break;
  }
  // Alertmanager's defaults: its subject and HTML templates; no text part of its own.
  const auto text_at = [&](std::string_view key, std::string_view fallback,
                           go_template::escaping mode) -> std::optional<email_text> {
    const auto v = in.text(key);
    if (!v && fallback.empty()) return std::nullopt;
    auto go = texts.go(key, v.value_or(std::string(fallback)),
                       v ? in.where(key) : config::source_location{}, mode);
    if (!go) return std::nullopt;
    return email_text{std::nullopt, std::move(go)};
  };
  if (!s.subject) {
    s.subject = text_at("subject", R"({{ template "email.default.subject" . }})",
                        go_template::escaping::text);
  }
  s.text = text_at("text", "", go_template::escaping::text);
  s.html = text_at("html", R"({{ template "email.default.html" . }})", go_template::escaping::html);
  in.check();
  return s;
}

// ---- rendering ----

std::string join_values(const rules::label_set& labels, const rules::label_set& except) {
  std::string out;
  for (const auto& [name, value] : labels) {
    if (except.contains(name)) continue;
    if (!out.empty()) out += ' ';
    out += value;
  }
  return out;
}

std::string join_pairs(const rules::label_set& labels) {
  std::string out;
  for (const auto& [name, value] : labels) {
    if (!out.empty()) out += ", ";
    out += name + "=" + value;
  }
  return out;
}

// Alertmanager's default: `[FIRING:2] <group label values> (<other common label values>)`.
std::string default_subject(const notification& n, std::size_t firing_count) {
  std::string subject = n.firing() ? "[FIRING:" + std::to_string(firing_count) + "]" : "[RESOLVED]";
  const rules::label_set common = n.common_labels();
  const std::string group = join_values(n.group_labels, {});
  const std::string others = join_values(common, n.group_labels);
  if (!group.empty()) subject += " " + group;
  if (!others.empty()) subject += group.empty() ? " " + others : " (" + others + ")";
  return subject;
}

void append_alert_text(const rules::alert& a, std::string& out) {
  const auto name = a.labels.find("alertname");
  out += a.firing ? "[firing] " : "[resolved] ";
  out += name != a.labels.end() ? name->second : a.fingerprint;
  out += "\n  Labels:\n";
  for (const auto& [k, v] : a.labels) out += "    " + k + " = " + v + "\n";
  if (!a.annotations.empty()) {
    out += "  Annotations:\n";
    for (const auto& [k, v] : a.annotations) out += "    " + k + " = " + v + "\n";
  }
  out += "  Started: " + format_rfc3339_millis(a.starts_at) + "\n";
  if (!a.firing) out += "  Ended: " + format_rfc3339_millis(a.ends_at) + "\n";
  if (!a.generator_url.empty()) out += "  Source: " + a.generator_url + "\n";
}

void append_alert_html(const rules::alert& a, std::string& out) {
  const auto name = a.labels.find("alertname");
  out += "<li><p><strong>";
  out += a.firing ? "[firing]" : "[resolved]";
  out += "</strong> ";
  out += html_escaped(name != a.labels.end() ? name->second : a.fingerprint);
  out += "</p>\n<table>\n";
  auto row = [&](std::string_view k, std::string_view v) {
    out += "<tr><td>" + html_escaped(k) + "</td><td>" + html_escaped(v) + "</td></tr>\n";
  };
  out += "<tr><th colspan=\"2\">Labels</th></tr>\n";
  for (const auto& [k, v] : a.labels) row(k, v);
  if (!a.annotations.empty()) {
    out += "<tr><th colspan=\"2\">Annotations</th></tr>\n";
    for (const auto& [k, v] : a.annotations) row(k, v);
  }
  row("Started", format_rfc3339_millis(a.starts_at));
  if (!a.firing) row("Ended", format_rfc3339_millis(a.ends_at));
  if (!a.generator_url.empty()) {
    out += "<tr><td>Source</td><td><a href=\"" + html_escaped(a.generator_url) + "\">" +
           html_escaped(a.generator_url) + "</a></td></tr>\n";
  }
  out += "</table></li>\n";
}

// Everything a template can name, computed once per notification.
struct template_values {
  rules::label_set labels;
  std::map<std::string, std::string> annotations;
  std::map<std::string, std::string, std::less<>> builtins;
  std::string alerts_text;
  std::string alerts_html;

  const notification* n = nullptr;

  [[nodiscard]] std::string render(const email_text& t, bool html) const {
    if (t.go) return t.go->render(*n);
    return t.placeholders->render([&](std::string_view name, std::string& out) {
      const std::string key(name);
      const std::string* value = nullptr;
      if (auto it = labels.find(key); it != labels.end()) {
        value = &it->second;
      } else if (auto it2 = annotations.find(key); it2 != annotations.end()) {
        value = &it2->second;
      } else if (name == "alerts") {
        out += html ? alerts_html : alerts_text;
        return;
      } else if (auto it3 = builtins.find(name); it3 != builtins.end()) {
        value = &it3->second;
      }
      if (value != nullptr) out += html ? html_escaped(*value) : *value;
    });
  }
};

template_values make_values(const notification& n) {
  template_values v;
  v.n = &n;
  v.labels = n.common_labels();
  v.annotations = n.common_annotations();
  const std::size_t firing = n.firing_count();
  v.builtins["status"] = n.firing() ? "firing" : "resolved";
  v.builtins["receiver"] = n.receiver;
  v.builtins["group_key"] = n.group_key;
  v.builtins["external_url"] = n.external_url;
  v.builtins["firing_count"] = std::to_string(firing);
  v.builtins["resolved_count"] = std::to_string(n.alerts.size() - firing);
  v.builtins["alert_count"] = std::to_string(n.alerts.size());
  v.builtins["group_labels"] = join_pairs(n.group_labels);
  v.builtins["subject"] = default_subject(n, firing);
  // A page (DESIGN.md, "On-call"): who it is for and the link that acknowledges it.
  v.builtins["paged_user"] = n.page ? n.page->user : "";
  v.builtins["ack_url"] = n.page ? n.page->ack_url : "";
  if (n.page)
    v.builtins["subject"] =
        (n.page->resolved ? "[PAGE ENDED] " : "[PAGE] ") + v.builtins["subject"];

  v.alerts_html = "<ul>\n";
  for (const rules::alert& a : n.alerts) {
    if (!v.alerts_text.empty()) v.alerts_text += "\n";
    append_alert_text(a, v.alerts_text);
    append_alert_html(a, v.alerts_html);
  }
  v.alerts_html += "</ul>\n";
  return v;
}

std::string default_text(const template_values& v) {
  const auto& b = v.builtins;
  std::string out = b.at("subject") + "\n\n";
  out += b.at("firing_count") + " firing, " + b.at("resolved_count") + " resolved";
  if (!b.at("group_labels").empty()) out += " for " + b.at("group_labels");
  out += "\n\n" + v.alerts_text;
  if (!b.at("ack_url").empty()) out += "\nAcknowledge: " + b.at("ack_url") + "\n";
  if (!b.at("external_url").empty()) out += "\nSent by tocsin: " + b.at("external_url") + "\n";
  return out;
}

std::string default_html(const template_values& v) {
  const auto& b = v.builtins;
  std::string out = "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"UTF-8\">\n<title>" +
                    html_escaped(b.at("subject")) + "</title>\n</head>\n<body>\n<h2>" +
                    html_escaped(b.at("subject")) + "</h2>\n<p>" + b.at("firing_count") +
                    " firing, " + b.at("resolved_count") + " resolved";
  if (!b.at("group_labels").empty()) out += " for " + html_escaped(b.at("group_labels"));
  out += "</p>\n" + v.alerts_html;
  if (!b.at("ack_url").empty()) {
    out += "<p><a href=\"" + html_escaped(b.at("ack_url")) + "\">Acknowledge</a></p>\n";
  }
  if (!b.at("external_url").empty()) {
    out += "<p>Sent by <a href=\"" + html_escaped(b.at("external_url")) + "\">tocsin</a></p>\n";
  }
  out += "</body>\n</html>\n";
  return out;
}

// A page goes to the paged person alone; everything else to the receiver's `to`. Empty when the
// person has no usable address.
std::vector<mailbox> recipients(const email_settings& s, const notification& n) {
  if (!n.page) return s.to;
  auto person = parse_mailbox(n.page->email);
  return person ? std::vector<mailbox>{std::move(*person)} : std::vector<mailbox>{};
}

std::string build_message(const email_settings& s, const notification& n,
                          std::chrono::system_clock::time_point now) {
  const template_values values = make_values(n);
  std::string subject =
      s.subject ? values.render(*s.subject, false) : values.builtins.at("subject");
  const std::string text = s.text ? values.render(*s.text, false) : default_text(values);
  const std::string html = s.html ? values.render(*s.html, true) : default_html(values);

  std::string from = s.from.header;
  std::string to;
  for (const mailbox& m : recipients(s, n)) {
    if (!to.empty()) to += ",\r\n ";
    to += m.header;
  }
  std::vector<std::pair<std::string, std::string>> extra;
  for (const auto& [name, value] : s.headers) {
    std::string rendered = header_text(values.render(value, false));
    if (iequals(name, "Subject")) {
      subject = values.render(value, false);
    } else if (iequals(name, "From")) {
      from = single_line(values.render(value, false));
    } else if (iequals(name, "To")) {
      to = single_line(values.render(value, false));
    } else {
      extra.emplace_back(name, std::move(rendered));
    }
  }

  const std::string boundary = "tocsin-" + random_hex(24);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::string m;
  m += "Date: " + rfc5322_date(now) + "\r\n";
  m += "From: " + from + "\r\n";
  m += "To: " + to + "\r\n";
  m += "Subject: " + header_text(subject) + "\r\n";
  // A re-sent notification is the same message: the same Message-ID lets mail systems that
  // deduplicate by it drop the repeat.
  m += "Message-ID: <" + (n.id.empty() ? random_hex(32) + "." + std::to_string(millis) : n.id) +
       "@" + s.message_id_domain + ">\r\n";
  if (!n.id.empty()) m += "X-Tocsin-Notification-Id: " + n.id + "\r\n";
  for (const auto& [name, value] : extra) m += name + ": " + value + "\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: multipart/alternative;\r\n boundary=\"" + boundary + "\"\r\n";
  m += "\r\n";
  auto part = [&](std::string_view type, std::string_view body) {
    m += "--" + boundary + "\r\n";
    m += "Content-Type: " + std::string(type) + "; charset=UTF-8\r\n";
    m += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
    m += quoted_printable(body);
    m += "\r\n";
  };
  part("text/plain", text);
  part("text/html", html);
  m += "--" + boundary + "--\r\n";
  return m;
}

// ---- sending ----

struct curl_easy_deleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct curl_slist_deleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

struct upload_state {
  std::string_view data;
  std::size_t offset = 0;
};

std::size_t read_message(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* up = static_cast<upload_state*>(user);
  const std::size_t n = std::min(size * count, up->data.size() - up->offset);
  std::copy_n(up->data.data() + up->offset, n, buffer);
  up->offset += n;
  return n;
}

// Keeps the server's last 4xx or 5xx reply line for the delivery detail (dead letter, logs);
// the "221 Bye" to libcurl's QUIT after a failure would say nothing.
int capture_reply(CURL*, curl_infotype type, char* data, std::size_t size, void* user) {
  if (type == CURLINFO_HEADER_IN) {
    const std::string_view line = trim(std::string_view(data, size));
    if (!line.empty() && (line.front() == '4' || line.front() == '5')) {
      *static_cast<std::string*>(user) = std::string(line.substr(0, detail_limit));
    }
  }
  return 0;
}

delivery_result classify(CURLcode code, long smtp_status, std::string detail) {
  if (code == CURLE_OK) return delivery_result::delivered(static_cast<int>(smtp_status));
  delivery_result r;
  r.status = static_cast<int>(smtp_status);
  r.detail = std::move(detail);
  if (smtp_status >= 400 && smtp_status < 500) {
    r.result = delivery_result::outcome::retry;  // 421, 45x: transient by definition
  } else if (smtp_status >= 500 && smtp_status < 600) {
    r.result = delivery_result::outcome::permanent;  // 550, 535, ...: the server said no
  } else {
    switch (code) {
      // Retrying cannot help until the configuration or the server's setup changes.
      case CURLE_USE_SSL_FAILED:  // STARTTLS required but not offered
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CACERT_BADFILE:
      case CURLE_LOGIN_DENIED:
      case CURLE_UNSUPPORTED_PROTOCOL:
      case CURLE_URL_MALFORMAT:
        r.result = delivery_result::outcome::permanent;
        break;
      default:  // connection refused, timeouts, resets: the server may come back
        r.result = delivery_result::outcome::retry;
    }
  }
  return r;
}

class email_notifier final : public notifier {
 public:
  email_notifier(email_settings settings, clock& time)
      : notifier(settings.send_resolved), settings_(std::move(settings)), clock_(time) {}

  delivery_result send(const notification& n) override {
    const std::string message = build_message(settings_, n, clock_.now());
    std::unique_ptr<CURL, curl_easy_deleter> curl(curl_easy_init());
    if (!curl) return {delivery_result::outcome::retry, 0, "curl_easy_init failed", {}};

    const std::vector<mailbox> to = recipients(settings_, n);
    if (to.empty()) {
      return {delivery_result::outcome::permanent,
              0,
              "user '" + n.page->user + "' has no usable email address",
              {}};
    }
    std::unique_ptr<curl_slist, curl_slist_deleter> rcpt;
    for (const mailbox& m : to) {
      curl_slist* grown = curl_slist_append(rcpt.get(), ("<" + m.address + ">").c_str());
      if (grown == nullptr) return {delivery_result::outcome::retry, 0, "out of memory", {}};
      // The head is new only on the first append; taking it over each time covers both cases.
      (void)rcpt.release();
      rcpt.reset(grown);
    }
    const std::string mail_from = "<" + settings_.from.address + ">";
    upload_state upload{message};
    std::string error_reply;
    char error[CURL_ERROR_SIZE] = {};

    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, settings_.url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // we run on a worker thread
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, connect_timeout_seconds);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, transfer_timeout_seconds);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(c, CURLOPT_USE_SSL,
                     settings_.require_tls ? long{CURLUSESSL_ALL} : long{CURLUSESSL_NONE});
    if (!settings_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, settings_.ca_file.c_str());
    if (settings_.username) {
      curl_easy_setopt(c, CURLOPT_USERNAME, settings_.username->c_str());
      curl_easy_setopt(c, CURLOPT_PASSWORD, settings_.password.c_str());
    }
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, mail_from.c_str());
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_message);
    curl_easy_setopt(c, CURLOPT_READDATA, &upload);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
    // The debug callback only sees traffic with VERBOSE on; it prints nothing itself.
    curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, capture_reply);
    curl_easy_setopt(c, CURLOPT_DEBUGDATA, &error_reply);
    curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);

    const CURLcode code = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (code == CURLE_OK) return delivery_result::delivered(static_cast<int>(status));
    std::string detail = error[0] != '\0' ? error : curl_easy_strerror(code);
    if (!error_reply.empty()) detail += " (server: " + error_reply + ")";
    if (detail.size() > detail_limit) detail.resize(detail_limit);
    return classify(code, status, std::move(detail));
  }

 private:
  email_settings settings_;
  clock& clock_;  // the Date header
};

}  // namespace

std::unique_ptr<notifier> make_email_notifier(const config::receiver_config& receiver,
                                              clock& time) {
  // libcurl's global state must be set up before any thread uses it.
  static std::once_flag curl_ready;
  std::call_once(curl_ready, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  return std::make_unique<email_notifier>(receiver.syntax == config::receiver_syntax::alertmanager
                                              ? read_alertmanager_settings(receiver)
                                              : read_settings(receiver),
                                          time);
}

}  // namespace tocsin::sinks
