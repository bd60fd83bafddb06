#pragma once
// Syslog message decoders: RFC 5424 (strict), RFC 3164 (lenient, what rsyslog and syslog-ng
// accept from real senders) and auto-detection. Each takes one frame (transport framing already
// removed) and fills an event whose string_views point into that frame.

#include <chrono>
#include <string_view>

#include "collector/event.hpp"

namespace tocsin {
class input_timezone;
}

namespace tocsin::collector {

// What RFC 3164 decoding needs to complete a timestamp that carries no year and no zone.
struct syslog_decode_context {
  std::chrono::system_clock::time_point received_at;  // for RFC 3164 year/zone inference
  const tocsin::input_timezone* timezone = nullptr;   // nullptr = UTC
};

// RFC 5424, strictly. Rejections (decode_status::code): empty, bad_pri, bad_version,
// bad_timestamp, bad_hostname, bad_app_name, bad_procid, bad_msgid, field_too_long,
// bad_structured_data, duplicate_sd_id.
//
// - The TIMESTAMP is kept exactly as sent. Following RFC 5424 §6.2.3, "T" and "Z" must be upper
//   case, at most 6 fraction digits, and leap seconds (second 60) are rejected.
// - SD-PARAM values are stored raw (escapes included). An unescaped ']' inside a quoted value
//   is accepted: the closing quote delimits the value unambiguously, and rejecting would make
//   auto mode fall back to RFC 3164 and lose every field. SD-IDs are not checked against the
//   IANA registry or the name@number form. An element without params is one sd_param with an
//   empty name.
// - A trailing LF/CR/NUL run is ignored; a UTF-8 BOM at the start of MSG is removed.
// - No heap allocation when `out` is reused (timestamp and sd keep their capacity), except
//   for messages with more than 16 SD elements, whose duplicate check sorts a scratch vector.
decode_status decode_rfc5424(std::string_view msg, event& out);

// RFC 3164 and its real-world variants, leniently. Rejects only `empty` (nothing, or nothing
// after the PRI), `bad_pri` (a '<' that does not open a PRI of 0-191, e.g. "<999>", "<abc>",
// "<0013>") and `not_syslog` (no PRI and control bytes: binary junk such as a TLS hello or a port
// scan is counted, not archived). Leading zeros such as "<013>" are accepted, as rsyslog does.
//
// - No PRI: facility user, severity notice (the RFC 3164 §4.3.3 relay default), for text lines.
// - A Cisco sequence number ("123: ", "000123: ") and Cisco origin ("router1: ") before the
//   timestamp are skipped / taken as host; a leading '*' or '.' (clock not synced) is ignored.
// - Timestamps: "Mmm dd hh:mm:ss", "Mmm  d hh:mm:ss", "Mmm d ..." with optional fraction
//   (".123"), optional year ("Mmm dd yyyy hh:mm:ss"), optional trailing ':' and, before that
//   colon, a zone abbreviation (Cisco: "UTC"/"GMT" are honoured, others ignored); or
//   RFC 3339 as rsyslog forwards it (also with a space for "T", lower case, "+hhmm", no zone).
//   The result is written as RFC 3339 keeping the fraction digits sent. A year missing is
//   taken so that the time falls within 11 months before to 1 month after `received_at` (so
//   "Dec 31" received on Jan 1 is last year's, "Jan 1" received on Dec 31 next year's); a zone
//   missing is `ctx.timezone`'s offset at that local time ("Z" when it is zero). A
//   well-formed timestamp that names no real date (Feb 29 of a common year) is dropped while
//   the rest is still parsed; anything else that is not a timestamp is no timestamp at all,
//   and the message (after PRI and sequence number) is then parsed for a TAG only.
// - HOSTNAME: the word after the timestamp, if it is followed by more text, is made only of
//   letters, digits and ".-_:" and does not look like a TAG (ending in ':' or holding '[').
// - TAG: "app[pid]:", "app:", "app[pid]" (app ≤ 48 bytes with at least one letter, pid ≤ 128),
//   or — after a timestamp, as rsyslog's legacy forward format may send it — a bare word
//   without colon, if it is made only of letters, digits and "-_./", is at most 32 bytes and
//   more text follows. Cisco/ASA mnemonics ("%SYS-5-CONFIG_I:") are not TAGs: they stay at the
//   start of the message. A lone ':' after the HOSTNAME (Cisco "host : %ASA-...") is skipped.
// - MSG: the rest, after one separating space; trailing LF/CR/NUL dropped; empty = absent.
decode_status decode_rfc3164(std::string_view msg, const syslog_decode_context& ctx, event& out);

// RFC 5424 first, then RFC 3164. A message that fails RFC 5424 (even one that starts like it)
// is decoded as RFC 3164, which keeps its text; format tells which decoder succeeded.
decode_status decode_syslog_auto(std::string_view msg, const syslog_decode_context& ctx,
                                 event& out);

}  // namespace tocsin::collector
