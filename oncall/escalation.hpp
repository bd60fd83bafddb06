#pragma once
// One paged group's escalation (DESIGN.md, "On-call"): step 1 pages `after` the group's first
// notification, step N `after` step N-1's page, `repeat` runs the list again `repeat_after` the
// last step; an ack stops it until the group resolves; a page that fails to deliver (or a step
// that names nobody) makes the next step due at once. Pure state: the router decides when to
// call it and persists what it returns.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.hpp"

namespace tocsin::oncall {

// Who `schedule` names at `at` (roster::on_call); nullopt in a gap.
using on_call_lookup = std::function<std::optional<std::string>(std::string_view schedule,
                                                                std::chrono::sys_seconds at)>;

struct escalation {
  std::string group_key;
  std::string page_id;  // page_id(group_key)
  std::string policy;
  std::string receiver;  // the route's receiver, which carries the pages
  // The group's labels as text: escalations of `continue` routes that page the same group by
  // the same policy (one through Slack, one by email) are one incident and share an ack.
  std::string group_labels;
  std::int64_t incident_ms = 0;    // when it started; signed into ack links
  int cycle = 0;                   // 0 … policy.repeat
  std::size_t next_step = 0;       // index of the step that pages next
  std::int64_t next_due_ms = 0;    // when it does; 0 = no step left
  int last_step = 0;               // 1-based step of the last page (0: none yet)
  std::vector<std::string> paged;  // everyone paged, each once: the resolve reaches them all
  std::string acked_by, ack_comment;
  std::int64_t acked_ms = 0;  // 0 = not acknowledged
  std::int64_t first_page_ms = 0;
  // When this router last changed it: of two copies (routers share escalations over Kafka),
  // the later one wins.
  std::int64_t updated_ms = 0;

  [[nodiscard]] bool acked() const { return acked_ms != 0; }
  bool operator==(const escalation&) const = default;
};

escalation start_escalation(std::string group_key, std::string group_labels,
                            const config::escalation_policy& policy, std::string receiver,
                            std::int64_t now_ms);

// What a due step pages.
struct page_order {
  int step = 0;  // 1-based
  int cycle = 0;
  std::vector<std::string> users;  // empty: the step named nobody (a gap in every schedule)
};

// The step due at `now_ms`, with `e` moved past it; nullopt when none is due (acked, finished,
// or not yet). `policy` is the one `e` names.
std::optional<page_order> take_due_step(escalation& e, const config::escalation_policy& policy,
                                        const on_call_lookup& who, std::int64_t now_ms);

// A page of `step` in `cycle` could not be delivered: the next step is due at once (if there is
// one and nobody acknowledged). Pages of earlier steps failing change nothing.
void page_failed(escalation& e, int step, int cycle, std::int64_t now_ms);

nlohmann::json to_json(const escalation& e);
// nullopt for a record that is not an escalation (a corrupt row, a newer version).
std::optional<escalation> escalation_from_json(const nlohmann::json& j);

}  // namespace tocsin::oncall
