// libFuzzer target for gelf_chunk_assembler. The input is a sequence of records:
//   ctl, len, len bytes of datagram
// ctl bit 0 prepends the chunk magic 1e 0f (so most records are chunks); bits 1..5 advance the
// fake clock by that many 100 ms steps before the datagram is fed; bits 6..7 pick one of four
// sources. Completed messages go
// through decode_gelf_payload. Small limits make eviction and the size caps reachable.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "collector/gelf.hpp"
#include "collector/gelf_chunk_assembler.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tocsin::collector;
  using namespace std::chrono_literals;
  constexpr std::size_t max_pending = 16;
  constexpr std::size_t max_pending_bytes = 4096;
  gelf_chunk_assembler assembler({.max_message_bytes = 2048,
                                  .max_pending_messages = max_pending,
                                  .max_pending_bytes = max_pending_bytes});
  auto now = gelf_chunk_assembler::clock::time_point{} + 1h;
  std::string datagram, scratch;
  event ev;

  std::size_t i = 0;
  while (i + 2 <= size) {
    const std::uint8_t ctl = data[i];
    const std::size_t len = std::min<std::size_t>(data[i + 1], size - i - 2);
    now += ((ctl >> 1) & 0x1f) * 100ms;
    source_key source{};
    source[15] = static_cast<unsigned char>(ctl >> 6);
    datagram.clear();
    if (ctl & 1) datagram.append("\x1e\x0f", 2);
    datagram.append(reinterpret_cast<const char*>(data + i + 2), len);
    i += 2 + len;

    const chunk_result r = assembler.add(datagram, now, source);
    switch (r.state) {
      case chunk_result::complete:
        if (!r.error.is_ok()) std::abort();
        if (r.payload.size() > 2048 && gelf_chunk_assembler::is_chunk(datagram)) std::abort();
        decode_gelf_payload(r.payload, 65536, scratch, ev);
        break;
      case chunk_result::rejected:
        if (r.error.is_ok() || r.error.what == nullptr) std::abort();
        break;
      case chunk_result::pending:
        if (!r.error.is_ok()) std::abort();
        break;
    }
    if (assembler.pending_messages() > max_pending) std::abort();
    if (assembler.pending_bytes() > max_pending_bytes) std::abort();
  }
  assembler.expire(now + 10s);
  if (assembler.pending_messages() != 0 || assembler.pending_bytes() != 0) std::abort();
  return 0;
}
