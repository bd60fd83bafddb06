#pragma once
// The archive search API on the admin listener:
//
//   GET /api/v1/search?filter=F&since=T&until=T&limit=N&buckets=N
//   → {"lines":[<Event JSON objects, newest first>],
//      "histogram":{"start":RFC3339,"step_seconds":N,"counts":[...]},
//      "files_scanned":N,"bytes_scanned":N,"bad_lines":N,"truncated":bool}
//
// `filter` is rules::event_filter text (default: everything); `since`/`until` RFC 3339 or a
// duration ago (`15m`, default 24h ago and now); `limit` 0..1000 (default 100); `buckets` 1..1000
// (default 60). A bad parameter is a 400 with {"error":"..."} naming it.

#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/admin_server.hpp"
#include "core/clock.hpp"

namespace tocsin::search {

// Serves /api/v1/search over the file outputs of `cfg` (their templates are copied: a reload
// that changes them takes a restart to be searched).
void register_search_api(admin_server& server, const config::config& cfg,
                         const tocsin::clock& time = real_clock());

// The handler itself, for tests: a search over `templates`.
http_reply search_request(const std::vector<std::string>& templates, const http_request_view& req,
                          const tocsin::clock& time = real_clock());

}  // namespace tocsin::search
