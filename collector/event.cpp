#include "collector/event.hpp"

#include <array>

#include "core/json_text.hpp"
#include "core/rfc3339.hpp"

namespace tocsin::collector {
namespace {

constexpr std::array<const char*, 24> facility_names = {
    "kern",   "user",   "mail",     "daemon", "auth",   "syslog",   "lpr",     "news",
    "uucp",   "cron",   "authpriv", "ftp",    "ntp",    "security", "console", "solaris-cron",
    "local0", "local1", "local2",   "local3", "local4", "local5",   "local6",  "local7"};

constexpr std::array<const char*, 8> severity_names = {"emerg",   "alert",  "crit", "err",
                                                       "warning", "notice", "info", "debug"};

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

void append_sd_unescaped(std::string_view raw, std::string& out) {
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 1 < raw.size() &&
        (raw[i + 1] == '"' || raw[i + 1] == '\\' || raw[i + 1] == ']')) {
      ++i;
    }
    out += raw[i];
  }
}

int severity_from_name(std::string_view name) {
  for (std::size_t i = 0; i < severity_names.size(); ++i) {
    if (name == severity_names[i]) return static_cast<int>(i);
  }
  return -1;
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
        out += ':';
        if (p.value.find('\\') == std::string_view::npos) {
          append_json_string(p.value, out);
        } else {
          thread_local std::string unescaped;
          unescaped.clear();
          append_sd_unescaped(p.value, unescaped);
          append_json_string(unescaped, out);
        }
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
