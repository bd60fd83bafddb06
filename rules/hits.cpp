#include "rules/hits.hpp"

#include <nlohmann/json.hpp>

namespace tocsin::rules {

std::string hits_key(const hit_batch& b) { return b.rule + '\n' + fingerprint(b.labels); }

std::string to_record(const hit_batch& b) {
  nlohmann::json counts = nlohmann::json::array();
  for (const auto& [second, n] : b.counts) counts.push_back({second, n});
  nlohmann::json captures = nlohmann::json::array();
  for (const auto& [name, value] : b.captures) captures.push_back({name, value});
  const nlohmann::json j = {
      {"v", 1},
      {"rule", b.rule},
      {"labels", b.labels},
      {"state", {{"counts", std::move(counts)}}},
      {"last", {{"message", b.message}, {"host", b.host}, {"captures", std::move(captures)}}},
      {"collector", b.collector}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<hit_batch> hits_from_record(std::string_view record, std::string* problem) {
  const auto fail = [&](std::string why) -> std::optional<hit_batch> {
    if (problem != nullptr) *problem = std::move(why);
    return std::nullopt;
  };
  const auto j = nlohmann::json::parse(record, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("v") || !j["v"].is_number_integer()) {
    return fail("not a hits record");
  }
  if (j["v"].get<int>() != 1) {
    return fail("hits record version " + j["v"].dump() + " (this tocsin reads 1)");
  }
  if (!j.contains("rule") || !j["rule"].is_string() || !j.contains("labels") ||
      !j["labels"].is_object() || !j.contains("state") || !j["state"].is_object()) {
    return fail("a hits record without rule, labels and state");
  }
  hit_batch b;
  b.rule = j["rule"].get<std::string>();
  for (const auto& [name, value] : j["labels"].items()) {
    if (!value.is_string()) return fail("label " + name + " is not a string");
    b.labels.emplace(name, value.get<std::string>());
  }
  if (const auto counts = j["state"].find("counts"); counts != j["state"].end()) {
    if (!counts->is_array()) return fail("state.counts is not an array");
    // A collector publishes every second: an hour of seconds is already far more than one holds.
    if (counts->size() > max_hit_seconds) {
      return fail("state.counts holds " + std::to_string(counts->size()) + " seconds (at most " +
                  std::to_string(max_hit_seconds) + ")");
    }
    for (const auto& c : *counts) {
      if (!c.is_array() || c.size() != 2 || !c[0].is_number_integer() ||
          !c[1].is_number_unsigned()) {
        return fail("state.counts holds something other than [second, count]");
      }
      const auto second = c[0].get<std::int64_t>();
      // Unix seconds a time_point holds without overflow (until the year 2286).
      if (second < 0 || second >= 10'000'000'000) {
        return fail("state.counts holds a second out of range: " + std::to_string(second));
      }
      b.counts.emplace_back(second, c[1].get<std::uint64_t>());
    }
  }
  if (const auto last = j.find("last"); last != j.end() && last->is_object()) {
    b.message = last->value("message", "");
    b.host = last->value("host", "");
    if (const auto captures = last->find("captures");
        captures != last->end() && captures->is_array()) {
      for (const auto& c : *captures) {
        if (c.is_array() && c.size() == 2 && c[0].is_string() && c[1].is_string()) {
          b.captures.emplace_back(c[0].get<std::string>(), c[1].get<std::string>());
        }
      }
    }
  }
  if (const auto collector = j.find("collector"); collector != j.end() && collector->is_string()) {
    b.collector = collector->get<std::string>();
  }
  return b;
}

}  // namespace tocsin::rules
