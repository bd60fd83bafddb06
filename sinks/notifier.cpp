#include "sinks/notifier.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>

#include "config/section_reader.hpp"
#include "sinks/notifier_factories.hpp"

namespace tocsin::sinks {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

const std::vector<double> latency_buckets = {.005, .01, .025, .05, .1, .25, .5,
                                             1,    2.5, 5,    10,  30, 60};

// Every receiver's worker appends to the same dead letter file.
std::mutex dead_letter_mutex;

counter& result_counter(metrics_registry& metrics, const std::string& receiver,
                        const char* result) {
  return metrics.get_counter("tocsin_notifications_total", "Notifications by receiver and result.",
                             {{"receiver", receiver}, {"result", result}});
}

// Before the worker's thread starts, which would call it.
std::unique_ptr<notifier> checked(std::unique_ptr<notifier> n, const std::string& receiver) {
  if (!n) throw std::logic_error("receiver_worker " + receiver + " without a notifier");
  return n;
}

// A receiver with several integrations (Alertmanager's `*_configs` lists). The worker retries a
// notification by calling send() again, so what each part made of it is remembered while the
// same notification (its id names its content) comes back, and a retry goes only to the parts
// still pending (Alertmanager retries each integration on its own). A notification is settled
// once no part is pending: delivered when a part took it, the parts that failed for good
// reported with it (failed_parts) to be dead-lettered on their own; permanent when every part
// failed. A page only goes to the parts that can address a person, and one of them taking it is
// enough.
class fan_out_notifier final : public notifier {
 public:
  struct part {
    std::unique_ptr<notifier> sender;
    bool pages = false;  // can_page() of its integration
  };

  explicit fan_out_notifier(std::vector<part> parts)
      : notifier(std::any_of(parts.begin(), parts.end(),
                             [](const part& p) { return p.sender->send_resolved(); })),
        parts_(std::move(parts)),
        states_(parts_.size(), state::pending) {}

  delivery_result send(const notification& n) override {
    if (n.id.empty() || n.id != current_id_ || n.group_key != current_group_) {
      current_id_ = n.id;
      current_group_ = n.group_key;
      std::fill(states_.begin(), states_.end(), state::pending);
      failures_.clear();
    }
    std::optional<delivery_result> retry;
    bool taken = false;
    for (std::size_t i = 0; i < parts_.size(); ++i) {
      if (n.page && !parts_[i].pages) continue;
      if (states_[i] == state::taken) taken = true;
      if (states_[i] != state::pending) continue;
      delivery_result r = send_part(*parts_[i].sender, n);
      r.detail = "integration " + std::to_string(i + 1) + ": " + r.detail;
      if (r.result == delivery_result::outcome::delivered) {
        states_[i] = state::taken;
        taken = true;
      } else if (r.result == delivery_result::outcome::permanent) {
        states_[i] = state::failed;
        failures_.push_back(std::move(r));
      } else if (!retry) {
        retry = std::move(r);
      } else if (r.retry_after && (!retry->retry_after || *r.retry_after > *retry->retry_after)) {
        retry->retry_after = r.retry_after;
      }
    }
    if (n.page && taken) return settle(delivery_result::delivered());
    if (retry) return *retry;
    if (!taken && !failures_.empty()) {
      delivery_result first = failures_.front();
      return settle(std::move(first));
    }
    delivery_result done = delivery_result::delivered();
    done.failed_parts = std::move(failures_);
    return settle(std::move(done));
  }

 private:
  enum class state { pending, taken, failed };

  delivery_result settle(delivery_result r) {
    current_id_.clear();
    current_group_.clear();
    failures_.clear();
    return r;
  }

  // A part without send_resolved gets the firing alerts only, and nothing when there are none.
  static delivery_result send_part(notifier& part, const notification& n) {
    if (part.send_resolved() || n.page) return part.send(n);
    if (!n.firing()) return delivery_result::delivered();
    if (n.firing_count() == n.alerts.size()) return part.send(n);
    notification firing_only = n;
    std::erase_if(firing_only.alerts, [](const rules::alert& a) { return !a.firing; });
    return part.send(firing_only);
  }

  std::vector<part> parts_;
  // For the notification in progress (worker thread only, like the rest).
  std::vector<state> states_;
  std::vector<delivery_result> failures_;
  std::string current_id_, current_group_;
};

}  // namespace

bool can_page(std::string_view integration) {
  // The built-in integrations that post to a channel or a system, not to a person; one
  // registered by others (a test's) is taken to reach whom it is told.
  constexpr std::string_view channel_only[] = {"",           "webhook",      "pagerduty",
                                               "file",       "alertmanager", "discord",
                                               "mattermost", "msteamsv2",    "opsgenie"};
  return std::find(std::begin(channel_only), std::end(channel_only), integration) ==
         std::end(channel_only);
}

// --- notifier_registry --------------------------------------------------------------------------

void notifier_registry::add(const std::string& integration, notifier_factory factory) {
  factories_[integration] = std::move(factory);
}

bool notifier_registry::has(const std::string& integration) const {
  return factories_.contains(integration);
}

std::unique_ptr<notifier> notifier_registry::create(const config::receiver_config& receiver) const {
  if (receiver.integration.empty()) return nullptr;
  const auto it = factories_.find(receiver.integration);
  if (it == factories_.end() && receiver.section &&
      is_unsupported_alertmanager_integration(receiver.integration)) {
    throw config::config_error({config::location_prefix(config::integration_where(receiver)) +
                                config::integration_path(receiver) + ": tocsin does not support " +
                                "Alertmanager's " + receiver.integration + " integration"});
  }
  if (it == factories_.end()) {
    std::vector<std::string_view> known;
    for (const auto& [name, factory] : factories_) known.push_back(name);
    throw config::config_error({config::location_prefix(config::integration_where(receiver)) +
                                "receiver " + receiver.name + ": unknown integration " +
                                config::quote(receiver.integration) +
                                config::suggestion(receiver.integration, known)});
  }
  return it->second(receiver);
}

std::unique_ptr<notifier> notifier_registry::create(
    std::span<const config::receiver_config> integrations) const {
  std::vector<fan_out_notifier::part> parts;
  std::vector<std::string> errors;
  for (const config::receiver_config& one : integrations) {
    try {
      if (auto n = create(one)) parts.push_back({std::move(n), can_page(one.integration)});
    } catch (const config::config_error& e) {
      errors.insert(errors.end(), e.errors().begin(), e.errors().end());
    }
  }
  if (!errors.empty()) throw config::config_error(std::move(errors));
  if (parts.empty()) return nullptr;
  if (parts.size() == 1) return std::move(parts.front().sender);
  return std::make_unique<fan_out_notifier>(std::move(parts));
}

// --- receiver_worker ----------------------------------------------------------------------------

receiver_worker::receiver_worker(std::string receiver, std::unique_ptr<notifier> n,
                                 worker_options options, metrics_registry& metrics,
                                 delivered_callback on_delivered, clock& time,
                                 failed_callback on_failed)
    : receiver_(std::move(receiver)),
      notifier_(checked(std::move(n), receiver_)),
      options_(std::move(options)),
      metrics_(metrics),
      on_delivered_(std::move(on_delivered)),
      on_failed_(std::move(on_failed)),
      success_(result_counter(metrics_, receiver_, "success")),
      retried_(result_counter(metrics_, receiver_, "retry")),
      failed_(result_counter(metrics_, receiver_, "failed")),
      latency_(metrics_.get_histogram(
          "tocsin_notification_latency_seconds",
          "Seconds from a notification falling due to its receiver accepting it.",
          {{"receiver", receiver_}}, latency_buckets)),
      clock_(time),
      worker_(options_.queue_capacity,
              {.depth = metrics_.get_gauge("tocsin_queue_depth", "Items waiting in a queue.",
                                           {{"queue", "receiver:" + receiver_}}),
               .dropped = result_counter(metrics_, receiver_, "dropped")},
              [this](const notification& n) { deliver(n); }) {}

bool receiver_worker::enqueue(notification n) { return worker_.try_push(std::move(n)); }

void receiver_worker::deliver(const notification& n) {
  const auto give_up_at = clock_.steady_now() + options_.max_retry_time;
  auto backoff = std::max(options_.initial_backoff, std::chrono::milliseconds(1));
  for (int attempt = 1;; ++attempt) {
    const delivery_result r = notifier_->send(n);
    if (r.result == delivery_result::outcome::delivered) {
      for (const delivery_result& part : r.failed_parts) {
        dead_letter(n, part, "permanent failure of one integration");
        failed_.inc();
      }
      success_.inc();
      if (n.due_since != steady::time_point{}) {
        latency_.observe(std::chrono::duration<double>(clock_.steady_now() - n.due_since).count());
      }
      if (on_delivered_) on_delivered_(n);
      return;
    }
    if (r.result == delivery_result::outcome::permanent) {
      // Counted after the line is written: whoever sees the count can read the line.
      dead_letter(n, r, "permanent failure");
      failed_.inc();
      if (on_failed_) on_failed_(n, /*given_up=*/true);
      return;
    }
    // Full jitter (a random wait up to the backoff) spreads the retries of many groups, so a
    // receiver coming back from an outage is not hit by all of them at once.
    std::uniform_int_distribution<std::int64_t> pick(0, backoff.count());
    auto wait = std::chrono::milliseconds(pick(jitter_));
    if (r.retry_after) {
      wait = std::max(wait, std::chrono::duration_cast<std::chrono::milliseconds>(*r.retry_after));
    }
    if (clock_.steady_now() + wait > give_up_at) {
      dead_letter(n, r, "gave up after " + std::to_string(attempt) + " attempts");
      failed_.inc();
      if (on_failed_) on_failed_(n, /*given_up=*/true);
      return;
    }
    retried_.inc();
    if (on_failed_) on_failed_(n, /*given_up=*/false);
    // A warning, since the receiver is failing; at most one a minute, as a receiver coming back
    // from an outage can have many notifications in retries.
    const auto now = clock_.steady_now();
    if (last_retry_log_ == steady::time_point{} || now - last_retry_log_ >= 1min) {
      spdlog::warn(
          "receiver {}: notification {} for group {}: attempt {} failed (status {}: {}), retrying "
          "in {} ms{}",
          receiver_, n.id, n.group_key, attempt, r.status, r.detail, wait.count(),
          unlogged_retries_ == 0
              ? std::string()
              : " (and " + std::to_string(unlogged_retries_) + " more retries in the last minute)");
      last_retry_log_ = now;
      unlogged_retries_ = 0;
    } else {
      ++unlogged_retries_;
    }
    if (!worker_.wait_for(wait)) return;  // stopping: the notification log still has it as unsent
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

void receiver_worker::dead_letter(const notification& n, const delivery_result& last,
                                  const std::string& why) {
  const auto now = clock_.steady_now();
  if (last_failure_log_ == steady::time_point{} || now - last_failure_log_ >= 1min) {
    spdlog::error("receiver {}: notification for group {} failed ({}): status {}: {}{}", receiver_,
                  n.group_key, why, last.status, last.detail,
                  unlogged_failures_ == 0 ? std::string()
                                          : " (and " + std::to_string(unlogged_failures_) +
                                                " more failures in the last minute)");
    last_failure_log_ = now;
    unlogged_failures_ = 0;
  } else {
    ++unlogged_failures_;
  }

  if (options_.dead_letter_file.empty()) return;
  const nlohmann::ordered_json entry = {
      {"time", format_time(clock_.now())},
      {"receiver", receiver_},
      {"group_key", n.group_key},
      {"notification_id", n.id},
      {"status", last.status},
      {"detail", last.detail},
      {"reason", why},
      {"notification", webhook_v4_body(n)},
  };
  // Replace invalid UTF-8 (a peer's response body may hold anything) rather than throw.
  const std::string line =
      entry.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + '\n';
  std::lock_guard lock(dead_letter_mutex);
  std::error_code ec;
  if (const auto parent = options_.dead_letter_file.parent_path(); !parent.empty()) {
    std::filesystem::create_directories(parent, ec);
  }
  std::FILE* f = std::fopen(options_.dead_letter_file.c_str(), "ae");
  if (f == nullptr) {
    spdlog::error("receiver {}: cannot open dead letter file {}: {}", receiver_,
                  options_.dead_letter_file.string(), std::strerror(errno));
    return;
  }
  const bool written = std::fwrite(line.data(), 1, line.size(), f) == line.size();
  if (std::fclose(f) != 0 || !written) {
    spdlog::error("receiver {}: write to dead letter file {} failed: {}", receiver_,
                  options_.dead_letter_file.string(), std::strerror(errno));
  }
}

}  // namespace tocsin::sinks
