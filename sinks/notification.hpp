#pragma once
// One notification: what the router hands a receiver when a group is flushed.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "rules/alert.hpp"

namespace tocsin::sinks {

// Set on a notification that pages one person (DESIGN.md, "On-call"): the receiver addresses it
// to them (email `to`, a Slack mention) and carries the ack link.
struct page_info {
  std::int64_t entry_id = 0;  // the page's entry in the on-call history
  std::string page_id;
  std::string user, email, slack, telegram;
  std::string ack_url;    // the signed link; "" without an admin listener
  int step = 0;           // 1-based; 0 for a resolve notice
  bool resolved = false;  // tells the person the group they were paged for resolved
};

struct notification {
  std::string receiver;
  std::string group_key;             // route_tree::group_key()
  rules::label_set group_labels;     // the labels the group is grouped by
  std::vector<rules::alert> alerts;  // firing first, then resolved; each sorted by startsAt
  std::string external_url;          // where tocsin's API is reached (webhook externalURL)
  // Earliest receive time of the alerts that made this notification due (latency metric).
  std::chrono::steady_clock::time_point due_since{};
  // notification_id(): the same on every re-send of this notification (retries, a reload, a
  // restart after a crash between the receiver's answer and the notification log write), so a
  // receiver can drop repeats. Sent as X-Tocsin-Notification-Id; "" when not set.
  std::string id;
  std::optional<page_info> page;  // set when this pages a person

  [[nodiscard]] bool firing() const;  // any alert firing
  [[nodiscard]] std::size_t firing_count() const;
  // What a chat message or an incident calls the group: the alertname all alerts share, else
  // the group label values space-separated, else "alerts".
  [[nodiscard]] std::string display_name() const;
  [[nodiscard]] rules::label_set common_labels() const;
  [[nodiscard]] std::map<std::string, std::string> common_annotations() const;
};

// The id of the notification a router sends `receiver` for group `group_key` carrying the alerts
// `firing` and `resolved` (fingerprints), when the notification log's entry for that receiver and
// group was written at `previous_sent_at_ms` (ms since the epoch; 0 when there is none): 16 hex
// digits of FNV-1a 64 over all of it. Everything it hashes is what the notification log holds, so
// a notification decided again after a crash (the log still has the previous entry) gets the
// same id, while the next one (a new alert, a resolve, a repeat_interval re-send: the log has
// moved on) gets a new one.
std::string notification_id(std::string_view receiver, std::string_view group_key,
                            std::int64_t previous_sent_at_ms, const std::set<std::string>& firing,
                            const std::set<std::string>& resolved);

// What a delivery attempt came to. `retry`: network error, 5xx, 429 (with retry_after when the
// peer said so); `permanent`: other 4xx or a request that can never succeed.
struct delivery_result {
  enum class outcome { delivered, retry, permanent };
  outcome result = outcome::delivered;
  int status = 0;      // HTTP or SMTP status, 0 when none
  std::string detail;  // error text or the peer's response body (truncated)
  std::optional<std::chrono::seconds> retry_after;
  // Delivered by a receiver with several integrations while some of them failed for good: each
  // of those failures, to be dead-lettered on its own (sinks/notifier.hpp).
  std::vector<delivery_result> failed_parts;

  static delivery_result delivered(int status = 0) {
    delivery_result r;
    r.status = status;
    return r;
  }
};

}  // namespace tocsin::sinks
