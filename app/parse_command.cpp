// `tocsin parse`: one message per stdin line → one Event JSON line (or {"error":…}) per line.

#include "app/commands.hpp"
#include "collector/event.hpp"
#include "collector/gelf.hpp"
#include "collector/syslog_decoder.hpp"
#include "core/json_text.hpp"
#include "core/timezone.hpp"

#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string>

namespace tocsin::app {

using namespace tocsin::collector;

int run_parse(const parse_options& options) {
  const auto zone = input_timezone::from_name(options.timezone);
  if (!zone) throw std::runtime_error("unknown timezone '" + options.timezone + "'");

  std::ios::sync_with_stdio(false);
  event ev;
  std::string line, out;
  bool any_rejected = false;
  while (std::getline(std::cin, line)) {
    ev.clear();
    ev.received_at = std::chrono::system_clock::now();
    const syslog_decode_context ctx{ev.received_at, &*zone};
    const std::string_view text = line;
    decode_status status;
    if (options.format == "gelf" ||
        (options.format == "auto" && text.find_first_not_of(" \t") != std::string_view::npos &&
         text[text.find_first_not_of(" \t")] == '{')) {
      status = decode_gelf_json(text, ev);
    } else if (options.format == "rfc5424") {
      status = decode_rfc5424(text, ev);
    } else if (options.format == "rfc3164") {
      status = decode_rfc3164(text, ctx, ev);
    } else {
      status = decode_syslog_auto(text, ctx, ev);
    }
    out.clear();
    if (status.is_ok()) {
      append_event_json(ev, out);
    } else {
      any_rejected = true;
      out += "{\"error\":";
      append_json_string(status.what, out);
      out += ",\"reason\":";
      append_json_string(status.code, out);
      out += '}';
    }
    out += '\n';
    std::cout.write(out.data(), static_cast<std::streamsize>(out.size()));
  }
  std::cout.flush();
  return any_rejected ? 1 : 0;
}

}  // namespace tocsin::app
