#pragma once
// The live tail on the admin listener (the UI's tail page):
//
//   GET /api/v1/tail?filter=F   → text/event-stream: `event: line` with an Event JSON per
//                                 matching event, `event: dropped` with {"dropped":N} when the
//                                 rate cap (50/s) or the buffer (500) skipped some
//
// The stream lasts until the client goes; closing the tab unsubscribes at once. A bad filter is
// a 400 naming the term; beyond the hub's subscribers (16) a 429.

#include "core/admin_server.hpp"
#include "search/live_tail.hpp"

namespace tocsin::search {

// `tail` must outlive `admin`'s serving.
void register_tail_api(admin_server& admin, live_tail& tail);

}  // namespace tocsin::search
