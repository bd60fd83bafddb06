// libFuzzer target for parse_event_json, which the archive search reads every line with: a line
// it accepts writes back out as valid JSON and reads back to the same text.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "collector/event.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tocsin::collector;
  // Static so reuse across inputs is exercised too, as the search does.
  static event ev;
  static event again;
  static std::string out;
  static std::string out_again;

  const std::string_view line(reinterpret_cast<const char*>(data), size);
  const decode_status st = parse_event_json(line, ev);
  if (!st.is_ok()) {
    if (st.what == nullptr || st.code == nullptr) std::abort();
    return 0;
  }
  if (ev.severity < -1 || ev.severity > 7 || ev.facility < -1 || ev.facility > 23) std::abort();
  out.clear();
  append_event_json(ev, out);
  if (nlohmann::json::parse(out, nullptr, false).is_discarded()) std::abort();
  // What it writes, it reads back to the same text.
  if (!parse_event_json(out, again).is_ok()) std::abort();
  out_again.clear();
  append_event_json(again, out_again);
  if (out_again != out) std::abort();
  return 0;
}
