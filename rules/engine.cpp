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
// `count` in annotations: plain, the matches since the alert started firing; threshold, the
// matches inside the window when it fired plus every match since (while not firing, the matches
// inside the window); absent, the matches of the current seen period.
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
#include <cstdint>
#include <deque>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/rfc3339.hpp"
#include "rules/template.hpp"

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

bool same_patterns(const std::vector<field_pattern>& a, const std::vector<field_pattern>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.field == y.field && x.pattern == y.pattern;
  });
}

// Every field but the source locations.
bool same_definition(const rule_definition& a, const rule_definition& b) {
  return a.name == b.name && a.kind == b.kind && same_patterns(a.match, b.match) &&
         a.min_severity == b.min_severity && a.severity == b.severity && a.labels == b.labels &&
         a.annotations == b.annotations && a.count == b.count && a.window == b.window &&
         a.for_duration == b.for_duration && a.group_by == b.group_by &&
         a.resolve_after == b.resolve_after && a.scope == b.scope;
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
  duration for_duration{};
  duration resolve_after{};
  std::string generator_url;

  std::list<group_state> groups;  // least recently matched first
  std::unordered_map<std::string_view, std::list<group_state>::iterator> index;
  time_point next_due = time_point::max();  // no group has anything to do before this

  minute_counts recent_matches;
  counter* matches = nullptr;
  counter* evictions = nullptr;
  counter* hits_dropped = nullptr;
  gauge* live_groups = nullptr;
};

// A match whose labels were computed before taking the state lock.
struct pending_match {
  std::size_t rule = 0;
  label_set labels;
  std::string key;
};

label_set build_labels(const rule_definition& def, const rule_match& m,
                       const collector::event& ev) {
  label_set labels;
  labels.insert_or_assign("alertname", def.name);
  labels.insert_or_assign("severity", def.severity);
  std::string value;
  for (const std::string& field : def.group_by) {
    // A named group of the rule's patterns (DESIGN.md's `group_by: [host, src_ip]`), else an
    // event field.
    const auto capture = std::find_if(m.captures.rbegin(), m.captures.rend(),
                                      [&](const auto& c) { return c.first == field; });
    if (capture != m.captures.rend()) {
      value = capture->second;
    } else if (!compiled_rules::field_value(ev, field, value)) {
      value.clear();
    }
    labels.insert_or_assign(label_name_for_field(field), value);
  }
  if (def.kind == rule_kind::plain) {
    for (const auto& [name, value] : m.captures) labels.insert_or_assign(name, value);
  }
  for (const auto& [name, value] : def.labels) labels.insert_or_assign(name, value);
  return labels;
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
  time_point clock = time_point::min();
  std::unordered_map<std::string, hit_batch> hits;  // by hits_key(); options.cluster_windows

  // Sums a match of a cluster-scoped windowed rule into its hit batch.
  void record_hit(const rule_state& rs, const pending_match& p, const rule_match& m,
                  const collector::event& ev, time_point now) {
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
    const std::int64_t second =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    if (b.counts.empty() || b.counts.back().first != second) {
      b.counts.emplace_back(second, 0);
    }
    ++b.counts.back().second;
    b.captures = m.captures;
    b.message.assign(ev.message);
    b.host.assign(ev.host);
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
        d = std::min(d, add_saturated(g.last_seen, rs.resolve_after));
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

  void apply_match(rule_state& rs, pending_match& p, const match_details& m, time_point now,
                   std::vector<alert>& out) {
    group_state& g = find_or_create(rs, p, now, out);
    g.captures = m.captures;
    g.message.assign(m.message);
    g.host.assign(m.host);
    g.last_seen = now;
    switch (rs.def.kind) {
      case rule_kind::plain:
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
    }
    rs.next_due = std::min(rs.next_due, due(rs, g));
  }

  void tick_rule(rule_state& rs, time_point now, std::vector<alert>& out) {
    rs.next_due = time_point::max();
    for (auto it = rs.groups.begin(); it != rs.groups.end();) {
      group_state& g = *it;
      bool forget = false;
      switch (rs.def.kind) {
        case rule_kind::plain:
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

  // Installs `r` and its states, keeping the groups of unchanged rules. Caller holds `mutex`.
  void install(std::shared_ptr<const compiled_rules> r,
               std::vector<std::unique_ptr<rule_state>> fresh) {
    std::vector<bool> taken(states.size(), false);
    for (auto& rs : fresh) {
      const auto it = state_by_name.find(rs->def.name);
      if (it == state_by_name.end() || taken[it->second]) continue;
      rule_state& old = *states[it->second];
      rs->recent_matches = old.recent_matches;  // the rules page's last hour follows the name
      if (!same_definition(old.def, rs->def)) continue;
      // The list and map keep their nodes when moved, so the index's key views stay valid.
      rs->groups = std::move(old.groups);
      rs->index = std::move(old.index);
      rs->next_due = old.next_due;
      taken[it->second] = true;
    }
    for (std::size_t i = 0; i < states.size(); ++i) {
      if (!taken[i]) states[i]->live_groups->set(0);
    }
    states = std::move(fresh);
    state_by_name.clear();
    for (std::size_t i = 0; i < states.size(); ++i) {
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
    pending_match& p = pending.emplace_back();
    p.rule = m.rule;
    p.labels = build_labels(rules->definitions()[m.rule], m, ev);
    p.key = group_key(p.labels);
  }

  std::lock_guard lock(impl_->mutex);
  const time_point t = impl_->advance(now);
  for (std::size_t i = 0; i < pending.size(); ++i) {
    rule_state* rs = impl_->state_for(*rules, pending[i].rule);
    if (rs == nullptr) continue;  // the rule changed or went away in a reload just now
    rs->matches->inc();
    rs->recent_matches.add(t);
    if (impl_->options.cluster_windows && rs->def.kind != rule_kind::plain &&
        rs->def.scope == rule_scope::cluster) {
      impl_->record_hit(*rs, pending[i], matches[i], ev, t);
      continue;
    }
    impl_->apply_match(*rs, pending[i], {matches[i].captures, ev.message, ev.host}, t, out);
  }
}

std::vector<hit_batch> alert_engine::take_hits() {
  std::vector<hit_batch> out;
  std::lock_guard lock(impl_->mutex);
  out.reserve(impl_->hits.size());
  for (auto& [key, batch] : impl_->hits) out.push_back(std::move(batch));
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
  for (const auto& [second, n] : hits.counts) {
    // At its own second, not at the engine's clock: a new assignment replays rebuild_window of
    // hits after tick() has moved the clock to now. Never before the group's latest match, so
    // the group's match times stay in order.
    time_point t = time_point(std::chrono::seconds(second));
    impl_->advance(t);
    if (const auto g = rs.index.find(key); g != rs.index.end()) {
      t = std::max(t, g->second->last_seen);
    }
    // A threshold keeps only its last `count` match times, and absent only needs one.
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
  for (auto& rs : impl_->states) {
    if (t >= rs->next_due) impl_->tick_rule(*rs, t, out);
  }
}

void alert_engine::forget_state() {
  std::lock_guard lock(impl_->mutex);
  for (auto& rs : impl_->states) {
    rs->index.clear();  // views into the groups: cleared first
    rs->groups.clear();
    rs->next_due = time_point::max();
    rs->live_groups->set(0);
  }
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
