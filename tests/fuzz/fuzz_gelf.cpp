// libFuzzer target for decode_gelf_payload: plain, zlib and gzip GELF payloads.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "collector/gelf.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tocsin::collector;
  // Static so reuse across inputs is exercised too, as on a shard.
  static std::string scratch;
  static event ev;
  static std::string out;

  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  const decode_status st = decode_gelf_payload(payload, 65536, scratch, ev);
  if (!st.is_ok()) {
    if (st.what == nullptr) std::abort();
    return 0;
  }
  // Invariants of an accepted message.
  if (ev.host.empty() || ev.message.empty() || ev.format != "gelf") std::abort();
  if (ev.severity < -1 || ev.severity > 7 || ev.facility != -1) std::abort();
  if (!ev.fields.is_null() && (!ev.fields.is_object() || ev.fields.empty())) std::abort();
  if (!ev.timestamp.empty() && ev.timestamp.back() != 'Z') std::abort();
  out.clear();
  append_event_json(ev, out);
  // The output must be valid JSON (and so valid UTF-8).
  if (nlohmann::json::parse(out, nullptr, false).is_discarded()) std::abort();
  return 0;
}
