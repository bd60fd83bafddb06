#pragma once
// The router's on-call half (DESIGN.md, "On-call"): one escalation per paged group, the pages
// and resolve notices it sends, and the acks that stop it — all in router.db, so a restart in
// the middle of an escalation neither skips nor repeats a step. The router tells it what its
// groups do and sends what it hands out; the pager never calls the router.
//
// A page is an entry in the history from the moment its step is taken: `pending` until the
// receiver accepts it (`delivered`) or gives up (`failed`). Pending entries not handed to a
// receiver (a new step, or everything pending after a restart) come out of unsent().
//
// Metrics: tocsin_pages_total{policy,step}, tocsin_acks_total, tocsin_time_to_ack_seconds.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "oncall/escalation.hpp"
#include "rules/alert.hpp"

struct sqlite3;

namespace tocsin::sinks {

// One page, or one resolve notice, as GET /api/v1/oncall/pages lists it.
struct page_entry {
  std::int64_t id = 0;
  std::string group_key, page_id, policy, user, receiver;
  int step = 0;  // 1-based; 0 for a resolve notice
  int cycle = 0;
  bool resolve = false;  // tells `user` that the group they were paged for resolved
  std::string state;     // pending | delivered | failed
  std::chrono::system_clock::time_point at;
  std::string acked_by, comment;  // "" when not acknowledged
  std::chrono::system_clock::time_point acked_at{};
  std::int64_t incident_ms = 0;      // the escalation it belongs to (signed into its ack link)
  rules::label_set group_labels;     // what the receiver renders …
  std::vector<rules::alert> alerts;  // … as of when the entry was made
};

enum class ack_outcome { acked, already_acked, not_found };

// An escalation is the route receiver's, for one group: sibling routes with the same matchers
// make the same group key, as in Alertmanager, and page through different receivers.
using escalation_key = std::pair<std::string, std::string>;  // receiver, group key

// An escalation as a record of the on-call topic: key `receiver '\n' group key`, value the
// escalation's JSON (oncall::to_json), empty when it ended (a tombstone).
std::string escalation_record_key(const escalation_key& key);
std::optional<escalation_key> escalation_key_from_record(std::string_view record_key);

struct ack_result {
  ack_outcome outcome = ack_outcome::not_found;
  oncall::escalation escalation;  // as it is now (acked_by, acked_ms)
};

class pager {
 public:
  // Opens its tables in `db_file` (router.db) and reloads the escalations. Throws
  // std::runtime_error for an unusable file.
  pager(const std::filesystem::path& db_file, metrics_registry& metrics, clock& time);
  ~pager();
  pager(const pager&) = delete;
  pager& operator=(const pager&) = delete;

  // The policies and who the schedules name (a reload swaps both). An escalation whose policy
  // is gone stops paging until it is back.
  void configure(std::vector<config::escalation_policy> policies, oncall::on_call_lookup who);

  // With a Kafka bus: told of every escalation this router starts, advances, acknowledges
  // (the escalation) or ends (nullopt), to publish it. Called under the pager's lock: keep it
  // short and do not call back. Set before the router starts.
  using change_listener =
      std::function<void(const escalation_key&, const std::optional<oncall::escalation>&)>;
  void on_change(change_listener listener);
  // An escalation from the cluster (nullopt: it ended): kept when newer than the one held; an
  // ack held is never undone by a copy without it (a step taken by the group's sender and an ack
  // made on another router may cross).
  void apply(const escalation_key& key, const std::optional<oncall::escalation>& e);

  // A group of a route with escalation `policy` was notified with alerts firing: its escalation
  // starts unless one runs (new alerts joining do not restart it).
  void group_notified(const escalation_key& key, const rules::label_set& group_labels,
                      const std::string& policy);
  // Every alert of the group resolved: its escalation ends and each person it paged gets a
  // pending resolve notice carrying `resolved`.
  void group_resolved(const escalation_key& key, const rules::label_set& group_labels,
                      const std::vector<rules::alert>& resolved);
  [[nodiscard]] bool escalating(const escalation_key& key) const;

  // Escalations whose next step is due.
  [[nodiscard]] std::vector<escalation_key> due() const;
  // Takes the due step of `key`: a pending page per person it names, carrying `firing`.
  void take_step(const escalation_key& key, const rules::label_set& group_labels,
                 const std::vector<rules::alert>& firing);

  // Pending entries not handed to a receiver yet; from now on they are in flight.
  std::vector<page_entry> unsent();
  void delivered(std::int64_t entry_id);
  // An attempt failed: the escalation goes on at once; `given_up` ends the entry as failed.
  void failed(std::int64_t entry_id, bool given_up);
  // The receiver's queue was full: the entry goes out again.
  void not_handed(std::int64_t entry_id);
  // A reload replaced the receivers, dropping their queues: every entry in flight goes out again.
  void requeue_in_flight();

  // By page id, or by group key when `page_id_or_group_key` is not a live page id. The
  // escalations of the same group labels and policy (`continue` routes paging through other
  // receivers) are acknowledged with it.
  ack_result ack(const std::string& page_id_or_group_key, const std::string& by,
                 const std::string& comment);
  [[nodiscard]] std::vector<oncall::escalation> escalations() const;
  // The history since `since`, oldest first (30 days are kept).
  [[nodiscard]] std::vector<page_entry> history(std::chrono::system_clock::time_point since) const;

 private:
  struct db;
  // Stamps `e`, stores it and tells the listener.
  void save(oncall::escalation& e);
  void store(const oncall::escalation& e);
  void erase(const escalation_key& key);
  void record_ack(oncall::escalation& e, const std::string& by, const std::string& comment,
                  std::int64_t now_ms);
  void mark_pages_acked(const oncall::escalation& e);
  std::int64_t add_entry(const page_entry& entry);
  void set_state(std::int64_t entry_id, const char* state);
  void prune();

  metrics_registry& metrics_;
  clock& clock_;
  std::unique_ptr<db> db_;
  mutable std::mutex mutex_;
  std::map<escalation_key, oncall::escalation> escalations_;
  std::map<std::string, config::escalation_policy> policies_;
  oncall::on_call_lookup who_;
  change_listener listener_;
  std::set<std::int64_t> in_flight_;  // entries handed to a receiver
  std::chrono::system_clock::time_point last_prune_{};
  counter& acks_;
  histogram& time_to_ack_;
};

}  // namespace tocsin::sinks
