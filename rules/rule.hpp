#pragma once
// Alerting rules as written in rules files (DESIGN.md, "Rules file"), and their loader.

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace tocsin::rules {

enum class rule_kind { plain, threshold, absent, spike, new_term, cardinality, aggregate, ratio };

// "plain", "threshold", "absent", "spike", "new_term", ...: as rules files, the API and the UI
// name a kind.
const char* kind_name(rule_kind kind);

// The kinds whose condition is evaluated over sliding 1 s buckets (DESIGN.md "More kinds").
bool is_window_kind(rule_kind kind);

// aggregate's `function`: avg min max sum, or pNN (quantile).
enum class aggregate_function { avg, min, max, sum, quantile };

// Where a windowed rule counts (DESIGN.md "Scale-out"): with a Kafka bus, `cluster`
// (the default) counts every collector's matches on the routers; `node` keeps the window on each
// collector. Plain rules fire where they match either way; with an embedded bus all are local.
enum class rule_scope { cluster, node };

// One `match:` entry: an event field (message host app procid msgid facility severity input
// source format, fields.NAME, sd.ID.PARAM) and an unanchored RE2 pattern.
struct field_pattern {
  std::string field;
  std::string pattern;
  config::source_location where;
};

struct rule_definition {
  std::string name;
  rule_kind kind = rule_kind::plain;
  std::vector<field_pattern> match;  // all must match; order as written
  int min_severity = -1;             // 0..7 (emerg..debug); -1 = no filter. Keeps severity <= it.
  std::string severity = "warning";  // the alert's `severity` label
  std::map<std::string, std::string> labels;       // static labels
  std::map<std::string, std::string> annotations;  // templates
  // threshold: count matches within window, per group_by values. spike, cardinality, aggregate
  // and ratio: the window too (whole seconds).
  std::size_t count = 0;
  std::chrono::milliseconds window{0};
  // absent: a group seen before with no match for `for_duration`.
  std::chrono::milliseconds for_duration{0};
  // spike: this window's matches against the previous window's; a rise when ratio > 1, a drop
  // when < 1. min_count applies to the current window (rise) or the previous one (drop).
  double spike_ratio = 0;
  std::uint64_t min_count = 0;
  // new_term: the field or named group whose values are the terms; cardinality: whose distinct
  // values are counted; aggregate: the number aggregated (`value:`).
  std::string field;
  std::chrono::milliseconds lookback{0};  // new_term: a term unseen this long is new again
  std::chrono::milliseconds warmup{0};    // new_term: after the rule appears, terms only teach
  aggregate_function function = aggregate_function::avg;
  double quantile = 0;  // pNN: NN / 100
  // cardinality (max/min), aggregate and ratio: fire while the window's value is above / below.
  std::optional<double> above, below;
  // ratio: the base selection (`of:`); the numerator is the events matching `match` and `of`.
  std::vector<field_pattern> of;
  std::uint64_t min_base = 0;
  // Event fields or named groups whose values make the alert's group (and labels). Every kind;
  // a plain rule's default is [host], the others' [].
  std::vector<std::string> group_by;
  rule_scope scope = rule_scope::cluster;
  // plain: resolves after this long without a match.
  std::chrono::milliseconds resolve_after = std::chrono::minutes(5);
  config::source_location where;
};

// A metric derived from log lines (DESIGN.md "Log-derived metrics"): each matching event adds to
// the series of its label values, exposed on /metrics under `name`.
enum class metric_type { counter, gauge, histogram };

// "counter", "gauge", "histogram": as the Prometheus TYPE line names them.
const char* metric_type_name(metric_type type);

struct metric_definition {
  std::string name;  // a Prometheus metric name, not starting with tocsin_
  metric_type type = metric_type::counter;
  std::vector<field_pattern> match;  // all must match, like a rule's
  int min_severity = -1;             // as rule_definition::min_severity
  // A named group of the patterns or an event field holding a number. Required for gauges (the
  // value set) and histograms (the value observed); a counter adds it instead of 1 when given.
  std::string value;
  std::vector<double> buckets;      // histogram: upper bounds, increasing (+Inf implicit)
  std::vector<std::string> labels;  // event fields or named groups, as written
  std::string help;
  std::size_t max_series = 1000;  // label sets at most; observations of more are dropped
  config::source_location where;
};

// Prometheus' default histogram buckets.
const std::vector<double>& default_metric_buckets();

// What rules files hold.
struct rule_files {
  std::vector<rule_definition> rules;
  std::vector<metric_definition> metrics;
};

// The same fields and patterns in the same order (source locations aside).
bool same_patterns(const std::vector<field_pattern>& a, const std::vector<field_pattern>& b);

// Whether `name` is an event field that rules can match and group by: message host app procid
// msgid facility severity input source format, fields.NAME, sd.ID.PARAM.
bool is_event_field(std::string_view name);

// The alert label a group_by field becomes: anything but [A-Za-z0-9] replaced with '_'
// (fields.user → fields_user).
std::string label_name_for_field(std::string_view field);

// Loads every file matched by `globs` (relative globs resolve against `base_dir`, the config
// file's directory). Throws config::config_error listing every error as FILE:LINE:COL: message
// (bad regex with RE2's message, unknown field or key, duplicate rule name across files, bad
// duration, duplicate metric name, ...). A glob that matches nothing is not an error.
rule_files load_rule_files(const std::vector<std::string>& globs,
                           const std::filesystem::path& base_dir);

// Same, from the text of one file (for tests).
rule_files load_rules_string(const std::string& yaml, const std::filesystem::path& file_name);

}  // namespace tocsin::rules
