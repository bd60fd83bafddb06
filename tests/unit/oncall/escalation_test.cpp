// The escalation state machine (DESIGN.md, "On-call") and the ack links' signatures.

#include "oncall/escalation.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "oncall/ack_link.hpp"

namespace tocsin::oncall {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;

config::escalation_policy two_steps(int repeat = 0) {
  config::escalation_policy p;
  p.name = "ops-critical";
  p.steps.push_back({0s, {{"ops", ""}}, {}});
  p.steps.push_back({15min, {{"ops-secondary", ""}, {"", "carol"}}, {}});
  p.repeat = repeat;
  return p;
}

std::optional<std::string> rota(std::string_view schedule, std::chrono::sys_seconds) {
  if (schedule == "ops") return "alice";
  if (schedule == "ops-secondary") return "bob";
  return std::nullopt;
}

constexpr std::int64_t t0 = 1'800'000'000'000;
constexpr std::int64_t minute = 60'000;

TEST(escalation, steps_page_after_the_previous_page_and_stop_at_the_end) {
  const auto p = two_steps();
  escalation e = start_escalation("{}:{a=\"b\"}", "{a=\"b\"}", p, "slack-ops", t0);
  EXPECT_EQ(e.page_id, page_id("{}:{a=\"b\"}"));
  auto first = take_due_step(e, p, rota, t0);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->step, 1);
  EXPECT_THAT(first->users, ElementsAre("alice"));
  EXPECT_FALSE(take_due_step(e, p, rota, t0 + 15 * minute - 1));
  auto second = take_due_step(e, p, rota, t0 + 15 * minute);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->step, 2);
  EXPECT_THAT(second->users, ElementsAre("bob", "carol"));
  EXPECT_THAT(e.paged, ElementsAre("alice", "bob", "carol"));
  EXPECT_EQ(e.next_due_ms, 0);
  EXPECT_FALSE(take_due_step(e, p, rota, t0 + 600 * minute));
}

TEST(escalation, repeat_runs_the_list_again_after_repeat_after) {
  auto p = two_steps(1);
  p.repeat_after = 30min;
  escalation e = start_escalation("g", "{}", p, "r", t0);
  ASSERT_TRUE(take_due_step(e, p, rota, t0));
  ASSERT_TRUE(take_due_step(e, p, rota, t0 + 15 * minute));
  EXPECT_FALSE(take_due_step(e, p, rota, t0 + 45 * minute - 1));
  auto again = take_due_step(e, p, rota, t0 + 45 * minute);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->step, 1);
  EXPECT_EQ(again->cycle, 1);
  ASSERT_TRUE(take_due_step(e, p, rota, t0 + 60 * minute));
  EXPECT_EQ(e.next_due_ms, 0);
  EXPECT_THAT(e.paged, ElementsAre("alice", "bob", "carol"));  // each once
}

TEST(escalation, an_ack_stops_it) {
  const auto p = two_steps();
  escalation e = start_escalation("g", "{}", p, "r", t0);
  ASSERT_TRUE(take_due_step(e, p, rota, t0));
  e.acked_ms = t0 + minute;
  e.acked_by = "alice";
  EXPECT_FALSE(take_due_step(e, p, rota, t0 + 100 * minute));
}

TEST(escalation, a_failed_page_makes_the_next_step_due_at_once) {
  const auto p = two_steps();
  escalation e = start_escalation("g", "{}", p, "r", t0);
  ASSERT_TRUE(take_due_step(e, p, rota, t0));
  page_failed(e, 2, 0, t0 + minute);  // not the last step paged: nothing
  EXPECT_EQ(e.next_due_ms, t0 + 15 * minute);
  page_failed(e, 1, 0, t0 + minute);
  EXPECT_EQ(e.next_due_ms, t0 + minute);
  auto next = take_due_step(e, p, rota, t0 + minute);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->step, 2);
}

TEST(escalation, a_step_that_names_nobody_goes_on_at_once) {
  const auto p = two_steps();
  const on_call_lookup nobody = [](std::string_view, std::chrono::sys_seconds) {
    return std::optional<std::string>();
  };
  escalation e = start_escalation("g", "{}", p, "r", t0);
  auto first = take_due_step(e, p, nobody, t0);
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->users.empty());
  EXPECT_EQ(e.next_due_ms, t0);
  auto second = take_due_step(e, p, nobody, t0);
  ASSERT_TRUE(second);
  EXPECT_THAT(second->users, ElementsAre("carol"));
}

TEST(escalation, json_round_trip_and_refusals) {
  const auto p = two_steps();
  escalation e = start_escalation("g", "{}", p, "r", t0);
  ASSERT_TRUE(take_due_step(e, p, rota, t0));
  e.ack_comment = "on it";
  EXPECT_EQ(escalation_from_json(to_json(e)), e);
  auto j = to_json(e);
  j["page_id"] = "0000000000000000";
  EXPECT_FALSE(escalation_from_json(j));
  EXPECT_FALSE(escalation_from_json(nlohmann::json::parse(R"({"v":2})")));
  EXPECT_FALSE(escalation_from_json(nlohmann::json::parse(R"([1])")));
  EXPECT_FALSE(escalation_from_json(nlohmann::json::parse(R"({"v":1,"group_key":3})")));
}

TEST(escalation, a_policy_shortened_under_it_ends_its_cycle) {
  auto p = two_steps();
  escalation e = start_escalation("g", "{}", p, "r", t0);
  ASSERT_TRUE(take_due_step(e, p, rota, t0));
  ASSERT_TRUE(take_due_step(e, p, rota, t0 + 15 * minute));
  e.next_step = 2;  // as if a third step were next
  e.next_due_ms = t0 + 20 * minute;
  EXPECT_FALSE(take_due_step(e, p, rota, t0 + 20 * minute));
  EXPECT_EQ(e.next_due_ms, 0) << "over, not due on every tick";
  p.repeat = 1;
  p.repeat_after = 5min;
  e.next_step = 2;
  e.next_due_ms = t0 + 20 * minute;
  auto again = take_due_step(e, p, rota, t0 + 20 * minute);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->step, 1);
  EXPECT_EQ(again->cycle, 1);
}

TEST(ack_link, signatures_bind_page_and_incident) {
  const ack_signer signer("0123456789abcdef0123456789abcdef");
  const std::string sig = signer.sign("00aa11bb22cc33dd", t0);
  EXPECT_EQ(sig.size(), 32u);
  EXPECT_TRUE(signer.verify("00aa11bb22cc33dd", t0, sig));
  EXPECT_FALSE(signer.verify("00aa11bb22cc33dd", t0 + 1, sig));
  EXPECT_FALSE(signer.verify("00aa11bb22cc33de", t0, sig));
  EXPECT_FALSE(signer.verify("00aa11bb22cc33dd", t0, sig.substr(1)));
  EXPECT_FALSE(ack_signer("another key, just as long").verify("00aa11bb22cc33dd", t0, sig));
  EXPECT_EQ(page_id("a").size(), 16u);
  EXPECT_NE(page_id("a"), page_id("b"));
}

}  // namespace
}  // namespace tocsin::oncall
