#include "core/json_text.hpp"

#include "core/utf8.hpp"

#include <cstdint>
#include <cstring>

namespace tocsin {
namespace {

// Whether any of the 8 bytes in `w` is below 0x20, at or above 0x80, '"' or '\\': the bytes JSON
// text cannot take as they are (bit tricks that are exact as a yes/no for the whole word).
bool any_special_byte(std::uint64_t w) {
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  constexpr std::uint64_t highs = 0x8080808080808080ULL;
  const auto has_zero = [](std::uint64_t v) { return (v - ones) & ~v & highs; };
  const std::uint64_t below_space = (w - ones * 0x20) & ~w & highs;
  return ((below_space | has_zero(w ^ (ones * '"')) | has_zero(w ^ (ones * '\\'))) | (w & highs)) !=
         0;
}

}  // namespace

void append_json_escaped(std::string_view s, std::string& out) {
  static constexpr char hex[] = "0123456789abcdef";
  std::size_t i = 0;
  while (i < s.size()) {
    // Copy the longest run of plain ASCII in one go: the common case for log lines.
    std::size_t run = i;
    while (run + 8 <= s.size()) {
      std::uint64_t w;
      std::memcpy(&w, s.data() + run, 8);
      if (any_special_byte(w)) break;
      run += 8;
    }
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
      out += "\\\\";
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

void append_json_string(std::string_view s, std::string& out) {
  out += '"';
  append_json_escaped(s, out);
  out += '"';
}

}  // namespace tocsin
