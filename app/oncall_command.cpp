// `tocsin oncall who` and `tocsin oncall schedule`: who is on call in each schedule at a time,
// and one schedule's rota ahead (DESIGN.md, "On-call"); `tocsin oncall ack` through the admin
// API of the running daemon.

#include <date/tz.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "app/commands.hpp"
#include "config/config.hpp"
#include "core/rfc3339.hpp"
#include "oncall/gaps.hpp"
#include "oncall/local_time.hpp"
#include "oncall/now.hpp"
#include "oncall/roster.hpp"
#include "pipeline/config_check.hpp"
#include "sinks/http_post.hpp"

namespace tocsin::app {
namespace {

using std::chrono::sys_seconds;

// The config's roster; nullopt after printing its errors the way check-config does.
std::optional<oncall::roster> load_roster(const std::string& config_file) {
  try {
    const config::config cfg = config::load_file(config_file);
    return oncall::roster(cfg.oncall, config_file);
  } catch (const config::config_error& e) {
    for (const auto& err : e.errors()) std::fprintf(stderr, "%s\n", err.c_str());
    return std::nullopt;
  }
}

// `--at` as a time, now without it; nullopt after printing why it is not RFC 3339.
std::optional<sys_seconds> time_of(const std::optional<std::string>& at) {
  const auto t = at ? parse_rfc3339(*at) : std::chrono::system_clock::now();
  if (!t) std::fprintf(stderr, "--at %s: not an RFC 3339 time\n", at->c_str());
  if (!t) return std::nullopt;
  return std::chrono::floor<std::chrono::seconds>(*t);
}

// `SCHEDULE USER UNTIL`, aligned; `-` for nobody and for no end in sight.
void print_table(const std::vector<oncall::on_call_now>& rows) {
  std::size_t schedule_width = 0;
  std::size_t user_width = 1;
  for (const auto& row : rows) {
    schedule_width = std::max(schedule_width, row.schedule.size());
    user_width = std::max(user_width, row.user.value_or("-").size());
  }
  for (const auto& row : rows) {
    const std::string until = row.until ? date::format("%FT%TZ", *row.until) : "-";
    std::printf("%-*s  %-*s  %s\n", static_cast<int>(schedule_width), row.schedule.c_str(),
                static_cast<int>(user_width), row.user.value_or("-").c_str(), until.c_str());
  }
}

const config::oncall_schedule* find_schedule(const oncall::roster& roster,
                                             const std::string& name) {
  const auto& all = roster.schedules();
  const auto it =
      std::find_if(all.begin(), all.end(), [&](const auto& s) { return s.name == name; });
  return it == all.end() ? nullptr : &*it;
}

std::string schedule_names(const oncall::roster& roster) {
  std::string out;
  for (const auto& s : roster.schedules()) out += (out.empty() ? "" : ", ") + s.name;
  return out.empty() ? "none" : out;
}

}  // namespace

int run_oncall_who(const oncall_who_options& options) {
  const auto roster = load_roster(options.config_file);
  const auto at = time_of(options.at);
  if (!roster || !at) return 1;
  const auto rows = oncall::who_is_on_call(*roster, *at);
  if (options.json) {
    std::printf("%s\n", oncall::to_json(rows).dump().c_str());
  } else {
    print_table(rows);
  }
  return 0;
}

int run_oncall_schedule(const oncall_schedule_options& options) {
  const auto roster = load_roster(options.config_file);
  const auto at = time_of(options.at);
  if (!roster || !at) return 1;
  const config::oncall_schedule* schedule = find_schedule(*roster, options.schedule);
  if (schedule == nullptr) {
    std::fprintf(stderr, "oncall schedule: %s has no schedule '%s' (schedules: %s)\n",
                 options.config_file.c_str(), options.schedule.c_str(),
                 schedule_names(*roster).c_str());
    return 1;
  }
  const date::time_zone& zone = *date::locate_zone(schedule->time_zone);
  const sys_seconds until = *at + std::chrono::days(options.days);
  // Local times with their offset are all the same width.
  const int time_width = static_cast<int>(oncall::format_local_time(zone, *at).size());
  std::printf("%-*s  %-*s  %s\n", time_width, "START", time_width, "END", "USER");
  for (const auto& row : oncall::rota_with_gaps(*roster, schedule->name, *at, until)) {
    std::printf("%s  %s  %s\n", oncall::format_local_time(zone, row.start).c_str(),
                oncall::format_local_time(zone, row.end).c_str(),
                row.user.empty() ? "(nobody)" : row.user.c_str());
  }
  return 0;
}

int run_oncall_ack(const oncall_ack_options& options) {
  config::config cfg;
  std::string token;
  try {
    cfg = config::load_file(options.config_file);
    token = pipeline::read_admin_token(cfg);
  } catch (const config::config_error& e) {
    for (const auto& err : e.errors()) std::fprintf(stderr, "%s\n", err.c_str());
    return 1;
  }
  if (!cfg.admin) {
    std::fprintf(stderr, "oncall ack: %s has no admin listener to send the ack to\n",
                 options.config_file.c_str());
    return 1;
  }
  config::endpoint to = cfg.admin->listen;
  if (to.host == "0.0.0.0") to.host = "127.0.0.1";
  if (to.host == "::") to.host = "::1";
  sinks::http_post_request request;
  request.url =
      (cfg.admin->tls ? "https://" : "http://") + config::to_string(to) + "/api/v1/oncall/ack";
  // The listener is reached by address, so trust exactly admin.tls's certificate rather than
  // the name on it.
  if (cfg.admin->tls) {
    request.pinned_cert_file = (cfg.file.parent_path() / cfg.admin->tls->cert).string();
  }
  request.bearer_token = token;
  request.body =
      nlohmann::json{{"page_id", options.page_id}, {"by", options.by}, {"comment", options.comment}}
          .dump();
  const sinks::http_post_response r = sinks::http_post(request);
  if (r.status == 200) {
    const auto body = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    const bool already = body.is_object() && body.value("already_acked", false);
    std::printf("%s %s by %s\n", options.page_id.c_str(),
                already ? "was already acknowledged" : "acknowledged",
                body.is_object() ? body.value("acked_by", options.by).c_str() : options.by.c_str());
    return 0;
  }
  if (r.status == 0) {
    std::fprintf(stderr, "oncall ack: %s: %s\n", request.url.c_str(), r.error.c_str());
  } else if (r.status == 404) {
    std::fprintf(stderr, "oncall ack: no paged group %s (resolved, or never paged)\n",
                 options.page_id.c_str());
  } else {
    std::fprintf(stderr, "oncall ack: %s answered %d: %s\n", request.url.c_str(), r.status,
                 r.body.c_str());
  }
  return 1;
}

}  // namespace tocsin::app
