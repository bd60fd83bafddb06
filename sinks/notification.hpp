#pragma once
// One notification: what the router hands a receiver when a group is flushed.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rules/alert.hpp"

namespace tocsin::sinks {

struct notification {
  std::string receiver;
  std::string group_key;             // route_tree::group_key()
  rules::label_set group_labels;     // the labels the group is grouped by
  std::vector<rules::alert> alerts;  // firing first, then resolved; each sorted by startsAt
  std::string external_url;          // where tocsin's API is reached (webhook externalURL)
  // Earliest receive time of the alerts that made this notification due (latency metric).
  std::chrono::steady_clock::time_point due_since{};

  [[nodiscard]] bool firing() const;  // any alert firing
  [[nodiscard]] rules::label_set common_labels() const;
  [[nodiscard]] std::map<std::string, std::string> common_annotations() const;
};

// What a delivery attempt came to. `retry`: network error, 5xx, 429 (with retry_after when the
// peer said so); `permanent`: other 4xx or a request that can never succeed.
struct delivery_result {
  enum class outcome { delivered, retry, permanent };
  outcome result = outcome::delivered;
  int status = 0;      // HTTP or SMTP status, 0 when none
  std::string detail;  // error text or the peer's response body (truncated)
  std::optional<std::chrono::seconds> retry_after;

  static delivery_result delivered(int status = 0) { return {outcome::delivered, status, {}, {}}; }
};

}  // namespace tocsin::sinks
