#include "oncall/escalation.hpp"

#include <algorithm>

#include "oncall/ack_link.hpp"

namespace tocsin::oncall {
namespace {

std::int64_t ms(config::duration d) { return d.count(); }

std::int64_t repeat_after_ms(const config::escalation_policy& policy) {
  if (policy.repeat_after) return ms(*policy.repeat_after);
  return policy.steps.empty() ? 0 : ms(policy.steps.back().after);
}

void add_once(std::vector<std::string>& list, const std::string& name) {
  if (std::find(list.begin(), list.end(), name) == list.end()) list.push_back(name);
}

}  // namespace

escalation start_escalation(std::string group_key, std::string group_labels,
                            const config::escalation_policy& policy, std::string receiver,
                            std::int64_t now_ms) {
  escalation e;
  e.group_labels = std::move(group_labels);
  e.page_id = page_id(group_key);
  e.group_key = std::move(group_key);
  e.policy = policy.name;
  e.receiver = std::move(receiver);
  e.incident_ms = now_ms;
  e.next_due_ms = policy.steps.empty() ? 0 : now_ms + ms(policy.steps.front().after);
  return e;
}

std::optional<page_order> take_due_step(escalation& e, const config::escalation_policy& policy,
                                        const on_call_lookup& who, std::int64_t now_ms) {
  if (e.acked() || e.next_due_ms == 0 || now_ms < e.next_due_ms || policy.steps.empty()) {
    return std::nullopt;
  }
  if (e.next_step >= policy.steps.size()) {
    // A reload shortened the policy under a running escalation: its cycle is over.
    e.next_step = 0;
    if (e.cycle >= policy.repeat) {
      e.next_due_ms = 0;
      return std::nullopt;
    }
    ++e.cycle;
  }
  const config::escalation_step& step = policy.steps[e.next_step];
  page_order order;
  order.step = static_cast<int>(e.next_step) + 1;
  order.cycle = e.cycle;
  const auto at = std::chrono::sys_seconds(std::chrono::seconds(now_ms / 1000));
  for (const config::escalation_target& target : step.notify) {
    if (!target.user.empty()) {
      add_once(order.users, target.user);
    } else if (auto user = who(target.schedule, at)) {
      add_once(order.users, *user);
    }
  }
  for (const std::string& user : order.users) add_once(e.paged, user);
  e.last_step = order.step;
  if (e.first_page_ms == 0 && !order.users.empty()) e.first_page_ms = now_ms;

  ++e.next_step;
  if (e.next_step < policy.steps.size()) {
    e.next_due_ms = now_ms + ms(policy.steps[e.next_step].after);
  } else if (e.cycle < policy.repeat) {
    ++e.cycle;
    e.next_step = 0;
    e.next_due_ms = now_ms + repeat_after_ms(policy);
  } else {
    e.next_due_ms = 0;
  }
  if (order.users.empty() && e.next_due_ms != 0) e.next_due_ms = now_ms;  // nobody: go on
  return order;
}

void page_failed(escalation& e, int step, int cycle, std::int64_t now_ms) {
  if (e.acked() || e.next_due_ms == 0 || step != e.last_step) return;
  // The cycle of the last page: the current one, or the one before when it wrapped around.
  const int last_cycle = e.next_step == 0 ? e.cycle - 1 : e.cycle;
  if (cycle != last_cycle) return;
  e.next_due_ms = std::min(e.next_due_ms, now_ms);
}

nlohmann::json to_json(const escalation& e) {
  return {{"v", 1},
          {"group_key", e.group_key},
          {"page_id", e.page_id},
          {"policy", e.policy},
          {"receiver", e.receiver},
          {"group_labels", e.group_labels},
          {"incident_ms", e.incident_ms},
          {"cycle", e.cycle},
          {"next_step", e.next_step},
          {"next_due_ms", e.next_due_ms},
          {"last_step", e.last_step},
          {"paged", e.paged},
          {"acked_by", e.acked_by},
          {"ack_comment", e.ack_comment},
          {"acked_ms", e.acked_ms},
          {"first_page_ms", e.first_page_ms},
          {"updated_ms", e.updated_ms}};
}

std::optional<escalation> escalation_from_json(const nlohmann::json& j) {
  try {
    if (!j.is_object() || j.value("v", 0) != 1) return std::nullopt;
    escalation e;
    e.group_key = j.at("group_key").get<std::string>();
    e.page_id = j.at("page_id").get<std::string>();
    e.policy = j.at("policy").get<std::string>();
    e.receiver = j.at("receiver").get<std::string>();
    e.group_labels = j.at("group_labels").get<std::string>();
    e.incident_ms = j.at("incident_ms").get<std::int64_t>();
    e.cycle = j.at("cycle").get<int>();
    e.next_step = j.at("next_step").get<std::size_t>();
    e.next_due_ms = j.at("next_due_ms").get<std::int64_t>();
    e.last_step = j.at("last_step").get<int>();
    e.paged = j.at("paged").get<std::vector<std::string>>();
    e.acked_by = j.at("acked_by").get<std::string>();
    e.ack_comment = j.at("ack_comment").get<std::string>();
    e.acked_ms = j.at("acked_ms").get<std::int64_t>();
    e.first_page_ms = j.at("first_page_ms").get<std::int64_t>();
    e.updated_ms = j.at("updated_ms").get<std::int64_t>();
    if (e.page_id != page_id(e.group_key)) return std::nullopt;
    return e;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

}  // namespace tocsin::oncall
