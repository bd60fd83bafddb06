#pragma once
// Messages as senders put them on the wire: syslog lines, GELF JSON, GELF UDP chunks.

#include <cstdint>
#include <string>
#include <string_view>

namespace tocsin::test {

// What a syslog line says about where it comes from; the defaults are a user.notice line.
struct syslog_header {
  int pri = 13;           // facility * 8 + severity: 13 is user.notice, 11 user.err
  std::string timestamp;  // RFC 3339; empty: now, so time-windowed rules see a fresh line
  std::string host = "testhost";
};

// One RFC 5424 line ("<13>1 TIMESTAMP testhost APP - - - MESSAGE\n"), newline-terminated: a
// ready frame for a non-transparent TCP input, and a datagram UDP inputs accept as it is.
std::string syslog_line(std::string_view app, std::string_view message,
                        const syslog_header& header = {});

// A GELF 1.1 message with `short_message`, `host` and, when not empty, the additional field
// `_app` (which tocsin archives as `app`).
std::string gelf_json(std::string_view message, std::string_view app = "gelfapp",
                      std::string_view host = "testhost");

// One GELF UDP chunk: magic 1e 0f, the 8-byte message id, sequence number, sequence count, data.
std::string gelf_chunk(std::uint64_t id, int seq, int count, std::string_view data);

}  // namespace tocsin::test
