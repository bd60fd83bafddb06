#pragma once
// Cluster-wide rule windows (DESIGN.md "Scale-out"): a collector does not evaluate its
// cluster-scoped threshold and absent rules itself; it sums their matches per rule, group and
// second and publishes them (tocsin.hits, key = rule + group) once a second. The router that owns
// the key's partition replays them into its own engine, which evaluates the window for the whole
// cluster. Partial states are mergeable by adding counts, so three collectors' 2 + 2 + 1 matches
// make 5.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rules/alert.hpp"

namespace tocsin::rules {

struct hit_batch {
  std::string rule;  // the rule's name
  label_set labels;  // the group's labels, as the collector's engine made them
  // Matches per Unix second, oldest first.
  std::vector<std::pair<std::int64_t, std::uint64_t>> counts;
  // The latest match, for the annotations ({{message}}, {{host}}, named groups).
  std::string message, host;
  std::vector<std::pair<std::string, std::string>> captures;
  std::string collector;  // node_name of the collector that counted
};

// The record's key: the rule's name, a newline, the group's fingerprint.
std::string hits_key(const hit_batch& b);
// JSON {"v":1, "rule", "labels", "state": {"counts": [[second, n], ...]}, "last": {"message",
// "host", "captures": [[name, value], ...]}, "collector"}. Later kinds of partial state (sketches,
// HyperLogLog) go into "state" beside "counts"; a reader skips what it does not know.
std::string to_record(const hit_batch& b);
// The most seconds one record may hold.
inline constexpr std::size_t max_hit_seconds = 3600;
// nullopt and `problem` for anything that is not a v1 hits record, or one with more than
// max_hit_seconds seconds or a second out of range.
std::optional<hit_batch> hits_from_record(std::string_view record, std::string* problem);

}  // namespace tocsin::rules
