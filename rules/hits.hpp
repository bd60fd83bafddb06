#pragma once
// Cluster-wide rule windows (DESIGN.md "Scale-out"): a collector does not evaluate its
// cluster-scoped windowed rules (every kind but plain) itself; it sums their matches per rule,
// group and second and publishes them (tocsin.hits, key = rule + group) once a second. The router
// that owns the key's partition replays them into its own engine, which evaluates the window for
// the whole cluster. Partial states are mergeable: counts add up, so three collectors' 2 + 2 + 1
// matches make 5; distinct values merge as hashes (or HyperLogLog registers), numbers as summaries
// with log-bucketed histograms. A new_term rule's term is part of the group's labels.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rules/alert.hpp"
#include "rules/value_window.hpp"

namespace tocsin::rules {

struct hit_batch {
  std::string rule;  // the rule's name
  label_set labels;  // the group's labels, as the collector's engine made them
  // Matches per Unix second, oldest first (ratio: of the numerator).
  std::vector<std::pair<std::int64_t, std::uint64_t>> counts;
  // ratio: events of the base selection per second.
  std::vector<std::pair<std::int64_t, std::uint64_t>> base;
  // cardinality: per second, the values' hashes (value_hash), or for a second with more than
  // max_hit_hashes of them, their HyperLogLog registers (register, rank).
  std::vector<std::pair<std::int64_t, std::vector<std::uint64_t>>> distinct;
  std::vector<std::pair<std::int64_t, std::vector<std::pair<std::uint32_t, std::uint8_t>>>>
      registers;
  // aggregate: per second, a summary of the numbers.
  std::vector<std::pair<std::int64_t, value_summary>> values;
  // The latest match, for the annotations ({{message}}, {{host}}, named groups).
  std::string message, host;
  std::vector<std::pair<std::string, std::string>> captures;
  std::string collector;  // node_name of the collector that counted
};

// The record's key: the rule's name, a newline, the group's fingerprint.
std::string hits_key(const hit_batch& b);
// JSON {"v":1, "rule", "labels", "state": {"counts": [[second, n], ...], "base": [[second, n]],
// "distinct": [[second, [hash, ...]]], "registers": [[second, [[register, rank], ...]]],
// "values": [[second, {"n", "sum", "min", "max", "bins": [[bin, n], ...]}]]}, "last":
// {"message", "host", "captures": [[name, value], ...]}, "collector"}; the parts of "state" a
// kind does not use are left out, and a reader skips what it does not know.
std::string to_record(const hit_batch& b);
// The most seconds one record may hold.
inline constexpr std::size_t max_hit_seconds = 3600;
// The latest second any part of the batch holds (INT64_MIN when it holds none).
std::int64_t latest_second(const hit_batch& b);
// The most hashes one second may hold before the collector sends registers instead.
inline constexpr std::size_t max_hit_hashes = 2048;
// nullopt and `problem` for anything that is not a v1 hits record, or one with more than
// max_hit_seconds seconds or a second out of range.
std::optional<hit_batch> hits_from_record(std::string_view record, std::string* problem);

}  // namespace tocsin::rules
