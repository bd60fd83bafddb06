#pragma once
// What a router shares with the other routers of a cluster (DESIGN.md "Scale-out"): each sees
// every alert and silence, but only the owner of a group's notification-log partition sends
// that group, and it publishes what it sent so the next owner neither repeats nor forgets it.

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace tocsin::sinks {

// What a receiver was last sent for one aggregation group (Alertmanager's nflog entry).
struct nflog_record {
  std::string receiver;
  std::string group_key;
  std::set<std::string> firing, resolved;  // fingerprints
  std::chrono::system_clock::time_point sent_at;
};

// A record of the notification-log topic (key = group key): JSON {"v":1, "receiver",
// "groupKey", "firing", "resolved", "sentAt" (Unix ms)}. Parsing returns nullopt and `problem`
// for anything else, a newer "v" included.
std::string to_record(const nflog_record& r);
std::optional<nflog_record> nflog_from_record(std::string_view record, std::string* problem);

// A router's announcement on the silences topic (key = router_record_prefix + node), so the
// others can tell when their route trees differ: JSON {"v":1, "node", "routes" (the route
// tree's fingerprint), "at" (Unix ms)}.
inline constexpr std::string_view router_record_prefix = "router:";
struct router_record {
  std::string node;
  std::string routes;
  std::chrono::system_clock::time_point at;
};
std::string to_record(const router_record& r);
std::optional<router_record> router_from_record(std::string_view record, std::string* problem);

class cluster_membership {
 public:
  virtual ~cluster_membership() = default;
  // Whether this router sends the notifications of `group_key` now.
  [[nodiscard]] virtual bool sends(const std::string& group_key) const = 0;
  // Called after each notification-log change this router made (a send, or a group whose
  // alerts resolved without one): published for whichever router owns the group next.
  virtual void sent(const nflog_record& record) = 0;
  // Called when this router drops a group's notification-log entry (not refreshed for five
  // days) while it sends the group: the cluster may forget it too.
  virtual void forgot(const std::string& /*group_key*/) {}
};

}  // namespace tocsin::sinks
