#include "oncall/roster.hpp"

#include <date/tz.h>

#include <algorithm>
#include <cstdint>
#include <set>

#include "oncall/ics_calendar.hpp"
#include "oncall/local_time.hpp"

namespace tocsin::oncall {

using std::chrono::local_seconds;
using std::chrono::sys_seconds;

struct roster::zoned_schedule {
  const date::time_zone* zone = nullptr;
  std::unique_ptr<const ics_calendar> ics;  // null for a schedule of layers
};

namespace {

constexpr std::chrono::days look_around{60};

// `user` over [start, end), unless something of a higher rank claims the same time.
struct claim {
  std::string user;
  sys_seconds start, end;
  std::int64_t rank;
};

struct window {
  sys_seconds start, end;
};

std::chrono::seconds rotation_length(const config::oncall_layer& layer) {
  using namespace std::chrono;
  switch (layer.rotation) {
    case config::rotation_unit::hours:
      return hours(layer.rotation_count);
    case config::rotation_unit::days:
      return days(layer.rotation_count);
    case config::rotation_unit::weeks:
      return weeks(layer.rotation_count);
  }
  return weeks(layer.rotation_count);
}

local_seconds to_local(const date::time_zone& zone, sys_seconds t) {
  return local_seconds(zone.to_local(t).time_since_epoch());
}

bool on_weekday(const config::oncall_restriction& r, std::chrono::local_days day) {
  if (r.weekdays.empty()) return true;
  const auto wd = static_cast<int>(std::chrono::weekday(day).c_encoding());
  return std::find(r.weekdays.begin(), r.weekdays.end(), wd) != r.weekdays.end();
}

// Where a restriction lets its layer be active, around [from, to): each range on each allowed
// day it starts on.
std::vector<window> restriction_windows(const config::oncall_restriction& r,
                                        const date::time_zone& zone, sys_seconds from,
                                        sys_seconds to) {
  using namespace std::chrono;
  const std::vector<config::time_of_day_range> whole_day{{0, 0}};
  const auto& ranges = r.times.empty() ? whole_day : r.times;
  std::vector<window> out;
  const local_days last = floor<days>(to_local(zone, to)) + days(1);
  for (local_days day = floor<days>(to_local(zone, from)) - days(1); day <= last; day += days(1)) {
    if (!on_weekday(r, day)) continue;
    for (const auto& range : ranges) {
      const local_seconds begin = day + minutes(range.begin_minute);
      const local_seconds end = range.end_minute > range.begin_minute
                                    ? day + minutes(range.end_minute)
                                    : day + days(1) + minutes(range.end_minute);
      out.push_back({to_utc(zone, begin), to_utc(zone, end)});
    }
  }
  return out;
}

// The shift [start, end) of `user`, cut to the windows its layer's restriction allows.
void add_restricted(const std::string& user, window shift, const std::vector<window>& allowed,
                    std::int64_t rank, std::vector<claim>& out) {
  for (const window& w : allowed) {
    const sys_seconds start = std::max(shift.start, w.start);
    const sys_seconds end = std::min(shift.end, w.end);
    if (start < end) out.push_back({user, start, end, rank});
  }
}

void add_layer_claims(const config::oncall_layer& layer, const date::time_zone& zone,
                      std::int64_t rank, sys_seconds from, sys_seconds to,
                      std::vector<claim>& out) {
  const std::chrono::seconds period = rotation_length(layer);
  // The loader refuses both; a config read only partly (check-config) may still hold them.
  if (period <= std::chrono::seconds(0) || layer.users.empty()) return;
  const auto handoff = [&](std::int64_t k) { return to_utc(zone, layer.start + k * period); };
  // The first shift that can reach `from`; one earlier, as offsets shift local time a little.
  const std::int64_t first =
      std::max<std::int64_t>(0, (to_local(zone, from) - layer.start) / period - 1);
  std::vector<window> allowed;
  if (layer.restrict) allowed = restriction_windows(*layer.restrict, zone, from, to);
  const auto users = static_cast<std::int64_t>(layer.users.size());
  for (std::int64_t k = first; handoff(k) < to; ++k) {
    const window shift{handoff(k), handoff(k + 1)};
    if (shift.end <= from) continue;
    const std::string& user = layer.users[static_cast<std::size_t>(k % users)];
    if (layer.restrict) {
      add_restricted(user, shift, allowed, rank, out);
    } else {
      out.push_back({user, shift.start, shift.end, rank});
    }
  }
}

void add_calendar_claims(const ics_calendar& ics, sys_seconds from, sys_seconds to,
                         std::vector<claim>& out) {
  std::vector<calendar_entry> entries = ics.entries(from, to);
  // The later-starting event wins: rank by start, file order among equal starts.
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& a, const auto& b) { return a.start < b.start; });
  for (std::size_t i = 0; i < entries.size(); ++i) {
    auto& e = entries[i];
    out.push_back({std::move(e.user), e.start, e.end, static_cast<std::int64_t>(i)});
  }
}

// Who wins each instant of [from, to): a sweep over the claims' edges keeping the active ones
// ordered by rank. Adjacent pieces of one user merge; times nobody claims are left out.
std::vector<shift> resolve(const std::vector<claim>& claims, sys_seconds from, sys_seconds to) {
  struct edge {
    sys_seconds at;
    bool opens;
    std::size_t claim;
  };
  std::vector<edge> edges;
  for (std::size_t i = 0; i < claims.size(); ++i) {
    const sys_seconds start = std::max(claims[i].start, from);
    const sys_seconds end = std::min(claims[i].end, to);
    if (start >= end) continue;
    edges.push_back({start, true, i});
    edges.push_back({end, false, i});
  }
  std::sort(edges.begin(), edges.end(), [](const edge& a, const edge& b) { return a.at < b.at; });
  std::set<std::pair<std::int64_t, std::size_t>> active;  // (rank, claim)
  std::vector<shift> out;
  for (std::size_t i = 0; i < edges.size();) {
    const sys_seconds at = edges[i].at;
    for (; i < edges.size() && edges[i].at == at; ++i) {
      const auto key = std::make_pair(claims[edges[i].claim].rank, edges[i].claim);
      edges[i].opens ? (void)active.insert(key) : (void)active.erase(key);
    }
    if (active.empty() || i == edges.size()) continue;
    const std::string& user = claims[active.rbegin()->second].user;
    if (!out.empty() && out.back().user == user && out.back().end == at) {
      out.back().end = edges[i].at;
    } else {
      out.push_back({user, at, edges[i].at});
    }
  }
  return out;
}

}  // namespace

roster::roster(const config::oncall_config& oncall, const std::filesystem::path& config_file)
    : users_(oncall.users), schedules_(oncall.schedules) {
  std::vector<std::string> errors;
  for (const auto& s : schedules_) {
    auto zoned = std::make_shared<zoned_schedule>();
    try {
      zoned->zone = date::locate_zone(s.time_zone);
      if (!s.ics.empty()) {
        zoned->ics = std::make_unique<const ics_calendar>(config_file.parent_path() / s.ics,
                                                          *zoned->zone, users_);
      }
    } catch (const config::config_error& e) {
      errors.insert(errors.end(), e.errors().begin(), e.errors().end());
    } catch (const std::exception& e) {  // date's unknown zone (the loader checks it first)
      errors.push_back(config::location_prefix(s.where) + "time_zone " + s.time_zone + ": " +
                       e.what());
    }
    zoned_.push_back(std::move(zoned));
  }
  if (!errors.empty()) throw config::config_error(std::move(errors));
}

std::optional<std::size_t> roster::find(std::string_view schedule) const {
  for (std::size_t i = 0; i < schedules_.size(); ++i) {
    if (schedules_[i].name == schedule) return i;
  }
  return std::nullopt;
}

std::vector<shift> roster::rota(std::string_view schedule, sys_seconds from, sys_seconds to) const {
  const auto index = find(schedule);
  if (!index || from >= to) return {};
  const zoned_schedule& z = *zoned_[*index];
  const config::oncall_schedule& s = schedules_[*index];
  std::vector<claim> claims;
  if (z.ics) add_calendar_claims(*z.ics, from, to, claims);
  const auto& layers = s.layers;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    add_layer_claims(layers[i], *z.zone, static_cast<std::int64_t>(i), from, to, claims);
  }
  // Above every layer and event, in order.
  auto rank = static_cast<std::int64_t>(std::max(claims.size(), layers.size()));
  for (const auto& o : s.overrides) {
    claims.push_back({o.user, to_utc(*z.zone, o.start), to_utc(*z.zone, o.end), rank++});
  }
  return resolve(claims, from, to);
}

std::optional<shift> roster::on_call(std::string_view schedule, sys_seconds t) const {
  for (auto& s : rota(schedule, t - look_around, t + look_around)) {
    if (s.start <= t && t < s.end) return std::move(s);
  }
  return std::nullopt;
}

const config::oncall_user* roster::user(std::string_view name) const {
  for (const auto& u : users_) {
    if (u.name == name) return &u;
  }
  return nullptr;
}

const std::vector<config::oncall_schedule>& roster::schedules() const { return schedules_; }

}  // namespace tocsin::oncall
