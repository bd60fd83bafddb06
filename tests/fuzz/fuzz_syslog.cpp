// libFuzzer target for the syslog decoders: every input goes through RFC 5424, RFC 3164 and
// auto with one reused event (as a shard reuses it), and each success is rendered as JSON.
// Besides ASan/UBSan findings, it traps when a decoded view points outside the input.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "collector/event.hpp"
#include "collector/syslog_decoder.hpp"
#include "core/timezone.hpp"

namespace {

using namespace tocsin::collector;

bool inside(std::string_view v, std::string_view buf) {
  return v.empty() || (v.data() >= buf.data() && v.data() + v.size() <= buf.data() + buf.size());
}

void check(const decode_status& st, const event& ev, std::string_view msg, std::string& json) {
  if (!st.is_ok()) {
    if (st.code == nullptr || st.what == nullptr) __builtin_trap();
    return;
  }
  if (!inside(ev.host, msg) || !inside(ev.app, msg) || !inside(ev.procid, msg) ||
      !inside(ev.msgid, msg) || !inside(ev.message, msg)) {
    __builtin_trap();
  }
  for (const auto& p : ev.sd) {
    if (!inside(p.id, msg) || !inside(p.name, msg) || !inside(p.value, msg)) __builtin_trap();
  }
  if (ev.facility < 0 || ev.facility > 23 || ev.severity < 0 || ev.severity > 7) __builtin_trap();
  json.clear();
  append_event_json(ev, json);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace std::chrono;
  static event ev;
  static std::string json;
  static const std::optional<tocsin::input_timezone> fixed =
      tocsin::input_timezone::from_name("-03:30");
  static const std::optional<tocsin::input_timezone> berlin =
      tocsin::input_timezone::from_name("Europe/Berlin");

  const std::string_view msg(reinterpret_cast<const char*>(data), size);
  // Receive times on both sides of a New Year, in UTC, a fixed offset and a DST zone.
  const system_clock::time_point new_year = sys_days{year{2027} / 1 / 1};
  const syslog_decode_context contexts[] = {
      {new_year - seconds{30}, nullptr},
      {new_year + seconds{30}, fixed ? &*fixed : nullptr},
      {new_year - hours{24 * 180}, berlin ? &*berlin : nullptr},
  };
  const syslog_decode_context& ctx = contexts[size % 3];

  check(decode_rfc5424(msg, ev), ev, msg, json);
  check(decode_rfc3164(msg, ctx, ev), ev, msg, json);
  check(decode_syslog_auto(msg, ctx, ev), ev, msg, json);
  return 0;
}
