#pragma once
// Inhibit rules: a firing alert matching source_matchers mutes every alert matching
// target_matchers whose `equal` labels have the same values (missing = ""). An alert that matches
// both the source and the target side of a rule is not inhibited by its peers of that rule
// (Alertmanager's rule: a source never mutes itself or its kind).

#include <vector>

#include "config/config.hpp"
#include "rules/alert.hpp"
#include "sinks/label_matcher.hpp"

namespace tocsin::sinks {

class inhibitor {
 public:
  // Throws config::config_error for bad matchers (FILE:LINE:COL of the rule).
  explicit inhibitor(const std::vector<config::inhibit_rule_config>& rules);

  // Whether `target` is muted by any of the firing `alerts` (which may include `target` itself).
  [[nodiscard]] bool inhibited(const rules::alert& target,
                               const std::vector<const rules::alert*>& firing) const;

 private:
  struct rule {
    std::vector<label_matcher> source, target;
    std::vector<std::string> equal;
  };
  std::vector<rule> rules_;
};

}  // namespace tocsin::sinks
