#include "rules/engine.hpp"

// Semantics, precisely (the tests in tests/unit/rules/engine_test.cpp pin each of them):
//
// Time. The engine keeps its own clock: the latest `now` it was given. An earlier `now` (replayed
// logs slightly out of order, two shards racing for the lock) counts as that latest time, so
// windows never see time run backwards.
//
// Groups. A rule keeps one group per label set (its fingerprint): alertname, severity, the
// group_by values (a plain rule's default is [host]), for plain rules the named groups, then the
// static labels; each source overrides the ones before it. A group_by entry is a named group of the
// rule's patterns if the match set one by that name, else an event field (a field the event lacks,
// or a named group that did not participate, gives an empty value); the label name is the entry
// with every character outside [A-Za-z0-9_] replaced by '_', so `fields.user` becomes
// `fields_user`.
//
// plain: the first match of a group fires (startsAt = now); later matches only update it. It
//   resolves at last match + resolve_after (endsAt = that instant), reported by the first tick at
//   or after it; the group is then forgotten and the next match fires anew.
// threshold: a match at time t counts at time `now` while now - t < window (a match exactly
//   `window` ago no longer counts). The group fires on the match that makes `count` matches count
//   (startsAt = that match). It is "at or above" until the count-th latest match is `window` old;
//   it resolves once it has been below for a whole window after that (endsAt = that instant).
//   Only the last `count` match times are kept.
// absent: a match marks the group seen. A seen group with no match for `for` fires (startsAt =
//   last match + for, reported by the first tick at or after it); its next match resolves it
//   (endsAt = that match's time) and starts a new seen period.
//
// The windowed kinds (spike, cardinality, aggregate, ratio) keep per group buckets of whole
//   seconds: a match at time t lands in second floor(t) and counts at second `now` while
//   second > now - window (in whole seconds). A group's condition is evaluated at each match's
//   second (after the match is added) and by tick() for every second since the last evaluation
//   (a quiet gap longer than the buckets reach costs one evaluation). When it holds the group
//   fires (startsAt = the match, or the start of the second tick() evaluated); a firing group
//   resolves at the first second s with s >= last second it held + window (endsAt = that
//   second). A group that is not firing and whose buckets are all empty is forgotten.
// spike: current = matches in (now - window, now], previous = in (now - 2 window, now - window].
//   A rise (ratio > 1) holds when current >= min_count, previous > 0 and current >= ratio ×
//   previous; a drop (ratio < 1) when previous >= min_count and current <= ratio × previous.
//   It never holds before the group has a whole previous window of history: at second s, the
//   group's first match (since it was last forgotten) must be at or before s - 2 window + 1.
// ratio: the base counts events matching `of`, the numerator those matching `match` and `of`.
//   It holds when base >= min_base (and > 0) and numerator / base is above `above` or below
//   `below`.
// cardinality: distinct values of `field` whose latest sighting is in the window (exact up to
//   sliding_distinct::exact_limit per group, then estimated); holds when the count is > 0 and
//   above `max` or below `min`.
// aggregate: `function` of the numbers in the window (sliding_values); holds when there is one
//   and it is above `above` or below `below`. For both, a `min`/`below` limit holds only once the
//   group has a whole window of history (its first match at or before s - window + 1). A match
//   whose value is missing or not a number is counted in tocsin_rule_value_errors_total and
//   otherwise ignored (so is a cardinality or new_term match without its field).
// window_lag (a router): tick() evaluates the windowed kinds that many seconds behind the clock
//   and hits only fill the buckets, so a second is judged once every collector's part is in.
// new_term: the term (the field's value) is a label of the alert, so each term is its own
//   group. A term is new when its group never saw it or last saw it `lookback` or longer ago;
//   a new term fires like a plain match and resolves resolve_after after it. Terms seen before
//   the warm-up ends (warmup after the rule first ran here; persisted) only teach. The terms
//   live in a term_store: at most max_terms_per_rule, least recently seen evicted
//   (tocsin_rule_terms_evicted_total), kept in state_dir across restarts and across reloads
//   that leave the patterns, field, group_by and labels alone.
//
// `count` in annotations: plain, the matches since the alert started firing; threshold, the
// matches inside the window when it fired plus every match since (while not firing, the matches
// inside the window); absent, the matches of the current seen period; the windowed kinds, the
// matches in the current window (ratio: the numerator's). The windowed kinds also offer `value`
// (spike: current / previous; ratio: the share; cardinality: the distinct count; aggregate: the
// function's value; four significant digits), spike `previous` and ratio `base`. A named group
// of the same name wins over all of these.
// `first_seen`: plain, the first match of the firing episode; threshold, the oldest of the `count`
// matches that crossed; absent, the first match of the seen period. `last_seen`: the latest match.
//
// Re-sends. tick() sends a firing alert again once resend_interval has passed since it was last
// sent (same startsAt). A firing alert's endsAt is always send time + 3 × resend_interval, so a
// router expires it if its source stops re-sending; a resolved alert's endsAt is the resolve
// instant. A non-positive resend_interval is treated as the default (1m).
//
// Cardinality. Each rule keeps at most max_groups_per_rule groups (at least 1). A new group beyond
// it evicts the least recently matched one. An evicted firing group emits its alert resolved
// (endsAt = the eviction instant), counted in tocsin_alerts_total{status="resolved"}: the engine
// stops tracking it, and leaving it firing would hold a slot in the router (router.max_alerts)
// and show a stale alert until its endsAt. If it matches again it fires anew. An evicted absent
// group that was not firing is forgotten, so it will not fire.
//
// Metrics. tocsin_rule_matches_total{rule} counts matches; tocsin_rule_groups{rule} is the number
// of live groups; tocsin_rule_group_evictions_total{rule} counts evictions; tocsin_alerts_total
// {status="firing"|"resolved"} counts state changes, not re-sends.
//
// generatorURL: options.generator_url, a '/' unless it already ends with '/' or '=', then the rule
// name percent-encoded; empty (omitted from the JSON) when generator_url is empty.
//
// Reload. State is kept per rule name. replace_rules() keeps the groups of a rule whose definition
// is unchanged (every field but source locations compares equal) and drops the rest.

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <deque>
#include <list>
#include <mutex>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <spdlog/spdlog.h>

#include "core/rfc3339.hpp"
#include "rules/second_counts.hpp"
#include "rules/sliding_distinct.hpp"
#include "rules/template.hpp"
#include "rules/term_store.hpp"
#include "rules/value_window.hpp"

namespace tocsin::rules {
namespace {

using time_point = alert_engine::time_point;
using duration = time_point::duration;

// Rule durations come from config files: convert without overflowing, negative → zero.
duration to_duration(std::chrono::milliseconds ms) {
  if (ms <= std::chrono::milliseconds::zero()) return duration::zero();
  if (ms >= std::chrono::duration_cast<std::chrono::milliseconds>(duration::max())) {
    return duration::max();
  }
  return std::chrono::duration_cast<duration>(ms);
}

time_point add_saturated(time_point tp, duration d) {
  if (d > duration::zero() && tp > time_point::max() - d) return time_point::max();
  return tp + d;
}

// Every field but the source locations.
bool same_definition(const rule_definition& a, const rule_definition& b) {
  return a.name == b.name && a.kind == b.kind && same_patterns(a.match, b.match) &&
         a.min_severity == b.min_severity && a.severity == b.severity && a.labels == b.labels &&
         a.annotations == b.annotations && a.count == b.count && a.window == b.window &&
         a.for_duration == b.for_duration && a.group_by == b.group_by &&
         a.resolve_after == b.resolve_after && a.scope == b.scope &&
         a.spike_ratio == b.spike_ratio && a.min_count == b.min_count && a.field == b.field &&
         a.lookback == b.lookback && a.warmup == b.warmup && a.function == b.function &&
         a.quantile == b.quantile && a.above == b.above && a.below == b.below &&
         same_patterns(a.of, b.of) && a.min_base == b.min_base;
}

// What makes a new_term rule's terms its own: its patterns, field and grouping. Anything else
// (severity, annotations, lookback) may change without forgetting them.
std::string term_identity(const rule_definition& def) {
  nlohmann::json j = nlohmann::json::array();
  for (const field_pattern& p : def.match) j.push_back({p.field, p.pattern});
  const nlohmann::json identity = {{"match", j},
                                   {"field", def.field},
                                   {"group_by", def.group_by},
                                   {"labels", def.labels},
                                   {"scope", def.scope == rule_scope::node ? "node" : "cluster"}};
  return identity.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::int64_t seconds_of(time_point t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

time_point at_second(std::int64_t s) {
  constexpr std::int64_t limit =
      std::chrono::duration_cast<std::chrono::seconds>(duration::max()).count() - 1;
  if (s >= limit) return time_point::max();
  if (s <= -limit) return time_point::min();
  return time_point(std::chrono::seconds(s));
}

std::int64_t whole_seconds(std::chrono::milliseconds ms) {
  return std::max<std::int64_t>(std::chrono::duration_cast<std::chrono::seconds>(ms).count(), 1);
}

// {{value}}: four significant digits (0.2029, 4.952, 1.25e+06) is what a message needs.
void append_number(double v, std::string& out) {
  char text[32];
  const auto r = std::to_chars(text, text + sizeof(text), v, std::chars_format::general, 4);
  out.append(text, r.ptr);
}

// The same bytes fingerprint() hashes, used as the exact group key (no hash collisions).
std::string group_key(const label_set& labels) {
  std::string key;
  for (const auto& [name, value] : labels) {
    key += name;
    key += '\xff';
    key += value;
    key += '\xff';
  }
  return key;
}

std::string make_generator_url(const std::string& base, std::string_view rule) {
  if (base.empty()) return {};
  std::string url = base;
  if (url.back() != '/' && url.back() != '=') url += '/';
  static constexpr char hex[] = "0123456789ABCDEF";
  for (unsigned char c : rule) {
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved) {
      url += static_cast<char>(c);
    } else {
      url += '%';
      url += hex[c >> 4];
      url += hex[c & 0xf];
    }
  }
  return url;
}

// A windowed group's buckets (spike, cardinality, aggregate, ratio) and where its evaluation
// stands. Every kind counts its matches (`count`); the others add what their condition needs.
struct window_state {
  window_state(const rule_definition& def, std::int64_t window, std::int64_t first_second)
      : counts(window, def.kind == rule_kind::spike ? 2 : 1), history_since(first_second) {
    if (def.kind == rule_kind::ratio) base.emplace(window, 1);
    if (def.kind == rule_kind::cardinality) distinct.emplace();
    if (def.kind == rule_kind::aggregate) values.emplace();
  }
  second_counts counts;  // ratio: the numerator
  std::optional<second_counts> base;
  std::optional<sliding_distinct> distinct;
  std::optional<sliding_values> values;
  std::int64_t evaluated = INT64_MIN;  // the latest second evaluated
  std::int64_t last_true = INT64_MIN;  // the latest second the condition held
  std::int64_t history_since = 0;      // spike: the group's first match after a quiet time
  double value = 0;                    // the condition's value at the latest evaluation

  [[nodiscard]] bool empty() const {
    return counts.empty() && (!base || base->empty()) && (!distinct || distinct->empty()) &&
           (!values || values->empty());
  }
};

struct group_state {
  std::string key;  // group_key(labels); rule_state::index views into it
  label_set labels;
  std::string fingerprint;
  // The latest matching event's named groups, message and host, for annotations.
  std::vector<std::pair<std::string, std::string>> captures;
  std::string message;
  std::string host;
  time_point first_seen{};
  time_point last_seen{};
  std::uint64_t count = 0;
  std::deque<time_point> recent;  // threshold: the last `count` match times, oldest first
  time_point above_until{};       // threshold: when the window count drops (dropped) below count
  bool firing = false;
  time_point starts_at{};
  time_point last_sent{};
  std::unique_ptr<window_state> window;  // the windowed kinds
};

// What one match, or one second of a collector's hits, adds to a windowed group.
struct observation {
  std::uint64_t matches = 0;                           // ratio: events in the numerator
  std::uint64_t base = 0;                              // ratio: events in the base
  std::optional<std::uint64_t> hash;                   // cardinality: one match
  const std::vector<std::uint64_t>* hashes = nullptr;  // cardinality: hits
  const std::vector<std::pair<std::uint32_t, std::uint8_t>>* registers = nullptr;
  std::optional<double> value;             // aggregate: one match
  const value_summary* summary = nullptr;  // aggregate: hits
};

// Matches per minute over the last hour, for the UI's sparklines: a ring of minute slots, each
// reset by the first match of a newer minute.
class minute_counts {
 public:
  void add(time_point at) {
    const std::int64_t m = minute_of(at);
    slot& s = slots_[static_cast<std::size_t>(m) % slots_.size()];
    if (s.minute < m) s = {m, 0};
    if (s.minute == m) ++s.count;
  }
  // One count per minute, oldest first, the last one being the minute of `now`.
  [[nodiscard]] std::vector<std::uint64_t> last_hour(time_point now) const {
    std::vector<std::uint64_t> out(slots_.size(), 0);
    const std::int64_t last = minute_of(now);
    for (std::size_t i = 0; i < out.size(); ++i) {
      const std::int64_t m = last - static_cast<std::int64_t>(out.size() - 1 - i);
      const slot& s = slots_[static_cast<std::size_t>(m) % slots_.size()];
      if (s.minute == m) out[i] = s.count;
    }
    return out;
  }

 private:
  static std::int64_t minute_of(time_point at) {
    return std::chrono::floor<std::chrono::minutes>(at.time_since_epoch()).count();
  }
  struct slot {
    std::int64_t minute = -1;
    std::uint64_t count = 0;
  };
  std::array<slot, rule_activity::minutes> slots_{};
};

struct rule_state {
  rule_definition def;
  std::vector<std::pair<std::string, annotation_template>> annotations;
  std::size_t count = 1;
  duration window{};
  std::int64_t window_seconds = 1;  // the windowed kinds
  std::int64_t kept_seconds = 1;    // how far back a windowed group's buckets reach
  // new_term: the terms seen, and when the warm-up ends (unknown until the rule first runs).
  std::unique_ptr<term_store> terms;
  std::optional<std::int64_t> warmup_ends;
  std::int64_t next_terms_flush = INT64_MIN;
  std::string terms_problem_logged;
  std::uint64_t terms_evicted_counted = 0;  // of terms->evicted(), what terms_evicted counted
  duration for_duration{};
  duration resolve_after{};
  std::string generator_url;

  std::list<group_state> groups;  // least recently matched first
  std::unordered_map<std::string_view, std::list<group_state>::iterator> index;
  time_point next_due = time_point::max();  // no group has anything to do before this
  std::size_t position = 0;                 // in the engine's states

  minute_counts recent_matches;
  counter* matches = nullptr;
  counter* evictions = nullptr;
  counter* hits_dropped = nullptr;
  counter* value_errors = nullptr;
  counter* terms_evicted = nullptr;
  gauge* live_groups = nullptr;
  gauge* live_terms = nullptr;
};

// A match whose labels were computed before taking the state lock.
struct pending_match {
  std::size_t rule = 0;
  label_set labels;
  std::string key;
  bool base_only = false;  // ratio: in the base only
  // new_term's term, cardinality's value, aggregate's number (as text); has_field when set.
  std::string field_value;
  bool has_field = false;
};

constexpr std::size_t max_term_bytes = 256;

// A named group of the rule's patterns (DESIGN.md's `group_by: [host, src_ip]`), else an event
// field. False when neither is set.
bool value_of(const std::string& field, const rule_match& m, const collector::event& ev,
              std::string& out) {
  const auto capture = std::find_if(m.captures.rbegin(), m.captures.rend(),
                                    [&](const auto& c) { return c.first == field; });
  if (capture != m.captures.rend()) {
    out = capture->second;
    return true;
  }
  return compiled_rules::field_value(ev, field, out);
}

label_set build_labels(const rule_definition& def, const rule_match& m,
                       const collector::event& ev) {
  label_set labels;
  labels.insert_or_assign("alertname", def.name);
  labels.insert_or_assign("severity", def.severity);
  std::string value;
  for (const std::string& field : def.group_by) {
    if (!value_of(field, m, ev, value)) value.clear();
    labels.insert_or_assign(label_name_for_field(field), value);
  }
  if (def.kind == rule_kind::plain) {
    for (const auto& [name, value] : m.captures) labels.insert_or_assign(name, value);
  }
  if (def.kind == rule_kind::new_term && value_of(def.field, m, ev, value)) {
    // One alert per term; a term is at most max_term_bytes, so a flood of long values costs
    // bounded memory in the term store.
    if (value.size() > max_term_bytes) value.resize(max_term_bytes);
    labels.insert_or_assign(label_name_for_field(def.field), value);
  }
  for (const auto& [name, value] : def.labels) labels.insert_or_assign(name, value);
  return labels;
}

// A number as aggregate rules read it: decimal, at most 1e18 in size, so the sums of a window
// stay finite (1e308 twice would make a summary no router can read).
std::optional<double> parse_number(std::string_view text) {
  double v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end || !(std::fabs(v) <= 1e18)) return std::nullopt;
  return v;
}

std::uint64_t matches_in_window(const group_state& g, duration window, time_point now) {
  const auto first_inside = std::partition_point(g.recent.begin(), g.recent.end(),
                                                 [&](time_point t) { return !(now - t < window); });
  return static_cast<std::uint64_t>(std::distance(first_inside, g.recent.end()));
}

}  // namespace

struct alert_engine::impl {
  impl(metrics_registry& m, engine_options o)
      : metrics(m),
        options(std::move(o)),
        alerts_firing(
            m.get_counter("tocsin_alerts_total",
                          "Alert state changes emitted by the rules (re-sends not counted).",
                          {{"status", "firing"}})),
        alerts_resolved(
            m.get_counter("tocsin_alerts_total",
                          "Alert state changes emitted by the rules (re-sends not counted).",
                          {{"status", "resolved"}})),
        from_logs(m) {
    resend = to_duration(options.resend_interval);
    if (resend <= duration::zero()) resend = std::chrono::minutes(1);
    firing_ttl = resend > duration::max() / 3 ? duration::max() : resend * 3;
    if (options.expose_log_metrics) {
      renderer = m.add_renderer([this](std::string& out) { from_logs.render(out); });
    }
  }
  ~impl() {
    if (renderer != 0) metrics.remove_renderer(renderer);
  }
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;

  metrics_registry& metrics;
  engine_options options;
  duration resend{};
  duration firing_ttl{};  // endsAt of a firing alert = send time + this
  counter& alerts_firing;
  counter& alerts_resolved;
  log_metrics from_logs;       // its own locks: observed outside `mutex`
  std::uint64_t renderer = 0;  // metrics.add_renderer()'s id

  // The rule set the hot path matches with. Readers cache it per thread and refresh it only
  // when `generation` changes, so matching takes no lock and touches no shared cache line.
  mutable std::mutex rules_mutex;
  std::shared_ptr<const compiled_rules> rules;
  std::atomic<std::uint64_t> generation{0};

  // Guards everything below.
  std::mutex mutex;
  std::shared_ptr<const compiled_rules> state_rules;  // `states` is parallel to its definitions
  std::vector<std::unique_ptr<rule_state>> states;
  std::unordered_map<std::string_view, std::size_t> state_by_name;  // views into states' names
  std::vector<rule_state*> term_rules;  // the new_term rules among `states`, which tick() visits
  // The rules by their next_due, soonest first, so a tick() visits only the rules due, not all of
  // them (test-rules ticks at every line). An entry whose time is no longer its rule's next_due
  // is stale and skipped.
  using due_entry = std::pair<time_point, rule_state*>;
  std::priority_queue<due_entry, std::vector<due_entry>, std::greater<>> due_rules;

  void schedule(rule_state& rs, time_point at) {
    if (at >= rs.next_due) return;
    rs.next_due = at;
    due_rules.emplace(at, &rs);
  }

  // Every rule with something to do, once: after install(), or when stale entries pile up.
  void reschedule_all() {
    due_rules = {};
    for (const auto& rs : states) {
      if (rs->next_due != time_point::max()) due_rules.emplace(rs->next_due, rs.get());
    }
  }
  time_point clock = time_point::min();
  std::unordered_map<std::string, hit_batch> hits;  // by hits_key(); options.cluster_windows

  // Sums a match of a cluster-scoped windowed rule into its hit batch.
  void record_hit(const rule_state& rs, const pending_match& p, const rule_match& m,
                  const collector::event& ev, time_point now, const observation& o) {
    std::string key = rs.def.name + '\n' + p.key;
    // A flood of distinct groups within one second (spoofed hosts) costs a counted refusal, not
    // memory: as many groups as a rule may keep, for all the rules together.
    if (hits.size() >= std::max<std::size_t>(options.max_groups_per_rule, 1) &&
        !hits.contains(key)) {
      rs.hits_dropped->inc();
      return;
    }
    auto [it, fresh] = hits.try_emplace(std::move(key));
    hit_batch& b = it->second;
    if (fresh) {
      b.rule = rs.def.name;
      b.labels = p.labels;
      b.collector = options.node_name;
    }
    const std::int64_t second = seconds_of(now);
    // Each part keeps its seconds in order: `now` never goes back.
    const auto at = [&](auto& seconds) -> auto& {
      if (seconds.empty() || seconds.back().first != second) {
        seconds.emplace_back(second,
                             typename std::decay_t<decltype(seconds)>::value_type::second_type{});
      }
      return seconds.back().second;
    };
    if (o.matches > 0) at(b.counts) += o.matches;
    if (o.base > 0) at(b.base) += o.base;
    if (o.value) at(b.values).add(*o.value);
    if (o.hash) add_hash(b, second, *o.hash);
    // The latest match's details: a ratio's base event is no match (as in apply_match).
    if (!p.base_only) {
      b.captures = m.captures;
      b.message.assign(ev.message);
      b.host.assign(ev.host);
    }
  }

  // A cardinality match's value: its hash, until the second holds too many; then the second
  // goes over to HyperLogLog registers (the highest rank per register is all they need).
  static void add_hash(hit_batch& b, std::int64_t second, std::uint64_t hash) {
    if (!b.registers.empty() && b.registers.back().first == second) {
      merge_register(b.registers.back().second, sliding_distinct::register_of(hash));
      return;
    }
    if (b.distinct.empty() || b.distinct.back().first != second) {
      settle_hashes(b);  // the second before is complete
      b.distinct.emplace_back(second, std::vector<std::uint64_t>{});
    }
    b.distinct.back().second.push_back(hash);
    // Duplicates are dropped in batches, so a busy second costs O(log n) per value.
    if (b.distinct.back().second.size() >= 2 * max_hit_hashes) settle_hashes(b);
  }

  // Drops duplicate hashes of the latest second, and hands it over to registers when it still
  // holds more than max_hit_hashes.
  static void settle_hashes(hit_batch& b) {
    if (b.distinct.empty()) return;
    auto& [second, hashes] = b.distinct.back();
    std::sort(hashes.begin(), hashes.end());
    hashes.erase(std::unique(hashes.begin(), hashes.end()), hashes.end());
    if (hashes.size() <= max_hit_hashes) return;
    std::vector<std::pair<std::uint32_t, std::uint8_t>> regs;
    for (const std::uint64_t h : hashes) merge_register(regs, sliding_distinct::register_of(h));
    b.registers.emplace_back(second, std::move(regs));
    b.distinct.pop_back();
  }

  static void merge_register(std::vector<std::pair<std::uint32_t, std::uint8_t>>& regs,
                             std::pair<std::uint32_t, std::uint8_t> r) {
    const auto it = std::lower_bound(regs.begin(), regs.end(), r, [](const auto& a, const auto& b) {
      return a.first < b.first;
    });
    if (it != regs.end() && it->first == r.first) {
      it->second = std::max(it->second, r.second);
    } else {
      regs.insert(it, r);
    }
  }

  // Valid until this thread's next call; the thread-local copy keeps the rules alive.
  const std::shared_ptr<const compiled_rules>& snapshot() const {
    struct cache {
      std::uint64_t generation = 0;
      std::shared_ptr<const compiled_rules> rules;
    };
    thread_local cache c;
    if (c.generation != generation.load(std::memory_order_acquire)) {
      std::lock_guard lock(rules_mutex);
      c.rules = rules;
      c.generation = generation.load(std::memory_order_relaxed);
    }
    return c.rules;
  }

  void publish(std::shared_ptr<const compiled_rules> r) {
    // Unique across engines, so a thread's cache never mistakes another engine's rules for ours.
    static std::atomic<std::uint64_t> next_generation{1};
    std::lock_guard lock(rules_mutex);
    rules = std::move(r);
    generation.store(next_generation.fetch_add(1), std::memory_order_release);
  }

  std::unique_ptr<rule_state> make_state(const rule_definition& def) {
    auto rs = std::make_unique<rule_state>();
    rs->def = def;
    for (const auto& [name, text] : def.annotations) {
      rs->annotations.emplace_back(name, annotation_template(text));
    }
    rs->count = std::max<std::size_t>(def.count, 1);
    rs->window = to_duration(def.window);
    rs->for_duration = to_duration(def.for_duration);
    rs->resolve_after = to_duration(def.resolve_after);
    rs->window_seconds = whole_seconds(def.window);
    rs->kept_seconds = def.kind == rule_kind::spike ? 2 * rs->window_seconds : rs->window_seconds;
    rs->generator_url = make_generator_url(options.generator_url, def.name);
    const metric_labels rule_label{{"rule", def.name}};
    rs->matches = &metrics.get_counter("tocsin_rule_matches_total", "Events that matched a rule.",
                                       rule_label);
    rs->evictions = &metrics.get_counter(
        "tocsin_rule_group_evictions_total",
        "Alert groups dropped because a rule reached max_groups_per_rule.", rule_label);
    rs->hits_dropped = &metrics.get_counter(
        "tocsin_rule_hits_dropped_total",
        "Matches of cluster-wide windows not sent to the routers: too many groups in a second.",
        rule_label);
    rs->live_groups = &metrics.get_gauge(
        "tocsin_rule_groups", "Alert groups (label sets) a rule keeps state for.", rule_label);
    if (def.kind == rule_kind::aggregate || def.kind == rule_kind::cardinality ||
        def.kind == rule_kind::new_term) {
      rs->value_errors = &metrics.get_counter(
          "tocsin_rule_value_errors_total",
          "Matches of new_term, cardinality and aggregate rules without their field's value (or, "
          "for aggregate, with one that is not a number): not counted.",
          rule_label);
    }
    if (def.kind == rule_kind::new_term) {
      rs->live_terms = &metrics.get_gauge(
          "tocsin_rule_terms", "Terms a new_term rule remembers (per group).", rule_label);
      rs->terms_evicted = &metrics.get_counter(
          "tocsin_rule_terms_evicted_total",
          "Terms a new_term rule forgot early: it reached max_terms_per_rule.", rule_label);
    }
    return rs;
  }

  time_point advance(time_point now) {
    clock = std::max(clock, now);
    return clock;
  }

  // The state for rule `index` of `r`, which may be an older or newer set than the state's
  // (a reload raced with this event): then it is found by name, and only if it is unchanged.
  rule_state* state_for(const compiled_rules& r, std::size_t index) {
    if (&r == state_rules.get()) return index < states.size() ? states[index].get() : nullptr;
    const rule_definition& def = r.definitions()[index];
    const auto it = state_by_name.find(def.name);
    if (it == state_by_name.end()) return nullptr;
    rule_state* rs = states[it->second].get();
    return same_definition(rs->def, def) ? rs : nullptr;
  }

  // The next time tick() has something to do for `g`.
  time_point due(const rule_state& rs, const group_state& g) const {
    time_point d = g.firing ? add_saturated(g.last_sent, resend) : time_point::max();
    switch (rs.def.kind) {
      case rule_kind::plain:
      case rule_kind::new_term:
        d = std::min(d, add_saturated(g.last_seen, rs.resolve_after));
        break;
      case rule_kind::spike:
      case rule_kind::cardinality:
      case rule_kind::aggregate:
      case rule_kind::ratio:
        // Evaluated every second (window_lag behind).
        d = std::min(d, at_second(g.window->evaluated + 1 + options.window_lag.count()));
        break;
      case rule_kind::threshold:
        if (g.firing) {
          d = std::min(d, add_saturated(g.above_until, rs.window));
        } else {
          d = g.recent.empty() ? time_point::min() : add_saturated(g.recent.back(), rs.window);
        }
        break;
      case rule_kind::absent:
        if (!g.firing) d = add_saturated(g.last_seen, rs.for_duration);
        break;
    }
    return d;
  }

  group_state& find_or_create(rule_state& rs, pending_match& p, time_point now,
                              std::vector<alert>& out) {
    if (const auto it = rs.index.find(p.key); it != rs.index.end()) {
      rs.groups.splice(rs.groups.end(), rs.groups, it->second);  // most recently matched
      return *it->second;
    }
    const std::size_t cap = std::max<std::size_t>(options.max_groups_per_rule, 1);
    while (rs.groups.size() >= cap) {
      group_state& evicted = rs.groups.front();
      if (evicted.firing) emit_resolved(rs, evicted, now, out);
      rs.index.erase(evicted.key);
      rs.groups.pop_front();
      rs.evictions->inc();
    }
    group_state& g = rs.groups.emplace_back();
    g.key = std::move(p.key);
    g.labels = std::move(p.labels);
    g.fingerprint = fingerprint(g.labels);
    g.first_seen = now;
    rs.index.emplace(g.key, std::prev(rs.groups.end()));
    rs.live_groups->set(static_cast<std::int64_t>(rs.groups.size()));
    return g;
  }

  alert make_alert(const rule_state& rs, const group_state& g, bool firing,
                   time_point ends_at) const {
    alert a;
    a.labels = g.labels;
    a.starts_at = g.starts_at;
    a.ends_at = ends_at;
    a.firing = firing;
    a.fingerprint = g.fingerprint;
    a.generator_url = rs.generator_url;
    const auto append_value = [&](std::string_view name, std::string& out) {
      if (const auto it = g.labels.find(std::string(name)); it != g.labels.end()) {
        out += it->second;
        return;
      }
      // The last of equal names wins, as it does for labels. (Not std::ranges::reverse_view:
      // clang 14 with libstdc++ 12 rejects it.)
      // NOLINTNEXTLINE(modernize-loop-convert)
      for (auto it = g.captures.rbegin(); it != g.captures.rend(); ++it) {
        if (it->first == name) {
          out += it->second;
          return;
        }
      }
      if (name == "count") {
        out += std::to_string(g.count);
      } else if (name == "message") {
        out += g.message;
      } else if (name == "host") {
        out += g.host;
      } else if (name == "first_seen") {
        append_rfc3339_utc(g.first_seen, out, 3);
      } else if (name == "last_seen") {
        append_rfc3339_utc(g.last_seen, out, 3);
      } else if (g.window && name == "value") {
        append_number(g.window->value, out);
      } else if (g.window && name == "previous") {
        out += std::to_string(g.window->counts.previous());
      } else if (g.window && g.window->base && name == "base") {
        out += std::to_string(g.window->base->current());
      }
    };
    for (const auto& [name, tmpl] : rs.annotations) {
      a.annotations.emplace(name, tmpl.render(append_value));
    }
    return a;
  }

  void emit_firing(const rule_state& rs, group_state& g, time_point now, std::vector<alert>& out,
                   bool state_change) {
    g.last_sent = now;
    out.push_back(make_alert(rs, g, true, add_saturated(now, firing_ttl)));
    if (state_change) alerts_firing.inc();
  }

  void emit_resolved(const rule_state& rs, group_state& g, time_point at, std::vector<alert>& out) {
    g.firing = false;
    out.push_back(make_alert(rs, g, false, std::max(at, g.starts_at)));
    alerts_resolved.inc();
  }

  // The latest match's details, for annotations.
  struct match_details {
    const std::vector<std::pair<std::string, std::string>>& captures;
    std::string_view message, host;
  };

  // Whether a windowed group's condition holds at second `s`, its buckets moved there first.
  static bool condition(const rule_state& rs, window_state& w, std::int64_t s) {
    w.counts.advance(s);
    if (w.base) w.base->advance(s);
    if (w.distinct) w.distinct->expire(s, rs.window_seconds);
    if (w.values) w.values->expire(s, rs.window_seconds);
    const rule_definition& def = rs.def;
    // cardinality and aggregate: below a limit needs a whole window of the group's history
    // (one value seen so far is not "fewer than min" yet); a ratio has min_base for that.
    const bool whole_window =
        def.kind == rule_kind::ratio || s >= w.history_since + rs.window_seconds - 1;
    const auto beyond = [&](double v) {
      return (def.above && v > *def.above) || (def.below && v < *def.below && whole_window);
    };
    switch (def.kind) {
      case rule_kind::spike: {
        const auto current = static_cast<double>(w.counts.current());
        const auto previous = static_cast<double>(w.counts.previous());
        w.value = previous > 0 ? current / previous : 0;
        // The previous window must lie wholly inside the group's history.
        if (s < w.history_since + 2 * rs.window_seconds - 1) return false;
        const auto min_count = static_cast<double>(def.min_count);
        if (def.spike_ratio > 1) {
          return current >= min_count && previous > 0 && current >= def.spike_ratio * previous;
        }
        return previous >= min_count && current <= def.spike_ratio * previous;
      }
      case rule_kind::ratio: {
        const std::uint64_t base = w.base->current();
        w.value =
            base > 0 ? static_cast<double>(w.counts.current()) / static_cast<double>(base) : 0;
        return base > 0 && base >= def.min_base && beyond(w.value);
      }
      case rule_kind::cardinality: {
        const std::uint64_t n = w.distinct->count(s, rs.window_seconds);
        w.value = static_cast<double>(n);
        return n > 0 && beyond(w.value);
      }
      case rule_kind::aggregate: {
        const auto v = w.values->evaluate(def.function, def.quantile);
        w.value = v.value_or(0);
        return v && beyond(*v);
      }
      default:
        return false;
    }
  }

  // Evaluates a windowed group at second `s`: fires when the condition holds (startsAt = `at`),
  // resolves once it has been false for a whole window.
  void evaluate_at(rule_state& rs, group_state& g, std::int64_t s, time_point at,
                   std::vector<alert>& out) {
    window_state& w = *g.window;
    const bool holds = condition(rs, w, s);
    w.evaluated = std::max(w.evaluated, s);
    g.count = w.counts.current();
    if (holds) {
      w.last_true = s;
      if (!g.firing) {
        g.firing = true;
        g.starts_at = at;
        emit_firing(rs, g, at, out, true);
      }
    } else if (g.firing && s >= w.last_true + rs.window_seconds) {
      emit_resolved(rs, g, at_second(w.last_true + rs.window_seconds), out);
    }
  }

  // Evaluates every second after the latest evaluated one up to `s`. Once every bucket has
  // expired nothing changes any more, so a long quiet gap costs one more evaluation, not one
  // per second.
  void step_to(rule_state& rs, group_state& g, std::int64_t s, std::vector<alert>& out) {
    window_state& w = *g.window;
    if (w.evaluated == INT64_MIN) return;
    const std::int64_t settled = w.evaluated + rs.kept_seconds + 1;
    for (std::int64_t t = w.evaluated + 1; t <= s && t <= settled; ++t) {
      evaluate_at(rs, g, t, at_second(t), out);
    }
    if (s > settled) evaluate_at(rs, g, s, at_second(s), out);
  }

  // Adds what one match or one second of hits brought at second `s`, then evaluates.
  void apply_window(rule_state& rs, group_state& g, std::int64_t s, const observation& o,
                    time_point at, std::vector<alert>& out) {
    if (!g.window) g.window = std::make_unique<window_state>(rs.def, rs.window_seconds, s);
    window_state& w = *g.window;
    // A collector's older second is merged into its own bucket and evaluated now.
    const std::int64_t t = std::max(s, w.evaluated);
    const bool lagged = options.window_lag.count() > 0;
    if (!lagged) step_to(rs, g, t - 1, out);
    w.counts.add(s, o.matches);
    if (w.base) w.base->add(s, o.base);
    if (w.distinct) {
      if (o.hash) w.distinct->add(*o.hash, s);
      if (o.hashes != nullptr) {
        for (const std::uint64_t h : *o.hashes) w.distinct->add(h, s);
      }
      if (o.registers != nullptr) {
        for (const auto& [reg, rank] : *o.registers) w.distinct->add_register(reg, rank, s);
      }
    }
    if (w.values) {
      if (o.value) w.values->add(s, *o.value);
      if (o.summary != nullptr) w.values->add(s, *o.summary);
    }
    if (lagged) {
      // tick() judges the second once every collector's part of it is in, starting after what
      // it already judged (so an old second costs no walk through seconds long gone).
      // A second ahead of the clock (a collector's clock runs fast) starts the group where the
      // router is, not in the future.
      if (w.evaluated == INT64_MIN && clock == time_point::min()) {
        w.evaluated = s - 1;
      } else if (w.evaluated == INT64_MIN) {
        const std::int64_t judged = seconds_of(clock) - options.window_lag.count();
        w.evaluated = std::clamp(s - 1, judged - rs.kept_seconds, judged);
        w.history_since = std::min(w.history_since, judged + 1);
      }
      return;
    }
    evaluate_at(rs, g, t, s == t ? at : at_second(t), out);
  }

  // new_term: starts the warm-up, writes the terms' journal out, and now and then the whole
  // store with the latest sightings.
  void tick_terms(rule_state& rs, time_point now) {
    start_warmup(rs, now);
    const std::int64_t s = seconds_of(now);
    if (s >= rs.next_terms_flush) {
      if (rs.next_terms_flush != INT64_MIN) rs.terms->flush();
      rs.next_terms_flush = s + terms_flush_seconds;
    } else {
      rs.terms->sync();
    }
    // Said again at every flush that fails: the terms then live in memory only.
    if (!rs.terms->problem().empty() && rs.terms->problem() != rs.terms_problem_logged) {
      rs.terms_problem_logged = rs.terms->problem();
      spdlog::warn("rule {}: new_term terms are not saved: {} (tried again every {} s)",
                   rs.def.name, rs.terms_problem_logged, terms_flush_seconds);
    }
  }
  static constexpr std::int64_t terms_flush_seconds = 600;

  // Replays a collector's windowed state second by second, every part of a second at once (a
  // ratio's numerator without its base would look like a share above 1).
  void replay_window_hits(rule_state& rs, const hit_batch& hits, const std::string& key,
                          std::vector<alert>& out) {
    std::map<std::int64_t, observation> seconds;
    for (const auto& [second, n] : hits.counts) seconds[second].matches += n;
    for (const auto& [second, n] : hits.base) seconds[second].base += n;
    for (const auto& [second, hashes] : hits.distinct) seconds[second].hashes = &hashes;
    for (const auto& [second, regs] : hits.registers) seconds[second].registers = &regs;
    for (const auto& [second, summary] : hits.values) seconds[second].summary = &summary;
    // Hits fill buckets and never move the clock (tick() does): a collector whose clock runs
    // ahead must not make the router judge seconds before their time. Seconds older than the
    // buckets reach behind what has been judged can never count.
    const std::int64_t judged = seconds_of(clock) - options.window_lag.count();
    for (const auto& [second, o] : seconds) {
      if (second <= judged - rs.kept_seconds) continue;
      const time_point t = at_second(second);
      pending_match p;
      p.labels = hits.labels;
      p.key = key;
      p.base_only = o.matches == 0;
      apply_match(rs, p, {hits.captures, hits.message, hits.host}, t, out, o);
    }
  }

  // new_term: the warm-up starts the first time the rule runs, and is remembered.
  void start_warmup(rule_state& rs, time_point now) {
    if (rs.warmup_ends || !rs.terms) return;
    const std::int64_t s = seconds_of(now);
    rs.terms->set_warmup_started(s);
    rs.warmup_ends = s + std::chrono::duration_cast<std::chrono::seconds>(rs.def.warmup).count();
  }

  // new_term: whether this sighting of the term (the group's labels hold it) is news to alert on.
  // The term's key leaves out severity, which may change without forgetting the terms.
  bool new_term_fires(rule_state& rs, const label_set& labels, time_point now) {
    const std::int64_t s = seconds_of(now);
    label_set term = labels;
    term.erase("severity");
    const bool fresh =
        rs.terms->see(group_key(term), s,
                      std::chrono::duration_cast<std::chrono::seconds>(rs.def.lookback).count());
    rs.live_terms->set(static_cast<std::int64_t>(rs.terms->size()));
    if (const std::uint64_t evicted = rs.terms->evicted(); evicted > rs.terms_evicted_counted) {
      rs.terms_evicted->inc(evicted - rs.terms_evicted_counted);
      rs.terms_evicted_counted = evicted;
    }
    // Terms seen while warming up only teach. The warm-up starts at the engine's clock (the
    // first tick() or local match), never at a collector's hit second; before it, terms teach.
    return fresh && rs.warmup_ends && s >= *rs.warmup_ends;
  }

  void apply_match(rule_state& rs, pending_match& p, const match_details& m, time_point now,
                   std::vector<alert>& out, const observation& o = {}) {
    group_state& g = find_or_create(rs, p, now, out);
    if (!p.base_only) {  // a ratio's base event is no match: annotations show the latest match
      g.captures = m.captures;
      g.message.assign(m.message);
      g.host.assign(m.host);
      g.last_seen = now;
    }
    switch (rs.def.kind) {
      case rule_kind::plain:
      case rule_kind::new_term:
        ++g.count;
        if (!g.firing) {
          g.firing = true;
          g.starts_at = now;
          emit_firing(rs, g, now, out, true);
        }
        break;
      case rule_kind::threshold: {
        g.recent.push_back(now);
        if (g.recent.size() > rs.count) g.recent.pop_front();
        const bool at_or_above = g.recent.size() >= rs.count && now - g.recent.front() < rs.window;
        if (at_or_above) g.above_until = add_saturated(g.recent.front(), rs.window);
        if (g.firing) {
          ++g.count;
        } else if (at_or_above) {
          g.count = g.recent.size();
          g.first_seen = g.recent.front();
          g.firing = true;
          g.starts_at = now;
          emit_firing(rs, g, now, out, true);
        } else {
          g.count = matches_in_window(g, rs.window, now);
        }
        break;
      }
      case rule_kind::absent:
        if (g.firing) {
          emit_resolved(rs, g, now, out);
          g.count = 0;
          g.first_seen = now;
        }
        ++g.count;
        break;
      case rule_kind::spike:
      case rule_kind::cardinality:
      case rule_kind::aggregate:
      case rule_kind::ratio:
        apply_window(rs, g, seconds_of(now), o, now, out);
        break;
    }
    schedule(rs, due(rs, g));
  }

  void tick_rule(rule_state& rs, time_point now, std::vector<alert>& out) {
    rs.next_due = time_point::max();
    for (auto it = rs.groups.begin(); it != rs.groups.end();) {
      group_state& g = *it;
      bool forget = false;
      switch (rs.def.kind) {
        case rule_kind::plain:
        case rule_kind::new_term:
          if (const time_point at = add_saturated(g.last_seen, rs.resolve_after); now >= at) {
            if (g.firing) emit_resolved(rs, g, at, out);
            forget = true;
          }
          break;
        case rule_kind::threshold:
          if (g.firing) {
            if (const time_point at = add_saturated(g.above_until, rs.window); now >= at) {
              emit_resolved(rs, g, at, out);
            }
          }
          if (!g.firing) {
            g.count = matches_in_window(g, rs.window, now);
            forget = g.count == 0;
          }
          break;
        case rule_kind::absent:
          if (!g.firing) {
            if (const time_point at = add_saturated(g.last_seen, rs.for_duration); now >= at) {
              g.firing = true;
              g.starts_at = at;
              emit_firing(rs, g, now, out, true);
            }
          }
          break;
        case rule_kind::spike:
        case rule_kind::cardinality:
        case rule_kind::aggregate:
        case rule_kind::ratio:
          step_to(rs, g, seconds_of(now) - options.window_lag.count(), out);
          forget = !g.firing && g.window->empty();
          break;
      }
      if (forget) {
        rs.index.erase(g.key);
        it = rs.groups.erase(it);
        continue;
      }
      if (g.firing && now >= add_saturated(g.last_sent, resend)) {
        emit_firing(rs, g, now, out, false);
      }
      rs.next_due = std::min(rs.next_due, due(rs, g));
      ++it;
    }
    rs.live_groups->set(static_cast<std::int64_t>(rs.groups.size()));
  }

  // A new_term rule's terms: the old state's while the terms mean the same (term_identity), else
  // the file's. The old store writes its file before a new one reads it.
  void take_terms(rule_state& rs, rule_state* old) {
    if (old != nullptr && old->terms && term_identity(old->def) == term_identity(rs.def)) {
      rs.terms = std::move(old->terms);
      rs.warmup_ends = old->warmup_ends;
      rs.next_terms_flush = old->next_terms_flush;
      rs.terms_evicted_counted = old->terms_evicted_counted;
    } else {
      if (old != nullptr) old->terms.reset();
      rs.terms = std::make_unique<term_store>(
          options.state_dir.empty() ? std::filesystem::path()
                                    : options.state_dir / "new_term" / (rs.def.name + ".jsonl"),
          rs.def.name, term_identity(rs.def), options.max_terms_per_rule);
      if (const auto started = rs.terms->warmup_started()) {
        rs.warmup_ends =
            *started + std::chrono::duration_cast<std::chrono::seconds>(rs.def.warmup).count();
      }
    }
    rs.live_terms->set(static_cast<std::int64_t>(rs.terms->size()));
  }

  // Installs `r` and its states, keeping the groups of unchanged rules. Caller holds `mutex`.
  void install(std::shared_ptr<const compiled_rules> r,
               std::vector<std::unique_ptr<rule_state>> fresh) {
    std::vector<bool> taken(states.size(), false);
    for (auto& rs : fresh) {
      const auto it = state_by_name.find(rs->def.name);
      rule_state* old =
          it == state_by_name.end() || taken[it->second] ? nullptr : states[it->second].get();
      if (rs->def.kind == rule_kind::new_term) take_terms(*rs, old);
      if (old == nullptr) continue;
      rs->recent_matches = old->recent_matches;  // the rules page's last hour follows the name
      if (!same_definition(old->def, rs->def)) continue;
      rule_state& old_state = *old;
      // The list and map keep their nodes when moved, so the index's key views stay valid.
      rs->groups = std::move(old_state.groups);
      rs->index = std::move(old_state.index);
      rs->next_due = old_state.next_due;
      taken[it->second] = true;
    }
    for (std::size_t i = 0; i < states.size(); ++i) {
      if (!taken[i]) states[i]->live_groups->set(0);
    }
    states = std::move(fresh);
    state_by_name.clear();
    reschedule_all();
    term_rules.clear();
    for (const auto& rs : states) {
      if (rs->terms) term_rules.push_back(rs.get());
    }
    for (std::size_t i = 0; i < states.size(); ++i) {
      states[i]->position = i;
      state_by_name.try_emplace(states[i]->def.name, i);
      states[i]->live_groups->set(static_cast<std::int64_t>(states[i]->groups.size()));
    }
    state_rules = r;
    publish(std::move(r));
  }
};

alert_engine::alert_engine(std::shared_ptr<const compiled_rules> rules, metrics_registry& metrics,
                           engine_options options)
    : impl_(std::make_unique<impl>(metrics, std::move(options))) {
  replace_rules(std::move(rules));
}

alert_engine::~alert_engine() = default;

void alert_engine::on_event(const collector::event& ev, time_point now, std::vector<alert>& out) {
  const std::shared_ptr<const compiled_rules>& rules = impl_->snapshot();
  if (!rules) return;
  thread_local std::vector<rule_match> matches;
  matches.clear();
  rules->match(ev, matches);
  if (matches.empty()) return;
  // Log-derived metrics come after the rules in `matches`: observed here, without `mutex`.
  const auto metrics_begin =
      std::find_if(matches.begin(), matches.end(), [](const rule_match& m) { return m.metric; });
  if (metrics_begin != matches.end()) {
    for (auto it = metrics_begin; it != matches.end(); ++it) {
      impl_->from_logs.observe(rules->metric_definitions(), it->rule, it->captures, ev);
    }
    matches.erase(metrics_begin, matches.end());
    if (matches.empty()) return;
  }

  // Labels and keys are built before taking the lock, so shards contend only for the update.
  std::vector<pending_match> pending;
  pending.reserve(matches.size());
  for (const rule_match& m : matches) {
    const rule_definition& def = rules->definitions()[m.rule];
    pending_match& p = pending.emplace_back();
    p.rule = m.rule;
    p.base_only = m.base_only;
    p.labels = build_labels(def, m, ev);
    p.key = group_key(p.labels);
    if (!def.field.empty()) p.has_field = value_of(def.field, m, ev, p.field_value);
  }

  std::lock_guard lock(impl_->mutex);
  const time_point t = impl_->advance(now);
  for (std::size_t i = 0; i < pending.size(); ++i) {
    pending_match& p = pending[i];
    rule_state* rs = impl_->state_for(*rules, p.rule);
    if (rs == nullptr) continue;  // the rule changed or went away in a reload just now
    const rule_kind kind = rs->def.kind;
    observation o;
    o.matches = p.base_only ? 0 : 1;
    o.base = kind == rule_kind::ratio ? 1 : 0;
    if (kind == rule_kind::cardinality || kind == rule_kind::aggregate ||
        kind == rule_kind::new_term) {
      if (kind == rule_kind::aggregate && p.has_field) o.value = parse_number(p.field_value);
      if (kind == rule_kind::cardinality && p.has_field) o.hash = value_hash(p.field_value);
      const bool usable = kind == rule_kind::aggregate ? o.value.has_value() : p.has_field;
      if (!usable) {
        rs->value_errors->inc();
        continue;
      }
    }
    if (!p.base_only) {
      rs->matches->inc();
      rs->recent_matches.add(t);
    }
    if (impl_->options.cluster_windows && kind != rule_kind::plain &&
        rs->def.scope == rule_scope::cluster) {
      impl_->record_hit(*rs, p, matches[i], ev, t, o);
      continue;
    }
    if (kind == rule_kind::new_term) {
      impl_->start_warmup(*rs, t);  // the engine's clock, as tick() would
      if (!impl_->new_term_fires(*rs, p.labels, t)) continue;
    }
    impl_->apply_match(*rs, p, {matches[i].captures, ev.message, ev.host}, t, out, o);
  }
}

std::vector<hit_batch> alert_engine::take_hits() {
  std::vector<hit_batch> out;
  std::lock_guard lock(impl_->mutex);
  out.reserve(impl_->hits.size());
  for (auto& [key, batch] : impl_->hits) {
    impl::settle_hashes(batch);  // the seconds before were settled as the next one began
    out.push_back(std::move(batch));
  }
  impl_->hits.clear();
  return out;
}

void alert_engine::on_hits(const hit_batch& hits, std::vector<alert>& out) {
  std::lock_guard lock(impl_->mutex);
  const auto it = impl_->state_by_name.find(hits.rule);
  if (it == impl_->state_by_name.end()) return;  // a rule this router does not have
  rule_state& rs = *impl_->states[it->second];
  if (rs.def.kind == rule_kind::plain) return;
  const std::string key = group_key(hits.labels);
  if (is_window_kind(rs.def.kind)) {
    impl_->replay_window_hits(rs, hits, key, out);
    return;
  }
  for (const auto& [second, n] : hits.counts) {
    // At its own second, not at the engine's clock: a new assignment replays rebuild_window of
    // hits after tick() has moved the clock to now. Never before the group's latest match, so
    // the group's match times stay in order.
    time_point t = time_point(std::chrono::seconds(second));
    impl_->advance(t);
    if (const auto g = rs.index.find(key); g != rs.index.end()) {
      t = std::max(t, g->second->last_seen);
    }
    // new_term: the term (in the labels) fires if it is news to this router.
    if (rs.def.kind == rule_kind::new_term && !impl_->new_term_fires(rs, hits.labels, t)) {
      continue;
    }
    // A threshold keeps only its last `count` match times; absent and new_term need one.
    const std::uint64_t replayed =
        rs.def.kind == rule_kind::threshold ? std::min<std::uint64_t>(n, rs.count) : 1;
    for (std::uint64_t i = 0; i < replayed; ++i) {
      pending_match p;
      p.labels = hits.labels;
      p.key = key;
      impl_->apply_match(rs, p, {hits.captures, hits.message, hits.host}, t, out);
    }
    // The matches not replayed still count in {{count}}, which then adds up every match (absent:
    // of the seen period; threshold: since it fired).
    if (const auto g = rs.index.find(key);
        n > replayed && g != rs.index.end() &&
        (rs.def.kind == rule_kind::absent || g->second->firing)) {
      g->second->count += n - replayed;
    }
  }
}

void alert_engine::tick(time_point now, std::vector<alert>& out) {
  std::lock_guard lock(impl_->mutex);
  const time_point t = impl_->advance(now);
  for (rule_state* rs : impl_->term_rules) impl_->tick_terms(*rs, t);
  auto& queue = impl_->due_rules;
  if (queue.empty() || queue.top().first > t) return;
  thread_local std::vector<rule_state*> due;
  due.clear();
  for (; !queue.empty() && queue.top().first <= t; queue.pop()) {
    const auto [at, rs] = queue.top();
    if (at == rs->next_due) due.push_back(rs);  // else stale: scheduled again since
  }
  // In the rules' order, as a walk over all of them would have it: alerts come out the same.
  // (A rule queued twice for the same time is ticked once.)
  std::sort(due.begin(), due.end(),
            [](const rule_state* a, const rule_state* b) { return a->position < b->position; });
  due.erase(std::unique(due.begin(), due.end()), due.end());
  try {
    for (rule_state* rs : due) {
      impl_->tick_rule(*rs, t, out);
      if (rs->next_due != time_point::max()) queue.emplace(rs->next_due, rs);
    }
  } catch (...) {
    impl_->reschedule_all();  // the rules not ticked yet are out of the queue but still due
    throw;
  }
  if (queue.size() > 4 * impl_->states.size() + 64) impl_->reschedule_all();
}

void alert_engine::forget_state() {
  std::lock_guard lock(impl_->mutex);
  for (auto& rs : impl_->states) {
    rs->index.clear();  // views into the groups: cleared first
    rs->groups.clear();
    rs->next_due = time_point::max();
    rs->live_groups->set(0);
  }
  impl_->due_rules = {};
  impl_->clock = time_point::min();
}

void alert_engine::replace_rules(std::shared_ptr<const compiled_rules> rules) {
  // Templates and metric series are prepared before taking the lock.
  std::vector<std::unique_ptr<rule_state>> fresh;
  if (rules) {
    fresh.reserve(rules->definitions().size());
    for (const rule_definition& def : rules->definitions()) {
      fresh.push_back(impl_->make_state(def));
    }
  }
  std::lock_guard lock(impl_->mutex);
  // Under `mutex`, so two reloads install their metrics in the order of their rules.
  static const std::vector<metric_definition> no_metrics;
  impl_->from_logs.replace(rules ? rules->metric_definitions() : no_metrics);
  impl_->install(std::move(rules), std::move(fresh));
}

const log_metrics& alert_engine::metrics_from_logs() const { return impl_->from_logs; }

std::shared_ptr<const compiled_rules> alert_engine::rules() const {
  std::lock_guard lock(impl_->rules_mutex);
  return impl_->rules;
}

std::vector<rule_activity> alert_engine::activity(time_point now) const {
  std::lock_guard lock(impl_->mutex);
  std::vector<rule_activity> out;
  out.reserve(impl_->states.size());
  for (const auto& rs : impl_->states) {
    out.push_back({rs->def.name, rs->def.kind, rs->matches->value(),
                   rs->recent_matches.last_hour(now), rs->groups.size()});
  }
  return out;
}

}  // namespace tocsin::rules
