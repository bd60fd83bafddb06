#pragma once
// The on-call API on the admin listener (DESIGN.md, "On-call"):
//   GET  /api/v1/oncall/now[?at=RFC3339]     who each schedule names
//   GET  /api/v1/oncall/schedule[?days=N]     each schedule's rota (default 14 days, gaps = "")
//   GET  /api/v1/oncall/pages[?since=RFC3339] the pages (default: the last 24 hours)
//   POST /api/v1/oncall/ack                   {"page_id"|"group_key", "by", "comment"}
//   GET  /ack/{page_id}?sig=…                 the signed link in a page: a confirmation page
//   POST /ack/{page_id}                       its button (sig, by, comment as a form)
// /ack/ works without the admin token (the signature is the credential) and does nothing but
// acknowledge; a GET never acknowledges, so link scanners in mail systems cannot.

#include <memory>

#include "core/admin_server.hpp"
#include "oncall/ack_link.hpp"
#include "sinks/alert_router.hpp"

namespace tocsin::sinks {

// Registers the handlers; `router` must outlive `admin`'s serving. Call before
// admin.require_token(), and add "/ack/" to its open prefixes.
void register_oncall_api(admin_server& admin, alert_router& router,
                         const std::shared_ptr<const oncall::ack_signer>& signer);

}  // namespace tocsin::sinks
