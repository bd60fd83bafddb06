#include "rules/hits.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>

#include "rules/sliding_distinct.hpp"

namespace tocsin::rules {

namespace {

// Unix seconds a system_clock time_point (nanoseconds) holds without overflow, with room to add
// a day: until the year 2255.
constexpr std::int64_t seconds_limit = 9'000'000'000;

bool valid_second(const nlohmann::json& j) {
  return j.is_number_integer() && j.get<std::int64_t>() >= 0 &&
         j.get<std::int64_t>() < seconds_limit;
}

nlohmann::json summary_json(const value_summary& v) {
  nlohmann::json bins = nlohmann::json::array();
  for (const auto& [bin, n] : v.bins) bins.push_back({bin, n});
  return {
      {"n", v.count}, {"sum", v.sum}, {"min", v.min}, {"max", v.max}, {"bins", std::move(bins)}};
}

// The bins a summary may hold: value_summary's whole range.
constexpr std::size_t max_bins = 8192;

std::optional<value_summary> summary_from(const nlohmann::json& j) {
  if (!j.is_object()) return std::nullopt;
  const auto n = j.find("n");
  const auto sum = j.find("sum");
  const auto min = j.find("min");
  const auto max = j.find("max");
  const auto bins = j.find("bins");
  if (n == j.end() || !n->is_number_unsigned() || sum == j.end() || !sum->is_number() ||
      min == j.end() || !min->is_number() || max == j.end() || !max->is_number() ||
      bins == j.end() || !bins->is_array() || bins->size() > max_bins) {
    return std::nullopt;
  }
  value_summary v;
  v.count = n->get<std::uint64_t>();
  v.sum = sum->get<double>();
  v.min = min->get<double>();
  v.max = max->get<double>();
  if (!std::isfinite(v.sum) || !std::isfinite(v.min) || !std::isfinite(v.max) || v.min > v.max ||
      v.count == 0) {
    return std::nullopt;
  }
  std::uint64_t total = 0;
  for (const auto& b : *bins) {
    if (!b.is_array() || b.size() != 2 || !b[0].is_number_integer() || !b[1].is_number_unsigned() ||
        b[1].get<std::uint64_t>() == 0) {
      return std::nullopt;
    }
    const auto bin = b[0].get<std::int64_t>();
    if (bin < INT32_MIN || bin > INT32_MAX) return std::nullopt;
    if (!v.bins.empty() && v.bins.back().first >= bin) return std::nullopt;  // sorted, unique
    v.bins.emplace_back(static_cast<std::int32_t>(bin), b[1].get<std::uint64_t>());
    total += b[1].get<std::uint64_t>();
  }
  if (total != v.count) return std::nullopt;
  return v;
}

}  // namespace

std::int64_t latest_second(const hit_batch& b) {
  std::int64_t latest = INT64_MIN;
  // A record's seconds need not come in order.
  const auto last = [&](const auto& seconds) {
    for (const auto& s : seconds) latest = std::max(latest, s.first);
  };
  last(b.counts);
  last(b.base);
  last(b.distinct);
  last(b.registers);
  last(b.values);
  return latest;
}

std::string hits_key(const hit_batch& b) { return b.rule + '\n' + fingerprint(b.labels); }

std::string to_record(const hit_batch& b) {
  nlohmann::json counts = nlohmann::json::array();
  for (const auto& [second, n] : b.counts) counts.push_back({second, n});
  nlohmann::json state = {{"counts", std::move(counts)}};
  if (!b.base.empty()) {
    nlohmann::json& base = state["base"] = nlohmann::json::array();
    for (const auto& [second, n] : b.base) base.push_back({second, n});
  }
  if (!b.distinct.empty()) {
    nlohmann::json& distinct = state["distinct"] = nlohmann::json::array();
    for (const auto& [second, hashes] : b.distinct) distinct.push_back({second, hashes});
  }
  if (!b.registers.empty()) {
    nlohmann::json& registers = state["registers"] = nlohmann::json::array();
    for (const auto& [second, regs] : b.registers) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& [reg, rank] : regs) list.push_back({reg, rank});
      registers.push_back({second, std::move(list)});
    }
  }
  if (!b.values.empty()) {
    nlohmann::json& values = state["values"] = nlohmann::json::array();
    for (const auto& [second, summary] : b.values)
      values.push_back({second, summary_json(summary)});
  }
  nlohmann::json captures = nlohmann::json::array();
  for (const auto& [name, value] : b.captures) captures.push_back({name, value});
  const nlohmann::json j = {
      {"v", 1},
      {"rule", b.rule},
      {"labels", b.labels},
      {"state", std::move(state)},
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
      if (second < 0 || second >= seconds_limit) {
        return fail("state.counts holds a second out of range: " + std::to_string(second));
      }
      b.counts.emplace_back(second, c[1].get<std::uint64_t>());
    }
  }
  const nlohmann::json& state = j["state"];
  if (const auto base = state.find("base"); base != state.end()) {
    if (!base->is_array() || base->size() > max_hit_seconds) return fail("bad state.base");
    for (const auto& c : *base) {
      if (!c.is_array() || c.size() != 2 || !valid_second(c[0]) || !c[1].is_number_unsigned()) {
        return fail("state.base holds something other than [second, count]");
      }
      b.base.emplace_back(c[0].get<std::int64_t>(), c[1].get<std::uint64_t>());
    }
  }
  if (const auto distinct = state.find("distinct"); distinct != state.end()) {
    if (!distinct->is_array() || distinct->size() > max_hit_seconds) {
      return fail("bad state.distinct");
    }
    for (const auto& d : *distinct) {
      if (!d.is_array() || d.size() != 2 || !valid_second(d[0]) || !d[1].is_array() ||
          d[1].size() > max_hit_hashes) {
        return fail("state.distinct holds something other than [second, [hash, ...]]");
      }
      std::vector<std::uint64_t> hashes;
      for (const auto& h : d[1]) {
        if (!h.is_number_unsigned()) return fail("state.distinct holds a hash that is no number");
        hashes.push_back(h.get<std::uint64_t>());
      }
      b.distinct.emplace_back(d[0].get<std::int64_t>(), std::move(hashes));
    }
  }
  if (const auto registers = state.find("registers"); registers != state.end()) {
    if (!registers->is_array() || registers->size() > max_hit_seconds) {
      return fail("bad state.registers");
    }
    constexpr std::uint32_t register_count = 1U << sliding_distinct::precision;
    for (const auto& r : *registers) {
      if (!r.is_array() || r.size() != 2 || !valid_second(r[0]) || !r[1].is_array() ||
          r[1].size() > register_count) {
        return fail("state.registers holds something other than [second, [[register, rank]]]");
      }
      std::vector<std::pair<std::uint32_t, std::uint8_t>> regs;
      for (const auto& x : r[1]) {
        if (!x.is_array() || x.size() != 2 || !x[0].is_number_unsigned() ||
            !x[1].is_number_unsigned() || x[0].get<std::uint64_t>() >= register_count ||
            x[1].get<std::uint64_t>() == 0 || x[1].get<std::uint64_t>() > 64) {
          return fail("state.registers holds a register or rank out of range");
        }
        regs.emplace_back(x[0].get<std::uint32_t>(), x[1].get<std::uint8_t>());
      }
      b.registers.emplace_back(r[0].get<std::int64_t>(), std::move(regs));
    }
  }
  if (const auto values = state.find("values"); values != state.end()) {
    if (!values->is_array() || values->size() > max_hit_seconds) return fail("bad state.values");
    for (const auto& v : *values) {
      if (!v.is_array() || v.size() != 2 || !valid_second(v[0])) {
        return fail("state.values holds something other than [second, summary]");
      }
      auto summary = summary_from(v[1]);
      if (!summary) return fail("state.values holds a summary that does not add up");
      b.values.emplace_back(v[0].get<std::int64_t>(), std::move(*summary));
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
