#include "sinks/inhibitor.hpp"

#include <algorithm>

#include "config/matcher_syntax.hpp"
#include "config/yaml_reader.hpp"

namespace tocsin::sinks {
namespace {

const std::string& label_or_empty(const rules::label_set& labels, const std::string& name) {
  static const std::string empty;
  const auto it = labels.find(name);
  return it == labels.end() ? empty : it->second;
}

}  // namespace

inhibitor::inhibitor(const std::vector<config::inhibit_rule_config>& rules) {
  std::vector<std::string> errors;
  // Each text may hold several matchers (a brace item); a bad one is reported where it was
  // written, or at the rule for rules built in code.
  const auto compile = [&](const config::inhibit_rule_config& cfg,
                           const std::vector<std::string>& texts,
                           const std::vector<config::source_location>& where, const char* side) {
    std::vector<label_matcher> out;
    for (std::size_t i = 0; i < texts.size(); ++i) {
      std::string problem;
      if (auto ms = label_matcher::parse_list(texts[i], &problem)) {
        out.insert(out.end(), ms->begin(), ms->end());
      } else {
        errors.push_back(config::location_prefix(i < where.size() ? where[i] : cfg.where) +
                         "invalid " + side + " matcher " + config::quote(texts[i]) + ": " +
                         problem);
      }
    }
    return out;
  };
  for (const config::inhibit_rule_config& cfg : rules) {
    rules_.push_back(rule{compile(cfg, cfg.source_matchers, cfg.source_matcher_where, "source"),
                          compile(cfg, cfg.target_matchers, cfg.target_matcher_where, "target"),
                          cfg.equal});
  }
  if (!errors.empty()) throw config::config_error(std::move(errors));
}

bool inhibitor::inhibited(const rules::alert& target,
                          const std::vector<const rules::alert*>& firing) const {
  return std::any_of(rules_.begin(), rules_.end(), [&](const rule& r) {
    if (!matches_all(r.target, target.labels)) return false;
    // Alertmanager's rule: when the target also matches the source side, only sources that do
    // not match the target side may mute it — so an alert never mutes itself or its own kind.
    const bool two_sided = matches_all(r.source, target.labels);
    return std::any_of(firing.begin(), firing.end(), [&](const rules::alert* source) {
      if (source == nullptr || !source->firing) return false;
      if (!matches_all(r.source, source->labels)) return false;
      for (const std::string& name : r.equal) {
        if (label_or_empty(source->labels, name) != label_or_empty(target.labels, name)) {
          return false;
        }
      }
      return !(two_sided && matches_all(r.target, source->labels));
    });
  });
}

}  // namespace tocsin::sinks
