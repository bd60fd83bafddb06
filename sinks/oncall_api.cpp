#include "sinks/oncall_api.hpp"

#include <charconv>
#include <nlohmann/json.hpp>

#include "core/http_query.hpp"
#include "core/rfc3339.hpp"
#include "oncall/gaps.hpp"
#include "oncall/now.hpp"
#include "sinks/notifier_factories.hpp"

namespace tocsin::sinks {
namespace {

using json = nlohmann::json;
using sys_clock = std::chrono::system_clock;

http_reply json_reply(unsigned status, const json& body) {
  return {status, "application/json",
          body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n"};
}

http_reply html_reply(unsigned status, const std::string& title, const std::string& body_html) {
  return {status, "text/html; charset=utf-8",
          "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + html_escaped(title) +
              "</title></head>\n<body>\n<h1>" + html_escaped(title) + "</h1>\n" + body_html +
              "</body></html>\n"};
}

std::chrono::sys_seconds to_seconds(sys_clock::time_point tp) {
  return std::chrono::floor<std::chrono::seconds>(tp);
}

json time_or_null(sys_clock::time_point tp) {
  if (tp == sys_clock::time_point{}) return nullptr;
  return format_rfc3339_millis(tp);
}

json page_json(const page_entry& p) {
  return {{"page_id", p.page_id},
          {"group_key", p.group_key},
          {"policy", p.policy},
          {"step", p.step},
          {"user", p.user},
          {"receiver", p.receiver},
          {"at", format_rfc3339_millis(p.at)},
          {"state", p.state},
          {"acked_by", p.acked_by.empty() ? json(nullptr) : json(p.acked_by)},
          {"acked_at", p.acked_by.empty() ? json(nullptr) : time_or_null(p.acked_at)},
          {"comment", p.comment}};
}

json ack_json(const oncall::escalation& e) {
  return {{"page_id", e.page_id},
          {"group_key", e.group_key},
          {"acked_by", e.acked_by},
          {"acked_at",
           format_rfc3339_millis(sys_clock::time_point(std::chrono::milliseconds(e.acked_ms)))},
          {"comment", e.ack_comment}};
}

http_reply now_handler(alert_router& router, const http_request_view& req) {
  if (req.method != "GET") return {405, "text/plain; charset=utf-8", "use GET\n"};
  auto at = router.time_source().now();
  if (const std::string text = first_value(parse_query(req.target), "at"); !text.empty()) {
    auto parsed = parse_rfc3339(text);
    if (!parsed) return json_reply(400, "at: not an RFC 3339 time: " + text);
    at = *parsed;
  }
  return {200, "application/json",
          oncall::to_json(oncall::who_is_on_call(*router.roster(), to_seconds(at))).dump() + "\n"};
}

// Each schedule's rota for the coming `days` (default 14, at most 62), gaps as user "".
http_reply schedule_handler(alert_router& router, const http_request_view& req) {
  if (req.method != "GET") return {405, "text/plain; charset=utf-8", "use GET\n"};
  int days = 14;
  if (const std::string text = first_value(parse_query(req.target), "days"); !text.empty()) {
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), days);
    if (ec != std::errc() || end != text.data() + text.size() || days < 1 || days > 62) {
      return json_reply(400, "days: a whole number from 1 to 62: " + text);
    }
  }
  const auto roster = router.roster();
  const auto from = to_seconds(router.time_source().now());
  const auto to = from + std::chrono::days(days);
  json schedules = json::array();
  for (const auto& s : roster->schedules()) {
    json shifts = json::array();
    for (const oncall::shift& row : oncall::rota_with_gaps(*roster, s.name, from, to)) {
      shifts.push_back({{"user", row.user},
                        {"start", format_rfc3339_millis(row.start)},
                        {"end", format_rfc3339_millis(row.end)}});
    }
    schedules.push_back(
        {{"name", s.name}, {"time_zone", s.time_zone}, {"shifts", std::move(shifts)}});
  }
  return json_reply(200, json{{"schedules", std::move(schedules)}});
}

http_reply pages_handler(alert_router& router, const http_request_view& req) {
  if (req.method != "GET") return {405, "text/plain; charset=utf-8", "use GET\n"};
  auto since = router.time_source().now() - std::chrono::hours(24);
  if (const std::string text = first_value(parse_query(req.target), "since"); !text.empty()) {
    auto parsed = parse_rfc3339(text);
    if (!parsed) return json_reply(400, "since: not an RFC 3339 time: " + text);
    since = *parsed;
  }
  json out = json::array();
  for (const page_entry& p : router.oncall().history(since)) {
    if (!p.resolve) out.push_back(page_json(p));
  }
  return json_reply(200, out);
}

http_reply ack_handler(alert_router& router, const http_request_view& req) {
  if (req.method != "POST") return {405, "text/plain; charset=utf-8", "use POST\n"};
  const json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return json_reply(400, "expected a JSON object");
  const auto text = [&](const char* key) {
    const auto it = body.find(key);
    return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const std::string target = !text("page_id").empty() ? text("page_id") : text("group_key");
  if (target.empty()) return json_reply(400, "page_id or group_key is required");
  // With a user's token the ack is that user's, whatever the body says.
  const std::string by = !req.user.empty() ? req.user : text("by");
  if (by.empty()) return json_reply(400, "by is required (who acknowledges)");
  const ack_result r = router.oncall().ack(target, by, text("comment"));
  if (r.outcome == ack_outcome::not_found) return json_reply(404, "no such paged group");
  json out = ack_json(r.escalation);
  out["already_acked"] = r.outcome == ack_outcome::already_acked;
  return json_reply(200, out);
}

// GET shows what would be acknowledged and a button; POST (the button) acknowledges.
http_reply link_handler(alert_router& router, const oncall::ack_signer* signer,
                        const http_request_view& req) {
  const std::string path = req.target.substr(0, req.target.find('?'));
  const std::string page_id = path.substr(std::string_view("/ack/").size());
  const query_params form =
      req.method == "POST" ? parse_query(req.body, /*form_body=*/true) : parse_query(req.target);
  if (req.method != "GET" && req.method != "POST") {
    return {405, "text/plain; charset=utf-8", "use GET or POST\n"};
  }
  // The escalations this page id names (one per receiver the group pages through); the link
  // is good for the incident it was signed for. A page that is over and a wrong signature get
  // the same answer, so the link path tells nobody which groups are paging.
  const std::string sig = first_value(form, "sig");
  std::optional<oncall::escalation> e;
  for (oncall::escalation& candidate : router.oncall().escalations()) {
    if (candidate.page_id == page_id && signer != nullptr &&
        signer->verify(page_id, candidate.incident_ms, sig)) {
      e = std::move(candidate);
      break;
    }
  }
  if (!e) {
    return html_reply(403, "Link not valid",
                      "<p>This acknowledgement link is not valid, or its incident is over.</p>\n");
  }
  if (req.method == "GET") {
    if (e->acked()) {
      return html_reply(200, "Already acknowledged",
                        "<p>" + html_escaped(e->acked_by) + " acknowledged " +
                            html_escaped(e->group_key) + ".</p>\n");
    }
    return html_reply(200, "Acknowledge this page?",
                      "<p>Group: <code>" + html_escaped(e->group_key) +
                          "</code></p>\n"
                          "<form method=\"post\" action=\"/ack/" +
                          html_escaped(page_id) +
                          "\">\n"
                          "<input type=\"hidden\" name=\"sig\" value=\"" +
                          html_escaped(sig) +
                          "\">\n"
                          "<label>Name <input name=\"by\" required></label>\n"
                          "<label>Comment <input name=\"comment\"></label>\n"
                          "<button type=\"submit\">Acknowledge</button>\n</form>\n");
  }
  std::string by = first_value(form, "by");
  if (by.empty()) by = "ack link";
  const ack_result r = router.oncall().ack(page_id, by, first_value(form, "comment"));
  if (r.outcome == ack_outcome::not_found) {
    return html_reply(410, "Nothing to acknowledge", "<p>This page is over.</p>\n");
  }
  return html_reply(200, "Acknowledged",
                    "<p>" + html_escaped(r.escalation.acked_by) + " acknowledged " +
                        html_escaped(r.escalation.group_key) +
                        ". Escalation stopped until the group resolves.</p>\n");
}

}  // namespace

void register_oncall_api(admin_server& admin, alert_router& router,
                         const std::shared_ptr<const oncall::ack_signer>& signer) {
  admin.handle("/api/v1/oncall/now",
               [&router](const http_request_view& req) { return now_handler(router, req); });
  admin.handle("/api/v1/oncall/schedule",
               [&router](const http_request_view& req) { return schedule_handler(router, req); });
  admin.handle("/api/v1/oncall/pages",
               [&router](const http_request_view& req) { return pages_handler(router, req); });
  admin.handle("/api/v1/oncall/ack",
               [&router](const http_request_view& req) { return ack_handler(router, req); });
  admin.handle_prefix("/ack/", [&router, signer](const http_request_view& req) {
    return link_handler(router, signer.get(), req);
  });
}

}  // namespace tocsin::sinks
