#include "sinks/silences.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <regex>
#include <set>
#include <string>

#include "core/clock.hpp"
#include "tests/support/temp_dir.hpp"

namespace tocsin::sinks {
namespace {

using namespace std::chrono_literals;
using sys_clock = std::chrono::system_clock;

label_matcher matcher(std::string_view text) { return *label_matcher::parse(text); }

silence make_silence(const std::vector<std::string_view>& matchers, sys_clock::time_point starts,
                     sys_clock::time_point ends) {
  silence s;
  for (auto m : matchers) s.matchers.push_back(matcher(m));
  s.starts_at = starts;
  s.ends_at = ends;
  s.created_by = "ops@example.com";
  s.comment = "maintenance";
  return s;
}

std::string upsert_ok(silence_store& store, silence s) {
  std::string problem;
  auto id = store.upsert(std::move(s), &problem);
  EXPECT_TRUE(id.has_value()) << problem;
  return id.value_or("");
}

// The stores run on a manual clock: "now" is the same instant however long a test takes.
class silences : public ::testing::Test {
 protected:
  manual_clock time_;
};

TEST_F(silences, state_follows_the_time_window) {
  const auto t0 = sys_clock::time_point(1'800'000'000'000ms);
  const silence s = make_silence({"a=1"}, t0, t0 + 1h);
  EXPECT_EQ(s.state(t0 - 1ms), silence_state::pending);
  EXPECT_EQ(s.state(t0), silence_state::active);
  EXPECT_EQ(s.state(t0 + 59min), silence_state::active);
  EXPECT_EQ(s.state(t0 + 1h), silence_state::expired);
}

TEST_F(silences, create_gives_a_uuid_v4_and_mutes_matching_alerts_while_active) {
  test::temp_dir dir("silences");
  silence_store store(dir / "router.db", time_);
  const auto now = time_.now();
  const std::string id =
      upsert_ok(store, make_silence({R"(host=~"web.*")", "env=prod"}, now - 1min, now + 1h));
  EXPECT_TRUE(std::regex_match(
      id, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
      << id;
  EXPECT_NE(upsert_ok(store, make_silence({"a=1"}, now, now + 1h)), id);

  const auto s = store.get(id);
  ASSERT_TRUE(s.has_value());
  // A start in the past becomes "now", like Alertmanager.
  EXPECT_EQ(s->starts_at, now);
  EXPECT_EQ(s->state(now + 1s), silence_state::active);

  EXPECT_EQ(store.silenced_by({{"host", "web1"}, {"env", "prod"}}, now + 1s),
            std::vector<std::string>{id});
  EXPECT_TRUE(store.silenced_by({{"host", "db1"}, {"env", "prod"}}, now + 1s).empty());
  EXPECT_TRUE(store.silenced_by({{"host", "web1"}, {"env", "prod"}}, now + 2h).empty());
  EXPECT_EQ(store.list().size(), 2u);
}

TEST_F(silences, pending_silence_mutes_only_from_its_start) {
  test::temp_dir dir("silences");
  silence_store store(dir / "router.db", time_);
  const auto now = time_.now();
  const std::string id = upsert_ok(store, make_silence({"a=1"}, now + 1h, now + 2h));
  EXPECT_EQ(store.get(id)->state(now), silence_state::pending);
  EXPECT_TRUE(store.silenced_by({{"a", "1"}}, now).empty());
  EXPECT_EQ(store.silenced_by({{"a", "1"}}, now + 90min), std::vector<std::string>{id});
}

TEST_F(silences, refuses_invalid_silences) {
  test::temp_dir dir("silences");
  silence_store store(dir / "router.db", time_);
  const auto now = time_.now();
  std::string problem;
  EXPECT_FALSE(store.upsert(make_silence({}, now, now + 1h), &problem));
  EXPECT_NE(problem.find("matcher"), std::string::npos) << problem;
  EXPECT_FALSE(store.upsert(make_silence({"a=1"}, now + 2h, now + 1h), &problem));
  EXPECT_NE(problem.find("end time"), std::string::npos) << problem;
  EXPECT_FALSE(store.upsert(make_silence({"a=1"}, now - 2h, now - 1h), &problem));
  EXPECT_NE(problem.find("past"), std::string::npos) << problem;
  // Matchers that all match "" would mute nearly everything.
  EXPECT_FALSE(store.upsert(make_silence({"a=~\".*\"", "b!=x"}, now, now + 1h), &problem));
  EXPECT_NE(problem.find("empty string"), std::string::npos) << problem;

  auto unknown = make_silence({"a=1"}, now, now + 1h);
  unknown.id = "00000000-0000-4000-8000-000000000000";
  EXPECT_FALSE(store.upsert(unknown, &problem));
  EXPECT_EQ(problem, "silence not found");
  EXPECT_TRUE(store.list().empty());
}

TEST_F(silences, update_in_place_when_alertmanager_allows_it) {
  test::temp_dir dir("silences");
  silence_store store(dir / "router.db", time_);
  const auto now = time_.now();
  const std::string id = upsert_ok(store, make_silence({"a=1"}, now + 1h, now + 2h));

  // Pending, same matchers, start still in the future: same id.
  auto later = *store.get(id);
  later.ends_at = now + 3h;
  later.comment = "longer";
  EXPECT_EQ(upsert_ok(store, later), id);
  EXPECT_EQ(store.get(id)->comment, "longer");
  EXPECT_EQ(store.get(id)->ends_at, std::chrono::floor<std::chrono::milliseconds>(now + 3h));
  EXPECT_EQ(store.list().size(), 1u);

  // Active: extending the end keeps the id.
  const std::string active_id = upsert_ok(store, make_silence({"b=1"}, now, now + 1h));
  auto extended = *store.get(active_id);
  extended.ends_at = now + 5h;
  EXPECT_EQ(upsert_ok(store, extended), active_id);
}

// Alertmanager compares an active silence's start by the second (silence.go canUpdate,
// StartsAt.Unix()), so a client that sends it back without milliseconds keeps the silence.
TEST_F(silences, an_active_silences_start_is_compared_by_the_second) {
  test::temp_dir dir("silences");
  silence_store store(dir / "router.db", time_);
  time_.advance(345ms);
  const auto now = time_.now();
  const std::string id = upsert_ok(store, make_silence({"a=1"}, now, now + 1h));
  auto edited = *store.get(id);
  edited.starts_at = std::chrono::floor<std::chrono::seconds>(edited.starts_at);
  ASSERT_NE(edited.starts_at, store.get(id)->starts_at);
  edited.ends_at = now + 2h;
  EXPECT_EQ(upsert_ok(store, edited), id);
  EXPECT_EQ(store.list().size(), 1u);

  // A start a second away rewrites its past: a new silence.
  edited.starts_at -= 1s;
  EXPECT_NE(upsert_ok(store, edited), id);
  EXPECT_EQ(store.list().size(), 2u);
}

TEST_F(silences, changing_matchers_replaces_and_expires_the_old_silence) {
  test::temp_dir dir("silences");
  silence_store store(dir / "router.db", time_);
  const auto now = time_.now();
  const std::string id = upsert_ok(store, make_silence({"a=1"}, now, now + 1h));
  auto changed = *store.get(id);
  changed.matchers = {matcher("a=2")};
  const std::string new_id = upsert_ok(store, changed);
  EXPECT_NE(new_id, id);
  EXPECT_EQ(store.get(id)->state(time_.now() + 1ms), silence_state::expired);
  EXPECT_EQ(store.get(new_id)->state(time_.now() + 1ms), silence_state::active);
  EXPECT_EQ(store.list().size(), 2u);
}

TEST_F(silences, updating_an_expired_silence_creates_a_new_one) {
  test::temp_dir dir("silences");
  silence_store store(dir / "router.db", time_);
  const auto now = time_.now();
  const std::string id = upsert_ok(store, make_silence({"a=1"}, now, now + 1h));
  ASSERT_TRUE(store.expire(id, time_.now()));
  auto again = *store.get(id);
  again.ends_at = time_.now() + 2h;
  const std::string new_id = upsert_ok(store, again);
  EXPECT_NE(new_id, id);
  EXPECT_EQ(store.get(id)->state(time_.now()), silence_state::expired);
  EXPECT_EQ(store.silenced_by({{"a", "1"}}, time_.now() + 1s), std::vector<std::string>{new_id});
}

TEST_F(silences, expire_ends_active_and_pending_silences) {
  test::temp_dir dir("silences");
  silence_store store(dir / "router.db", time_);
  const auto now = time_.now();
  const std::string active = upsert_ok(store, make_silence({"a=1"}, now, now + 1h));
  const std::string pending = upsert_ok(store, make_silence({"a=1"}, now + 1h, now + 2h));
  const auto at = time_.now() + 1s;

  EXPECT_TRUE(store.expire(active, at));
  EXPECT_TRUE(store.expire(pending, at));
  EXPECT_FALSE(store.expire("no-such-id", at));
  EXPECT_TRUE(store.expire(active, at + 1s));  // already expired: nothing to do

  const auto at_ms = std::chrono::floor<std::chrono::milliseconds>(at);
  EXPECT_EQ(store.get(active)->ends_at, at_ms);
  EXPECT_EQ(store.get(pending)->starts_at, at_ms);  // it never became active
  EXPECT_EQ(store.get(pending)->ends_at, at_ms);
  EXPECT_EQ(store.get(pending)->state(at), silence_state::expired);
  EXPECT_TRUE(store.silenced_by({{"a", "1"}}, at).empty());
  EXPECT_TRUE(store.silenced_by({{"a", "1"}}, now + 90min).empty());
}

TEST_F(silences, persist_across_reopen) {
  test::temp_dir dir("silences");
  const auto now = time_.now();
  std::string id, expired_id;
  {
    silence_store store(dir / "router.db", time_);
    auto s = make_silence({R"(host=~"web\d+")", R"(msg!="say \"hi\"")"}, now, now + 1h);
    s.comment = "disk swap";
    id = upsert_ok(store, s);
    expired_id = upsert_ok(store, make_silence({"a=1"}, now, now + 1h));
    store.expire(expired_id, time_.now());
  }
  silence_store reopened(dir / "router.db", time_);
  const auto s = reopened.get(id);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->comment, "disk swap");
  EXPECT_EQ(s->created_by, "ops@example.com");
  ASSERT_EQ(s->matchers.size(), 2u);
  EXPECT_EQ(s->matchers[0].to_string(), R"(host=~"web\\d+")");
  EXPECT_EQ(s->matchers[1].op(), match_op::not_equal);
  EXPECT_EQ(s->matchers[1].value(), R"(say "hi")");
  EXPECT_EQ(s->ends_at, std::chrono::floor<std::chrono::milliseconds>(now + 1h));
  EXPECT_EQ(reopened.silenced_by({{"host", "web7"}}, time_.now()), std::vector<std::string>{id});
  // Expired silences are kept (for five days) and stay expired.
  ASSERT_TRUE(reopened.get(expired_id).has_value());
  EXPECT_EQ(reopened.get(expired_id)->state(time_.now()), silence_state::expired);
  EXPECT_EQ(reopened.list().size(), 2u);
}

TEST_F(silences, silences_expired_over_five_days_ago_are_pruned_at_load_and_damaged_rows_skipped) {
  test::temp_dir dir("silences");
  const auto db_file = dir / "router.db";
  { silence_store store(db_file, time_); }
  // Write old rows directly: the store refuses silences that end in the past.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_file.c_str(), &db), SQLITE_OK);
  const auto ms = [](sys_clock::time_point tp) {
    return std::to_string(
        std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count());
  };
  const auto now = time_.now();
  const std::string matchers = R"([{"name":"a","value":"1","isRegex":false,"isEqual":true}])";
  for (const auto& [id, ends] :
       {std::pair{"old", now - 24h * 6}, std::pair{"recent", now - 24h * 4}}) {
    const std::string sql = "INSERT INTO silences VALUES ('" + std::string(id) + "', '" + matchers +
                            "', " + ms(ends - 1h) + ", " + ms(ends) + ", " + ms(ends) +
                            ", 'me', 'old one')";
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  }
  // A damaged row is skipped, not fatal.
  const std::string broken = "INSERT INTO silences VALUES ('broken', '[{\"name\":1}]', 0, " +
                             ms(now + 1h) + ", 0, 'me', 'broken')";
  ASSERT_EQ(sqlite3_exec(db, broken.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);

  silence_store store(db_file, time_);
  EXPECT_FALSE(store.get("broken").has_value());
  EXPECT_EQ(store.list().size(), 1u);
  EXPECT_FALSE(store.get("old").has_value());
  ASSERT_TRUE(store.get("recent").has_value());
  EXPECT_EQ(store.get("recent")->matchers[0].to_string(), R"(a="1")");
  { silence_store again(db_file, time_); }  // the prune was written, not just skipped in memory
  sqlite3_open(db_file.c_str(), &db);
  int rows = -1;
  sqlite3_exec(
      db, "SELECT count(*) FROM silences",
      [](void* out, int, char** values, char**) {
        *static_cast<int*>(out) = std::stoi(values[0]);
        return 0;
      },
      &rows, nullptr);
  sqlite3_close(db);
  EXPECT_EQ(rows, 2);  // "recent" and the damaged row
}

// Alertmanager's retention, to the millisecond: a silence that ended five days ago is kept, one
// that ended longer ago is dropped when the store is next opened.
TEST_F(silences, expired_silences_are_kept_five_days_to_the_millisecond) {
  test::temp_dir dir("silences");
  const auto db_file = dir / "router.db";
  std::string id;
  {
    silence_store store(db_file, time_);
    id = upsert_ok(store, make_silence({"a=1"}, time_.now(), time_.now() + 1h));
  }
  time_.advance(1h + 24h * 5);
  {
    silence_store store(db_file, time_);
    EXPECT_TRUE(store.get(id).has_value()) << "ended exactly five days ago";
  }
  time_.advance(1ms);
  silence_store store(db_file, time_);
  EXPECT_FALSE(store.get(id).has_value());
}

// "In the past" is by the store's clock: an end equal to now is taken (Alertmanager refuses
// only an end before now), one a millisecond earlier is not.
TEST_F(silences, an_end_in_the_past_is_judged_by_the_stores_clock) {
  test::temp_dir dir("silences");
  silence_store store(dir / "router.db", time_);
  const auto ends = time_.now() + 1h;
  time_.advance(1h);
  std::string problem;
  EXPECT_TRUE(store.upsert(make_silence({"a=1"}, ends - 2h, ends), &problem)) << problem;
  time_.advance(1ms);
  EXPECT_FALSE(store.upsert(make_silence({"a=1"}, ends - 2h, ends), &problem));
  EXPECT_NE(problem.find("past"), std::string::npos) << problem;
}

// A pending silence may be moved in place; once the clock reaches its start it is active, and
// moving its start replaces it (the old one ends now).
TEST_F(silences, a_pending_silence_that_has_started_is_replaced_not_moved) {
  test::temp_dir dir("silences");
  silence_store store(dir / "router.db", time_);
  const std::string id =
      upsert_ok(store, make_silence({"a=1"}, time_.now() + 1h, time_.now() + 2h));
  time_.advance(1h);
  ASSERT_EQ(store.get(id)->state(time_.now()), silence_state::active);
  auto moved = *store.get(id);
  moved.starts_at = time_.now() + 10min;
  const std::string new_id = upsert_ok(store, moved);
  EXPECT_NE(new_id, id);
  EXPECT_EQ(store.get(id)->ends_at, time_.now());
  EXPECT_EQ(store.get(id)->state(time_.now()), silence_state::expired);
  EXPECT_EQ(store.get(new_id)->state(time_.now()), silence_state::pending);
  EXPECT_EQ(store.get(new_id)->state(time_.now() + 10min), silence_state::active);
}

TEST_F(silences, shares_the_database_file_with_other_tables) {
  test::temp_dir dir("silences");
  const auto db_file = dir / "router.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_file.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE notified (x TEXT)", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  silence_store store(db_file, time_);
  const auto now = time_.now();
  EXPECT_FALSE(upsert_ok(store, make_silence({"a=1"}, now, now + 1h)).empty());
}

TEST_F(silences, unopenable_file_is_an_error_naming_it) {
  test::temp_dir dir("silences");
  try {
    silence_store store(dir.path(), time_);  // a directory, not a database
    FAIL() << "expected runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(dir.path().string()), std::string::npos) << e.what();
  }
}

TEST_F(silences, ids_are_unique) {
  test::temp_dir dir("silences");
  silence_store store(dir / "router.db", time_);
  const auto now = time_.now();
  std::set<std::string> ids;
  for (int i = 0; i < 50; ++i) ids.insert(upsert_ok(store, make_silence({"a=1"}, now, now + 1h)));
  EXPECT_EQ(ids.size(), 50u);
}

}  // namespace
}  // namespace tocsin::sinks
