#include "collector/stream_framer.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

namespace tocsin::collector {

namespace {

using result = stream_framer::result;
using kind = stream_framer::result::kind;

constexpr const char* too_large = "message_too_large";
constexpr const char* incomplete = "incomplete_frame";

result make_need_more(std::size_t consumed) { return {kind::need_more, {}, consumed, nullptr}; }
result make_frame(std::string_view f, std::size_t consumed) {
  return {kind::frame, f, consumed, nullptr};
}
result make_error(const char* code, std::size_t consumed) {
  return {kind::error, {}, consumed, code};
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// What the start of a syslog frame says about octet counting.
struct count_header {
  enum class kind { none, partial, counted } what = kind::none;
  std::size_t header_bytes = 0;  // "MSG-LEN SP"
  std::uint64_t length = 0;      // MSG-LEN
};

// `s` is non-empty. partial: only digits so far, too few to rule counting in or out.
count_header parse_count_header(std::string_view s) {
  if (s[0] < '1' || s[0] > '9') return {};
  std::uint64_t length = 0;
  std::size_t digits = 0;
  while (digits < s.size() && digits <= stream_framer::max_count_digits && is_digit(s[digits])) {
    length = length * 10 + static_cast<std::uint64_t>(s[digits] - '0');
    ++digits;
  }
  if (digits > stream_framer::max_count_digits) return {};  // too long to be a count
  if (digits == s.size()) return {count_header::kind::partial, 0, 0};
  if (s[digits] != ' ') return {};  // e.g. "2024-05-01 ...": a PRI-less line, not a count
  return {count_header::kind::counted, digits + 1, length};
}

// rsyslog's RFC 5424 forward template ends each counted message with LF; it is not content.
std::string_view strip_counted_newline(std::string_view body) {
  if (!body.empty() && body.back() == '\n') body.remove_suffix(1);
  if (!body.empty() && body.back() == '\r') body.remove_suffix(1);
  return body;
}

// The content of a terminated frame; its size is what max_frame_bytes limits.
std::string_view trim_frame(std::string_view f) {
  if (!f.empty() && f.back() == '\r') f.remove_suffix(1);
  return f;
}

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// JSON ignores surrounding whitespace; without this, "\0\n" separators would make junk frames.
std::string_view trim_json_space(std::string_view f) {
  while (!f.empty() && is_json_space(f.front())) f.remove_prefix(1);
  while (!f.empty() && is_json_space(f.back())) f.remove_suffix(1);
  return f;
}

}  // namespace

stream_framer::stream_framer(mode m, std::size_t max_frame_bytes)
    // Clamped so that buffer_bytes() and the "limit + 1" check below cannot overflow.
    : mode_(m),
      max_frame_bytes_(std::min(max_frame_bytes, std::numeric_limits<std::size_t>::max() / 2)) {}

void stream_framer::reset() {
  state_ = state::frame_start;
  discard_remaining_ = 0;
  searched_ = 0;
}

std::size_t stream_framer::find_terminator(std::string_view s, std::size_t from) const {
  // memchr is vectorised; two bounded passes beat one byte-by-byte loop over two characters.
  // They go a window at a time, so that finding a frame costs its own length, not the rest of
  // the buffer's (a NUL-framed stream holds no LF to stop the first pass).
  constexpr std::size_t window = 512;
  for (std::size_t at = from; at < s.size(); at += window) {
    const char* begin = s.data() + at;
    std::size_t length = std::min(window, s.size() - at);
    const void* lf = mode_ == mode::syslog ? std::memchr(begin, '\n', length) : nullptr;
    if (lf != nullptr) length = static_cast<std::size_t>(static_cast<const char*>(lf) - begin);
    if (const void* nul = std::memchr(begin, '\0', length)) {
      return at + static_cast<std::size_t>(static_cast<const char*>(nul) - begin);
    }
    if (lf != nullptr) return at + length;
  }
  return std::string_view::npos;
}

stream_framer::result stream_framer::next(std::string_view in) {
  // Valid only for the first frame of this call, which is the one need_more left pending.
  const std::size_t resume = std::exchange(searched_, 0);
  std::size_t pos = 0;  // bytes of `in` consumed so far

  for (;;) {
    if (state_ == state::discard_counted) {
      const auto n =
          static_cast<std::size_t>(std::min<std::uint64_t>(discard_remaining_, in.size() - pos));
      pos += n;
      discard_remaining_ -= n;
      if (discard_remaining_ > 0) return make_need_more(pos);
      state_ = state::frame_start;
    } else if (state_ == state::discard_to_terminator) {
      const std::size_t t = find_terminator(in, pos);
      if (t == std::string_view::npos) return make_need_more(in.size());
      pos = t + 1;
      state_ = state::frame_start;
    }

    const std::string_view rest = in.substr(pos);
    if (rest.empty()) return make_need_more(pos);

    if (mode_ == mode::syslog) {
      const count_header h = parse_count_header(rest);
      if (h.what == count_header::kind::partial) return make_need_more(pos);
      if (h.what == count_header::kind::counted) {
        const std::size_t available = rest.size() - h.header_bytes;
        if (h.length > max_frame_bytes_) {
          // Drop what is already here and the rest as it arrives, so the buffer never fills.
          const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(h.length, available));
          discard_remaining_ = h.length - n;
          state_ = discard_remaining_ > 0 ? state::discard_counted : state::frame_start;
          return make_error(too_large, pos + h.header_bytes + n);
        }
        if (available < h.length) return make_need_more(pos);
        const auto len = static_cast<std::size_t>(h.length);
        const std::string_view body = strip_counted_newline(rest.substr(h.header_bytes, len));
        pos += h.header_bytes + len;
        if (body.empty()) continue;
        return make_frame(body, pos);
      }
    }

    // Non-transparent framing: up to the next terminator.
    const std::size_t from = pos == 0 ? std::min(resume, rest.size()) : 0;
    const std::size_t t = find_terminator(rest, from);
    if (t == std::string_view::npos) {
      // One more byte than the limit may still be a CR that trimming removes.
      if (rest.size() > max_frame_bytes_ + 1) {
        state_ = state::discard_to_terminator;
        return make_error(too_large, in.size());
      }
      searched_ = rest.size();
      return make_need_more(pos);
    }
    std::string_view f = trim_frame(rest.substr(0, t));
    pos += t + 1;
    if (f.size() > max_frame_bytes_) return make_error(too_large, pos);
    if (mode_ == mode::nul) f = trim_json_space(f);
    if (f.empty()) continue;
    return make_frame(f, pos);
  }
}

stream_framer::result stream_framer::finish(std::string_view in) {
  const result r = next(in);
  if (r.what != result::kind::need_more) return r;

  // What is left is one unterminated frame, or a partial count header, or nothing.
  const std::string_view rest = in.substr(r.consumed);
  reset();
  if (rest.empty()) return make_need_more(in.size());
  if (mode_ == mode::syslog && parse_count_header(rest).what == count_header::kind::counted) {
    return make_error(incomplete, in.size());
  }
  std::string_view f = trim_frame(rest);
  if (f.size() > max_frame_bytes_) return make_error(too_large, in.size());
  if (mode_ == mode::nul) f = trim_json_space(f);
  if (f.empty()) return make_need_more(in.size());
  return make_frame(f, in.size());
}

}  // namespace tocsin::collector
