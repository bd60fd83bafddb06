// Silences shared by the routers of a cluster (DESIGN.md "Scale-out"): the silences-topic record
// (to_record / silence_from_record), silence_store::apply() for records from the cluster, and
// on_change() for what this router changes itself.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "sinks/silences.hpp"
#include "tests/support/temp_dir.hpp"

namespace tocsin::sinks {
namespace {

using namespace std::chrono_literals;
using sys_clock = std::chrono::system_clock;

label_matcher matcher(std::string_view text) { return *label_matcher::parse(text); }

std::vector<std::string> texts(const std::vector<label_matcher>& matchers) {
  std::vector<std::string> out;
  for (const auto& m : matchers) out.push_back(m.to_string());
  return out;
}

// Times on whole milliseconds: what a record (and router.db) can carry.
const sys_clock::time_point t0{1'800'000'000'000ms};

silence cluster_silence(const std::string& id, sys_clock::time_point updated,
                        const std::string& comment = "maintenance") {
  silence s;
  s.id = id;
  s.matchers = {matcher(R"(host=~"web.*")"), matcher("env!=dev"), matcher(R"(job!~"batch|cron")"),
                matcher("team=ops")};
  s.starts_at = t0;
  s.ends_at = t0 + 2h;
  s.updated_at = updated;
  s.created_by = "ops@example.com";
  s.comment = comment;
  return s;
}

void expect_same(const silence& got, const silence& want) {
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(texts(got.matchers), texts(want.matchers));
  EXPECT_EQ(got.starts_at, want.starts_at);
  EXPECT_EQ(got.ends_at, want.ends_at);
  EXPECT_EQ(got.updated_at, want.updated_at);
  EXPECT_EQ(got.created_by, want.created_by);
  EXPECT_EQ(got.comment, want.comment);
}

TEST(silence_records, round_trip_keeps_every_field) {
  silence s = cluster_silence("3f1e0c2a-0000-4000-8000-000000000001", t0 + 5min);
  s.comment = "disk swap \"rack 4\"\nsecond line, ünïcödé";
  const std::string record = to_record(s);
  EXPECT_NE(record.find(R"("v":1)"), std::string::npos) << record;
  std::string problem;
  const auto back = silence_from_record(record, &problem);
  ASSERT_TRUE(back.has_value()) << problem << ": " << record;
  expect_same(*back, s);
  // And again: a record read back and re-published is the same record.
  EXPECT_EQ(to_record(*back), record);
}

TEST(silence_records, record_is_the_documented_json) {
  const silence s = cluster_silence("id-1", t0 + 1s);
  // Written by hand as DESIGN.md describes it, not by to_record().
  const std::string record =
      R"({"v":1,"id":"id-1","matchers":[{"name":"team","value":"ops","isRegex":false,)"
      R"("isEqual":true}],"startsAt":1800000000000,"endsAt":1800007200000,)"
      R"("updatedAt":1800000001000,"createdBy":"ops@example.com","comment":"maintenance"})";
  std::string problem;
  const auto got = silence_from_record(record, &problem);
  ASSERT_TRUE(got.has_value()) << problem;
  EXPECT_EQ(got->id, "id-1");
  EXPECT_EQ(texts(got->matchers), std::vector<std::string>{R"(team="ops")"});
  EXPECT_EQ(got->starts_at, s.starts_at);
  EXPECT_EQ(got->ends_at, s.ends_at);
  EXPECT_EQ(got->updated_at, s.updated_at);
}

TEST(silence_records, refuses_what_is_not_a_version_1_silence) {
  const std::string good_matchers = R"([{"name":"a","value":"1","isRegex":false,"isEqual":true}])";
  const auto with = [&](const std::string& v, const std::string& matchers) {
    return R"({"v":)" + v + R"(,"id":"x","matchers":)" + matchers +
           R"(,"startsAt":1,"endsAt":2,"updatedAt":1,"createdBy":"me","comment":"c"})";
  };
  std::string problem;
  ASSERT_TRUE(silence_from_record(with("1", good_matchers), &problem).has_value()) << problem;

  const std::vector<std::string> bad = {
      "",
      "not json",
      "[]",
      "null",
      R"({"v":1})",
      with(R"("1")", good_matchers),
      with("1.5", good_matchers),
      with("1", "[]"),                                            // no matchers
      with("1", R"("a=1")"),                                      // not an array
      with("1", R"([{"name":"a"}])"),                             // no value
      with("1", R"([{"name":"a","value":"(","isRegex":true}])"),  // a bad regex
      R"({"v":1,"id":7,"matchers":[],"startsAt":1,"endsAt":2,"updatedAt":1,"createdBy":"me",)"
      R"("comment":"c"})",
      R"({"v":1,"id":"x","matchers":)" + good_matchers +
          R"(,"startsAt":"2026-01-01T00:00:00Z","endsAt":2,"updatedAt":1,"createdBy":"me",)"
          R"("comment":"c"})",
      R"({"v":1,"id":"x","matchers":)" + good_matchers +
          R"(,"startsAt":1,"endsAt":2,"createdBy":"me","comment":"c"})",  // no updatedAt
  };
  for (const std::string& record : bad) {
    problem.clear();
    EXPECT_FALSE(silence_from_record(record, &problem).has_value()) << record;
    EXPECT_FALSE(problem.empty()) << record;
  }
  EXPECT_FALSE(silence_from_record(with("1", "[]"), nullptr).has_value());  // no problem string
}

TEST(silence_records, refuses_a_newer_version_and_says_so) {
  std::string record = to_record(cluster_silence("x", t0));
  record.replace(record.find(R"("v":1)"), 5, R"("v":2)");
  std::string problem;
  EXPECT_FALSE(silence_from_record(record, &problem).has_value()) << record;
  EXPECT_NE(problem.find("version 2"), std::string::npos) << problem;
  EXPECT_FALSE(silence_from_record(record, nullptr).has_value());
}

TEST(silence_records, refuses_a_version_that_only_wraps_around_to_1) {
  // 2^32 + 1 is not version 1, whatever it becomes in 32 bits.
  for (const char* v : {"4294967297", "-4294967295"}) {
    std::string record = to_record(cluster_silence("x", t0));
    record.replace(record.find(R"("v":1)"), 5, std::string(R"("v":)") + v);
    std::string problem;
    EXPECT_FALSE(silence_from_record(record, &problem).has_value()) << record;
  }
}

TEST(silence_records, refuses_times_the_clock_cannot_hold) {
  // Unix ms beyond about ±292 years overflow system_clock's nanoseconds (undefined behaviour,
  // in practice a wrapped, arbitrary time): such a record is refused, not misread.
  const silence s = cluster_silence("x", t0);
  for (const char* field : {"startsAt", "endsAt", "updatedAt"}) {
    for (const char* value :
         {"9223372036854775807", "-9223372036854775807", "18446744073709551615", "9300000000000"}) {
      auto j = nlohmann::json::parse(to_record(s));
      j[field] = nlohmann::json::parse(value);
      std::string problem;
      EXPECT_FALSE(silence_from_record(j.dump(), &problem).has_value()) << j.dump();
      EXPECT_FALSE(problem.empty());
    }
  }
  // Far, but within reach: the year 2200.
  auto j = nlohmann::json::parse(to_record(s));
  j["endsAt"] = 7'258'118'400'000;
  std::string problem;
  const auto far = silence_from_record(j.dump(), &problem);
  ASSERT_TRUE(far.has_value()) << problem;
  EXPECT_EQ(far->ends_at, sys_clock::time_point(7'258'118'400'000ms));
}

// The stores run on a manual clock, 30 minutes into the cluster silences' window.
class silence_apply : public ::testing::Test {
 protected:
  silence_apply() : time(t0 + 30min) {}
  manual_clock time;
  test::temp_dir dir{"silence-apply"};
  int changes = 0;
  std::vector<silence> changed;
  void count_changes(silence_store& store) {
    store.on_change([this](const silence& s) {
      ++changes;
      changed.push_back(s);
    });
  }
};

TEST_F(silence_apply, stores_a_new_silence_and_a_newer_version_but_not_an_older_one) {
  silence_store store(dir / "router.db", time);
  count_changes(store);
  const silence first = cluster_silence("a1", t0 + 1min, "first");
  store.apply(first);
  ASSERT_TRUE(store.get("a1").has_value());
  expect_same(*store.get("a1"), first);
  EXPECT_EQ(store.silenced_by({{"host", "web1"}, {"env", "prod"}, {"team", "ops"}}, time.now()),
            std::vector<std::string>{"a1"});

  silence newer = cluster_silence("a1", t0 + 2min, "newer");
  newer.ends_at = t0 + 1h;
  store.apply(newer);
  expect_same(*store.get("a1"), newer);

  store.apply(cluster_silence("a1", t0 + 90s, "older"));
  expect_same(*store.get("a1"), newer);
  store.apply(cluster_silence("a1", t0 + 2min, "same time"));  // not newer either
  expect_same(*store.get("a1"), newer);

  EXPECT_EQ(store.list().size(), 1u);
  EXPECT_EQ(changes, 0) << "apply() must not publish what came from the cluster";
}

TEST_F(silence_apply, applies_records_store_checks_would_refuse) {
  // An expired silence from the cluster (its end is in the past here) is kept, for the API.
  silence_store store(dir / "router.db", time);
  count_changes(store);
  silence old = cluster_silence("gone", t0 + 1min);
  old.ends_at = t0 + 10min;
  store.apply(old);
  ASSERT_TRUE(store.get("gone").has_value());
  EXPECT_EQ(store.get("gone")->state(time.now()), silence_state::expired);
  EXPECT_TRUE(
      store.silenced_by({{"host", "web1"}, {"env", "prod"}, {"team", "ops"}}, time.now()).empty());
  EXPECT_EQ(changes, 0);
}

TEST_F(silence_apply, applied_silences_survive_a_restart) {
  const silence s = cluster_silence("keep-me", t0 + 3min);
  {
    silence_store store(dir / "router.db", time);
    store.apply(cluster_silence("keep-me", t0 + 1min, "before"));
    store.apply(s);
  }
  silence_store reopened(dir / "router.db", time);
  ASSERT_TRUE(reopened.get("keep-me").has_value());
  expect_same(*reopened.get("keep-me"), s);
  EXPECT_EQ(reopened.list().size(), 1u);
  // And an older record read again after the restart (the topic from the beginning) loses.
  reopened.apply(cluster_silence("keep-me", t0 + 1min, "before"));
  expect_same(*reopened.get("keep-me"), s);
}

TEST_F(silence_apply, a_silence_this_router_made_read_back_from_the_topic_changes_nothing) {
  silence_store store(dir / "router.db", time);
  count_changes(store);
  silence s;
  s.matchers = {matcher("team=ops")};
  s.starts_at = time.now();
  s.ends_at = time.now() + 1h;
  s.created_by = "me";
  s.comment = "mine";
  std::string problem;
  const auto id = store.upsert(s, &problem);
  ASSERT_TRUE(id.has_value()) << problem;
  ASSERT_EQ(changes, 1);
  const silence mine = changed.back();
  // Round trip through the record, as the consumer hands it back.
  const auto back = silence_from_record(to_record(mine), &problem);
  ASSERT_TRUE(back.has_value()) << problem;
  store.apply(*back);
  expect_same(*store.get(*id), mine);
  EXPECT_EQ(changes, 1);
}

TEST_F(silence_apply, upsert_and_expire_report_the_stored_silence) {
  silence_store store(dir / "router.db", time);
  count_changes(store);
  silence s;
  s.matchers = {matcher("team=ops")};
  s.starts_at = time.now() - 5min;  // becomes now
  s.ends_at = time.now() + 1h;
  s.created_by = "me";
  s.comment = "first";
  std::string problem;
  const auto id = store.upsert(s, &problem);
  ASSERT_TRUE(id.has_value()) << problem;
  ASSERT_EQ(changes, 1);
  expect_same(changed.back(), *store.get(*id));
  EXPECT_EQ(changed.back().starts_at, time.now());
  EXPECT_EQ(changed.back().updated_at, time.now());

  // An update in place: the same id, reported once.
  time.advance(1min);
  silence update = *store.get(*id);
  update.ends_at = time.now() + 2h;
  update.comment = "longer";
  ASSERT_EQ(store.upsert(update, &problem), id) << problem;
  ASSERT_EQ(changes, 2);
  expect_same(changed.back(), *store.get(*id));
  EXPECT_EQ(changed.back().comment, "longer");

  // Expire: reported with its new end.
  time.advance(1min);
  ASSERT_TRUE(store.expire(*id, time.now()));
  ASSERT_EQ(changes, 3);
  expect_same(changed.back(), *store.get(*id));
  EXPECT_EQ(changed.back().ends_at, time.now());
  EXPECT_EQ(changed.back().state(time.now()), silence_state::expired);

  // Expiring again changes nothing and reports nothing; nor does an unknown id or a refusal.
  EXPECT_TRUE(store.expire(*id, time.now()));
  EXPECT_FALSE(store.expire("no-such-id", time.now()));
  silence no_matchers = s;
  no_matchers.matchers.clear();
  EXPECT_FALSE(store.upsert(no_matchers, &problem).has_value());
  EXPECT_EQ(changes, 3);
}

TEST_F(silence_apply, a_replacing_update_reports_the_expired_old_silence_and_the_new_one) {
  silence_store store(dir / "router.db", time);
  count_changes(store);
  silence s;
  s.matchers = {matcher("team=ops")};
  s.starts_at = time.now();
  s.ends_at = time.now() + 1h;
  s.created_by = "me";
  s.comment = "c";
  std::string problem;
  const auto old_id = store.upsert(s, &problem);
  ASSERT_TRUE(old_id.has_value()) << problem;
  ASSERT_EQ(changes, 1);

  // Other matchers: Alertmanager cannot update in place; the old one ends, a new one is made.
  time.advance(1min);
  silence other = *store.get(*old_id);
  other.matchers = {matcher("team=db")};
  const auto new_id = store.upsert(other, &problem);
  ASSERT_TRUE(new_id.has_value()) << problem;
  ASSERT_NE(*new_id, *old_id);
  ASSERT_EQ(changes, 3);
  const silence& replaced = changed[1];
  const silence& made = changed[2];
  EXPECT_EQ(replaced.id, *old_id);
  EXPECT_EQ(replaced.ends_at, time.now());
  EXPECT_EQ(replaced.updated_at, time.now());
  expect_same(replaced, *store.get(*old_id));
  EXPECT_EQ(made.id, *new_id);
  expect_same(made, *store.get(*new_id));
  EXPECT_EQ(texts(made.matchers), std::vector<std::string>{R"(team="db")"});

  // Replacing an already expired silence: only the new one is reported (the old is unchanged).
  ASSERT_TRUE(store.expire(*new_id, time.now()));
  ASSERT_EQ(changes, 4);
  time.advance(1min);
  silence again = *store.get(*new_id);
  again.ends_at = time.now() + 1h;
  const auto third = store.upsert(again, &problem);
  ASSERT_TRUE(third.has_value()) << problem;
  ASSERT_EQ(changes, 5);
  EXPECT_EQ(changed.back().id, *third);
}

TEST_F(silence_apply, a_silence_from_the_cluster_that_mutes_everything_is_ignored) {
  silence_store store(dir / "router.db", time);
  silence everything = cluster_silence("all", t0 + 1min);
  everything.matchers = {matcher(R"(alertname=~".*")")};
  store.apply(everything);
  EXPECT_FALSE(store.get("all").has_value());
  everything.matchers.clear();
  store.apply(everything);
  EXPECT_FALSE(store.get("all").has_value());
}

}  // namespace
}  // namespace tocsin::sinks
