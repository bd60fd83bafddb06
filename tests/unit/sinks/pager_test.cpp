// The pager's share of the cluster (DESIGN.md "On-call", "Scale-out"): what it tells the on-call
// topic, and how it takes another router's copy of an escalation.

#include "sinks/pager.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <vector>

#include "tests/support/temp_dir.hpp"

namespace tocsin::sinks {
namespace {

using namespace std::chrono_literals;

class pager_test : public ::testing::Test {
 protected:
  pager_test() {
    config::escalation_policy p;
    p.name = "p";
    p.steps.push_back({0s, {{"", "alice"}}, {}});
    p.steps.push_back({10min, {{"", "bob"}}, {}});
    pages.configure({p}, [](std::string_view, std::chrono::sys_seconds) {
      return std::optional<std::string>();
    });
    pages.on_change([this](const escalation_key& key, const std::optional<oncall::escalation>& e) {
      published.emplace_back(key, e);
    });
  }

  test::temp_dir dir{"pager"};
  manual_clock time;
  metrics_registry metrics;
  pager pages{dir.path() / "router.db", metrics, time};
  std::vector<std::pair<escalation_key, std::optional<oncall::escalation>>> published;
  const escalation_key key{"slack", "{}:{alertname=\"db-down\"}"};
};

TEST_F(pager_test, every_change_is_published_and_the_end_is_a_tombstone) {
  pages.group_notified(key, {{"alertname", "db-down"}}, "p");
  pages.take_step(key, {}, {});
  time.advance(1s);
  ASSERT_EQ(pages.ack(key.second, "alice", "").outcome, ack_outcome::acked);
  pages.group_resolved(key, {}, {});
  ASSERT_EQ(published.size(), 4u);
  EXPECT_EQ(published[0].first, key);
  EXPECT_EQ(published[0].second->next_step, 0u);
  EXPECT_EQ(published[1].second->next_step, 1u);
  EXPECT_EQ(published[2].second->acked_by, "alice");
  EXPECT_LT(published[1].second->updated_ms, published[2].second->updated_ms);
  EXPECT_FALSE(published[3].second.has_value());
  EXPECT_EQ(escalation_key_from_record(escalation_record_key(key)), key);
  EXPECT_FALSE(escalation_key_from_record("no receiver"));
}

TEST_F(pager_test, a_newer_copy_wins_an_older_one_does_not_and_an_ack_sticks) {
  pages.group_notified(key, {{"alertname", "db-down"}}, "p");
  oncall::escalation theirs = *published.back().second;
  pages.take_step(key, {}, {});  // mine moves on
  const oncall::escalation mine = pages.escalations().at(0);

  pages.apply(key, theirs);  // older: ignored
  EXPECT_EQ(pages.escalations().at(0), mine);

  theirs.acked_by = "bob";  // older, but acknowledged: the ack is taken, the rest is kept
  theirs.acked_ms = 1;
  pages.apply(key, theirs);
  EXPECT_EQ(pages.escalations().at(0).acked_by, "bob");
  EXPECT_EQ(pages.escalations().at(0).next_step, mine.next_step);

  oncall::escalation newer = mine;  // newer, without the ack: the ack stays
  newer.updated_ms = mine.updated_ms + 1000;
  newer.next_step = 2;
  pages.apply(key, newer);
  EXPECT_EQ(pages.escalations().at(0).next_step, 2u);
  EXPECT_EQ(pages.escalations().at(0).acked_by, "bob");

  oncall::escalation elsewhere = newer;  // a record under another key is refused
  elsewhere.receiver = "mail";
  pages.apply(key, elsewhere);
  EXPECT_EQ(pages.escalations().at(0).receiver, "slack");

  pages.apply(key, std::nullopt);  // the group's sender ended it
  EXPECT_TRUE(pages.escalations().empty());
  EXPECT_EQ(published.size(), 2u) << "what came from the cluster is not published again";
}

TEST_F(pager_test, applied_escalations_survive_a_restart) {
  oncall::escalation e = oncall::start_escalation(
      key.second, "{}", config::escalation_policy{"p", {{0s, {{"", "alice"}}, {}}}, 0, {}, {}},
      key.first, 1000);
  e.updated_ms = 5;
  pages.apply(key, e);
  pager reopened(dir.path() / "router.db", metrics, time);
  ASSERT_EQ(reopened.escalations().size(), 1u);
  EXPECT_EQ(reopened.escalations()[0], e);
}

}  // namespace
}  // namespace tocsin::sinks
