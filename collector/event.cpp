#include "collector/event.hpp"

#include <array>

#include "collector/json_scan.hpp"
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

int facility_from_name(std::string_view name) {
  for (std::size_t i = 0; i < facility_names.size(); ++i) {
    if (name == facility_names[i]) return static_cast<int>(i);
  }
  return -1;
}

decode_status parse_event_json(std::string_view line, event& ev) {
  using json = nlohmann::json;
  ev.clear();
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  // The archive writes fields nested at most 64 deep (the GELF limit), inside "fields".
  const json_scan scan = scan_json_document(line, 66);
  if (scan.too_deep) return decode_status::fail("too_deep", "nested deeper than 64 levels");
  if (!scan.valid_utf8) return decode_status::fail("bad_utf8", "invalid UTF-8");
  ev.owned_doc = json::parse(line.begin(), line.end(), nullptr, false);
  if (ev.owned_doc.is_discarded()) {
    ev.owned_doc = nullptr;
    return decode_status::fail("bad_json", "not valid JSON");
  }
  if (!ev.owned_doc.is_object()) {
    ev.owned_doc = nullptr;
    return decode_status::fail("not_object", "not a JSON object");
  }
  auto& obj = ev.owned_doc.get_ref<json::object_t&>();
  const auto text = [&obj](const char* key) -> std::string_view {
    const auto it = obj.find(key);
    if (it == obj.end() || !it->second.is_string()) return {};
    return it->second.get_ref<const std::string&>();
  };
  ev.timestamp = text("timestamp");
  if (const std::string_view received = text("received_at"); !received.empty()) {
    const auto tp = parse_rfc3339(received);
    if (!tp) return decode_status::fail("bad_received_at", "received_at is no RFC 3339 time");
    ev.received_at = *tp;
  }
  ev.host = text("host");
  ev.app = text("app");
  ev.procid = text("procid");
  ev.msgid = text("msgid");
  ev.message = text("message");
  if (const std::string_view f = text("facility"); !f.empty()) ev.facility = facility_from_name(f);
  if (const std::string_view s = text("severity"); !s.empty()) ev.severity = severity_from_name(s);
  if (const auto sd = obj.find("sd"); sd != obj.end() && sd->second.is_object()) {
    for (auto& [id, element] : sd->second.get_ref<json::object_t&>()) {
      if (!element.is_object() || element.empty()) {
        ev.sd.push_back({id, {}, {}});
        continue;
      }
      const std::size_t before = ev.sd.size();
      for (auto& [name, value] : element.get_ref<json::object_t&>()) {
        // An empty name stands for "no params" in an event: not a param.
        if (!value.is_string() || name.empty()) continue;
        // Stored escaped, as the syslog decoder keeps it: append_event_json() unescapes.
        auto& raw = value.get_ref<std::string&>();
        if (raw.find_first_of("\\\"]") != std::string::npos) {
          std::string escaped;
          escaped.reserve(raw.size() + 8);
          for (const char c : raw) {
            if (c == '\\' || c == '"' || c == ']') escaped += '\\';
            escaped += c;
          }
          raw = std::move(escaped);
        }
        ev.sd.push_back({id, name, raw});
      }
      if (ev.sd.size() == before) ev.sd.push_back({id, {}, {}});
    }
  }
  if (const auto fields = obj.find("fields"); fields != obj.end() && fields->second.is_object()) {
    ev.fields = std::move(fields->second);
  }
  ev.source = text("source");
  ev.input = text("input");
  ev.format = text("format");
  ev.parse_error = text("parse_error");
  return decode_status::ok();
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
