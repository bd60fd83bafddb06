#include "collector/event.hpp"
#include "collector/utf8.hpp"

#include <array>
#include <ctime>

namespace tocsin::collector {
namespace {

constexpr std::array<const char*, 24> facility_names = {
    "kern",   "user",   "mail",     "daemon", "auth",   "syslog",   "lpr",     "news",
    "uucp",   "cron",   "authpriv", "ftp",    "ntp",    "security", "console", "solaris-cron",
    "local0", "local1", "local2",   "local3", "local4", "local5",   "local6",  "local7"};

constexpr std::array<const char*, 8> severity_names = {"emerg",   "alert",  "crit", "err",
                                                       "warning", "notice", "info", "debug"};

// Appends the body of a JSON string (no quotes). With `sd_unescape`, RFC 5424 §6.3.3 escapes
// (\" \\ \]) are resolved first; any other backslash is literal.
void append_json_body(std::string_view s, std::string& out, bool sd_unescape) {
  static constexpr char hex[] = "0123456789abcdef";
  std::size_t i = 0;
  while (i < s.size()) {
    // Copy the longest run of plain ASCII in one go: the common case for log lines.
    std::size_t run = i;
    while (run < s.size()) {
      const auto c = static_cast<unsigned char>(s[run]);
      if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
      ++run;
    }
    out.append(s.data() + i, run - i);
    i = run;
    if (i >= s.size()) break;

    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\\') {
      if (sd_unescape && i + 1 < s.size() &&
          (s[i + 1] == '"' || s[i + 1] == '\\' || s[i + 1] == ']')) {
        ++i;
        if (s[i] == ']') {
          out += ']';
        } else {
          out += '\\';
          out += s[i];
        }
      } else {
        out += "\\\\";
      }
      ++i;
    } else if (c == '"') {
      out += "\\\"";
      ++i;
    } else if (c < 0x20) {
      switch (c) {
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        default:
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xF];
      }
      ++i;
    } else {
      const std::size_t n = utf8_sequence_length(s, i);
      if (n == 0) {
        out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
        ++i;
      } else {
        out.append(s.data() + i, n);
        i += n;
      }
    }
  }
}

void append_key(std::string_view key, std::string& out, bool& first) {
  if (!first) out += ',';
  first = false;
  out += '"';
  out.append(key);
  out += "\":";
}

void append_string_field(std::string_view key, std::string_view value, std::string& out,
                         bool& first) {
  if (value.empty()) return;
  append_key(key, out, first);
  append_json_string(value, out);
}

}  // namespace

void event::clear_decoded() {
  timestamp.clear();
  host = app = procid = msgid = message = {};
  facility = severity = -1;
  sd.clear();
  fields = nullptr;
  owned_doc = nullptr;
  format = {};
  parse_error = {};
}

void event::clear() {
  clear_decoded();
  received_at = {};
  source.clear();
  input = {};
}

const char* facility_name(int facility) {
  return facility >= 0 && facility < static_cast<int>(facility_names.size())
             ? facility_names[static_cast<std::size_t>(facility)]
             : nullptr;
}

const char* severity_name(int severity) {
  return severity >= 0 && severity < static_cast<int>(severity_names.size())
             ? severity_names[static_cast<std::size_t>(severity)]
             : nullptr;
}

int severity_from_name(std::string_view name) {
  for (std::size_t i = 0; i < severity_names.size(); ++i) {
    if (name == severity_names[i]) return static_cast<int>(i);
  }
  return -1;
}

void append_json_string(std::string_view s, std::string& out) {
  out += '"';
  append_json_body(s, out, false);
  out += '"';
}

void append_rfc3339_utc(std::chrono::system_clock::time_point tp, std::string& out,
                        int fraction_digits) {
  using namespace std::chrono;
  // floor, not truncation toward zero, so times before 1970 format correctly too.
  const auto micros = floor<microseconds>(tp.time_since_epoch()).count();
  const auto secs = static_cast<std::time_t>(floor<seconds>(microseconds(micros)).count());
  long frac = static_cast<long>(micros - static_cast<long long>(secs) * 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  const bool millis = fraction_digits == 3;
  if (millis) frac /= 1000;
  char buf[48];
  const int n = std::snprintf(
      buf, sizeof buf,
      millis ? "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ" : "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  if (n > 0) out.append(buf, static_cast<std::size_t>(n));
}

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view t) {
  using namespace std::chrono;
  // Digits at [pos, pos+n) as a number, or -1.
  const auto num = [&](std::size_t pos, std::size_t n) {
    if (pos + n > t.size()) return -1;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (t[i] < '0' || t[i] > '9') return -1;
      v = v * 10 + (t[i] - '0');
    }
    return v;
  };
  if (t.size() < 20 || t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != 't') ||
      t[13] != ':' || t[16] != ':') {
    return std::nullopt;
  }
  const int y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2),
            s = num(17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0) return std::nullopt;
  const year_month_day date{year{y}, month{static_cast<unsigned>(mo)},
                            day{static_cast<unsigned>(d)}};
  if (!date.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  std::size_t pos = 19;
  microseconds fraction{0};
  if (pos < t.size() && t[pos] == '.') {
    long long scale = 100000;
    ++pos;
    const std::size_t start = pos;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
      fraction += microseconds((t[pos] - '0') * scale);
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  seconds offset{0};
  if (pos < t.size() && (t[pos] == 'Z' || t[pos] == 'z')) {
    ++pos;
  } else if (pos + 6 == t.size() && (t[pos] == '+' || t[pos] == '-') && t[pos + 3] == ':') {
    const int oh = num(pos + 1, 2), om = num(pos + 4, 2);
    if (oh < 0 || om < 0 || oh > 23 || om > 59) return std::nullopt;
    offset = hours(oh) + minutes(om);
    if (t[pos] == '-') offset = -offset;
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != t.size()) return std::nullopt;
  const auto local = sys_days(date) + hours(h) + minutes(mi) + seconds(s) + fraction;
  return time_point_cast<system_clock::duration>(local - offset);
}

void append_event_json(const event& ev, std::string& out) {
  bool first = true;
  out += '{';
  append_string_field("timestamp", ev.timestamp, out, first);
  if (ev.received_at != std::chrono::system_clock::time_point{}) {
    append_key("received_at", out, first);
    out += '"';
    append_rfc3339_utc(ev.received_at, out);
    out += '"';
  }
  append_string_field("host", ev.host, out, first);
  append_string_field("app", ev.app, out, first);
  append_string_field("procid", ev.procid, out, first);
  append_string_field("msgid", ev.msgid, out, first);
  if (const char* f = facility_name(ev.facility)) append_string_field("facility", f, out, first);
  if (const char* s = severity_name(ev.severity)) append_string_field("severity", s, out, first);
  append_string_field("message", ev.message, out, first);

  if (!ev.sd.empty()) {
    append_key("sd", out, first);
    out += '{';
    std::string_view open_id;
    bool first_element = true;
    for (const auto& p : ev.sd) {
      if (first_element || p.id != open_id) {
        if (!first_element) out += "},";
        first_element = false;
        open_id = p.id;
        append_json_string(p.id, out);
        out += ":{";
      } else {
        out += ',';
      }
      if (!p.name.empty()) {  // an SD element without params has one entry with no name
        append_json_string(p.name, out);
        out += ":\"";
        append_json_body(p.value, out, true);
        out += '"';
      }
    }
    out += "}}";
  }

  if (ev.fields.is_object() && !ev.fields.empty()) {
    append_key("fields", out, first);
    out += ev.fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  append_string_field("source", ev.source, out, first);
  append_string_field("input", ev.input, out, first);
  append_string_field("format", ev.format, out, first);
  append_string_field("parse_error", ev.parse_error, out, first);
  out += '}';
}

}  // namespace tocsin::collector
