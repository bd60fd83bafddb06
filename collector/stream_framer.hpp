#pragma once
// Splits a TCP byte stream into frames (syslog: RFC 6587 octet counting or LF/NUL termination,
// decided per frame; GELF TCP: NUL termination).

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tocsin::collector {

// Splits a TCP byte stream into frames. Zero-copy: the caller owns the buffer; next() looks at the
// bytes not yet consumed and returns one frame as a view into them.
//
// Usage, per connection:
//   append what the socket delivered to `buf` (capacity buffer_bytes());
//   loop { r = framer.next(buf); handle r; drop r.consumed bytes from the front of buf;
//          stop after need_more }
// and at end of stream the same loop with finish() instead of next().
// After need_more, pass the same unconsumed bytes again followed by what arrived since; the framer
// remembers how far it already searched for a terminator.
//
// Framing decisions (mode::syslog), per frame:
// - Octet counting (RFC 6587 §3.4.1) when the frame starts with MSG-LEN SP, MSG-LEN being a digit
//   1-9 followed by at most 8 more digits. A trailing LF or CRLF inside the counted bytes is
//   dropped (rsyslog's RFC 5424 forward template ends each counted message with LF; rsyslog's own
//   parser drops it too).
// - Anything else is non-transparent framing (§3.4.2): the frame ends at the first LF or NUL
//   (senders mix them), and one trailing CR is stripped. This includes a digit run that starts with
//   0 ("0 " is no valid MSG-LEN), that is longer than 9 digits, or that is not followed by SP: the
//   digits are then part of the message. rsyslog's imtcp/imptcp also fall back to LF framing for
//   count 0 and for counts beyond its frame limit; for a digit run not followed by SP it logs an
//   error but still counts, swallowing the non-SP byte. We don't: a PRI-less line such as
//   "2024-05-01 12:00:00 disk full" must come out whole, not as a 2024-byte frame.
// - Empty frames (blank lines, stray NUL, "1 \n") are consumed and skipped.
// mode::nul (GELF TCP): frames end with NUL only, as in Graylog. LF is not a delimiter because
// pretty-printed JSON contains LFs. Surrounding JSON whitespace is trimmed from each frame, so a
// sender that writes "\0\n" between messages produces no junk frames.
//
// Too large: a frame whose content exceeds max_frame_bytes yields one error "message_too_large";
// the framer then discards the rest of that frame as it arrives (up to and including the next
// terminator, or exactly MSG-LEN bytes when octet-counted) and carries on with the next frame.
// need_more always leaves fewer than buffer_bytes() unconsumed bytes, so a caller buffer of
// buffer_bytes() never fills up without the framer making progress.
class stream_framer {
 public:
  // syslog: per frame, RFC 6587 octet counting ("123 <...") or LF/NUL-terminated
  // (non-transparent framing); nul: GELF TCP.
  enum class mode { syslog, nul };

  // The longest MSG-LEN accepted, in digits (RFC 6587 puts no bound; 9 digits < 1 GB).
  static constexpr std::size_t max_count_digits = 9;
  // Bytes a frame may need beyond its content: the "MSG-LEN SP" header, which is longer than the
  // CR LF of non-transparent framing.
  static constexpr std::size_t max_framing_overhead = max_count_digits + 1;

  stream_framer(mode m, std::size_t max_frame_bytes);

  struct result {
    enum class kind { frame, need_more, error } what;
    // kind::frame: the message without framing (trailing CR stripped).
    std::string_view frame;
    // Bytes of the input the caller may drop (also for need_more / error).
    std::size_t consumed = 0;
    // kind::error: "message_too_large" or "incomplete_frame" (a static string).
    const char* error_code = nullptr;
  };

  // Next frame, error or need_more for `unconsumed`. Never throws. For frame and error,
  // consumed > 0.
  result next(std::string_view unconsumed);

  // End of stream: like next(), but the end of the input terminates the last frame. An
  // unterminated non-transparent frame comes out as a frame (senders often omit the final LF);
  // a partial octet-counted frame is error "incomplete_frame". Call until need_more; after that
  // the framer is reset and the whole input consumed.
  result finish(std::string_view unconsumed);

  // Forgets any partial frame or discard in progress (e.g. to reuse the framer).
  void reset();

  // The caller's buffer size that guarantees progress: max_frame_bytes + max_framing_overhead.
  [[nodiscard]] std::size_t buffer_bytes() const { return max_frame_bytes_ + max_framing_overhead; }
  [[nodiscard]] std::size_t max_frame_bytes() const { return max_frame_bytes_; }
  [[nodiscard]] mode framing_mode() const { return mode_; }

 private:
  // What the framer does with the next bytes it sees.
  enum class state : std::uint8_t {
    frame_start,           // expecting a new frame
    discard_counted,       // skipping the rest of an oversize octet-counted frame
    discard_to_terminator  // skipping the rest of an oversize terminated frame
  };

  [[nodiscard]] std::size_t find_terminator(std::string_view s, std::size_t from) const;

  mode mode_;
  std::size_t max_frame_bytes_;
  state state_ = state::frame_start;
  std::uint64_t discard_remaining_ = 0;  // for discard_counted
  // After need_more on a terminated frame: bytes of that frame already searched for a terminator.
  std::size_t searched_ = 0;
};

}  // namespace tocsin::collector
