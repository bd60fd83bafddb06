#include "sinks/route_tree.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>

#include "config/matcher_syntax.hpp"
#include "config/yaml_reader.hpp"
#include "sinks/notifier.hpp"

namespace tocsin::sinks {
namespace {

using namespace std::chrono_literals;

// Alertmanager sorts a route's matchers (name, value, then operator) so its key does not depend
// on the order they were written in.
bool matcher_less(const label_matcher& a, const label_matcher& b) {
  if (a.name() != b.name()) return a.name() < b.name();
  if (a.value() != b.value()) return a.value() < b.value();
  return a.op() < b.op();
}

std::string matchers_text(const std::vector<label_matcher>& matchers) {
  std::string out = "{";
  for (std::size_t i = 0; i < matchers.size(); ++i) {
    if (i > 0) out += ',';
    out += matchers[i].to_string();
  }
  return out + "}";
}

// Go's model.LabelSet.String() for one pair: `name="value"` with the value in Go's %q.
std::string pair_text(const std::string& name, const std::string& value) {
  return name + "=" + config::go_quote(value);
}

class tree_builder {
 public:
  tree_builder(const std::vector<config::receiver_config>& receivers,
               const time_interval_set& intervals)
      : intervals_(intervals) {
    for (const auto& r : receivers) receivers_[r.name].insert(r.integration);
  }

  // `parent` is null for the root, whose unset fields take Alertmanager's defaults.
  void build(const config::route_config& cfg, const route_node* parent, route_node& node) {
    node.receiver = !cfg.receiver.empty() ? cfg.receiver : parent ? parent->receiver : "";
    if (node.receiver.empty()) {
      errors.push_back(config::location_prefix(cfg.where) + "route has no receiver");
    } else if (!receivers_.contains(node.receiver)) {
      // The config loader already refuses these; a tree built from code gets the same check.
      errors.push_back(config::location_prefix(cfg.where) + "unknown receiver \"" + node.receiver +
                       "\"");
    }
    for (std::size_t i = 0; i < cfg.matchers.size(); ++i) {
      const std::string& text = cfg.matchers[i];
      std::string problem;
      if (auto ms = label_matcher::parse_list(text, &problem)) {
        node.matchers.insert(node.matchers.end(), ms->begin(), ms->end());
      } else {
        // At the item the matcher was written in (the loader gives each its own location).
        const auto& where = i < cfg.matcher_where.size() ? cfg.matcher_where[i] : cfg.where;
        errors.push_back(config::location_prefix(where) + "invalid matcher " + config::quote(text) +
                         ": " + problem);
      }
    }
    std::sort(node.matchers.begin(), node.matchers.end(), matcher_less);
    node.key = (parent ? parent->key + "/" : "") + matchers_text(node.matchers);

    // An explicit group_by (even an empty one) replaces the parent's.
    if (cfg.group_by) {
      const auto& labels = *cfg.group_by;
      node.group_by_all = std::find(labels.begin(), labels.end(), "...") != labels.end();
      if (!node.group_by_all) node.group_by = labels;
    } else if (parent) {
      node.group_by_all = parent->group_by_all;
      node.group_by = parent->group_by;
    }
    node.group_wait = cfg.group_wait.value_or(parent ? parent->group_wait : 30s);
    node.group_interval = cfg.group_interval.value_or(parent ? parent->group_interval : 5min);
    node.repeat_interval = cfg.repeat_interval.value_or(parent ? parent->repeat_interval : 4h);
    node.continue_matching = cfg.continue_matching;
    // Not inherited (Alertmanager's NewRoute takes them from the route's own config only).
    node.mute_time_intervals = cfg.mute_time_intervals;
    node.active_time_intervals = cfg.active_time_intervals;
    check_intervals(cfg.mute_time_intervals, cfg.mute_time_interval_where, cfg.where);
    check_intervals(cfg.active_time_intervals, cfg.active_time_interval_where, cfg.where);
    node.escalation = cfg.escalation.value_or(parent ? parent->escalation : std::string());
    if (!node.escalation.empty()) check_pages_reach_a_person(cfg, node);

    node.routes.resize(cfg.routes.size());
    for (std::size_t i = 0; i < cfg.routes.size(); ++i) {
      node.routes[i].id = node.id + "." + std::to_string(i);
      build(cfg.routes[i], &node, node.routes[i]);
    }
  }

  std::vector<std::string> errors;

 private:
  // A page is addressed to a person: only integrations that can address one carry pages.
  void check_pages_reach_a_person(const config::route_config& cfg, const route_node& node) {
    const auto r = receivers_.find(node.receiver);
    if (r == receivers_.end() || std::any_of(r->second.begin(), r->second.end(),
                                             [](const std::string& i) { return can_page(i); })) {
      return;
    }
    std::string integrations;
    for (const std::string& integration : r->second) {
      if (integration.empty()) continue;
      integrations += (integrations.empty() ? "" : ", ") + integration;
    }
    errors.push_back(config::location_prefix(cfg.where) + "escalation " +
                     config::quote(node.escalation) + ": receiver " + config::quote(node.receiver) +
                     (integrations.empty() ? " sends nothing" : " (" + integrations + ")") +
                     " cannot page a person; use an email, slack or telegram receiver");
  }

  // The config loader already refuses unknown names; a tree built from code gets the same check.
  void check_intervals(const std::vector<std::string>& names,
                       const std::vector<config::source_location>& where,
                       const config::source_location& route_where) {
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (intervals_.has(names[i])) continue;
      errors.push_back(config::location_prefix(i < where.size() ? where[i] : route_where) +
                       "unknown time interval " + config::quote(names[i]));
    }
  }

  std::map<std::string, std::set<std::string>, std::less<>> receivers_;  // name → integrations
  const time_interval_set& intervals_;
};

// Alertmanager's Route.Match: depth first; the first matching child ends the search unless it
// has `continue`; a node none of whose children matched is a destination itself.
void collect(const route_node& node, const rules::label_set& labels,
             std::vector<const route_node*>& out) {
  if (!matches_all(node.matchers, labels)) return;
  const std::size_t before = out.size();
  for (const route_node& child : node.routes) {
    const std::size_t child_before = out.size();
    collect(child, labels, out);
    if (out.size() > child_before && !child.continue_matching) break;
  }
  if (out.size() == before) out.push_back(&node);
}

}  // namespace

namespace {

void append_ranges(const char* field,
                   const std::optional<std::vector<config::inclusive_range>>& ranges,
                   std::string& out) {
  if (!ranges) return;
  out += std::string("|") + field + "=";
  for (const auto& r : *ranges) out += std::to_string(r.begin) + ':' + std::to_string(r.end) + ',';
}

// Only when there are any, so routers of an older version agree on a tree without them.
std::string describe_intervals(const std::vector<config::time_interval_config>& intervals) {
  std::string out;
  for (const auto& interval : intervals) {
    out += "interval " + interval.name + '\n';
    for (const auto& e : interval.entries) {
      out += "location=" + e.location;
      if (e.times) {
        out += "|times=";
        for (const auto& t : *e.times) {
          out += std::to_string(t.start_minute) + '-' + std::to_string(t.end_minute) + ',';
        }
      }
      append_ranges("weekdays", e.weekdays, out);
      append_ranges("days_of_month", e.days_of_month, out);
      append_ranges("months", e.months, out);
      append_ranges("years", e.years, out);
      out += '\n';
    }
  }
  return out;
}

}  // namespace

route_tree::route_tree(const config::route_config& root,
                       const std::vector<config::receiver_config>& receivers,
                       const std::vector<config::time_interval_config>& time_intervals)
    : intervals_(time_intervals), intervals_text_(describe_intervals(time_intervals)) {
  tree_builder builder(receivers, intervals_);
  root_.id = "0";
  builder.build(root, nullptr, root_);
  if (!builder.errors.empty()) throw config::config_error(std::move(builder.errors));
}

std::vector<const route_node*> route_tree::match(const rules::label_set& labels) const {
  std::vector<const route_node*> out;
  collect(root_, labels, out);
  // The root takes no matchers, but a tree built from code might give it some: it is still the
  // destination of last resort.
  if (out.empty()) out.push_back(&root_);
  return out;
}

std::optional<route_mute> route_tree::muted_at(const route_node& node,
                                               std::chrono::system_clock::time_point t) const {
  for (const std::string& name : node.mute_time_intervals) {
    if (intervals_.contains(name, t)) return route_mute{"mute_time_interval", name};
  }
  if (node.active_time_intervals.empty()) return std::nullopt;
  for (const std::string& name : node.active_time_intervals) {
    if (intervals_.contains(name, t)) return std::nullopt;
  }
  return route_mute{"active_time_interval", ""};
}

std::vector<std::string> route_tree::muted_by(const route_node& node,
                                              std::chrono::system_clock::time_point t) const {
  if (!node.active_time_intervals.empty() &&
      std::none_of(node.active_time_intervals.begin(), node.active_time_intervals.end(),
                   [&](const std::string& name) { return intervals_.contains(name, t); })) {
    return node.active_time_intervals;
  }
  std::vector<std::string> out;
  for (const std::string& name : node.mute_time_intervals) {
    // Alertmanager adds a name once per entry of it that holds; once is enough to read.
    if (intervals_.contains(name, t) && std::find(out.begin(), out.end(), name) == out.end()) {
      out.push_back(name);
    }
  }
  return out;
}

std::vector<std::string> route_tree::receivers(const rules::label_set& labels) const {
  std::vector<std::string> out;
  for (const route_node* node : match(labels)) {
    if (std::find(out.begin(), out.end(), node->receiver) == out.end()) {
      out.push_back(node->receiver);
    }
  }
  return out;
}

rules::label_set route_tree::group_labels(const route_node& node, const rules::label_set& labels) {
  if (node.group_by_all) return labels;
  rules::label_set out;
  for (const std::string& name : node.group_by) {
    // Only labels the alert has: a missing one does not become "".
    if (auto it = labels.find(name); it != labels.end()) out.insert(*it);
  }
  return out;
}

std::string route_tree::group_key(const route_node& node, const rules::label_set& group_labels) {
  // Go's model.LabelSet.String(): the `name="value"` texts sorted as text, ", " between.
  std::vector<std::string> pairs;
  pairs.reserve(group_labels.size());
  for (const auto& [name, value] : group_labels) pairs.push_back(pair_text(name, value));
  std::sort(pairs.begin(), pairs.end());
  std::string out = node.key + ":{";
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    if (i > 0) out += ", ";
    out += pairs[i];
  }
  return out + "}";
}

namespace {

void describe(const route_node& node, std::string& out) {
  out += node.id + '|' + node.key + '|' + node.receiver + '|';
  if (node.group_by_all) out += "...";
  for (const auto& label : node.group_by) out += label + ',';
  out += '|' + std::to_string(node.group_wait.count()) + '|' +
         std::to_string(node.group_interval.count()) + '|' +
         std::to_string(node.repeat_interval.count()) + '|' +
         (node.continue_matching ? "continue" : "") +
         // Only when set, so routers of an older version agree on a tree without escalations.
         (node.escalation.empty() ? "" : "|escalation=" + node.escalation);
  // Only when set, for the same reason.
  if (!node.mute_time_intervals.empty()) out += "|mute=";
  for (const auto& name : node.mute_time_intervals) out += name + ',';
  if (!node.active_time_intervals.empty()) out += "|active=";
  for (const auto& name : node.active_time_intervals) out += name + ',';
  out += '\n';
  for (const route_node& child : node.routes) describe(child, out);
}

}  // namespace

std::string route_tree::fingerprint() const {
  std::string text;
  describe(root_, text);
  text += intervals_text_;
  std::uint64_t hash = 14695981039346656037ULL;  // FNV-1a 64
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, hash >>= 4) out[static_cast<std::size_t>(i)] = hex[hash & 0xf];
  return out;
}

}  // namespace tocsin::sinks
