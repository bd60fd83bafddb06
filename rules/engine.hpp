#pragma once
// Turns rule matches into alerts: every rule kind (plain, threshold, absent, spike, new_term,
// cardinality, aggregate, ratio), per-group windows, resolve timing and periodic re-sends. On a
// collector of a cluster, cluster-scoped windows are counted as hits for the routers; on a router,
// hits are replayed into the same windows (rules/hits.hpp). Time is passed in by the caller
// (receive time in `tocsin run`, the events' own timestamps in `tocsin test-rules`), so tests never
// sleep.

#include <chrono>
#include <filesystem>
#include <memory>
#include <vector>

#include "collector/event.hpp"
#include "core/metrics.hpp"
#include "rules/alert.hpp"
#include "rules/hits.hpp"
#include "rules/log_metrics.hpp"
#include "rules/matcher.hpp"

namespace tocsin::rules {

struct engine_options {
  std::size_t max_groups_per_rule = 10000;  // beyond it the least recently matched group goes
  // A firing alert is sent again this often, with endsAt = now + 3 × resend_interval, so a router
  // can expire alerts whose source went away (Alertmanager's semantics).
  std::chrono::milliseconds resend_interval = std::chrono::minutes(1);
  std::string generator_url;  // e.g. "tocsin://node-name"; the rule name is appended
  // A collector with a Kafka bus: matches of threshold and absent rules of scope `cluster` are
  // summed into hit batches (take_hits()) for the routers instead of being evaluated here.
  bool cluster_windows = false;
  std::string node_name;  // hit_batch::collector
  // new_term rules keep their terms in STATE_DIR/new_term/RULE.jsonl; empty: in memory only.
  std::filesystem::path state_dir;
  std::size_t max_terms_per_rule = 100000;  // beyond it the least recently seen term goes
  // A router: the windowed kinds (spike cardinality aggregate ratio) are evaluated by tick()
  // this far behind its clock, so that every collector's hits for a second are in before the
  // second is judged (a ratio's numerator without its base would look like a high share).
  std::chrono::seconds window_lag{0};
  // Render the log-derived metrics (log_metrics()) in the registry's /metrics text. Off for an
  // engine that sees no events (a router's windows), so the families appear once.
  bool expose_log_metrics = true;
};

// What a rule has done lately (GET /api/v1/rules, the UI's rules page).
struct rule_activity {
  static constexpr std::size_t minutes = 60;
  std::string name;
  rule_kind kind = rule_kind::plain;
  std::uint64_t matches = 0;              // since start (tocsin_rule_matches_total)
  std::vector<std::uint64_t> per_minute;  // matches in each of the last `minutes`, oldest first
  std::size_t groups = 0;                 // groups it keeps state for
};

class alert_engine {
 public:
  using time_point = std::chrono::system_clock::time_point;

  alert_engine(std::shared_ptr<const compiled_rules> rules, metrics_registry& metrics,
               engine_options options = {});
  ~alert_engine();

  // Matches one event against the current rules (outside any lock: the hot path), updates the
  // matched rules' state and appends the alerts to emit now (a group that starts firing, an
  // absent alert that resolves). Thread-safe.
  void on_event(const collector::event& ev, time_point now, std::vector<alert>& out);

  // Advances time to `now`: resolves plain and threshold alerts, fires absent alerts, evaluates
  // the windowed kinds second by second, re-sends firing alerts that are due, and now and then
  // saves new_term rules' terms. Thread-safe; call at least once a second in a daemon.
  void tick(time_point now, std::vector<alert>& out);

  // With options.cluster_windows: the matches of cluster-scoped windowed rules since the last
  // call, per rule and group. Thread-safe.
  std::vector<hit_batch> take_hits();

  // A router: replays a collector's hit batch into the window of its rule (if this engine has
  // a windowed rule of that name), appending the alerts to emit now. Each second's
  // matches count at that second (or at the group's latest match, if later), even when tick()
  // has moved the engine's clock past it. Thread-safe.
  void on_hits(const hit_batch& hits, std::vector<alert>& out);

  // Forgets every group and window (the rules stay), and the engine's latest time: a router
  // does this when its hits partitions change, before replaying the ones it now owns.
  void forget_state();

  // Swaps in a new rule set. Groups and windows of rules whose definition is unchanged survive;
  // state of removed or changed rules is dropped. Thread-safe.
  void replace_rules(std::shared_ptr<const compiled_rules> rules);

  [[nodiscard]] std::shared_ptr<const compiled_rules> rules() const;

  // The series of the rules' metrics (DESIGN.md "Log-derived metrics"), fed by on_event().
  [[nodiscard]] const log_metrics& metrics_from_logs() const;

  // Every rule in definition order, its per-minute matches ending with the minute of `now`.
  // Thread-safe.
  [[nodiscard]] std::vector<rule_activity> activity(time_point now) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace tocsin::rules
