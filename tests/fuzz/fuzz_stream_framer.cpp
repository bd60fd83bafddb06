// Fuzzes stream_framer over arbitrary bytes fed in pieces whose sizes come from the input.
// Input: byte 0 = mode (bit 0), byte 1 = max_frame_bytes selector, bytes 2-3 = seed of the piece
// sizes, the rest = the TCP stream. Checks the invariants of every result, and that a caller
// with a bounded buffer reading in pieces sees the same frames and errors as one that has the
// whole stream at once.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "collector/stream_framer.hpp"

namespace {

using tocsin::collector::stream_framer;
using kind = stream_framer::result::kind;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// Drains `buf` through next() (or finish()), appending "F" + frame / "E" + code to `out`.
void drain(stream_framer& framer, std::string& buf, bool at_end, std::vector<std::string>& out) {
  for (;;) {
    const std::string_view in(buf);
    const auto r = at_end ? framer.finish(in) : framer.next(in);
    check(r.consumed <= in.size());
    switch (r.what) {
      case kind::frame:
        check(r.consumed > 0);
        check(!r.frame.empty() && r.frame.size() <= framer.max_frame_bytes());
        check(r.frame.data() >= in.data() &&
              r.frame.data() + r.frame.size() <= in.data() + r.consumed);
        out.push_back("F" + std::string(r.frame));
        break;
      case kind::error:
        check(r.consumed > 0 && r.error_code != nullptr);
        out.push_back(std::string("E") + r.error_code);
        break;
      case kind::need_more:
        break;
    }
    buf.erase(0, r.consumed);
    if (r.what == kind::need_more) {
      check(buf.size() < framer.buffer_bytes());  // a full buffer never stalls
      if (at_end) check(buf.empty());
      return;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  const auto m = (data[0] & 1) ? stream_framer::mode::nul : stream_framer::mode::syslog;
  // Mostly tiny limits so oversize paths run often; sometimes a realistic one.
  const std::size_t max = (data[1] & 0x80) ? (data[1] & 0x7f) * std::size_t{512} : data[1];
  std::uint32_t seed = (std::uint32_t{data[2]} << 8 | data[3]) | 1;
  const std::string_view stream(reinterpret_cast<const char*>(data) + 4, size - 4);

  // Reference: the whole stream in one buffer.
  std::vector<std::string> whole;
  {
    stream_framer framer(m, max);
    std::string buf(stream);
    drain(framer, buf, false, whole);
    drain(framer, buf, true, whole);
  }

  // A connection handler with a buffer of buffer_bytes(), reading pieces of 1..64 bytes.
  std::vector<std::string> pieces;
  {
    stream_framer framer(m, max);
    const std::size_t cap = framer.buffer_bytes();
    std::string buf;
    std::size_t pos = 0;
    while (pos < stream.size()) {
      seed ^= seed << 13;
      seed ^= seed >> 17;
      seed ^= seed << 5;
      std::size_t n = 1 + seed % 64;
      if (n > stream.size() - pos) n = stream.size() - pos;
      check(buf.size() < cap);
      if (n > cap - buf.size()) n = cap - buf.size();
      buf.append(stream.substr(pos, n));
      pos += n;
      drain(framer, buf, false, pieces);
    }
    drain(framer, buf, true, pieces);
  }

  check(whole == pieces);
  return 0;
}
