#include "rules/rule.hpp"

#include <glob.h>
#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>
#include <utility>

#include "config/yaml_reader.hpp"

namespace tocsin::rules {

namespace {

// Index = rule_kind; the name a rules file gives the kind's block.
constexpr std::string_view kind_names[] = {"plain",    "threshold",   "absent",    "spike",
                                           "new_term", "cardinality", "aggregate", "ratio"};

}  // namespace

const char* kind_name(rule_kind kind) { return kind_names[static_cast<std::size_t>(kind)].data(); }

bool is_window_kind(rule_kind kind) {
  return kind == rule_kind::spike || kind == rule_kind::cardinality ||
         kind == rule_kind::aggregate || kind == rule_kind::ratio;
}

const char* metric_type_name(metric_type type) {
  switch (type) {
    case metric_type::gauge:
      return "gauge";
    case metric_type::histogram:
      return "histogram";
    case metric_type::counter:
      break;
  }
  return "counter";
}

const std::vector<double>& default_metric_buckets() {
  static const std::vector<double> buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                              0.5,   1,    2.5,   5,    10};
  return buckets;
}

namespace {

using config::names;
using config::quote;
using config::yaml_entry;

constexpr std::string_view top_keys[] = {"rules", "metrics"};
constexpr std::string_view rule_keys[] = {"name",   "match",       "min_severity",  "severity",
                                          "labels", "annotations", "threshold",     "absent",
                                          "spike",  "new_term",    "cardinality",   "aggregate",
                                          "ratio",  "group_by",    "resolve_after", "scope"};
constexpr std::string_view scopes[] = {"cluster", "node"};
constexpr std::string_view threshold_keys[] = {"count", "window", "group_by"};
constexpr std::string_view absent_keys[] = {"for", "group_by"};
constexpr std::string_view spike_keys[] = {"window", "ratio", "min_count", "group_by"};
constexpr std::string_view new_term_keys[] = {"field", "lookback", "warmup", "group_by"};
constexpr std::string_view cardinality_keys[] = {"field", "window", "max", "min", "group_by"};
constexpr std::string_view aggregate_keys[] = {"value", "function", "window",
                                               "above", "below",    "group_by"};
constexpr std::string_view ratio_keys[] = {"of",    "window",   "above",
                                           "below", "min_base", "group_by"};
constexpr std::string_view aggregate_functions[] = {"avg", "min", "max", "sum", "pNN"};
constexpr std::string_view plain_fields[] = {"message",  "host",     "app",   "procid", "msgid",
                                             "facility", "severity", "input", "source", "format"};
// Index = syslog severity number.
constexpr std::string_view severities[] = {"emerg",   "alert",  "crit", "err",
                                           "warning", "notice", "info", "debug"};
// Labels the rule engine sets itself.
constexpr std::string_view reserved_labels[] = {"alertname", "severity"};

// A metric name taken by an earlier metric (of any file): histograms also write NAME_bucket,
// NAME_sum and NAME_count.
struct known_metric {
  config::source_location where;
  bool histogram = false;
};
using known_metrics = std::map<std::string, known_metric>;

// Why `field` is no event field, "" when it is one.
std::string field_problem(std::string_view field) {
  if (is_event_field(field)) return "";
  if (field == "fields" || field == "fields.") {
    return "field " + quote(field) + " needs a name: fields.NAME";
  }
  if (field == "sd" || field.starts_with("sd.")) {
    return "invalid field " + quote(field) + "; expected sd.ID.PARAM";
  }
  std::string message = "unknown field " + quote(field) + "; expected one of " +
                        config::join(names(plain_fields), ", ") + ", fields.NAME or sd.ID.PARAM";
  // A misspelt prefix (`field.user`) is suggested with the rest kept.
  const std::size_t dot = field.find('.');
  if (dot != std::string_view::npos) {
    const std::string rest(field.substr(dot));
    const std::string fields_name = "fields" + rest;
    const std::string sd_name = "sd" + rest;
    const std::string_view candidates[] = {fields_name, sd_name};
    return message + config::suggestion(field, candidates);
  }
  return message + config::suggestion(field, plain_fields);
}

// Rule names become the `alertname` label: [a-zA-Z0-9_][a-zA-Z0-9_:-]* (DESIGN.md names one
// 5xx-spike; a label value may start with a digit).
bool valid_rule_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool word =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (c >= '0' && c <= '9');
    const bool more = c == ':' || c == '-';
    if (!word && !(i > 0 && more)) return false;
  }
  return true;
}

std::string at_text(const config::source_location& where) {
  return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
}

// Walks one rules file. Rule names are checked against `known_names`, which spans every file
// loaded so far.
class rules_reader : public config::yaml_reader {
 public:
  rules_reader(std::string file, std::map<std::string, config::source_location>& known_names,
               known_metrics& metrics)
      : yaml_reader(std::move(file)), known_names_(known_names), known_metrics_(metrics) {}

  void load(const YAML::Node& root, rule_files& out) {
    if (!root.IsNull() && !root.IsMap()) {
      error(
          root.Mark(), "",
          "expected a mapping with a 'rules' and/or 'metrics' list, got " + config::describe(root));
      return;
    }
    const yaml_entry top{"", root, root.Mark(), ""};
    const auto entries = mapping(top, top_keys);
    if (!entries) return;
    for (const yaml_entry& e : *entries) {
      const auto items = list(e);
      if (!items) continue;
      for (const yaml_entry& item : *items) {
        if (e.name == "metrics") {
          if (auto metric = load_metric(item)) out.metrics.push_back(std::move(*metric));
        } else if (auto rule = load_rule(item)) {
          out.rules.push_back(std::move(*rule));
        }
      }
    }
  }

 private:
  std::optional<rule_definition> load_rule(const yaml_entry& at);
  void load_name(const yaml_entry& e, rule_definition& rule);
  void load_patterns(const yaml_entry& e, std::vector<field_pattern>& out,
                     std::vector<std::string>& groups);
  void load_kind(const yaml_entry& e, rule_definition& rule);
  void load_threshold(const yaml_entry& e, rule_definition& rule);
  void load_absent(const yaml_entry& e, rule_definition& rule);
  void load_spike(const yaml_entry& e, rule_definition& rule);
  void load_new_term(const yaml_entry& e, rule_definition& rule);
  void load_cardinality(const yaml_entry& e, rule_definition& rule);
  void load_aggregate(const yaml_entry& e, rule_definition& rule);
  void load_ratio(const yaml_entry& e, rule_definition& rule);
  void check_group_by(const yaml_entry& e, rule_definition& rule);
  void check_field(const yaml_entry& e, const std::vector<std::string>& groups,
                   const std::string& what);
  std::optional<std::map<std::string, std::string>> label_map(const yaml_entry& e, bool labels);
  // metrics: (DESIGN.md "Log-derived metrics").
  std::optional<metric_definition> load_metric(const yaml_entry& at);
  bool load_metric_name(const yaml_entry& e, metric_definition& metric);
  void check_series_names(const yaml_entry& e, const metric_definition& metric);
  void load_buckets(const yaml_entry& e, metric_definition& metric);
  void check_metric_fields(const yaml_entry& at, const std::vector<yaml_entry>& entries,
                           metric_definition& metric);
  std::string unknown_field_message(const std::string& name, const std::string& whose);

  // A duration that must be positive.
  std::optional<config::duration> positive_span(const yaml_entry& e) {
    auto value = span(e);
    if (value && value->count() <= 0) {
      error(e.mark(), e.path, "must be greater than 0");
      return std::nullopt;
    }
    return value;
  }

  // A window of the windowed kinds: whole seconds, since they slide in 1 s buckets.
  std::optional<config::duration> window_span(const yaml_entry& e) {
    auto value = positive_span(e);
    if (value && value->count() % 1000 != 0) {
      error(e.mark(), e.path,
            "windows slide in 1 s buckets: give whole seconds (30s, 5m, 1h30m), got " +
                quote(e.value.Scalar()));
      return std::nullopt;
    }
    // A group keeps a bucket for every second with a match, so the window bounds its memory.
    if (value && *value > std::chrono::hours(24)) {
      error(e.mark(), e.path, "a window is at most 24h (each group keeps one bucket per second)");
      return std::nullopt;
    }
    return value;
  }

  // A finite decimal number, at least `min`.
  std::optional<double> real(const yaml_entry& e, double min) {
    auto value = text(e);
    if (!value) return std::nullopt;
    double parsed = 0;
    const char* end = value->data() + value->size();
    const auto [ptr, ec] = std::from_chars(value->data(), end, parsed);
    if (ec != std::errc() || ptr != end || !std::isfinite(parsed)) {
      error(e.mark(), e.path, "expected a number, got " + config::describe(e.value));
      return std::nullopt;
    }
    if (parsed < min) {
      error(e.mark(), e.path, quote(*value) + " is too small (at least " + number_text(min) + ")");
      return std::nullopt;
    }
    return parsed;
  }

  static std::string number_text(double v) {
    char out[32];
    const auto r = std::to_chars(out, out + sizeof(out), v);
    return {out, r.ptr};
  }

  std::map<std::string, config::source_location>& known_names_;
  known_metrics& known_metrics_;
  // Of the rule being read: the named groups of its `match` and `of` patterns, its group_by
  // and the kind's field (checked once the groups are known, whatever the key order).
  std::vector<std::string> named_groups_;
  std::vector<std::string> of_groups_;
  std::optional<yaml_entry> group_by_;
  std::optional<yaml_entry> field_;
};

std::optional<rule_definition> rules_reader::load_rule(const yaml_entry& at) {
  const auto entries = mapping(at, rule_keys, /*null_is_empty=*/false);
  if (!entries) return std::nullopt;
  constexpr std::string_view required[] = {"name", "match"};
  require(at, *entries, required);

  rule_definition rule;
  rule.where = where(at.mark());
  named_groups_.clear();
  of_groups_.clear();
  group_by_.reset();
  field_.reset();
  // The first kind block wins; any later one is the mistake.
  const yaml_entry* kind = nullptr;
  for (const yaml_entry& e : *entries) {
    const auto* k = std::find(std::begin(kind_names) + 1, std::end(kind_names), e.name);
    if (k == std::end(kind_names)) continue;
    if (kind == nullptr || e.key_mark.pos < kind->key_mark.pos) kind = &e;
  }
  for (const yaml_entry& e : *entries) {
    if (e.name == "name") {
      load_name(e, rule);
    } else if (e.name == "match") {
      load_patterns(e, rule.match, named_groups_);
    } else if (e.name == "min_severity") {
      if (auto v = choice(e, severities)) {
        rule.min_severity = static_cast<int>(
            std::find(std::begin(severities), std::end(severities), *v) - std::begin(severities));
      }
    } else if (e.name == "severity") {
      if (auto v = text(e)) rule.severity = *v;
    } else if (e.name == "labels") {
      if (auto v = label_map(e, /*labels=*/true)) rule.labels = std::move(*v);
    } else if (e.name == "annotations") {
      if (auto v = label_map(e, /*labels=*/false)) rule.annotations = std::move(*v);
    } else if (e.name == "group_by") {
      group_by_ = e;
    } else if (e.name == "scope") {
      if (auto v = choice(e, scopes))
        rule.scope = *v == "node" ? rule_scope::node : rule_scope::cluster;
    } else if (e.name == "resolve_after") {
      if (kind != nullptr && kind->name != "new_term") {
        error(e.key_mark, e.path,
              "only plain and new_term rules resolve after a quiet time; " + kind->name +
                  (kind->name == "absent"      ? " rules resolve on the next match"
                   : kind->name == "threshold" ? " rules resolve when below count for a window"
                                               : " rules resolve when their condition has been "
                                                 "false for a window"));
        continue;
      }
      if (auto v = positive_span(e)) rule.resolve_after = *v;
    } else if (&e != kind && kind != nullptr &&
               std::find(std::begin(kind_names), std::end(kind_names), e.name) !=
                   std::end(kind_names)) {
      error(e.key_mark, e.path,
            kind->name + " and " + e.name + " are mutually exclusive: a rule has one kind");
    } else if (&e == kind) {
      load_kind(e, rule);
    }
  }
  // group_by belongs to the rule; inside the kind's block (its v1 place) it means the same.
  const yaml_entry* outer = config::find(*entries, "group_by");
  if (outer != nullptr && group_by_ && group_by_->key_mark.pos != outer->key_mark.pos) {
    error(group_by_->key_mark, group_by_->path,
          "group_by is given twice: keep the one at the rule's level (" + outer->path + ")");
  } else if (group_by_) {
    check_group_by(*group_by_, rule);
  } else if (rule.kind == rule_kind::plain) {
    rule.group_by = {"host"};  // "disk full on db1" and "on db2" are two alerts
  }
  if (field_) {
    check_field(*field_, named_groups_,
                rule.kind == rule_kind::aggregate ? "the value" : "the field");
  }
  return rule;
}

void rules_reader::load_name(const yaml_entry& e, rule_definition& rule) {
  auto v = text(e);
  if (!v) return;
  rule.name = *v;
  if (!valid_rule_name(*v)) {
    error(e.mark(), e.path,
          "invalid rule name " + quote(*v) +
              " (it becomes the alertname label: a letter, digit or '_', then letters, digits, "
              "'_', ':' or '-')");
    return;
  }
  const config::source_location here = where(e.mark());
  auto [it, fresh] = known_names_.emplace(*v, here);
  if (!fresh) {
    error(e.mark(), e.path,
          "duplicate rule name " + quote(*v) + " (first defined at " + at_text(it->second) + ")");
  }
}

void rules_reader::load_patterns(const yaml_entry& e, std::vector<field_pattern>& out,
                                 std::vector<std::string>& groups) {
  if (!e.value.IsMap()) {
    error(e.mark(), e.path,
          "expected a mapping of event field to regex, got " + config::describe(e.value));
    return;
  }
  if (e.value.size() == 0) {
    error(e.mark(), e.path, "must not be empty: give at least one field: regex");
    return;
  }
  RE2::Options options;
  options.set_log_errors(false);
  std::set<std::string> seen;
  for (auto it = e.value.begin(); it != e.value.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      error(key.Mark(), e.path, "expected a field name, got " + config::describe(key));
      continue;
    }
    const std::string& field = key.Scalar();
    const std::string path = e.path + "." + field;
    if (!seen.insert(field).second) {
      error(key.Mark(), "", "duplicate key " + quote(field) + " in " + e.path);
      continue;
    }
    if (std::string problem = field_problem(field); !problem.empty()) {
      error(key.Mark(), e.path, problem);
      continue;
    }
    const yaml_entry value{field, it->second, key.Mark(), path};
    auto pattern = text(value);
    if (!pattern) continue;
    const RE2 re(*pattern, options);
    if (!re.ok()) {
      error(value.mark(), path, "invalid regex: " + re.error());
      continue;
    }
    for (const auto& [name, index] : re.NamedCapturingGroups()) groups.push_back(name);
    out.push_back(field_pattern{field, *pattern, where(value.mark())});
  }
}

void rules_reader::load_kind(const yaml_entry& e, rule_definition& rule) {
  if (e.name == "threshold") {
    load_threshold(e, rule);
  } else if (e.name == "absent") {
    load_absent(e, rule);
  } else if (e.name == "spike") {
    load_spike(e, rule);
  } else if (e.name == "new_term") {
    load_new_term(e, rule);
  } else if (e.name == "cardinality") {
    load_cardinality(e, rule);
  } else if (e.name == "aggregate") {
    load_aggregate(e, rule);
  } else if (e.name == "ratio") {
    load_ratio(e, rule);
  }
}

void rules_reader::load_threshold(const yaml_entry& e, rule_definition& rule) {
  const auto entries = mapping(e, threshold_keys, /*null_is_empty=*/false);
  if (!entries) return;
  constexpr std::string_view required[] = {"count", "window"};
  require(e, *entries, required);
  rule.kind = rule_kind::threshold;
  for (const yaml_entry& t : *entries) {
    if (t.name == "count") {
      if (auto v = count(t, 1, 1'000'000'000)) rule.count = *v;
    } else if (t.name == "window") {
      if (auto v = positive_span(t)) rule.window = *v;
    } else if (t.name == "group_by") {
      group_by_ = t;
    }
  }
}

void rules_reader::load_absent(const yaml_entry& e, rule_definition& rule) {
  const auto entries = mapping(e, absent_keys, /*null_is_empty=*/false);
  if (!entries) return;
  constexpr std::string_view required[] = {"for"};
  require(e, *entries, required);
  rule.kind = rule_kind::absent;
  for (const yaml_entry& a : *entries) {
    if (a.name == "for") {
      if (auto v = positive_span(a)) rule.for_duration = *v;
    } else if (a.name == "group_by") {
      group_by_ = a;
    }
  }
}

void rules_reader::load_spike(const yaml_entry& e, rule_definition& rule) {
  const auto entries = mapping(e, spike_keys, /*null_is_empty=*/false);
  if (!entries) return;
  constexpr std::string_view required[] = {"window", "ratio"};
  require(e, *entries, required);
  rule.kind = rule_kind::spike;
  rule.min_count = 1;
  for (const yaml_entry& s : *entries) {
    if (s.name == "window") {
      if (auto v = window_span(s)) rule.window = *v;
    } else if (s.name == "ratio") {
      auto v = real(s, -std::numeric_limits<double>::max());
      if (v && (*v <= 0 || *v == 1)) {
        error(s.mark(), s.path,
              "ratio must be above 1 (a rise: 3 = three times the previous window) or between 0 "
              "and 1 (a drop: 0.2 = a fifth of it)");
      } else if (v) {
        rule.spike_ratio = *v;
      }
    } else if (s.name == "min_count") {
      if (auto v = count(s, 1, 1'000'000'000)) rule.min_count = *v;
    } else if (s.name == "group_by") {
      group_by_ = s;
    }
  }
}

void rules_reader::load_new_term(const yaml_entry& e, rule_definition& rule) {
  const auto entries = mapping(e, new_term_keys, /*null_is_empty=*/false);
  if (!entries) return;
  constexpr std::string_view required[] = {"field"};
  require(e, *entries, required);
  rule.kind = rule_kind::new_term;
  rule.lookback = std::chrono::hours(24 * 30);
  rule.warmup = std::chrono::hours(1);
  for (const yaml_entry& n : *entries) {
    if (n.name == "field") {
      if (auto v = text(n)) {
        rule.field = *v;
        field_ = n;
      }
    } else if (n.name == "lookback") {
      if (auto v = positive_span(n)) rule.lookback = *v;
    } else if (n.name == "warmup") {
      auto v = span(n);
      if (v && v->count() < 0) {
        error(n.mark(), n.path, "must not be negative");
      } else if (v) {
        rule.warmup = *v;
      }
    } else if (n.name == "group_by") {
      group_by_ = n;
    }
  }
}

void rules_reader::load_cardinality(const yaml_entry& e, rule_definition& rule) {
  const auto entries = mapping(e, cardinality_keys, /*null_is_empty=*/false);
  if (!entries) return;
  constexpr std::string_view required[] = {"field", "window"};
  require(e, *entries, required);
  if (config::find(*entries, "max") == nullptr && config::find(*entries, "min") == nullptr) {
    error(e.mark(), e.path, "give max (fire above it), min (fire below it) or both");
  }
  rule.kind = rule_kind::cardinality;
  for (const yaml_entry& c : *entries) {
    if (c.name == "field") {
      if (auto v = text(c)) {
        rule.field = *v;
        field_ = c;
      }
    } else if (c.name == "window") {
      if (auto v = window_span(c)) rule.window = *v;
    } else if (c.name == "max") {
      if (auto v = count(c, 0, 1'000'000'000)) rule.above = static_cast<double>(*v);
    } else if (c.name == "min") {
      if (auto v = count(c, 2, 1'000'000'000)) rule.below = static_cast<double>(*v);
    } else if (c.name == "group_by") {
      group_by_ = c;
    }
  }
}

void rules_reader::load_aggregate(const yaml_entry& e, rule_definition& rule) {
  const auto entries = mapping(e, aggregate_keys, /*null_is_empty=*/false);
  if (!entries) return;
  constexpr std::string_view required[] = {"value", "function", "window"};
  require(e, *entries, required);
  if (config::find(*entries, "above") == nullptr && config::find(*entries, "below") == nullptr) {
    error(e.mark(), e.path, "give above, below or both");
  }
  rule.kind = rule_kind::aggregate;
  for (const yaml_entry& a : *entries) {
    if (a.name == "value") {
      if (auto v = text(a)) {
        rule.field = *v;
        field_ = a;
      }
    } else if (a.name == "function") {
      auto v = text(a);
      if (!v) continue;
      if (const auto* f =
              std::find(std::begin(aggregate_functions), std::end(aggregate_functions), *v);
          f != std::end(aggregate_functions) && *f != "pNN") {
        rule.function = static_cast<aggregate_function>(f - std::begin(aggregate_functions));
        continue;
      }
      // pNN: a percentile, p50 p90 p99 p99.9.
      double nn = 0;
      const char* end = v->data() + v->size();
      const bool percentile =
          v->size() > 1 && (*v)[0] == 'p' && std::from_chars(v->data() + 1, end, nn).ptr == end;
      if (percentile && !(nn > 0 && nn <= 100)) {
        error(a.mark(), a.path,
              "percentile " + quote(*v) +
                  " out of range: pNN takes 0 < NN <= 100 (p50, p99, "
                  "p99.9, p100 = max)");
        continue;
      }
      if (!percentile) {
        error(a.mark(), a.path,
              "unknown function " + quote(*v) +
                  "; expected avg, min, max, sum or pNN (p50, p99, "
                  "p99.9)");
        continue;
      }
      rule.function = aggregate_function::quantile;
      rule.quantile = nn / 100;
    } else if (a.name == "window") {
      if (auto v = window_span(a)) rule.window = *v;
    } else if (a.name == "above") {
      rule.above = real(a, -std::numeric_limits<double>::max());
    } else if (a.name == "below") {
      rule.below = real(a, -std::numeric_limits<double>::max());
    } else if (a.name == "group_by") {
      group_by_ = a;
    }
  }
}

void rules_reader::load_ratio(const yaml_entry& e, rule_definition& rule) {
  const auto entries = mapping(e, ratio_keys, /*null_is_empty=*/false);
  if (!entries) return;
  constexpr std::string_view required[] = {"of", "window"};
  require(e, *entries, required);
  if (config::find(*entries, "above") == nullptr && config::find(*entries, "below") == nullptr) {
    error(e.mark(), e.path, "give above, below or both (a share between 0 and 1)");
  }
  rule.kind = rule_kind::ratio;
  rule.min_base = 1;
  for (const yaml_entry& r : *entries) {
    if (r.name == "of") {
      load_patterns(r, rule.of, of_groups_);
    } else if (r.name == "window") {
      if (auto v = window_span(r)) rule.window = *v;
    } else if (r.name == "above" || r.name == "below") {
      auto v = real(r, 0);
      if (v && *v > 1) {
        error(r.mark(), r.path, "a share is at most 1 (0.05 = 5 %)");
        continue;
      }
      (r.name == "above" ? rule.above : rule.below) = v;
    } else if (r.name == "min_base") {
      if (auto v = count(r, 1, 1'000'000'000)) rule.min_base = *v;
    } else if (r.name == "group_by") {
      group_by_ = r;
    }
  }
}

// A kind's field or value names a named group of the rule's patterns or an event field.
void rules_reader::check_field(const yaml_entry& e, const std::vector<std::string>& groups,
                               const std::string& what) {
  const std::string& name = e.value.Scalar();
  if (std::find(groups.begin(), groups.end(), name) != groups.end() || is_event_field(name)) {
    return;
  }
  std::vector<std::string_view> candidates(std::begin(plain_fields), std::end(plain_fields));
  candidates.insert(candidates.end(), groups.begin(), groups.end());
  error(e.mark(), e.path,
        "unknown field " + quote(name) + "; " + what + " is a named group (?P<name>...) of the " +
            "rule's patterns or an event field" + config::suggestion(name, candidates));
}

// group_by names event fields or named groups of the rule's patterns (DESIGN.md groups
// ssh-bruteforce by [host, src_ip], src_ip being a named group).
void rules_reader::check_group_by(const yaml_entry& e, rule_definition& rule) {
  const auto items = list(e);
  if (!items) return;
  // A ratio groups its base events too, which only `of`'s patterns describe.
  const bool ratio = rule.kind == rule_kind::ratio;
  const std::vector<std::string>& groups = ratio ? of_groups_ : named_groups_;
  std::vector<std::string> out;
  for (const yaml_entry& item : *items) {
    auto name = text(item);
    if (!name) continue;
    const bool group = std::find(groups.begin(), groups.end(), *name) != groups.end();
    if (std::find(out.begin(), out.end(), *name) != out.end()) {
      error(item.mark(), item.path, "duplicate entry " + quote(*name));
    } else if (!group && !is_event_field(*name) && ratio &&
               std::find(named_groups_.begin(), named_groups_.end(), *name) !=
                   named_groups_.end()) {
      error(item.mark(), item.path,
            quote(*name) + " is a named group of `match`; a ratio groups its base events " +
                "too, so group_by names groups of the patterns in `of` or event fields");
    } else if (!group && !is_event_field(*name)) {
      std::vector<std::string_view> candidates(std::begin(plain_fields), std::end(plain_fields));
      candidates.insert(candidates.end(), groups.begin(), groups.end());
      error(item.mark(), item.path,
            "unknown field " + quote(*name) + "; expected a named group (?P<name>...) of the " +
                (ratio ? "patterns in `of`" : "rule's patterns") + " or an event field (" +
                config::join(names(plain_fields), ", ") + ", fields.NAME, sd.ID.PARAM)" +
                config::suggestion(*name, candidates));
    } else {
      out.push_back(std::move(*name));
    }
  }
  rule.group_by = std::move(out);
}

// `labels` or `annotations`: names must be Prometheus label names; labels may not replace the
// ones the engine sets.
std::optional<std::map<std::string, std::string>> rules_reader::label_map(const yaml_entry& e,
                                                                          bool labels) {
  auto values = text_map(e);
  if (!values) return std::nullopt;
  bool ok = true;
  for (auto it = e.value.begin(); it != e.value.end(); ++it) {
    const std::string& name = it->first.Scalar();
    if (!config::valid_label_name(name)) {
      error(it->first.Mark(), e.path,
            std::string("invalid ") + (labels ? "label" : "annotation") + " name " + quote(name) +
                " (a letter or '_', then letters, digits or '_')");
      ok = false;
    } else if (labels && std::find(std::begin(reserved_labels), std::end(reserved_labels), name) !=
                             std::end(reserved_labels)) {
      error(it->first.Mark(), e.path,
            "label " + quote(name) + " is set by the rule itself" +
                (name == "severity" ? "; use the rule's 'severity' key" : "; it is the rule name"));
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return values;
}

// Log-derived metrics (DESIGN.md "Log-derived metrics"): the `metrics:` list of a rules file.

constexpr std::string_view metric_keys[] = {"name",    "type",   "match", "min_severity", "value",
                                            "buckets", "labels", "help",  "max_series"};
constexpr std::string_view metric_types[] = {"counter", "gauge", "histogram"};

// Prometheus metric names: [a-zA-Z_:][a-zA-Z0-9_:]*.
bool valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool first = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!first && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::optional<metric_definition> rules_reader::load_metric(const yaml_entry& at) {
  const auto entries = mapping(at, metric_keys, /*null_is_empty=*/false);
  if (!entries) return std::nullopt;
  constexpr std::string_view required[] = {"name", "type", "match"};
  require(at, *entries, required);

  metric_definition metric;
  metric.where = where(at.mark());
  named_groups_.clear();
  const yaml_entry* name = nullptr;  // once it is a new, valid name
  for (const yaml_entry& e : *entries) {
    if (e.name == "name") {
      if (load_metric_name(e, metric)) name = &e;
    } else if (e.name == "type") {
      if (auto v = choice(e, metric_types)) {
        metric.type = *v == "gauge"       ? metric_type::gauge
                      : *v == "histogram" ? metric_type::histogram
                                          : metric_type::counter;
      }
    } else if (e.name == "match") {
      load_patterns(e, metric.match, named_groups_);
    } else if (e.name == "min_severity") {
      if (auto v = choice(e, severities)) {
        metric.min_severity = static_cast<int>(
            std::find(std::begin(severities), std::end(severities), *v) - std::begin(severities));
      }
    } else if (e.name == "help") {
      if (auto v = text(e)) metric.help = *v;
    } else if (e.name == "max_series") {
      if (auto v = count(e, 1, 1'000'000)) metric.max_series = *v;
    }
  }
  // value, labels and buckets name the patterns' groups and the type, whatever the key order.
  check_metric_fields(at, *entries, metric);
  if (name != nullptr) check_series_names(*name, metric);
  if (metric.help.empty()) metric.help = "From log lines; defined in " + file();
  return metric;
}

// Whether the name is valid and new.
bool rules_reader::load_metric_name(const yaml_entry& e, metric_definition& metric) {
  auto v = text(e);
  if (!v) return false;
  metric.name = *v;
  if (!valid_metric_name(*v)) {
    error(e.mark(), e.path,
          "invalid metric name " + quote(*v) +
              " (a letter, '_' or ':', then letters, digits, '_' or ':')");
    return false;
  }
  if (v->starts_with("tocsin_")) {
    error(e.mark(), e.path,
          "metric name " + quote(*v) + " starts with tocsin_, which the daemon's own metrics use");
    return false;
  }
  auto [it, fresh] = known_metrics_.try_emplace(*v, known_metric{where(e.mark())});
  if (!fresh) {
    error(e.mark(), e.path,
          "duplicate metric name " + quote(*v) + " (first defined at " + at_text(it->second.where) +
              ")");
  }
  return fresh;
}

// A histogram's NAME_bucket, NAME_sum and NAME_count must not be another metric's name, either
// way round: /metrics would show two families with the same samples.
void rules_reader::check_series_names(const yaml_entry& e, const metric_definition& metric) {
  constexpr std::string_view suffixes[] = {"_bucket", "_sum", "_count"};
  const bool histogram = metric.type == metric_type::histogram;
  known_metrics_[metric.name].histogram = histogram;
  for (std::string_view suffix : suffixes) {
    if (histogram) {
      const auto other = known_metrics_.find(metric.name + std::string(suffix));
      if (other != known_metrics_.end()) {
        error(e.mark(), e.path,
              "histogram " + quote(metric.name) + " writes " + other->first +
                  ", the name of the metric defined at " + at_text(other->second.where));
      }
    }
    if (metric.name.size() > suffix.size() && metric.name.ends_with(suffix)) {
      const auto stem =
          known_metrics_.find(metric.name.substr(0, metric.name.size() - suffix.size()));
      if (stem != known_metrics_.end() && stem->second.histogram) {
        error(e.mark(), e.path,
              "metric name " + quote(metric.name) + " is a series of the histogram " +
                  quote(stem->first) + " defined at " + at_text(stem->second.where));
      }
    }
  }
}

std::string rules_reader::unknown_field_message(const std::string& name, const std::string& whose) {
  std::vector<std::string_view> candidates(std::begin(plain_fields), std::end(plain_fields));
  candidates.insert(candidates.end(), named_groups_.begin(), named_groups_.end());
  return "unknown field " + quote(name) + "; expected a named group (?P<name>...) of the " + whose +
         "'s patterns or an event field (" + config::join(names(plain_fields), ", ") +
         ", fields.NAME, sd.ID.PARAM)" + config::suggestion(name, candidates);
}

void rules_reader::check_metric_fields(const yaml_entry& at, const std::vector<yaml_entry>& entries,
                                       metric_definition& metric) {
  const auto known = [&](const std::string& name) {
    return is_event_field(name) ||
           std::find(named_groups_.begin(), named_groups_.end(), name) != named_groups_.end();
  };
  const bool histogram = metric.type == metric_type::histogram;
  if (const yaml_entry* e = config::find(entries, "value")) {
    if (auto v = text(*e)) {
      if (known(*v)) {
        metric.value = *v;
      } else {
        error(e->mark(), e->path, unknown_field_message(*v, "metric"));
      }
    }
  } else if (metric.type != metric_type::counter && config::find(entries, "type") != nullptr) {
    error(at.mark(), at.path,
          std::string("a ") + metric_type_name(metric.type) +
              " needs 'value': the named group or event field holding the number");
  }
  if (const yaml_entry* e = config::find(entries, "buckets")) {
    if (histogram) {
      load_buckets(*e, metric);
    } else if (config::find(entries, "type") != nullptr) {
      error(e->key_mark, e->path,
            std::string("buckets are for histograms; this metric is a ") +
                metric_type_name(metric.type));
    }
  } else {
    metric.buckets = default_metric_buckets();
  }
  if (const yaml_entry* e = config::find(entries, "labels")) {
    const auto items = list(*e);
    std::vector<std::string> label_names;
    for (const yaml_entry& item : items.value_or(std::vector<yaml_entry>{})) {
      auto name = text(item);
      if (!name) continue;
      const std::string label = label_name_for_field(*name);
      if (!known(*name)) {
        error(item.mark(), item.path, unknown_field_message(*name, "metric"));
      } else if (std::find(label_names.begin(), label_names.end(), label) != label_names.end()) {
        error(item.mark(), item.path,
              "duplicate label " + quote(label) + (label == *name ? "" : " (from " + *name + ")"));
      } else if (histogram && label == "le") {
        error(item.mark(), item.path, "label \"le\" is the histogram's bucket label");
      } else {
        label_names.push_back(label);
        metric.labels.push_back(std::move(*name));
      }
    }
  }
}

void rules_reader::load_buckets(const yaml_entry& e, metric_definition& metric) {
  const auto items = list(e);
  if (!items) return;
  if (items->empty()) {
    error(e.mark(), e.path, "must not be empty: give the buckets' upper bounds");
    return;
  }
  std::vector<double> bounds;
  std::string previous;
  for (const yaml_entry& item : *items) {
    const std::string scalar = item.value.IsScalar() ? item.value.Scalar() : std::string();
    double v = 0;
    const auto [end, ec] = std::from_chars(scalar.data(), scalar.data() + scalar.size(), v);
    if (scalar.empty() || ec != std::errc() || end != scalar.data() + scalar.size() ||
        !std::isfinite(v)) {
      error(item.mark(), item.path,
            "expected a finite number, got " + config::describe(item.value));
      return;
    }
    if (!bounds.empty() && v <= bounds.back()) {
      error(item.mark(), item.path, "buckets must increase: " + scalar + " follows " + previous);
      return;
    }
    bounds.push_back(v);
    previous = scalar;
  }
  metric.buckets = std::move(bounds);
}

// Parses and walks one file's text; its problems are appended to `errors`.
void load_text(const std::string& yaml, const std::string& file,
               std::map<std::string, config::source_location>& known_names, known_metrics& metrics,
               rule_files& out, std::vector<std::string>& errors) {
  YAML::Node root;
  try {
    root = config::parse_document(yaml, file, "a rules file");
  } catch (const config::config_error& e) {
    errors.insert(errors.end(), e.errors().begin(), e.errors().end());
    return;
  }
  rules_reader reader(file, known_names, metrics);
  try {
    reader.load(root, out);
  } catch (const YAML::Exception& e) {
    // yaml-cpp only throws here on a bug in the walk; report it like any other problem.
    reader.error(YAML::Mark::null_mark(), "", e.what());
  }
  auto file_errors = reader.errors();
  errors.insert(errors.end(), file_errors.begin(), file_errors.end());
}

// glob(3) reads `*?[\` in the base directory as pattern characters; they are meant literally.
std::string escape_glob(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string label_name_for_field(std::string_view field) {
  std::string name(field);
  for (char& c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!ok) c = '_';
  }
  return name;
}

bool same_patterns(const std::vector<field_pattern>& a, const std::vector<field_pattern>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.field == y.field && x.pattern == y.pattern;
  });
}

bool is_event_field(std::string_view name) {
  if (std::find(std::begin(plain_fields), std::end(plain_fields), name) != std::end(plain_fields)) {
    return true;
  }
  if (name.starts_with("fields.")) return name.size() > 7;
  if (name.starts_with("sd.")) {
    // sd.ID.PARAM: some dot splits the rest into a non-empty id and param (either may hold dots).
    const std::string_view rest = name.substr(3);
    const std::size_t dot = rest.find('.');
    return dot != std::string_view::npos && dot > 0 && rest.size() > dot + 1;
  }
  return false;
}

rule_files load_rules_string(const std::string& yaml, const std::filesystem::path& file_name) {
  std::map<std::string, config::source_location> known_names;
  known_metrics metrics;
  rule_files out;
  std::vector<std::string> errors;
  load_text(yaml, file_name.string(), known_names, metrics, out, errors);
  if (!errors.empty()) throw config::config_error(std::move(errors));
  return out;
}

rule_files load_rule_files(const std::vector<std::string>& globs,
                           const std::filesystem::path& base_dir) {
  std::map<std::string, config::source_location> known_names;
  known_metrics metrics;
  rule_files out;
  std::vector<std::string> errors;
  std::set<std::filesystem::path> loaded;
  for (const std::string& pattern : globs) {
    const std::filesystem::path as_written(pattern);
    const std::string full = as_written.is_absolute() || base_dir.empty()
                                 ? pattern
                                 : escape_glob(base_dir.string()) + "/" + pattern;
    glob_t matched{};
    const int rc = ::glob(full.c_str(), 0, nullptr, &matched);
    if (rc != 0 && rc != GLOB_NOMATCH) {
      errors.push_back(full + ": cannot expand rules_files pattern " + quote(pattern) +
                       (rc == GLOB_NOSPACE ? ": out of memory" : ": read error"));
    }
    for (std::size_t i = 0; rc == 0 && i < matched.gl_pathc; ++i) {
      const std::filesystem::path file(matched.gl_pathv[i]);
      // Two globs may name the same file; loading it twice would only report its rule names
      // as duplicates.
      if (!loaded.insert(file.lexically_normal()).second) continue;
      std::string text;
      try {
        text = config::read_text_file(file);
      } catch (const config::config_error& e) {
        errors.insert(errors.end(), e.errors().begin(), e.errors().end());
        continue;
      }
      load_text(text, file.string(), known_names, metrics, out, errors);
    }
    ::globfree(&matched);
  }
  if (!errors.empty()) throw config::config_error(std::move(errors));
  return out;
}

}  // namespace tocsin::rules
