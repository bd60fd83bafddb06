#pragma once
// GELF (Graylog Extended Log Format 1.1) decoding: payload decompression and JSON → event.
// Chunk reassembly for UDP lives in gelf_chunk_assembler.hpp.

#include <cstddef>
#include <string>
#include <string_view>

#include "collector/event.hpp"

namespace tocsin::collector {

// Decodes one GELF JSON document (already decompressed, possibly with trailing NULs) into
// `out`. Starts with out.clear_decoded() and sets format "gelf". On success out.host,
// out.app and out.message point into strings owned by out.owned_doc; out.fields is an object
// of the extra fields, or null when there are none.
//
// Mapping (lenient where real senders are sloppy, strict where the data would be unusable):
// - `host`: a non-empty string, else "missing_host".
// - `short_message`: a non-empty string; when it is absent or empty, a non-empty string
//   `message` is used instead (some senders use that key); otherwise "missing_message".
// - `version`: not checked. GELF 1.1 says "1.1", graypy sends "1.0", some send nothing; none
//   of that changes how the rest is read, so rejecting would only lose messages.
// - `level`: 0..7 as a number or numeric string → severity. Anything else leaves severity
//   absent (the spec's "default 1 (ALERT)" is not applied: inventing alerts is worse than an
//   absent level) and keeps the raw value in fields.level so nothing is lost.
// - `timestamp`: epoch seconds (integer, fractional, or numeric string) → RFC 3339 UTC:
//   no fraction for whole seconds given as integers, milliseconds when the value has no
//   sub-millisecond part, microseconds otherwise. Unusable values (non-numeric, outside
//   years 1..9999) leave it absent and are kept in fields.timestamp.
// - `_x` → fields.x; `_id` is dropped (reserved by the spec); a bare `_` is dropped; null
//   values (graypy sends them) are omitted. Booleans stay booleans. Nested objects/arrays are
//   kept as JSON values (the spec allows only strings and numbers, but dropping or
//   stringifying them would lose structure senders meant); documents nested deeper than 64
//   levels are rejected as "bad_json".
// - app: the first non-empty string of `_app`, `_application_name`, `_tag` (Docker's GELF
//   driver sends `_tag`); the field stays in fields as well.
// - Every other top-level key (`full_message`, the legacy `facility`, `line`, `file`, or
//   anything unknown) → fields.<key> as given, null omitted. If both `x` and `_x` exist, `_x`
//   wins: it is the GELF 1.1 form.
// - Invalid UTF-8 is replaced with U+FFFD before parsing (never rejected).
// Errors: "bad_json", "not_object", "missing_host", "missing_message".
decode_status decode_gelf_json(std::string_view json, event& out);

// Decodes a GELF payload as carried by a UDP datagram (after reassembly), a TCP frame or an
// HTTP body. The encoding is detected from the leading bytes: gzip (1f 8b), zlib (a valid
// RFC 1950 header: CM 8, CINFO ≤ 7, FCHECK), otherwise plain JSON. Compressed payloads are
// inflated into `scratch` (reused between calls, so keep one per shard) with at most
// `max_bytes` of output; plain payloads larger than `max_bytes` are rejected too.
// Errors: those of decode_gelf_json, plus "decompressed_too_large" (zip bombs),
// "message_too_large", "bad_compression" (corrupt or truncated stream) and
// "unexpected_chunk" (a chunked-GELF datagram that was not reassembled).
decode_status decode_gelf_payload(std::string_view payload, std::size_t max_bytes,
                                  std::string& scratch, event& out);

}  // namespace tocsin::collector
