#include "sinks/alertmanager_config_text.hpp"

#include <array>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tocsin::sinks {
namespace {

using json = nlohmann::json;

// Prometheus's model.Duration text: "1h30m", "30s", "250ms"; "0s" for zero.
std::string duration_text(config::duration d) {
  using namespace std::chrono;
  if (d.count() == 0) return "0s";
  std::string out;
  const auto take = [&](auto unit, const char* suffix) {
    const auto n = duration_cast<decltype(unit)>(d);
    if (n.count() != 0) {
      out += std::to_string(n.count()) + suffix;
      d -= duration_cast<config::duration>(n);
    }
  };
  take(hours(1), "h");
  take(minutes(1), "m");
  take(seconds(1), "s");
  take(milliseconds(1), "ms");
  return out;
}

json route_json(const config::route_config& r) {
  json out = json::object();
  if (!r.receiver.empty()) out["receiver"] = r.receiver;
  if (r.group_by) out["group_by"] = *r.group_by;
  if (!r.matchers.empty()) out["matchers"] = r.matchers;
  if (r.continue_matching) out["continue"] = true;
  if (r.group_wait) out["group_wait"] = duration_text(*r.group_wait);
  if (r.group_interval) out["group_interval"] = duration_text(*r.group_interval);
  if (r.repeat_interval) out["repeat_interval"] = duration_text(*r.repeat_interval);
  if (!r.mute_time_intervals.empty()) out["mute_time_intervals"] = r.mute_time_intervals;
  if (!r.active_time_intervals.empty()) out["active_time_intervals"] = r.active_time_intervals;
  if (!r.routes.empty()) {
    json children = json::array();
    for (const auto& child : r.routes) children.push_back(route_json(child));
    out["routes"] = std::move(children);
  }
  return out;
}

// "monday:friday", "1:5", "-1": Alertmanager's InclusiveRange text, `name` spelling each end.
template <typename Name>
json ranges_json(const std::vector<config::inclusive_range>& ranges, Name name) {
  json out = json::array();
  for (const auto& r : ranges) {
    out.push_back(r.begin == r.end ? name(r.begin) : name(r.begin) + ":" + name(r.end));
  }
  return out;
}

// "09:05"; 1440 minutes is "24:00".
std::string clock_text(int minute) {
  const auto two = [](int n) { return (n < 10 ? "0" : "") + std::to_string(n); };
  return two(minute / 60) + ":" + two(minute % 60);
}

json entry_json(const config::time_interval_entry& e) {
  static constexpr std::array<const char*, 7> weekdays = {
      "sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};
  static constexpr std::array<const char*, 12> months = {
      "january", "february", "march",     "april",   "may",      "june",
      "july",    "august",   "september", "october", "november", "december"};
  const auto number = [](int n) { return std::to_string(n); };
  json out = json::object();
  if (e.times) {
    json times = json::array();
    for (const auto& t : *e.times) {
      times.push_back(
          {{"start_time", clock_text(t.start_minute)}, {"end_time", clock_text(t.end_minute)}});
    }
    out["times"] = std::move(times);
  }
  if (e.weekdays) {
    out["weekdays"] = ranges_json(*e.weekdays, [](int d) {
      return std::string(weekdays.at(static_cast<std::size_t>(d % 7)));
    });
  }
  if (e.days_of_month) out["days_of_month"] = ranges_json(*e.days_of_month, number);
  if (e.months) {
    out["months"] = ranges_json(*e.months, [](int m) {
      return std::string(months.at(static_cast<std::size_t>((m + 11) % 12)));
    });
  }
  if (e.years) out["years"] = ranges_json(*e.years, number);
  if (e.location != "UTC") out["location"] = e.location;
  return out;
}

// Block YAML with every scalar as a JSON (so YAML double-quoted) string, number or bool.
void emit(const json& value, int indent, std::string& out);

void emit_member(const json& value, int indent, std::string& out) {
  const bool block = (value.is_object() || value.is_array()) && !value.empty();
  if (block) {
    out += '\n';
    emit(value, value.is_object() ? indent + 2 : indent, out);
  } else {
    out += ' ';
    out += value.dump(-1, ' ', false, json::error_handler_t::replace);
    out += '\n';
  }
}

void emit(const json& value, int indent, std::string& out) {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  if (value.is_object()) {
    for (const auto& [key, member] : value.items()) {
      out += pad + key + ":";
      emit_member(member, indent, out);
    }
  } else if (value.is_array()) {
    for (const auto& item : value) {
      if (item.is_object() && !item.empty()) {
        // "- " then the object's members, the first on the dash's line.
        std::string members;
        emit(item, indent + 2, members);
        out += pad + "- " + members.substr(static_cast<std::size_t>(indent) + 2);
      } else {
        out += pad + "- " + item.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
      }
    }
  }
}

}  // namespace

std::string alertmanager_config_text(const config::config& cfg) {
  if (!cfg.route) return {};
  // Alertmanager's own order of sections; json's objects sort their keys, so emit one by one.
  std::string out;
  emit(json{{"route", route_json(*cfg.route)}}, 0, out);
  if (!cfg.inhibit_rules.empty()) {
    json rules = json::array();
    for (const auto& r : cfg.inhibit_rules) {
      json rule = json::object();
      if (!r.source_matchers.empty()) rule["source_matchers"] = r.source_matchers;
      if (!r.target_matchers.empty()) rule["target_matchers"] = r.target_matchers;
      if (!r.equal.empty()) rule["equal"] = r.equal;
      rules.push_back(std::move(rule));
    }
    emit(json{{"inhibit_rules", std::move(rules)}}, 0, out);
  }
  json receivers = json::array();
  for (const auto r : config::receivers_by_name(cfg.receivers)) {
    receivers.push_back({{"name", r.front().name}});
  }
  emit(json{{"receivers", std::move(receivers)}}, 0, out);
  if (!cfg.time_intervals.empty()) {
    json intervals = json::array();
    for (const auto& ti : cfg.time_intervals) {
      json entries = json::array();
      for (const auto& e : ti.entries) entries.push_back(entry_json(e));
      intervals.push_back({{"name", ti.name}, {"time_intervals", std::move(entries)}});
    }
    emit(json{{"time_intervals", std::move(intervals)}}, 0, out);
  }
  return out;
}

}  // namespace tocsin::sinks
