#pragma once
// Search over the file archive (the `file` log outputs' Event JSON lines): only the files whose
// {date}, {host} and {app} can hold matches are read, each backwards in blocks, so matches come
// newest first (by received_at) and a search for the last hour of a day's file reads its end only.
//
// Files of one {date} are merged by received_at; days go newest first. A template without {date}
// merges all its files. Within a file lines are in the order the collector wrote them, which is
// received_at order up to the few milliseconds ingest shards may interleave.
//
// The work is bounded: at most `max_scan_bytes` are read (then `truncated`), lines longer than
// 16 MiB are skipped, and a line that is not an Event JSON object (torn, corrupt, hostile: deep
// nesting, invalid UTF-8) is skipped and counted, never a crash.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collector/event.hpp"
#include "config/config.hpp"
#include "rules/event_filter.hpp"

namespace tocsin::search {

using time_point = std::chrono::system_clock::time_point;

struct search_options {
  time_point since;  // received_at in [since, until)
  time_point until;
  std::size_t limit = 100;  // events delivered at most
  std::size_t buckets = 0;  // histogram buckets over the window; 0 = none
  std::uint64_t max_scan_bytes = std::uint64_t{1} << 30;  // bytes read at most
};

// Matches per bucket over [since, until): bucket i counts received_at in
// [start + i*step, start + (i+1)*step). Over every match, not only the first `limit`.
struct search_histogram {
  time_point start;
  std::chrono::seconds step{0};
  std::vector<std::uint64_t> counts;
};

struct search_result {
  std::size_t delivered = 0;      // events handed to the callback
  std::uint64_t matches = 0;      // matches seen (all of them when there is a histogram)
  std::size_t files_scanned = 0;  // files opened
  std::uint64_t bytes_scanned = 0;
  std::uint64_t bad_lines = 0;  // lines read that were no Event JSON (skipped)
  bool truncated = false;       // stopped at max_scan_bytes before the end
  search_histogram histogram;   // counts empty without buckets
};

// Called for each match, newest first, with the event and its Event JSON line (both valid only
// during the call). Return false to stop the search.
using match_callback = std::function<bool(const collector::event& ev, std::string_view line)>;

// The path templates of `cfg`'s file outputs, each once.
std::vector<std::string> archive_templates(const config::config& cfg);

// The files that can hold events of [since, until) matching `filter` under `path_template`
// (relative paths resolve against the current directory, as the daemon's do): {date} expanded
// for each UTC day of the window; {host} and {app} from a `host="..."` / `app="..."` term
// (sanitized as the archive does, plus the `_overflow` directory), else a glob. Grouped by day,
// newest day first.
std::vector<std::vector<std::string>> candidate_files(std::string_view path_template,
                                                      const rules::event_filter& filter,
                                                      time_point since, time_point until);

// Searches the archives under `path_templates`. Never throws for what it reads; a file that
// vanishes or cannot be read is skipped.
search_result search_archive(const std::vector<std::string>& path_templates,
                             const rules::event_filter& filter, const search_options& options,
                             const match_callback& on_match);

// A time as `tocsin search` and /api/v1/search take it: RFC 3339, or a duration before `now`
// in Go/Prometheus syntax (`90s`, `15m`, `2h`, `7d`, `1h30m`). nullopt when it is neither.
std::optional<time_point> parse_search_time(std::string_view text, time_point now);

// A histogram's bucket width for `buckets` buckets over [since, until): whole seconds, >= 1.
std::chrono::seconds histogram_step(time_point since, time_point until, std::size_t buckets);

}  // namespace tocsin::search
