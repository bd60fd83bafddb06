#include "sinks/alert_router.hpp"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "sinks/inhibitor.hpp"
#include "sinks/route_tree.hpp"

#include "sinks/sqlite_db.hpp"

namespace tocsin::sinks {
namespace {

using sys_clock = std::chrono::system_clock;
using steady_clock = std::chrono::steady_clock;
using fingerprint_set = std::set<std::string>;

// The safety net for resolved alerts a group never gets to send (a receiver stuck in retries, a
// dead-lettered notification): they are forgotten this long after they resolved.
constexpr auto resolved_retention = std::chrono::hours(1);
// Alertmanager's notification log retention: an entry not refreshed for this long is dropped.
constexpr auto nflog_retention = std::chrono::hours(24 * 5);
constexpr auto nflog_gc_interval = std::chrono::hours(1);
constexpr const char* schema = R"(
  CREATE TABLE IF NOT EXISTS alerts (
    fingerprint   TEXT    PRIMARY KEY,
    json          TEXT    NOT NULL,
    updated_at_ms INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS nflog (
    receiver   TEXT    NOT NULL,
    group_key  TEXT    NOT NULL,
    firing     TEXT    NOT NULL,
    resolved   TEXT    NOT NULL,
    sent_at_ms INTEGER NOT NULL,
    PRIMARY KEY (receiver, group_key)
  ))";

constexpr const char* upsert_alert_sql =
    "INSERT OR REPLACE INTO alerts (fingerprint, json, updated_at_ms) VALUES (?1, ?2, ?3)";
constexpr const char* delete_alert_sql = "DELETE FROM alerts WHERE fingerprint = ?1";
constexpr const char* upsert_nflog_sql =
    "INSERT OR REPLACE INTO nflog (receiver, group_key, firing, resolved, sent_at_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr const char* delete_old_nflog_sql = "DELETE FROM nflog WHERE sent_at_ms < ?1";

std::int64_t to_ms(sys_clock::time_point tp) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count();
}

sys_clock::time_point from_ms(std::int64_t ms) {
  return sys_clock::time_point(
      std::chrono::duration_cast<sys_clock::duration>(std::chrono::milliseconds(ms)));
}

std::string join(const fingerprint_set& set) {
  std::string out;
  for (const auto& fp : set) {
    if (!out.empty()) out += ',';
    out += fp;
  }
  return out;
}

fingerprint_set split(std::string_view text) {
  fingerprint_set out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    if (comma != 0) out.emplace(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

bool is_subset(const fingerprint_set& subset, const fingerprint_set& set) {
  return std::includes(set.begin(), set.end(), subset.begin(), subset.end());
}

// Alertmanager's rule: an alert is resolved once its endsAt has passed, whatever its status says
// (a source that stops re-sending lets its alerts expire).
bool firing_at(const rules::alert& a, sys_clock::time_point now) {
  return a.firing && a.ends_at > now;
}

// The router's state in a transaction-less view: every write is its own (autocommit) transaction
// unless wrapped in begin()/commit().
class router_db {
 public:
  explicit router_db(const std::filesystem::path& file) {
    db_ = open_state_db(file, schema, "router state");
    if (!upsert_alert.prepare(db_, upsert_alert_sql) ||
        !delete_alert.prepare(db_, delete_alert_sql) ||
        !upsert_nflog.prepare(db_, upsert_nflog_sql) ||
        !delete_old_nflog.prepare(db_, delete_old_nflog_sql)) {
      const std::string reason = error();
      sqlite3_close_v2(db_);  // closes once the prepared members are finalized
      throw std::runtime_error("router state " + file.string() + ": " + reason);
    }
  }
  // close_v2: the connection closes once the member statements are finalized, after this body.
  ~router_db() { sqlite3_close_v2(db_); }
  router_db(const router_db&) = delete;
  router_db& operator=(const router_db&) = delete;

  bool exec(const char* sql) {
    return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
  }
  [[nodiscard]] std::string error() const { return sqlite3_errmsg(db_); }
  [[nodiscard]] sqlite3* get() const { return db_; }

  sqlite_statement upsert_alert, delete_alert, upsert_nflog, delete_old_nflog;

 private:
  sqlite3* db_ = nullptr;
};

struct stored_alert {
  rules::alert alert;
  sys_clock::time_point updated_at;
  bool was_firing = false;  // the state the groups were last told about
  steady_clock::time_point resolved_since{};
  std::set<std::string> groups;  // ids of the aggregation groups it is a member of
  // Enqueued notifications that carry it resolved and are not delivered yet: it stays in
  // router.db until then, so a restart sends the resolved notification again.
  int undelivered = 0;
  std::uint64_t received = 0;  // copies received since this router started (the UI's "fired")
};

// Alertmanager's aggrGroup: the alerts one route node sends together.
struct aggregation_group {
  const route_node* node = nullptr;
  std::string key;  // route_tree::group_key()
  rules::label_set labels;
  std::set<std::string> members;  // fingerprints; resolved ones leave at the next flush
  steady_clock::time_point next_flush;
  steady_clock::time_point due_since{};  // earliest change not flushed yet; {} when none
  bool all_resolved = false;             // flush on the next tick (Alertmanager #1510)
};

// What a receiver was last sent for a group.
struct nflog_entry {
  fingerprint_set firing, resolved;
  sys_clock::time_point sent_at;
};

using nflog_key = std::pair<std::string, std::string>;  // receiver, group key

struct receiver_state {
  bool send_resolved = false;
  std::unique_ptr<receiver_worker> worker;  // null: the receiver discards
  counter* discarded = nullptr;
};

// A notification decided under the lock, enqueued after it (the worker's callback takes it).
struct outgoing {
  receiver_worker* worker = nullptr;
  notification n;
  fingerprint_set resolved;
};

}  // namespace

// The pimpl's state is public to alert_router; a trailing _ marks what the locks and the tick
// thread own, which is worth more here than the naming check.
// NOLINTBEGIN(readability-identifier-naming)
struct alert_router::impl {
  impl(const config::config& cfg, const notifier_registry& registry, metrics_registry& metrics,
       router_options opts, clock& time_source);
  ~impl();

  void receive(const rules::alert& incoming);
  void reconfigure(const config::config& cfg, const notifier_registry& registry);
  void tick();
  void on_delivered(const notification& n, std::uint64_t generation);
  void stop();

  // --- everything below runs under mutex_ ---
  bool merge(rules::alert& existing, const rules::alert& incoming, sys_clock::time_point now);
  void persist(const stored_alert& s);
  void refuse(const rules::alert& a, steady_clock::time_point steady_now);
  void track_state(stored_alert& s, bool is_new, sys_clock::time_point now,
                   steady_clock::time_point steady_now);
  void join_groups(stored_alert& s, steady_clock::time_point steady_now);
  void mark_changed(aggregation_group& g, steady_clock::time_point steady_now,
                    sys_clock::time_point now);
  void flush(aggregation_group& g, const std::string& group_id, sys_clock::time_point now,
             steady_clock::time_point steady_now, std::vector<outgoing>& out);
  bool needs_update(const nflog_key& key, const fingerprint_set& firing,
                    const fingerprint_set& resolved, bool send_resolved,
                    std::chrono::milliseconds repeat, sys_clock::time_point now) const;
  void drop_resolved(aggregation_group& g, const std::string& group_id, sys_clock::time_point now);
  void record_nflog(const nflog_key& key, nflog_entry entry);
  void store_nflog(const nflog_key& key, const nflog_entry& entry);
  void forget_resolved(sys_clock::time_point now, steady_clock::time_point steady_now);
  void update_gauges(sys_clock::time_point now);
  void escalate(std::vector<outgoing>& out, steady_clock::time_point steady_now);
  [[nodiscard]] notification page_notification(const page_entry& entry,
                                               steady_clock::time_point steady_now) const;
  // The group's alerts that are not silenced or inhibited, firing or resolved by `firing`.
  [[nodiscard]] std::vector<rules::alert> unmuted_alerts(const aggregation_group& g,
                                                         sys_clock::time_point now, bool firing);
  void configure_oncall(const config::config& cfg);
  void end_orphaned_escalations(steady_clock::time_point steady_now);
  [[nodiscard]] bool muted(const stored_alert& s, sys_clock::time_point now);
  [[nodiscard]] std::vector<const rules::alert*> firing_alerts(sys_clock::time_point now) const;
  // What the API shows of `s`. Under mutex_.
  [[nodiscard]] alert_view view_of(const stored_alert& s,
                                   const std::vector<const rules::alert*>& firing,
                                   sys_clock::time_point now) const;
  [[nodiscard]] std::vector<const route_node*> destinations(const rules::label_set& labels) const;
  void load();
  std::map<std::string, receiver_state> make_receivers(const config::config& cfg,
                                                       const notifier_registry& registry,
                                                       std::uint64_t generation);

  router_options options;
  metrics_registry& metrics;
  clock& time;  // every now() of the router; the tick thread only paces calls to tick()
  std::unique_ptr<router_db> db;
  std::optional<route_tree> tree;  // none: no route, alerts reach no receiver
  inhibitor inhibit;
  std::unique_ptr<silence_store> silences;
  std::unique_ptr<pager> pages;
  std::shared_ptr<const oncall::roster> roster_;  // swapped whole by a reload
  // Escalations this router sends whose group is gone, and since when (escalate()).
  std::map<escalation_key, steady_clock::time_point> orphaned_since_;
  steady_clock::time_point next_orphan_check_{};

  mutable std::mutex mutex_;
  std::unordered_map<std::string, stored_alert> alerts_;
  std::map<std::string, aggregation_group> groups_;  // by node id + '\n' + group key
  std::map<nflog_key, nflog_entry> nflog_;           // what was delivered
  // What was enqueued and not delivered yet, so a receiver in retries is not sent the same
  // notification again every group_interval. Trusted for the worker's max_retry_time.
  struct in_flight_entry {
    nflog_entry sent;
    int outstanding = 0;
  };
  std::map<nflog_key, in_flight_entry> in_flight_;
  std::map<std::string, receiver_state> receivers_;
  // Which receivers_ the bookkeeping (in_flight_, undelivered) belongs to: a reload starts a new
  // generation, and deliveries finished by the old workers only go into the notification log.
  std::uint64_t generation_ = 0;
  // Workers a reload replaced, finishing their attempt in progress; reaped by tick().
  std::vector<std::unique_ptr<receiver_worker>> retired_;
  steady_clock::time_point last_nflog_gc_;
  // Per tick: which alerts are silenced or inhibited.
  std::unordered_map<std::string, bool> muted_cache_;
  std::vector<const rules::alert*> firing_cache_;

  counter& db_errors;
  counter& receive_errors;
  // router.max_alerts: new alerts beyond it are refused (updates of held ones are not).
  std::size_t max_alerts_ = 100'000;
  counter& refused_max_alerts;
  steady_clock::time_point last_refusal_log_{};
  std::uint64_t unlogged_refusals_ = 0;
  gauge &alerts_firing, &alerts_resolved, &alerts_suppressed;
  gauge &silences_active, &silences_pending, &silences_expired;

  // Held by tick() from deciding to enqueueing, and by reconfigure() while it swaps receivers:
  // tick() enqueues to workers it found under mutex_ after letting go of it.
  std::mutex tick_mutex_;
  std::mutex thread_mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool flush_due_ = false;  // receive() made a group due: tick now
  // steady_clock ticks (real time, not the injected clock) at the end of the last tick().
  std::atomic<steady_clock::rep> last_tick_{steady_clock::now().time_since_epoch().count()};
  bool stopped_ = false;
  std::thread thread_;
};
// NOLINTEND(readability-identifier-naming)

alert_router::impl::impl(const config::config& cfg, const notifier_registry& registry,
                         metrics_registry& m, router_options opts, clock& time_source)
    : options(std::move(opts)),
      metrics(m),
      time(time_source),
      inhibit(cfg.inhibit_rules),
      db_errors(m.get_counter("tocsin_router_db_errors_total",
                              "Failed writes of the router's state to router.db.")),
      receive_errors(m.get_counter("tocsin_router_receive_errors_total",
                                   "Alerts the router could not process.")),
      max_alerts_(std::max<std::size_t>(cfg.router.max_alerts, 1)),
      refused_max_alerts(m.get_counter("tocsin_router_alerts_refused_total",
                                       "New alerts the router refused, by reason.",
                                       {{"reason", "max_alerts"}})),
      alerts_firing(
          m.get_gauge("tocsin_alerts", "Alerts in the router by state.", {{"state", "firing"}})),
      alerts_resolved(
          m.get_gauge("tocsin_alerts", "Alerts in the router by state.", {{"state", "resolved"}})),
      alerts_suppressed(m.get_gauge("tocsin_alerts", "Alerts in the router by state.",
                                    {{"state", "suppressed"}})),
      silences_active(m.get_gauge("tocsin_silences", "Silences by state.", {{"state", "active"}})),
      silences_pending(
          m.get_gauge("tocsin_silences", "Silences by state.", {{"state", "pending"}})),
      silences_expired(
          m.get_gauge("tocsin_silences", "Silences by state.", {{"state", "expired"}})) {
  if (cfg.route) tree.emplace(*cfg.route, cfg.receivers, cfg.time_intervals);

  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    throw std::runtime_error("router data_dir " + options.data_dir.string() + ": " + ec.message());
  }
  const auto db_file = options.data_dir / "router.db";
  db = std::make_unique<router_db>(db_file);
  silences = std::make_unique<silence_store>(db_file, time);
  pages = std::make_unique<pager>(db_file, metrics, time);
  configure_oncall(cfg);
  load();

  receivers_ = make_receivers(cfg, registry, generation_);
}

std::map<std::string, receiver_state> alert_router::impl::make_receivers(
    const config::config& cfg, const notifier_registry& registry, std::uint64_t generation) {
  worker_options worker = options.worker;
  worker.dead_letter_file = options.data_dir / "dead-letter.jsonl";
  std::map<std::string, receiver_state> out;
  for (const std::span<const config::receiver_config> r :
       config::receivers_by_name(cfg.receivers)) {
    const std::string& name = r.front().name;
    receiver_state& state = out[name];
    state.discarded =
        &metrics.get_counter("tocsin_notifications_total", "Notifications by receiver and result.",
                             {{"receiver", name}, {"result", "discarded"}});
    std::unique_ptr<notifier> n = registry.create(r);
    if (!n) continue;
    state.send_resolved = n->send_resolved();
    state.worker = std::make_unique<receiver_worker>(
        name, std::move(n), worker, metrics,
        [this, generation](const notification& sent) { on_delivered(sent, generation); }, time,
        [this](const notification& n, bool given_up) {
          if (n.page) pages->failed(n.page->entry_id, given_up);
        });
  }
  return out;
}

void alert_router::impl::reconfigure(const config::config& cfg, const notifier_registry& registry) {
  // Built before anything changes: a bad config throws here and the old one keeps working.
  std::optional<route_tree> new_tree;
  if (cfg.route) new_tree.emplace(*cfg.route, cfg.receivers, cfg.time_intervals);
  inhibitor new_inhibit(cfg.inhibit_rules);
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(mutex_);
    generation = generation_ + 1;
  }
  std::map<std::string, receiver_state> new_receivers = make_receivers(cfg, registry, generation);
  configure_oncall(cfg);  // reads the ics files again

  std::lock_guard ticking(tick_mutex_);
  std::lock_guard lock(mutex_);
  const auto now = time.now();
  const auto steady_now = time.steady_now();
  // A lower cap refuses new alerts until enough held ones have resolved and been sent.
  max_alerts_ = std::max<std::size_t>(cfg.router.max_alerts, 1);
  tree = std::move(new_tree);
  inhibit = std::move(new_inhibit);
  // The old workers finish the attempt in progress (which goes into the notification log) and
  // drop their queues without blocking the caller; what they held is sent again by its group,
  // which the notification log compares against what receivers already have.
  for (auto& [name, state] : receivers_) {
    if (!state.worker) continue;
    state.worker->request_stop();
    retired_.push_back(std::move(state.worker));
  }
  receivers_ = std::move(new_receivers);
  generation_ = generation;
  in_flight_.clear();
  pages->requeue_in_flight();  // the old workers dropped their queues
  groups_.clear();
  for (auto& [fp, s] : alerts_) {
    s.groups.clear();
    s.undelivered = 0;
    join_groups(s, steady_now);
  }
  for (auto& [id, g] : groups_) mark_changed(g, steady_now, now);
}

alert_router::impl::~impl() { stop(); }

// Reloads the alerts (they re-form their groups, which wait group_wait again) and the
// notification log (so those groups are not sent again what was already sent).
void alert_router::impl::load() {
  const auto now = time.now();
  const auto steady_now = time.steady_now();
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db->get(),
                         "SELECT receiver, group_key, firing, resolved, sent_at_ms FROM nflog", -1,
                         &stmt, nullptr) == SQLITE_OK) {
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      const auto text = [&](int column) {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
        return std::string(p != nullptr ? p : "");
      };
      nflog_[{text(0), text(1)}] = {split(text(2)), split(text(3)),
                                    from_ms(sqlite3_column_int64(stmt, 4))};
    }
  }
  sqlite3_finalize(stmt);

  std::vector<std::string> unreadable;
  stmt = nullptr;
  if (sqlite3_prepare_v2(db->get(), "SELECT fingerprint, json, updated_at_ms FROM alerts", -1,
                         &stmt, nullptr) == SQLITE_OK) {
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      const auto* fp = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
      const auto* json = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1));
      std::string problem;
      auto a = rules::parse_alert_json(json != nullptr ? json : "", &problem);
      if (!a) {
        spdlog::warn("router: dropping unreadable alert {} from router.db: {}",
                     fp != nullptr ? fp : "", problem);
        unreadable.emplace_back(fp != nullptr ? fp : "");
        continue;
      }
      stored_alert& s = alerts_[a->fingerprint];
      s.alert = std::move(*a);
      s.updated_at = from_ms(sqlite3_column_int64(stmt, 2));
      track_state(s, /*is_new=*/true, now, steady_now);
    }
  }
  sqlite3_finalize(stmt);
  for (const auto& fp : unreadable) {
    db->delete_alert.bind(1, fp);
    db->delete_alert.run();
  }
  if (alerts_.size() > max_alerts_) {
    spdlog::warn(
        "router: router.db holds {} alerts, over router.max_alerts ({}): new alerts are "
        "refused until enough of them resolve",
        alerts_.size(), max_alerts_);
  }
  last_nflog_gc_ = steady_now - nflog_gc_interval;  // the first tick cleans up
  if (!alerts_.empty() || !nflog_.empty()) {
    spdlog::info("router: reloaded {} alerts and {} notification log entries", alerts_.size(),
                 nflog_.size());
  }
}

void alert_router::impl::stop() {
  {
    std::lock_guard lock(thread_mutex_);
    stopping_ = true;
    stopped_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Destroyed outside mutex_: a worker finishing its attempt calls on_delivered(), which takes it.
  std::vector<std::unique_ptr<receiver_worker>> workers;
  {
    std::lock_guard lock(mutex_);
    for (auto& [name, state] : receivers_) {
      if (state.worker) workers.push_back(std::move(state.worker));
    }
    for (auto& w : retired_) workers.push_back(std::move(w));
    retired_.clear();
  }
  workers.clear();
}

// Alertmanager's merge, simplified: the newer message wins, the earliest startsAt of an episode
// is kept, a resolve ends the episode, and a firing alert with a later startsAt starts a new one.
// False when `incoming` is stale and changes nothing.
bool alert_router::impl::merge(rules::alert& existing, const rules::alert& incoming,
                               sys_clock::time_point now) {
  const bool was_firing = firing_at(existing, now);
  // Messages about an earlier episode, redelivered late.
  if (incoming.starts_at < existing.starts_at && !was_firing) return false;
  if (!incoming.firing && incoming.ends_at < existing.starts_at) return false;
  const bool new_episode = !was_firing && incoming.starts_at > existing.starts_at;
  if (!new_episode && !was_firing && !existing.firing) {
    // The episode was resolved explicitly, which is final: a firing re-send of it is stale, and
    // so is a resolve that tells nothing new.
    if (incoming.firing) return false;
    if (incoming.ends_at <= existing.ends_at && incoming.annotations == existing.annotations) {
      return false;
    }
  }
  rules::alert merged = incoming;
  if (!new_episode) merged.starts_at = std::min(existing.starts_at, incoming.starts_at);
  existing = std::move(merged);
  return true;
}

void alert_router::impl::persist(const stored_alert& s) {
  auto& stmt = db->upsert_alert;
  stmt.bind(1, s.alert.fingerprint);
  stmt.bind(2, rules::to_json(s.alert));
  stmt.bind(3, to_ms(s.updated_at));
  if (!stmt.run()) {
    db_errors.inc();
    spdlog::error("router: cannot store alert {} in router.db: {}", s.alert.fingerprint,
                  db->error());
  }
}

std::vector<const route_node*> alert_router::impl::destinations(
    const rules::label_set& labels) const {
  if (!tree) return {};
  return tree->match(labels);
}

void alert_router::impl::join_groups(stored_alert& s, steady_clock::time_point steady_now) {
  for (const route_node* node : destinations(s.alert.labels)) {
    rules::label_set labels = route_tree::group_labels(*node, s.alert.labels);
    std::string key = route_tree::group_key(*node, labels);
    std::string id = node->id + '\n' + key;
    auto [it, created] = groups_.try_emplace(id);
    aggregation_group& g = it->second;
    if (created) {
      g.node = node;
      g.key = std::move(key);
      g.labels = std::move(labels);
      g.next_flush = steady_now + node->group_wait;
    }
    g.members.insert(s.alert.fingerprint);
    s.groups.insert(std::move(id));
  }
}

// A member was added or changed state: the group has news, and if all its alerts are resolved
// now it is flushed on the next tick rather than a group_interval later.
void alert_router::impl::mark_changed(aggregation_group& g, steady_clock::time_point steady_now,
                                      sys_clock::time_point now) {
  if (g.due_since == steady_clock::time_point{}) g.due_since = steady_now;
  g.all_resolved = std::none_of(g.members.begin(), g.members.end(), [&](const std::string& fp) {
    const auto it = alerts_.find(fp);
    return it != alerts_.end() && firing_at(it->second.alert, now);
  });
}

// Tells the groups about a new alert or a change of its firing state.
void alert_router::impl::track_state(stored_alert& s, bool is_new, sys_clock::time_point now,
                                     steady_clock::time_point steady_now) {
  const bool firing = firing_at(s.alert, now);
  if (!is_new && firing == s.was_firing) return;
  s.was_firing = firing;
  if (!firing) s.resolved_since = steady_now;
  // A new alert, or a new firing episode of one that may have left its groups after resolving.
  if (is_new || firing) join_groups(s, steady_now);
  for (const std::string& id : s.groups) {
    if (auto g = groups_.find(id); g != groups_.end()) mark_changed(g->second, steady_now, now);
  }
}

void alert_router::impl::receive(const rules::alert& incoming) {
  try {
    const auto now = time.now();
    const auto steady_now = time.steady_now();
    rules::alert a = incoming;
    if (a.fingerprint.empty()) a.fingerprint = rules::fingerprint(a.labels);
    // Alerts from the API may come without endsAt: they resolve unless re-sent in time.
    if (a.ends_at == sys_clock::time_point{}) {
      a.ends_at = a.firing ? now + options.resolve_timeout : now;
    }

    bool due = false;
    {
      std::lock_guard lock(mutex_);
      if (alerts_.size() >= max_alerts_ && !alerts_.contains(a.fingerprint)) {
        // A resolve for an alert we do not hold has nothing to resolve: not a refusal.
        if (a.firing) refuse(a, steady_now);
        return;
      }
      auto [it, is_new] = alerts_.try_emplace(a.fingerprint);
      stored_alert& s = it->second;
      ++s.received;
      if (is_new) {
        s.alert = std::move(a);
      } else if (!merge(s.alert, a, now)) {
        return;
      }
      s.updated_at = now;
      persist(s);
      track_state(s, is_new, now, steady_now);
      for (const std::string& id : s.groups) {
        const aggregation_group& g = groups_.at(id);
        due = due || g.all_resolved || steady_now >= g.next_flush;
      }
    }
    // A group that is due now (group_wait 0s, an all-resolved group) is flushed at once rather
    // than on the next tick: the tick would add up to `options.tick` of latency.
    if (due) {
      {
        std::lock_guard lock(thread_mutex_);
        flush_due_ = true;
      }
      wake_.notify_all();
    }
  } catch (const std::exception& e) {
    receive_errors.inc();
    spdlog::error("router: cannot take alert {}: {}", incoming.fingerprint, e.what());
  }
}

// Counted always; logged at most once a minute with how many went unlogged.
void alert_router::impl::refuse(const rules::alert& a, steady_clock::time_point steady_now) {
  refused_max_alerts.inc();
  if (last_refusal_log_ != steady_clock::time_point{} &&
      steady_now - last_refusal_log_ < std::chrono::minutes(1)) {
    ++unlogged_refusals_;
    return;
  }
  const auto name = a.labels.find("alertname");
  spdlog::warn(
      "router: refusing new alert {} ({}): router.max_alerts ({}) alerts are held{}", a.fingerprint,
      name != a.labels.end() ? name->second : std::string("no alertname"), max_alerts_,
      unlogged_refusals_ == 0
          ? std::string()
          : "; " + std::to_string(unlogged_refusals_) + " more refused in the last minute");
  last_refusal_log_ = steady_now;
  unlogged_refusals_ = 0;
}

std::vector<const rules::alert*> alert_router::impl::firing_alerts(
    sys_clock::time_point now) const {
  std::vector<const rules::alert*> out;
  for (const auto& [fp, s] : alerts_) {
    if (firing_at(s.alert, now)) out.push_back(&s.alert);
  }
  return out;
}

bool alert_router::impl::muted(const stored_alert& s, sys_clock::time_point now) {
  const auto [it, fresh] = muted_cache_.try_emplace(s.alert.fingerprint, false);
  if (fresh) {
    it->second = !silences->silenced_by(s.alert.labels, now).empty() ||
                 inhibit.inhibited(s.alert, firing_cache_);
  }
  return it->second;
}

// Alertmanager's DedupStage.needsUpdate, against what was delivered (or is on its way).
bool alert_router::impl::needs_update(const nflog_key& key, const fingerprint_set& firing,
                                      const fingerprint_set& resolved, bool send_resolved,
                                      std::chrono::milliseconds repeat,
                                      sys_clock::time_point now) const {
  const nflog_entry* entry = nullptr;
  if (auto f = in_flight_.find(key);
      f != in_flight_.end() && now - f->second.sent.sent_at < options.worker.max_retry_time) {
    entry = &f->second.sent;
  } else if (auto e = nflog_.find(key); e != nflog_.end()) {
    entry = &e->second;
  }
  // Never notified: only firing alerts are news (the receiver does not know the resolved ones).
  if (entry == nullptr) return !firing.empty();
  if (!is_subset(firing, entry->firing)) return true;  // something new is firing
  // Everything resolved: notify (or, without send_resolved, at least record it) so the next
  // firing episode of these alerts is news again.
  if (firing.empty()) return !entry->firing.empty();
  if (send_resolved && !is_subset(resolved, entry->resolved)) return true;
  return now - entry->sent_at >= repeat;
}

void alert_router::impl::record_nflog(const nflog_key& key, nflog_entry entry) {
  store_nflog(key, entry);
  if (options.cluster != nullptr) {
    options.cluster->sent({key.first, key.second, entry.firing, entry.resolved, entry.sent_at});
  }
  nflog_[key] = std::move(entry);
}

void alert_router::impl::store_nflog(const nflog_key& key, const nflog_entry& entry) {
  auto& stmt = db->upsert_nflog;
  stmt.bind(1, key.first);
  stmt.bind(2, key.second);
  stmt.bind(3, join(entry.firing));
  stmt.bind(4, join(entry.resolved));
  stmt.bind(5, to_ms(entry.sent_at));
  if (!stmt.run()) {
    db_errors.inc();
    spdlog::error("router: cannot record notification of {} to {} in router.db: {}", key.second,
                  key.first, db->error());
  }
}

void alert_router::impl::flush(aggregation_group& g, const std::string& group_id,
                               sys_clock::time_point now, steady_clock::time_point steady_now,
                               std::vector<outgoing>& out) {
  const std::string& receiver = g.node->receiver;
  receiver_state* state = nullptr;
  if (auto r = receivers_.find(receiver); r != receivers_.end()) state = &r->second;
  const bool send_resolved = state != nullptr && state->send_resolved;

  std::vector<rules::alert> firing, resolved;
  fingerprint_set firing_set, resolved_set, leaving;
  for (const std::string& fp : g.members) {
    const auto it = alerts_.find(fp);
    if (it == alerts_.end()) {
      leaving.insert(fp);
      continue;
    }
    const stored_alert& s = it->second;
    const bool is_firing = firing_at(s.alert, now);
    if (!is_firing) leaving.insert(fp);  // resolved alerts are told once, in this flush
    if (muted(s, now)) continue;
    rules::alert copy = s.alert;
    copy.firing = is_firing;
    (is_firing ? firing_set : resolved_set).insert(fp);
    (is_firing ? firing : resolved).push_back(std::move(copy));
  }

  // Alertmanager's TimeMuteStage / TimeActiveStage: a route muted by a time interval, or
  // outside all its active ones, sends nothing at this flush and the notification log keeps what
  // it had, so the first flush after the interval sends. The flush still counts: resolved
  // alerts leave the group and the next flush is a group_interval away.
  const std::optional<route_mute> time_muted =
      tree ? tree->muted_at(*g.node, now) : std::optional<route_mute>{};
  if (time_muted && (!firing.empty() || !resolved.empty())) {
    metrics
        .get_counter("tocsin_notifications_muted_total",
                     "Group flushes that sent nothing because their route was in one of its "
                     "mute_time_intervals (reason mute_time_interval) or outside its "
                     "active_time_intervals (active_time_interval).",
                     {{"receiver", receiver}, {"reason", time_muted->reason}})
        .inc();
    spdlog::debug("router: {} not notified of {}: {}{}", receiver, g.key, time_muted->reason,
                  time_muted->interval.empty() ? "" : " " + time_muted->interval);
  }

  if (!g.node->escalation.empty()) {
    // The group's first notification starts its escalation; its end (nothing firing, silenced
    // or not) ends it and tells everyone it paged, whatever the receiver's send_resolved.
    // A muted route's group is not notified, so its escalation does not start; its end is
    // still told to whoever was paged.
    if (!firing_set.empty() && !time_muted) {
      pages->group_notified({receiver, g.key}, g.labels, g.node->escalation);
    } else if (leaving.size() == g.members.size() && pages->escalating({receiver, g.key})) {
      pages->group_resolved({receiver, g.key}, g.labels, resolved);
    }
  }

  const nflog_key key{receiver, g.key};
  if (!time_muted &&
      needs_update(key, firing_set, resolved_set, send_resolved, g.node->repeat_interval, now)) {
    notification n;
    n.receiver = receiver;
    n.group_key = g.key;
    n.group_labels = g.labels;
    n.external_url = options.external_url;
    n.due_since = g.due_since != steady_clock::time_point{} ? g.due_since : steady_now;
    const auto by_start = [](const rules::alert& a, const rules::alert& b) {
      return std::tie(a.starts_at, a.fingerprint) < std::tie(b.starts_at, b.fingerprint);
    };
    std::sort(firing.begin(), firing.end(), by_start);
    std::sort(resolved.begin(), resolved.end(), by_start);
    n.alerts = std::move(firing);
    if (send_resolved) {
      n.alerts.insert(n.alerts.end(), resolved.begin(), resolved.end());
    } else {
      resolved_set.clear();
    }

    // From what the notification log holds, so a re-send after a crash carries the same id.
    // Without an entry (the group's first notification, or its entry expired) the alerts'
    // earliest start tells this incident from an earlier one of the same alerts.
    const auto previous = nflog_.find(key);
    std::int64_t since = 0;
    if (previous != nflog_.end()) {
      since = to_ms(previous->second.sent_at);
    } else if (!n.alerts.empty()) {
      since = to_ms(n.alerts.front().starts_at);
    }
    n.id = notification_id(receiver, g.key, since, firing_set, resolved_set);

    if (n.alerts.empty()) {
      // Only resolved alerts and no send_resolved: nothing to send, but remember it.
      record_nflog(key, {firing_set, resolved_set, now});
    } else if (state == nullptr || !state->worker) {
      if (state != nullptr) state->discarded->inc();
      record_nflog(key, {firing_set, resolved_set, now});
    } else {
      in_flight_entry& f = in_flight_[key];
      f.sent = {firing_set, resolved_set, now};
      ++f.outstanding;
      for (const std::string& fp : resolved_set) ++alerts_[fp].undelivered;
      out.push_back({state->worker.get(), std::move(n), resolved_set});
    }
  }

  for (const std::string& fp : leaving) {
    g.members.erase(fp);
    if (auto it = alerts_.find(fp); it != alerts_.end()) it->second.groups.erase(group_id);
  }
  g.due_since = {};
  g.all_resolved = false;
  g.next_flush = steady_now + g.node->group_interval;
}

void alert_router::impl::drop_resolved(aggregation_group& g, const std::string& group_id,
                                       sys_clock::time_point now) {
  for (auto fp = g.members.begin(); fp != g.members.end();) {
    const auto it = alerts_.find(*fp);
    if (it != alerts_.end() && firing_at(it->second.alert, now)) {
      ++fp;
      continue;
    }
    if (it != alerts_.end()) it->second.groups.erase(group_id);
    fp = g.members.erase(fp);
  }
}

// Drops resolved alerts every group has flushed (and whose resolved notifications were
// delivered), or that resolved over resolved_retention ago.
void alert_router::impl::forget_resolved(sys_clock::time_point now,
                                         steady_clock::time_point steady_now) {
  bool in_transaction = false;
  for (auto it = alerts_.begin(); it != alerts_.end();) {
    stored_alert& s = it->second;
    const bool done = s.groups.empty() && s.undelivered <= 0;
    if (firing_at(s.alert, now) || (!done && steady_now - s.resolved_since < resolved_retention)) {
      ++it;
      continue;
    }
    for (const std::string& id : s.groups) {
      auto g = groups_.find(id);
      if (g == groups_.end()) continue;
      g->second.members.erase(it->first);
      if (g->second.members.empty()) groups_.erase(g);
    }
    if (!in_transaction) in_transaction = db->exec("BEGIN");
    db->delete_alert.bind(1, it->first);
    if (!db->delete_alert.run()) db_errors.inc();
    it = alerts_.erase(it);
  }
  if (in_transaction && !db->exec("COMMIT")) {
    db_errors.inc();
    spdlog::error("router: cannot delete resolved alerts from router.db: {}", db->error());
    db->exec("ROLLBACK");
  }

  if (steady_now - last_nflog_gc_ >= nflog_gc_interval) {
    last_nflog_gc_ = steady_now;
    const auto cutoff = now - nflog_retention;
    std::erase_if(nflog_, [&](const auto& entry) {
      if (entry.second.sent_at >= cutoff) return false;
      if (options.cluster != nullptr && options.cluster->sends(entry.first.second)) {
        options.cluster->forgot(entry.first.second);
      }
      return true;
    });
    db->delete_old_nflog.bind(1, to_ms(cutoff));
    if (!db->delete_old_nflog.run()) db_errors.inc();
  }
}

void alert_router::impl::configure_oncall(const config::config& cfg) {
  auto next = std::make_shared<const oncall::roster>(cfg.oncall, cfg.file);
  pages->configure(cfg.oncall.escalation_policies,
                   [next](std::string_view schedule, std::chrono::sys_seconds at) {
                     auto shift = next->on_call(schedule, at);
                     return shift ? std::optional<std::string>(shift->user) : std::nullopt;
                   });
  std::lock_guard lock(mutex_);
  roster_ = std::move(next);
}

std::vector<rules::alert> alert_router::impl::unmuted_alerts(const aggregation_group& g,
                                                             sys_clock::time_point now,
                                                             bool firing) {
  std::vector<rules::alert> out;
  for (const std::string& fp : g.members) {
    const auto it = alerts_.find(fp);
    if (it == alerts_.end() || firing_at(it->second.alert, now) != firing ||
        muted(it->second, now)) {
      continue;
    }
    out.push_back(it->second.alert);
    out.back().firing = firing;
  }
  return out;
}

// Takes the steps that are due (for groups this router sends with something unmuted firing:
// a silenced group holds its escalation) and hands every unsent page to its receiver.
void alert_router::impl::escalate(std::vector<outgoing>& out, steady_clock::time_point steady_now) {
  const auto now = time.now();
  for (const escalation_key& key : pages->due()) {
    if (options.cluster != nullptr && !options.cluster->sends(key.second)) continue;
    for (const auto& [id, g] : groups_) {
      if (g.key != key.second || g.node->receiver != key.first || g.node->escalation.empty()) {
        continue;
      }
      auto firing = unmuted_alerts(g, now, /*firing=*/true);
      if (!firing.empty()) pages->take_step(key, g.labels, firing);
      break;
    }
  }
  end_orphaned_escalations(steady_now);
  for (const page_entry& entry : pages->unsent()) {
    const auto r = receivers_.find(entry.receiver);
    if (r == receivers_.end() || !r->second.worker) {
      spdlog::error("oncall: page {} of {} cannot be sent: receiver '{}' {}", entry.id,
                    entry.group_key, entry.receiver,
                    r == receivers_.end() ? "is gone" : "discards");
      pages->failed(entry.id, /*given_up=*/true);
      continue;
    }
    out.push_back({r->second.worker.get(), page_notification(entry, steady_now), {}});
  }
}

// An escalation ends with its group's resolve, in flush(). One whose group is gone without it (a
// reload changed the route's receiver, group_by or escalation; the group's alerts left while
// another router sent it) would page nobody yet hold the group's next incident: after a minute
// without its group it ends, telling the people it paged. The minute covers a start, whose
// groups form as the alerts are read back.
void alert_router::impl::end_orphaned_escalations(steady_clock::time_point steady_now) {
  if (steady_now < next_orphan_check_) return;
  next_orphan_check_ = steady_now + std::chrono::seconds(10);
  std::set<escalation_key> live;
  for (const auto& [id, g] : groups_) {
    if (!g.node->escalation.empty()) live.insert({g.node->receiver, g.key});
  }
  std::map<escalation_key, steady_clock::time_point> still_orphaned;
  for (const oncall::escalation& e : pages->escalations()) {
    const escalation_key key{e.receiver, e.group_key};
    if (live.contains(key) ||
        (options.cluster != nullptr && !options.cluster->sends(e.group_key))) {
      continue;
    }
    const auto since = orphaned_since_.find(key);
    const auto first_seen = since == orphaned_since_.end() ? steady_now : since->second;
    if (steady_now - first_seen < std::chrono::minutes(1)) {
      still_orphaned.emplace(key, first_seen);
      continue;
    }
    spdlog::warn("oncall: the group of escalation {} ({}) is gone; ending it", e.page_id,
                 e.group_key);
    pages->group_resolved(key, {}, {});
  }
  orphaned_since_ = std::move(still_orphaned);
}

notification alert_router::impl::page_notification(const page_entry& entry,
                                                   steady_clock::time_point steady_now) const {
  notification n;
  n.receiver = entry.receiver;
  n.group_key = entry.group_key;
  n.group_labels = entry.group_labels;
  n.alerts = entry.alerts;
  n.external_url = options.external_url;
  n.due_since = steady_now;
  n.id = entry.page_id + "-" + std::to_string(entry.id);  // one per page: repeats are dropped
  page_info page;
  page.entry_id = entry.id;
  page.page_id = entry.page_id;
  page.user = entry.user;
  page.step = entry.step;
  page.resolved = entry.resolve;
  if (const config::oncall_user* u = roster_ ? roster_->user(entry.user) : nullptr) {
    page.email = u->email;
    page.slack = u->slack;
    page.telegram = u->telegram;
  }
  if (options.ack_signer && !options.external_url.empty() && !entry.resolve) {
    page.ack_url = options.external_url + "/ack/" + entry.page_id +
                   "?sig=" + options.ack_signer->sign(entry.page_id, entry.incident_ms);
  }
  n.page = std::move(page);
  return n;
}

void alert_router::impl::update_gauges(sys_clock::time_point now) {
  std::int64_t firing = 0, resolved = 0, suppressed = 0;
  for (const auto& [fp, s] : alerts_) {
    if (!firing_at(s.alert, now)) {
      ++resolved;
    } else if (muted(s, now)) {
      ++suppressed;
    } else {
      ++firing;
    }
  }
  alerts_firing.set(firing);
  alerts_resolved.set(resolved);
  alerts_suppressed.set(suppressed);

  std::int64_t active = 0, pending = 0, expired = 0;
  for (const silence& s : silences->list()) {
    switch (s.state(now)) {
      case silence_state::active:
        ++active;
        break;
      case silence_state::pending:
        ++pending;
        break;
      case silence_state::expired:
        ++expired;
        break;
    }
  }
  silences_active.set(active);
  silences_pending.set(pending);
  silences_expired.set(expired);
}

void alert_router::impl::tick() {
  std::lock_guard ticking(tick_mutex_);
  const auto now = time.now();
  const auto steady_now = time.steady_now();
  std::vector<outgoing> out;
  std::vector<std::unique_ptr<receiver_worker>> finished;
  {
    std::lock_guard lock(mutex_);
    for (auto& w : retired_) {
      if (w->finished()) finished.push_back(std::move(w));
    }
    std::erase(retired_, nullptr);
    // Alerts whose endsAt passed without a re-send resolve now.
    for (auto& [fp, s] : alerts_) {
      if (s.was_firing && !firing_at(s.alert, now)) track_state(s, false, now, steady_now);
    }
    muted_cache_.clear();
    firing_cache_ = firing_alerts(now);
    for (auto it = groups_.begin(); it != groups_.end();) {
      aggregation_group& g = it->second;
      const bool due = g.all_resolved || steady_now >= g.next_flush;
      if (options.cluster == nullptr || options.cluster->sends(g.key)) {
        if (due) flush(g, it->first, now, steady_now, out);
      } else if (due) {
        // Another router sends this group. Its resolved alerts leave (that router tells them),
        // so they do not pile up here; the group stays due, so that if this router takes it
        // over it flushes at once against the notification log it was handed.
        drop_resolved(g, it->first, now);
      }
      it = g.members.empty() ? groups_.erase(it) : std::next(it);
    }
    escalate(out, steady_now);
    forget_resolved(now, steady_now);
    update_gauges(now);
    firing_cache_.clear();  // its pointers are only good while the lock is held
  }
  last_tick_ = steady_clock::now().time_since_epoch().count();
  for (outgoing& o : out) {
    const nflog_key key{o.n.receiver, o.n.group_key};
    const std::int64_t page_entry_id = o.n.page ? o.n.page->entry_id : 0;
    if (o.worker->enqueue(std::move(o.n))) continue;
    if (page_entry_id != 0) {
      pages->not_handed(page_entry_id);  // taken out again at the next tick
      continue;
    }
    // Dropped (and counted) by a full queue: it is not on its way after all.
    std::lock_guard lock(mutex_);
    if (auto f = in_flight_.find(key); f != in_flight_.end() && --f->second.outstanding <= 0) {
      in_flight_.erase(f);
    }
    for (const std::string& fp : o.resolved) {
      if (auto it = alerts_.find(fp); it != alerts_.end()) --it->second.undelivered;
    }
  }
}

// The worker's callback: only what a receiver accepted goes into the notification log.
void alert_router::impl::on_delivered(const notification& n, std::uint64_t generation) {
  if (n.page) {
    pages->delivered(n.page->entry_id);  // pages are not group notifications: no nflog
    return;
  }
  nflog_entry entry;
  entry.sent_at = time.now();
  for (const rules::alert& a : n.alerts)
    (a.firing ? entry.firing : entry.resolved).insert(a.fingerprint);
  const nflog_key key{n.receiver, n.group_key};
  std::lock_guard lock(mutex_);
  if (generation == generation_) {
    for (const std::string& fp : entry.resolved) {
      if (auto it = alerts_.find(fp); it != alerts_.end()) --it->second.undelivered;
    }
    if (auto f = in_flight_.find(key); f != in_flight_.end() && --f->second.outstanding <= 0) {
      in_flight_.erase(f);
    }
  }
  record_nflog(key, std::move(entry));
}

void alert_router::apply_nflog(const nflog_record& record) {
  // Entries are ordered by their senders' clocks (kept in sync by NTP); one far ahead would
  // outrank every later send of the group.
  if (record.sent_at > impl_->time.now() + std::chrono::minutes(5)) {
    spdlog::error("router: ignoring a notification-log record of {} sent in the future ({})",
                  record.group_key, to_ms(record.sent_at));
    return;
  }
  const nflog_key key{record.receiver, record.group_key};
  std::lock_guard lock(impl_->mutex_);
  const auto it = impl_->nflog_.find(key);
  if (it != impl_->nflog_.end() && it->second.sent_at > record.sent_at) return;
  nflog_entry entry{record.firing, record.resolved, record.sent_at};
  impl_->store_nflog(key, entry);
  impl_->nflog_[key] = std::move(entry);
}

alert_router::alert_router(const config::config& cfg, const notifier_registry& registry,
                           metrics_registry& metrics, router_options options, clock& time_source)
    : impl_(std::make_unique<impl>(cfg, registry, metrics, std::move(options), time_source)) {}

alert_router::~alert_router() { stop(); }

void alert_router::receive(const rules::alert& a) { impl_->receive(a); }

void alert_router::reconfigure(const config::config& cfg, const notifier_registry& registry) {
  impl_->reconfigure(cfg, registry);
}

void alert_router::start() {
  std::lock_guard lock(impl_->thread_mutex_);
  if (impl_->stopped_ || impl_->thread_.joinable()) return;  // stop() is final
  impl_->thread_ = std::thread([this] {
    std::unique_lock lock(impl_->thread_mutex_);
    for (;;) {
      impl_->wake_.wait_for(lock, impl_->options.tick,
                            [this] { return impl_->stopping_ || impl_->flush_due_; });
      if (impl_->stopping_) return;
      impl_->flush_due_ = false;
      lock.unlock();
      impl_->tick();
      lock.lock();
    }
  });
}

void alert_router::stop() { impl_->stop(); }

void alert_router::tick() { impl_->tick(); }

bool alert_router::drain(std::chrono::steady_clock::time_point deadline) {
  impl_->tick();  // what is due now goes out now
  std::vector<receiver_worker*> workers;
  {
    std::lock_guard lock(impl_->mutex_);
    for (auto& [name, state] : impl_->receivers_) {
      if (state.worker) workers.push_back(state.worker.get());
    }
  }
  bool idle = true;
  for (receiver_worker* w : workers) idle = w->wait_idle(deadline) && idle;
  return idle;
}

alert_view alert_router::impl::view_of(const stored_alert& s,
                                       const std::vector<const rules::alert*>& firing,
                                       sys_clock::time_point now) const {
  alert_view v;
  v.alert = s.alert;
  v.alert.firing = firing_at(s.alert, now);
  v.updated_at = s.updated_at;
  v.received = s.received;
  v.silenced_by = silences->silenced_by(s.alert.labels, now);
  if (inhibit.inhibited(s.alert, firing)) {
    // Which sources: ask about each alone (only for the few inhibited alerts).
    for (const rules::alert* source : firing) {
      if (source->fingerprint != s.alert.fingerprint && inhibit.inhibited(s.alert, {source})) {
        v.inhibited_by.push_back(source->fingerprint);
      }
    }
  }
  v.state = v.silenced_by.empty() && v.inhibited_by.empty() ? "active" : "suppressed";
  if (tree) v.receivers = tree->receivers(s.alert.labels);
  return v;
}

std::vector<alert_view> alert_router::alerts() const {
  const auto now = impl_->time.now();
  std::lock_guard lock(impl_->mutex_);
  const std::vector<const rules::alert*> firing = impl_->firing_alerts(now);
  std::vector<alert_view> out;
  out.reserve(impl_->alerts_.size());
  for (const auto& [fp, s] : impl_->alerts_) out.push_back(impl_->view_of(s, firing, now));
  return out;
}

std::vector<group_view> alert_router::groups() const {
  const auto now = impl_->time.now();
  std::lock_guard lock(impl_->mutex_);
  const std::vector<const rules::alert*> firing = impl_->firing_alerts(now);
  std::vector<group_view> out;
  out.reserve(impl_->groups_.size());
  for (const auto& [id, g] : impl_->groups_) {
    group_view view{g.key, g.node->receiver, g.labels, {}, {}};
    if (impl_->tree) view.muted_by = impl_->tree->muted_by(*g.node, now);
    view.alerts.reserve(g.members.size());
    for (const std::string& fp : g.members) {
      if (const auto it = impl_->alerts_.find(fp); it != impl_->alerts_.end()) {
        view.alerts.push_back(impl_->view_of(it->second, firing, now));
      }
    }
    out.push_back(std::move(view));
  }
  return out;
}

silence_store& alert_router::silences() { return *impl_->silences; }

pager& alert_router::oncall() { return *impl_->pages; }

std::shared_ptr<const oncall::roster> alert_router::roster() const {
  std::lock_guard lock(impl_->mutex_);
  return impl_->roster_;
}

std::chrono::steady_clock::time_point alert_router::last_tick() const {
  return steady_clock::time_point(steady_clock::duration(impl_->last_tick_.load()));
}

std::string alert_router::route_fingerprint() const {
  std::lock_guard lock(impl_->mutex_);
  return impl_->tree ? impl_->tree->fingerprint() : std::string("none");
}

clock& alert_router::time_source() const { return impl_->time; }

}  // namespace tocsin::sinks
