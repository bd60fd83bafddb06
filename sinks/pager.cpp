#include "sinks/pager.hpp"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "sinks/sqlite_db.hpp"

namespace tocsin::sinks {
namespace {

using sys_clock = std::chrono::system_clock;
constexpr auto history_retention = std::chrono::hours(24 * 30);

constexpr const char* schema = R"(
  CREATE TABLE IF NOT EXISTS oncall_escalations (
    receiver  TEXT NOT NULL,
    group_key TEXT NOT NULL,
    json      TEXT NOT NULL,
    PRIMARY KEY (receiver, group_key)
  );
  CREATE TABLE IF NOT EXISTS oncall_pages (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    group_key    TEXT    NOT NULL,
    page_id      TEXT    NOT NULL,
    policy       TEXT    NOT NULL,
    user         TEXT    NOT NULL,
    receiver     TEXT    NOT NULL,
    step         INTEGER NOT NULL,
    cycle        INTEGER NOT NULL,
    resolve      INTEGER NOT NULL,
    state        TEXT    NOT NULL,
    at_ms        INTEGER NOT NULL,
    incident_ms  INTEGER NOT NULL,
    acked_by     TEXT    NOT NULL DEFAULT '',
    acked_at_ms  INTEGER NOT NULL DEFAULT 0,
    comment      TEXT    NOT NULL DEFAULT '',
    group_labels TEXT    NOT NULL,
    alerts       TEXT    NOT NULL
  );
  CREATE INDEX IF NOT EXISTS oncall_pages_at ON oncall_pages (at_ms);
  CREATE INDEX IF NOT EXISTS oncall_pages_state ON oncall_pages (state);
)";

constexpr const char* entry_columns =
    "id, group_key, page_id, policy, user, receiver, step, cycle, resolve, state, at_ms, "
    "incident_ms, acked_by, acked_at_ms, comment, group_labels, alerts";

std::int64_t to_ms(sys_clock::time_point tp) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count();
}
sys_clock::time_point from_ms(std::int64_t ms) {
  return sys_clock::time_point(std::chrono::milliseconds(ms));
}

std::string alerts_json(const std::vector<rules::alert>& alerts) {
  std::string out = "[";
  for (const rules::alert& a : alerts) {
    if (out.size() > 1) out += ',';
    out += rules::to_json(a);
  }
  return out + "]";
}

std::vector<rules::alert> alerts_from_json(const std::string& text) {
  std::vector<rules::alert> out;
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) return out;
  for (const auto& item : j) {
    if (auto a = rules::parse_alert_json(item.dump())) out.push_back(std::move(*a));
  }
  return out;
}

rules::label_set labels_from_json(const std::string& text) {
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  rules::label_set out;
  if (!j.is_object()) return out;
  for (const auto& [name, value] : j.items()) {
    if (value.is_string()) out[name] = value.get<std::string>();
  }
  return out;
}

page_entry read_entry(sqlite_statement& s) {
  page_entry e;
  sqlite3_stmt* row = s.get();
  e.id = sqlite3_column_int64(row, 0);
  e.group_key = s.text(1);
  e.page_id = s.text(2);
  e.policy = s.text(3);
  e.user = s.text(4);
  e.receiver = s.text(5);
  e.step = sqlite3_column_int(row, 6);
  e.cycle = sqlite3_column_int(row, 7);
  e.resolve = sqlite3_column_int(row, 8) != 0;
  e.state = s.text(9);
  e.at = from_ms(sqlite3_column_int64(row, 10));
  e.incident_ms = sqlite3_column_int64(row, 11);
  e.acked_by = s.text(12);
  e.acked_at = from_ms(sqlite3_column_int64(row, 13));
  e.comment = s.text(14);
  e.group_labels = labels_from_json(s.text(15));
  e.alerts = alerts_from_json(s.text(16));
  return e;
}

}  // namespace

struct pager::db {
  explicit db(const std::filesystem::path& file)
      : handle(open_state_db(file, schema, "on-call state")) {
    const std::string select = std::string("SELECT ") + entry_columns + " FROM oncall_pages ";
    if (!upsert.prepare(handle,
                        "INSERT INTO oncall_escalations (receiver, group_key, json) "
                        "VALUES (?1, ?2, ?3) "
                        "ON CONFLICT (receiver, group_key) DO UPDATE SET json = excluded.json") ||
        !remove.prepare(handle,
                        "DELETE FROM oncall_escalations WHERE receiver = ?1 AND group_key = ?2") ||
        !insert_entry.prepare(
            handle,
            "INSERT INTO oncall_pages (group_key, page_id, policy, user, receiver, step, cycle, "
            "resolve, state, at_ms, incident_ms, group_labels, alerts) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9, ?10, ?11, ?12)") ||
        !update_state.prepare(handle, "UPDATE oncall_pages SET state = ?2 WHERE id = ?1") ||
        !mark_acked.prepare(
            handle,
            "UPDATE oncall_pages SET acked_by = ?2, acked_at_ms = ?3, "
            "comment = ?4 WHERE receiver = ?6 AND group_key = ?1 AND incident_ms = ?5 "
            "AND resolve = 0") ||
        !select_pending.prepare(handle, (select + "WHERE state = 'pending' ORDER BY id").c_str()) ||
        !select_since.prepare(handle, (select + "WHERE at_ms >= ?1 ORDER BY id").c_str()) ||
        !prune.prepare(handle,
                       "DELETE FROM oncall_pages WHERE at_ms < ?1 AND state != 'pending'")) {
      const std::string reason = sqlite3_errmsg(handle);
      sqlite3_close_v2(handle);
      throw std::runtime_error("on-call state " + file.string() + ": " + reason);
    }
  }
  ~db() { sqlite3_close_v2(handle); }
  db(const db&) = delete;
  db& operator=(const db&) = delete;

  bool exec(const char* sql) const {
    return sqlite3_exec(handle, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
  }

  sqlite3* handle;
  sqlite_statement upsert, remove, insert_entry, update_state, mark_acked, select_pending,
      select_since, prune;
};

pager::pager(const std::filesystem::path& db_file, metrics_registry& metrics, clock& time)
    : metrics_(metrics),
      clock_(time),
      db_(std::make_unique<db>(db_file)),
      acks_(metrics.get_counter("tocsin_acks_total", "Paged groups acknowledged.")),
      time_to_ack_(metrics.get_histogram("tocsin_time_to_ack_seconds",
                                         "Seconds from a group's first page to its ack.", {},
                                         {30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400})) {
  metrics.declare("tocsin_pages_total", "Pages sent, by escalation policy and step.",
                  metrics_registry::kind::counter);
  sqlite_statement select(db_->handle, "SELECT group_key, json FROM oncall_escalations");
  while (sqlite3_step(select.get()) == SQLITE_ROW) {
    const auto j = nlohmann::json::parse(select.text(1), nullptr, /*allow_exceptions=*/false);
    if (auto e = oncall::escalation_from_json(j)) {
      escalations_[{e->receiver, e->group_key}] = std::move(*e);
    } else {
      spdlog::warn("oncall: dropping an unreadable escalation of {} from router.db",
                   select.text(0));
    }
  }
  if (!escalations_.empty()) {
    spdlog::info("oncall: reloaded {} escalations", escalations_.size());
  }
}

pager::~pager() = default;

void pager::configure(std::vector<config::escalation_policy> policies, oncall::on_call_lookup who) {
  std::lock_guard lock(mutex_);
  policies_.clear();
  for (auto& p : policies) policies_[p.name] = std::move(p);
  who_ = std::move(who);
}

std::string escalation_record_key(const escalation_key& key) {
  return key.first + '\n' + key.second;
}

std::optional<escalation_key> escalation_key_from_record(std::string_view record_key) {
  const auto newline = record_key.find('\n');
  if (newline == std::string_view::npos || newline == 0) return std::nullopt;
  return escalation_key{std::string(record_key.substr(0, newline)),
                        std::string(record_key.substr(newline + 1))};
}

void pager::on_change(change_listener listener) {
  std::lock_guard lock(mutex_);
  listener_ = std::move(listener);
}

void pager::apply(const escalation_key& key, const std::optional<oncall::escalation>& incoming) {
  std::lock_guard lock(mutex_);
  const auto held = escalations_.find(key);
  if (!incoming) {
    if (held != escalations_.end()) erase(key);
    return;
  }
  if (incoming->receiver != key.first || incoming->group_key != key.second) return;
  oncall::escalation next = *incoming;
  if (held != escalations_.end()) {
    const oncall::escalation& mine = held->second;
    const bool same_incident = mine.incident_ms == next.incident_ms;
    if (mine.updated_ms >= next.updated_ms) {
      if (mine.acked() || !next.acked() || !same_incident) return;  // nothing newer to learn
      next = mine;                                                  // only the ack is news
      next.acked_by = incoming->acked_by;
      next.ack_comment = incoming->ack_comment;
      next.acked_ms = incoming->acked_ms;
    } else if (mine.acked() && !next.acked() && same_incident) {
      next.acked_by = mine.acked_by;
      next.ack_comment = mine.ack_comment;
      next.acked_ms = mine.acked_ms;
    }
  }
  const bool ack_is_news = next.acked() && (held == escalations_.end() || !held->second.acked());
  store(next);
  if (ack_is_news) mark_pages_acked(next);  // made on another router: into this one's history
  escalations_[key] = std::move(next);
}

void pager::erase(const escalation_key& key) {
  db_->remove.bind(1, key.first);
  db_->remove.bind(2, key.second);
  db_->remove.run();
  escalations_.erase(key);
}

void pager::save(oncall::escalation& e) {
  e.updated_ms = std::max(e.updated_ms + 1, to_ms(clock_.now()));
  store(e);
  if (listener_) listener_({e.receiver, e.group_key}, e);
}

void pager::store(const oncall::escalation& e) {
  db_->upsert.bind(1, e.receiver);
  db_->upsert.bind(2, e.group_key);
  db_->upsert.bind(3, oncall::to_json(e).dump());
  if (!db_->upsert.run()) {
    spdlog::error("oncall: cannot save the escalation of {}: {}", e.group_key,
                  sqlite3_errmsg(db_->handle));
  }
}

std::int64_t pager::add_entry(const page_entry& entry) {
  auto& s = db_->insert_entry;
  s.bind(1, entry.group_key);
  s.bind(2, entry.page_id);
  s.bind(3, entry.policy);
  s.bind(4, entry.user);
  s.bind(5, entry.receiver);
  s.bind(6, std::int64_t{entry.step});
  s.bind(7, std::int64_t{entry.cycle});
  s.bind(8, std::int64_t{entry.resolve ? 1 : 0});
  s.bind(9, to_ms(entry.at));
  s.bind(10, entry.incident_ms);
  s.bind(11, nlohmann::json(entry.group_labels).dump());
  s.bind(12, alerts_json(entry.alerts));
  if (!s.run()) {
    spdlog::error("oncall: cannot record a page of {} to {}: {}", entry.group_key, entry.user,
                  sqlite3_errmsg(db_->handle));
    return 0;
  }
  return sqlite3_last_insert_rowid(db_->handle);
}

void pager::set_state(std::int64_t entry_id, const char* state) {
  db_->update_state.bind(1, entry_id);
  db_->update_state.bind(2, std::string(state));
  if (!db_->update_state.run()) {
    spdlog::error("oncall: cannot record page {} as {}: {}", entry_id, state,
                  sqlite3_errmsg(db_->handle));
  }
}

void pager::group_notified(const escalation_key& key, const rules::label_set& group_labels,
                           const std::string& policy) {
  std::lock_guard lock(mutex_);
  if (escalations_.contains(key)) return;
  const auto p = policies_.find(policy);
  if (p == policies_.end()) return;
  oncall::escalation e = oncall::start_escalation(key.second, nlohmann::json(group_labels).dump(),
                                                  p->second, key.first, to_ms(clock_.now()));
  save(e);
  escalations_.emplace(key, std::move(e));
}

void pager::group_resolved(const escalation_key& key, const rules::label_set& group_labels,
                           const std::vector<rules::alert>& resolved) {
  std::lock_guard lock(mutex_);
  const auto it = escalations_.find(key);
  if (it == escalations_.end()) return;
  const oncall::escalation& e = it->second;
  db_->exec("BEGIN");
  for (const std::string& user : e.paged) {
    page_entry notice{.group_key = e.group_key,
                      .page_id = e.page_id,
                      .policy = e.policy,
                      .user = user,
                      .receiver = e.receiver,
                      .resolve = true,
                      .at = clock_.now(),
                      .incident_ms = e.incident_ms,
                      .group_labels = group_labels,
                      .alerts = resolved};
    add_entry(notice);
  }
  erase(key);
  db_->exec("COMMIT");
  if (listener_) listener_(key, std::nullopt);
}

bool pager::escalating(const escalation_key& key) const {
  std::lock_guard lock(mutex_);
  return escalations_.contains(key);
}

std::vector<escalation_key> pager::due() const {
  const std::int64_t now = to_ms(clock_.now());
  std::lock_guard lock(mutex_);
  std::vector<escalation_key> out;
  for (const auto& [key, e] : escalations_) {
    if (!e.acked() && e.next_due_ms != 0 && e.next_due_ms <= now && policies_.contains(e.policy)) {
      out.push_back(key);
    }
  }
  return out;
}

void pager::take_step(const escalation_key& key, const rules::label_set& group_labels,
                      const std::vector<rules::alert>& firing) {
  const auto now = clock_.now();
  std::lock_guard lock(mutex_);
  const auto it = escalations_.find(key);
  if (it == escalations_.end()) return;
  const auto p = policies_.find(it->second.policy);
  if (p == policies_.end() || !who_) return;
  oncall::escalation e = it->second;
  auto order = oncall::take_due_step(e, p->second, who_, to_ms(now));
  if (!order) return;
  db_->exec("BEGIN");
  bool recorded = true;
  for (const std::string& user : order->users) {
    page_entry page{.group_key = e.group_key,
                    .page_id = e.page_id,
                    .policy = e.policy,
                    .user = user,
                    .receiver = e.receiver,
                    .step = order->step,
                    .cycle = order->cycle,
                    .at = now,
                    .incident_ms = e.incident_ms,
                    .group_labels = group_labels,
                    .alerts = firing};
    recorded = add_entry(page) != 0 && recorded;
  }
  e.updated_ms = std::max(e.updated_ms + 1, to_ms(now));
  store(e);
  // Not one page of the step may go missing: a failed write takes the step again next tick.
  if (!recorded || !db_->exec("COMMIT")) {
    spdlog::error("oncall: cannot record step {} of {} for {}: {}", order->step, e.policy,
                  key.second, sqlite3_errmsg(db_->handle));
    db_->exec("ROLLBACK");
    return;
  }
  if (listener_) listener_(key, e);
  for (std::size_t i = 0; i < order->users.size(); ++i) {
    metrics_
        .get_counter("tocsin_pages_total", "Pages sent, by escalation policy and step.",
                     {{"policy", e.policy}, {"step", std::to_string(order->step)}})
        .inc();
  }
  if (order->users.empty()) {
    spdlog::warn(
        "oncall: step {} of {} for group {} names nobody (a gap in its schedules); "
        "escalating",
        order->step, e.policy, key.second);
  }
  it->second = std::move(e);
  prune();
}

std::vector<page_entry> pager::unsent() {
  std::lock_guard lock(mutex_);
  std::vector<page_entry> out;
  auto& s = db_->select_pending;
  while (sqlite3_step(s.get()) == SQLITE_ROW) {
    const std::int64_t id = sqlite3_column_int64(s.get(), 0);
    if (in_flight_.contains(id)) continue;
    out.push_back(read_entry(s));
    in_flight_.insert(id);
  }
  sqlite3_reset(s.get());
  return out;
}

void pager::delivered(std::int64_t entry_id) {
  std::lock_guard lock(mutex_);
  in_flight_.erase(entry_id);
  set_state(entry_id, "delivered");
}

void pager::failed(std::int64_t entry_id, bool given_up) {
  std::lock_guard lock(mutex_);
  if (given_up) {
    in_flight_.erase(entry_id);
    set_state(entry_id, "failed");
  }
  // Which escalation and step: read back from the entry.
  sqlite_statement s(db_->handle,
                     "SELECT receiver, group_key, step, cycle, resolve FROM oncall_pages "
                     "WHERE id = ?1");
  s.bind(1, entry_id);
  if (sqlite3_step(s.get()) != SQLITE_ROW || sqlite3_column_int(s.get(), 4) != 0) return;
  const auto it = escalations_.find({s.text(0), s.text(1)});
  if (it == escalations_.end()) return;
  const auto before = it->second.next_due_ms;
  oncall::page_failed(it->second, sqlite3_column_int(s.get(), 2), sqlite3_column_int(s.get(), 3),
                      to_ms(clock_.now()));
  if (it->second.next_due_ms != before) save(it->second);
}

void pager::not_handed(std::int64_t entry_id) {
  std::lock_guard lock(mutex_);
  in_flight_.erase(entry_id);
}

void pager::requeue_in_flight() {
  std::lock_guard lock(mutex_);
  in_flight_.clear();
}

ack_result pager::ack(const std::string& page_id_or_group_key, const std::string& by,
                      const std::string& comment) {
  const std::int64_t now = to_ms(clock_.now());
  std::lock_guard lock(mutex_);
  const auto it = std::find_if(escalations_.begin(), escalations_.end(), [&](const auto& kv) {
    return kv.second.page_id == page_id_or_group_key || kv.second.group_key == page_id_or_group_key;
  });
  if (it == escalations_.end()) return {};
  if (it->second.acked()) return {ack_outcome::already_acked, it->second};
  const oncall::escalation acked = it->second;
  db_->exec("BEGIN");
  for (auto& [key, e] : escalations_) {
    // The same group through another receiver, or the same labels paged by the same policy
    // from a sibling route: one incident, one ack.
    const bool same_incident = e.group_key == acked.group_key ||
                               (e.group_labels == acked.group_labels && e.policy == acked.policy);
    if (!e.acked() && same_incident) record_ack(e, by, comment, now);
  }
  db_->exec("COMMIT");
  acks_.inc();  // one person's ack, however many routes paged them
  if (acked.first_page_ms != 0) {
    time_to_ack_.observe(static_cast<double>(now - acked.first_page_ms) / 1000.0);
  }
  spdlog::info("oncall: {} acknowledged group {} (page {}){}", by, acked.group_key, acked.page_id,
               comment.empty() ? "" : ": " + comment);
  return {ack_outcome::acked, it->second};
}

void pager::record_ack(oncall::escalation& e, const std::string& by, const std::string& comment,
                       std::int64_t now_ms) {
  e.acked_by = by;
  e.ack_comment = comment;
  e.acked_ms = now_ms;
  save(e);
  mark_pages_acked(e);
}

void pager::mark_pages_acked(const oncall::escalation& e) {
  auto& s = db_->mark_acked;
  s.bind(1, e.group_key);
  s.bind(2, e.acked_by);
  s.bind(3, e.acked_ms);
  s.bind(4, e.ack_comment);
  s.bind(5, e.incident_ms);
  s.bind(6, e.receiver);
  s.run();
}

std::vector<oncall::escalation> pager::escalations() const {
  std::lock_guard lock(mutex_);
  std::vector<oncall::escalation> out;
  for (const auto& [key, e] : escalations_) out.push_back(e);
  return out;
}

std::vector<page_entry> pager::history(sys_clock::time_point since) const {
  std::lock_guard lock(mutex_);
  std::vector<page_entry> out;
  auto& s = db_->select_since;
  s.bind(1, to_ms(since));
  while (sqlite3_step(s.get()) == SQLITE_ROW) out.push_back(read_entry(s));
  sqlite3_reset(s.get());
  sqlite3_clear_bindings(s.get());
  return out;
}

void pager::prune() {
  const auto now = clock_.now();
  if (now - last_prune_ < std::chrono::hours(1)) return;
  last_prune_ = now;
  db_->prune.bind(1, to_ms(now - history_retention));
  db_->prune.run();
}

}  // namespace tocsin::sinks
