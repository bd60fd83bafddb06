#pragma once
// The normalized log event every decoder produces and every output consumes.

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tocsin::collector {

// One SD-PARAM of an RFC 5424 STRUCTURED-DATA element. `value` is kept as sent (escapes
// included); append_event_json() unescapes it, so decoding never copies.
// An SD-ELEMENT without params is one entry with an empty `name`.
struct sd_param {
  std::string_view id;
  std::string_view name;
  std::string_view value;
};

// A decoded message. The string_views point into the frame buffer handed to the decoder (or
// into `owned_doc` for GELF), so an event is valid only while that buffer is; outputs that keep
// data serialize it before returning. Reuse one event per shard: clear() keeps capacity, which
// keeps the parse path free of heap allocation.
struct event {
  std::string timestamp;  // RFC 3339, sender's precision and offset; empty = absent
  std::chrono::system_clock::time_point received_at{};
  std::string_view host, app, procid, msgid, message;
  int facility = -1;         // 0..23, -1 = absent
  int severity = -1;         // 0..7, -1 = absent
  std::vector<sd_param> sd;  // grouped by id, in order of appearance
  nlohmann::json fields;     // object of extra fields (GELF), null when none
  nlohmann::json owned_doc;  // owns the strings GELF views point into
  std::string source;        // "ip:port" of the sender
  std::string_view input;    // input name from config (outlives the event)
  std::string_view format;   // "rfc5424", "rfc3164", "gelf"
  // Set when a malformed message was decoded best-effort: the reason code (a static string,
  // e.g. "bad_timestamp"), also the `reason` label of tocsin_input_malformed_total.
  std::string_view parse_error;

  // Resets everything a decoder sets (all but received_at, source and input), keeping capacity.
  void clear_decoded();
  void clear();
};

// Why a message was rejected. `code` is a short metric label (e.g. "bad_pri"); `what` is the
// human-readable reason printed by `tocsin parse`. Both point to static strings.
struct decode_status {
  const char* code = nullptr;
  const char* what = nullptr;

  static constexpr decode_status ok() { return {}; }
  static constexpr decode_status fail(const char* code, const char* what) { return {code, what}; }
  [[nodiscard]] constexpr bool is_ok() const { return code == nullptr; }
};

const char* facility_name(int facility);        // nullptr when out of range
const char* severity_name(int severity);        // nullptr when out of range
int severity_from_name(std::string_view name);  // -1 when unknown
int facility_from_name(std::string_view name);  // -1 when unknown

// Appends the Event JSON of DESIGN.md (one object, no newline) to `out`. Invalid UTF-8 in any
// string is replaced with U+FFFD; absent fields are omitted.
void append_event_json(const event& ev, std::string& out);

// The inverse of append_event_json(): reads one Event JSON line (a trailing newline allowed)
// into `ev`, whose views then point into `ev.owned_doc` (and SD values are stored escaped again,
// as decoders keep them), so `ev` is valid while it is not cleared. Unknown keys and values of
// the wrong type are ignored. Fails, never throws, for a line that is not a JSON object
// ("bad_json", "not_object"), holds invalid UTF-8 ("bad_utf8"), is nested deeper than 64 levels
// ("too_deep") or has a received_at that is no RFC 3339 time ("bad_received_at").
decode_status parse_event_json(std::string_view line, event& ev);

// Appends an SD-PARAM value as stored (raw) with its RFC 5424 §6.3.3 escapes resolved: \" \\ \]
// stand for the character; any other backslash is literal.
void append_sd_unescaped(std::string_view raw, std::string& out);

}  // namespace tocsin::collector
