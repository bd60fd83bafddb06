// `tocsin search`: archived events matching a filter, newest first (DESIGN.md, the command
// table): a table of time, host, app and message, or the Event JSON lines with --json.

#include <algorithm>
#include <cstdio>
#include <string>
#include <tuple>

#include "app/commands.hpp"
#include "config/config.hpp"
#include "core/rfc3339.hpp"
#include "core/utf8.hpp"
#include "rules/event_filter.hpp"
#include "search/archive_search.hpp"

namespace tocsin::app {
namespace {

// Bytes of message a table row shows.
constexpr std::size_t message_width = 200;

// `text` on one line: control characters become spaces, and at most `max` bytes (cut at a
// character boundary, marked with "…").
std::string one_line(std::string_view text, std::size_t max) {
  std::string out;
  out.reserve(std::min(text.size(), max) + 3);
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t n = 1;
    if (c >= 0x80) n = std::max<std::size_t>(1, utf8_sequence_length(text, i));
    if (out.size() + n > max) {
      out += "\xe2\x80\xa6";
      break;
    }
    if (c < 0x20 || c == 0x7f) {
      out += ' ';
    } else {
      out.append(text.substr(i, n));
    }
    i += n;
  }
  return out;
}

}  // namespace

int run_search(const search_options& options) {
  config::config cfg;
  try {
    cfg = config::load_file(options.config_file);
  } catch (const config::config_error& e) {
    for (const auto& err : e.errors()) std::fprintf(stderr, "%s\n", err.c_str());
    return 2;
  }
  const std::vector<std::string> templates = search::archive_templates(cfg);
  if (templates.empty()) {
    std::fprintf(stderr, "%s: no file output (outputs: - { type: file, path: ... }) to search\n",
                 options.config_file.c_str());
    return 2;
  }
  rules::event_filter filter;
  try {
    filter = rules::event_filter::parse(options.filter);
  } catch (const rules::event_filter_error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  const auto now = std::chrono::system_clock::now();
  search::search_options window;
  window.since = now - std::chrono::hours(24);
  window.until = now;
  window.limit = options.limit;
  for (const auto& [flag, text, target] : {std::tuple{"--since", &options.since, &window.since},
                                           std::tuple{"--until", &options.until, &window.until}}) {
    if (!*text) continue;
    const auto t = search::parse_search_time(**text, now);
    if (!t) {
      std::fprintf(stderr, "%s %s: neither an RFC 3339 time nor a duration such as 15m\n", flag,
                   (*text)->c_str());
      return 2;
    }
    *target = *t;
  }
  if (window.until <= window.since) {
    std::fprintf(stderr, "--since must be before --until\n");
    return 2;
  }

  std::string row;
  const search::search_result r = search::search_archive(
      templates, filter, window, [&](const collector::event& ev, std::string_view line) {
        row.clear();
        if (options.json) {
          row.append(line);
        } else {
          row = format_rfc3339_millis(ev.received_at);
          row += "  ";
          const std::string host = one_line(ev.host.empty() ? "-" : ev.host, 64);
          const std::string app = one_line(ev.app.empty() ? "-" : ev.app, 48);
          row += host;
          row.append(host.size() < 16 ? 16 - host.size() : 0, ' ');
          row += "  ";
          row += app;
          row.append(app.size() < 12 ? 12 - app.size() : 0, ' ');
          row += "  ";
          row += one_line(ev.message, message_width);
        }
        row += '\n';
        return std::fwrite(row.data(), 1, row.size(), stdout) == row.size();
      });
  std::fflush(stdout);
  if (r.bad_lines > 0) {
    std::fprintf(stderr, "skipped %llu archive lines that are no Event JSON\n",
                 static_cast<unsigned long long>(r.bad_lines));
  }
  if (r.truncated) {
    std::fprintf(stderr,
                 "stopped after reading %llu bytes of %zu files: older matches may exist; "
                 "narrow --since or the filter\n",
                 static_cast<unsigned long long>(r.bytes_scanned), r.files_scanned);
  }
  return 0;
}

}  // namespace tocsin::app
