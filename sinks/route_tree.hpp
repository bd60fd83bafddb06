#pragma once
// The compiled route tree (Alertmanager semantics): a node matches when all its matchers match;
// the children are tried in order and the first that matches wins unless it has `continue`; a
// node none of whose children match is itself the destination. Unset fields inherit from the
// parent; the root's defaults are group_wait 30s, group_interval 5m, repeat_interval 4h, and
// group_by none (`['...']` means every label).

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "rules/alert.hpp"
#include "sinks/label_matcher.hpp"
#include "sinks/time_interval.hpp"

namespace tocsin::sinks {

struct route_node {
  std::string id;   // stable path of child indexes from the root: "0", "0.1", "0.1.0"
  std::string key;  // Alertmanager's route key, the matcher sets from the root: {}/{a="b"}
  std::string receiver;
  std::vector<label_matcher> matchers;
  bool group_by_all = false;
  std::vector<std::string> group_by;
  std::chrono::milliseconds group_wait{}, group_interval{}, repeat_interval{};
  bool continue_matching = false;
  std::string escalation;  // the escalation policy that pages for its groups; "" none
  // Alertmanager's: names of time intervals; never inherited from the parent.
  std::vector<std::string> mute_time_intervals, active_time_intervals;
  std::vector<route_node> routes;
};

// Why a route sends nothing at some time.
struct route_mute {
  std::string reason;    // "mute_time_interval" or "active_time_interval" (Alertmanager's)
  std::string interval;  // the mute interval that holds; "" when outside every active one
};

class route_tree {
 public:
  // Throws config::config_error (FILE:LINE:COL of the route) for a bad matcher, a receiver
  // name that is not in `receivers` or a time interval name that is not in `time_intervals`.
  route_tree(const config::route_config& root,
             const std::vector<config::receiver_config>& receivers,
             const std::vector<config::time_interval_config>& time_intervals = {});

  // The destination nodes for an alert with `labels`, in tree order (at least the root).
  [[nodiscard]] std::vector<const route_node*> match(const rules::label_set& labels) const;
  // The receiver names of match(labels), each once, in tree order (`tocsin routes test`).
  [[nodiscard]] std::vector<std::string> receivers(const rules::label_set& labels) const;

  // The labels an alert is grouped by at `node`.
  [[nodiscard]] static rules::label_set group_labels(const route_node& node,
                                                     const rules::label_set& labels);
  // Alertmanager's group key: "<node matchers path>:<group labels>", e.g.
  // `{}/{severity="critical"}:{alertname="disk-full", host="web1"}`.
  [[nodiscard]] static std::string group_key(const route_node& node,
                                             const rules::label_set& group_labels);

  [[nodiscard]] const route_node& root() const { return root_; }

  // Whether `node` sends nothing at `t` (Alertmanager's TimeMuteStage and TimeActiveStage): one
  // of its mute_time_intervals holds `t`, or it has active_time_intervals and none holds `t`.
  [[nodiscard]] std::optional<route_mute> muted_at(const route_node& node,
                                                   std::chrono::system_clock::time_point t) const;
  // The time intervals that mute `node` at `t`, as Alertmanager (>= 0.28) reports them in an
  // alert group's `status.mutedBy`: outside every one of its active_time_intervals, all of those
  // (its TimeActiveStage runs first); else each of its mute_time_intervals that holds `t`, once
  // and in the route's order (TimeMuteStage). Empty: not muted.
  [[nodiscard]] std::vector<std::string> muted_by(const route_node& node,
                                                  std::chrono::system_clock::time_point t) const;

  // 16 hex digits that differ when any node's matchers, receiver, group_by, timers, `continue`,
  // escalation or time intervals (names or definitions) differ: routers of one cluster compare
  // theirs (they should route alike).
  [[nodiscard]] std::string fingerprint() const;

 private:
  route_node root_;
  time_interval_set intervals_;
  std::string intervals_text_;  // the time intervals as written, for fingerprint(); "" none
};

}  // namespace tocsin::sinks
