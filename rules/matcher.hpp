#pragma once
// The compiled rule set: per event field a literal prefilter that names the few rules whose
// literals the text holds, each then checked on its own, and RE2::Sets over the field's patterns
// for the rest, so an event costs about one scan per field whatever the number of rules; only
// candidate rules then run their full RE2 for captures and the remaining conditions.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "collector/event.hpp"
#include "rules/rule.hpp"

namespace tocsin::rules {

// One rule (or log-derived metric) that matched one event.
struct rule_match {
  std::size_t rule = 0;  // index into compiled_rules::definitions(), or metric_definitions()
  bool metric = false;   // a metric's match: callers that only want rules skip it
  // Named groups (?P<name>...) of the rule's patterns, in pattern order; unset groups omitted.
  // A ratio rule: (unless base_only) those of `match`'s patterns, then those of `of`'s.
  std::vector<std::pair<std::string, std::string>> captures;
  // A ratio rule reports every event of its base selection (`of`); base_only when the event did
  // not also match `match`, i.e. counts in the base but not in the numerator.
  bool base_only = false;
};

class compiled_rules {
 public:
  // Compiles every pattern. Throws config::config_error listing every bad pattern as
  // FILE:LINE:COL: rule NAME: match.FIELD: <RE2's message>.
  explicit compiled_rules(std::vector<rule_definition> rules);
  // The rules and the log-derived metrics, whose patterns join the same sets; errors name the
  // metric as "metric NAME".
  explicit compiled_rules(rule_files files);
  ~compiled_rules();
  compiled_rules(const compiled_rules&) = delete;
  compiled_rules& operator=(const compiled_rules&) = delete;

  [[nodiscard]] const std::vector<rule_definition>& definitions() const { return rules_; }
  [[nodiscard]] const std::vector<metric_definition>& metric_definitions() const {
    return metrics_;
  }

  // Appends the rules `ev` matches, in definition order (ratio rules, whose matches depend on
  // their base selection, after the others), then the metrics it matches (`metric` set), in
  // definition order. Const and thread-safe.
  void match(const collector::event& ev, std::vector<rule_match>& out) const;

  // The text of an event field as rules see it (severity and facility by name, fields.NAME with
  // non-string JSON values dumped, sd.ID.PARAM unescaped). False when the event lacks it.
  static bool field_value(const collector::event& ev, std::string_view field, std::string& out);

  // How often one of a field's RE2::Sets (those of patterns with and without literals) gave up
  // (DFA out of memory) and match() fell back to running its patterns one by one. Stays 0
  // unless patterns and input are pathological.
  [[nodiscard]] std::uint64_t set_fallbacks() const;

 private:
  struct impl;
  std::vector<rule_definition> rules_;
  std::vector<metric_definition> metrics_;
  std::unique_ptr<impl> impl_;
};

}  // namespace tocsin::rules
