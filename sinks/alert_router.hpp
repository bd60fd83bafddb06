#pragma once
// The router (DESIGN.md, "Router semantics"; Alertmanager's): alerts from the bus or the API are
// merged by fingerprint, sent down the route tree into aggregation groups, and each group is
// flushed to its receiver after group_wait, then at most every group_interval when it changed,
// and every repeat_interval while it keeps firing. Silenced and inhibited alerts are left out of
// notifications. A group whose alerts have all resolved is flushed on the next tick instead of a
// group_interval later (Alertmanager #1510).
//
// State lives in SQLite (data_dir/router.db): the alerts (so a restart forgets nothing pending),
// the notification log (what each receiver was last sent per group, so a restart re-sends
// nothing), and the silences. Alerts without endsAt (from the API) resolve after
// resolve_timeout. Resolved alerts are forgotten once every group they were in has sent them.
//
// Memory is bounded by router.max_alerts: a new fingerprint beyond it is refused, counted in
// tocsin_router_alerts_refused_total{reason="max_alerts"} and logged at most once a minute;
// updates of alerts already held are always taken, and a resolved alert frees its slot when it
// is forgotten.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "oncall/ack_link.hpp"
#include "oncall/roster.hpp"
#include "rules/alert.hpp"
#include "sinks/cluster.hpp"
#include "sinks/notifier.hpp"
#include "sinks/pager.hpp"
#include "sinks/silences.hpp"

namespace tocsin::sinks {

struct router_options {
  std::filesystem::path data_dir;  // router.db, dead-letter.jsonl
  std::string external_url;        // the admin URL, for webhook externalURL
  std::chrono::milliseconds resolve_timeout{std::chrono::minutes(5)};
  std::chrono::milliseconds tick{100};  // how often the tick thread calls tick()
  worker_options worker;                // per receiver (dead_letter_file is set from data_dir)
  // With a Kafka bus: which groups this router sends, and where it publishes what it sent.
  // Null: this router sends every group. Must outlive the router.
  cluster_membership* cluster = nullptr;
  // Signs the ack links in pages (oncall.signing_key_file); null: pages carry no link.
  std::shared_ptr<const oncall::ack_signer> ack_signer;
};

// An alert as GET /api/v2/alerts shows it.
struct alert_view {
  rules::alert alert;
  std::string state;  // "active", "suppressed" (silenced or inhibited), "unprocessed"
  std::vector<std::string> silenced_by, inhibited_by, receivers;
  std::chrono::system_clock::time_point updated_at;
  std::uint64_t received = 0;  // copies of it received since this router started
};

// One aggregation group: the alerts a route node sends together (Alertmanager's alertGroup).
struct group_view {
  std::string key;  // route_tree::group_key()
  std::string receiver;
  rules::label_set labels;  // the group_by labels
  std::vector<alert_view> alerts;
  // The time intervals that mute its route now (route_tree::muted_by); empty: not muted.
  std::vector<std::string> muted_by;
};

class alert_router {
 public:
  // Builds the route tree, inhibitor, a receiver_worker per receiver (via `registry`) and the
  // on-call roster (reading its ics files), and opens router.db, reloading its alerts,
  // notification log and escalations. Throws config::config_error for a bad route/receiver/
  // schedule, std::runtime_error for an unusable data_dir. Every decision by time (group
  // timers, resolve_timeout, silences, the notification log) reads `time_source`.
  alert_router(const config::config& cfg, const notifier_registry& registry,
               metrics_registry& metrics, router_options options,
               clock& time_source = real_clock());
  ~alert_router();  // stop()
  alert_router(const alert_router&) = delete;
  alert_router& operator=(const alert_router&) = delete;

  // Takes one alert (bus consumer or API thread). Durable in router.db when it returns, so the
  // Kafka consumer may commit its offset then. Never throws; a failing write is logged, counted.
  // A new alert beyond router.max_alerts is refused (counted, logged rate-limited).
  void receive(const rules::alert& a);

  // Switches to `cfg`'s routes, inhibit rules and receivers (a reload). Everything new is built
  // first, so a bad config throws config::config_error with nothing changed. Groups re-form
  // under the new routes and wait group_wait again; the notification log keeps them from
  // re-sending what receivers already have. Notifications queued for the old receivers are sent
  // again by their groups (at least once, never lost).
  void reconfigure(const config::config& cfg, const notifier_registry& registry);

  void start();  // the tick thread: tick() every options.tick, and at once when a group is due
  void stop();   // stops ticking and the receiver workers
  // Flushes the groups that are due by the clock, resolves alerts whose endsAt has passed and
  // forgets what every group has sent. The tick thread calls it; a test without the thread calls
  // it after advancing a manual_clock. Notifications are enqueued to the receivers when it
  // returns, not yet sent. Thread-safe.
  void tick();
  // For a graceful shutdown, before stop(): flushes the groups that are due and waits until
  // every receiver has sent what it holds, or `deadline`. Groups still in group_wait stay in
  // router.db for the next start. False when something was still being sent at the deadline.
  // Not concurrent with reconfigure(). `deadline` is real time: it bounds a wait for threads.
  bool drain(std::chrono::steady_clock::time_point deadline);

  // What another router sent for a group (a notification-log record from the cluster), or this
  // router's own record read back: kept when newer than what is held, so that when this router
  // takes the group over it neither repeats nor forgets what was sent.
  void apply_nflog(const nflog_record& record);

  // When the last tick() finished, in real steady time (for a liveness check: a router whose
  // ticks stop must give its groups to the others).
  [[nodiscard]] std::chrono::steady_clock::time_point last_tick() const;

  [[nodiscard]] std::vector<alert_view> alerts() const;
  // The aggregation groups and their alerts (resolved ones until the group is next flushed).
  [[nodiscard]] std::vector<group_view> groups() const;
  [[nodiscard]] silence_store& silences();
  // The escalations, pages and acks (DESIGN.md, "On-call").
  [[nodiscard]] pager& oncall();
  // Who is on call, as of the config in use.
  [[nodiscard]] std::shared_ptr<const oncall::roster> roster() const;
  // route_tree::fingerprint() of the routes in use ("none" without a route).
  [[nodiscard]] std::string route_fingerprint() const;
  // The clock the router decides by, for whoever must agree with it (the Alertmanager API).
  [[nodiscard]] clock& time_source() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace tocsin::sinks
