#pragma once
// Receiver integrations. A notifier only renders a notification and sends the bytes, once; the
// receiver_worker around it owns the queue, retries with backoff, metrics and the dead letter
// file (spdlog's base_sink idea). Notifiers are created by a factory found by the integration's
// name in a registry filled by an explicit register_builtin_notifiers() call; a factory validates
// its own settings, so check-config is a dry run of construction.

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "core/bounded_worker.hpp"
#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "sinks/notification.hpp"

namespace tocsin::sinks {

// One integration's sender: renders a notification and sends it once.
class notifier {
 public:
  virtual ~notifier() = default;
  // One attempt; blocking, on the receiver's worker thread. Never throws.
  virtual delivery_result send(const notification& n) = 0;
  // Whether resolved notifications are sent: the integration's `send_resolved`, whose default is
  // Alertmanager's for that integration (webhook, pagerduty, msteamsv2, telegram, discord,
  // mattermost, opsgenie: true; slack, email: false).
  [[nodiscard]] bool send_resolved() const { return send_resolved_; }

 protected:
  explicit notifier(bool send_resolved = false) : send_resolved_(send_resolved) {}

 private:
  bool send_resolved_;
};

// Reads and checks the receiver's integration section (config::section_reader) and builds its
// notifier. Throws config::config_error listing every problem, each at its key's FILE:LINE:COL.
using notifier_factory =
    std::function<std::unique_ptr<notifier>(const config::receiver_config& receiver)>;

// The integrations by name. Building every receiver's notifier is how a config's receivers are
// checked (check-config, start, reload).
class notifier_registry {
 public:
  void add(const std::string& integration, notifier_factory factory);
  [[nodiscard]] bool has(const std::string& integration) const;
  // nullptr for a receiver without an integration (it discards). Throws config::config_error for
  // an unknown integration (with a "did you mean") or bad settings.
  [[nodiscard]] std::unique_ptr<notifier> create(const config::receiver_config& receiver) const;
  // The notifier of one receiver from all its integrations (config::receivers_by_name()):
  // nullptr when it has none, the integration's own for one, and for several one that sends to
  // each (a retry goes only to those that have not taken the notification yet). Throws
  // config::config_error with every integration's problems.
  [[nodiscard]] std::unique_ptr<notifier> create(
      std::span<const config::receiver_config> integrations) const;

 private:
  std::map<std::string, notifier_factory> factories_;
};

// slack, email, webhook, pagerduty, alertmanager, file, msteamsv2, telegram, discord,
// mattermost, opsgenie.
void register_builtin_notifiers(notifier_registry& registry);

// Whether an integration can address a notification to one person, as an on-call page needs
// (DESIGN.md, "On-call"): among the built-in ones, email, slack and telegram.
bool can_page(std::string_view integration);

struct worker_options {
  std::size_t queue_capacity = 1000;
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{std::chrono::minutes(5)};
  std::chrono::milliseconds max_retry_time{std::chrono::hours(1)};  // then dead letter
  std::filesystem::path dead_letter_file;                           // data_dir/dead-letter.jsonl
};

// One per receiver: a bounded queue and a thread that sends, retrying network errors, 5xx and 429
// with exponential backoff and full jitter (honouring Retry-After), and writes permanent failures
// (other 4xx, or retries past max_retry_time) to the dead letter file with the peer's response.
// Retries are logged as warnings, failures as errors, each at most once a minute per receiver.
// Metrics: tocsin_notifications_total{receiver,result=success|retry|failed|dropped},
// tocsin_notification_latency_seconds (histogram, due_since → accepted), tocsin_queue_depth{queue=
// "receiver:<name>"}. A dead receiver never blocks the caller: a full queue drops and counts.
// Give-up times, latency and the dead letter's `time` come from `time` (a notification's
// due_since must be on the same clock); the back-off itself waits in real time.
class receiver_worker {
 public:
  using delivered_callback = std::function<void(const notification&)>;
  // After each failed attempt; `given_up` when it was the last (dead-lettered).
  using failed_callback = std::function<void(const notification&, bool given_up)>;

  receiver_worker(std::string receiver, std::unique_ptr<notifier> n, worker_options options,
                  metrics_registry& metrics, delivered_callback on_delivered,
                  clock& time = real_clock(), failed_callback on_failed = {});
  // Finishes the attempt in progress, leaves the rest (still pending on disk).
  ~receiver_worker() = default;
  receiver_worker(const receiver_worker&) = delete;
  receiver_worker& operator=(const receiver_worker&) = delete;

  // False (and counted as dropped) when the queue is full.
  bool enqueue(notification n);
  [[nodiscard]] const notifier& integration() const { return *notifier_; }
  // Tells the worker to stop after the attempt in progress without waiting for it (a reload
  // retires workers this way); finished() says when it has.
  void request_stop() { worker_.request_stop(); }
  [[nodiscard]] bool finished() const { return worker_.finished(); }
  // For a graceful shutdown: true once the queue is empty and no attempt is in progress, false
  // at `deadline`. A notification in retries keeps it busy until it is delivered or given up.
  bool wait_idle(std::chrono::steady_clock::time_point deadline) { return worker_.drain(deadline); }

 private:
  // Sends `n` until it is delivered, fails for good, or the worker stops.
  void deliver(const notification& n);
  void dead_letter(const notification& n, const delivery_result& last, const std::string& why);

  std::string receiver_;
  std::unique_ptr<notifier> notifier_;
  worker_options options_;
  metrics_registry& metrics_;
  delivered_callback on_delivered_;
  failed_callback on_failed_;
  counter& success_;
  counter& retried_;
  counter& failed_;
  histogram& latency_;
  std::mt19937_64 jitter_{std::random_device{}()};            // worker thread only
  std::chrono::steady_clock::time_point last_failure_log_{};  // worker thread only
  std::size_t unlogged_failures_ = 0;                         // worker thread only
  std::chrono::steady_clock::time_point last_retry_log_{};    // worker thread only
  std::size_t unlogged_retries_ = 0;                          // worker thread only
  clock& clock_;
  bounded_worker<notification> worker_;  // last: its thread uses everything above
};

}  // namespace tocsin::sinks
