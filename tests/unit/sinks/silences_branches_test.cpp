// silence_store branches the main silence tests leave out: each way a stored matchers column can
// be damaged (each row skipped at load, the good ones kept, with the JSON flags' defaults), and
// refusals when the caller passes no problem string.

#include <sqlite3.h>

#include <gtest/gtest.h>

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

std::string ms(sys_clock::time_point tp) {
  return std::to_string(
      std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count());
}

// SQL text literal.
std::string quoted(const std::string& s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

TEST(silences_branches, each_kind_of_damaged_matchers_row_is_skipped_and_flags_default) {
  manual_clock time;
  test::temp_dir dir("silencesb");
  const auto db_file = dir / "router.db";
  { silence_store store(db_file, time); }
  const auto now = time.now();
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"not-json", "{oops"},
      {"object", R"({"name":"a","value":"1"})"},
      {"not-object", "[1]"},
      {"value-number", R"([{"name":"a","value":2}])"},
      {"no-name", R"([{"value":"1"}])"},
      {"regex-string", R"([{"name":"a","value":"1","isRegex":"yes"}])"},
      {"equal-number", R"([{"name":"a","value":"1","isEqual":1}])"},
      {"bad-regex", R"([{"name":"a","value":"(","isRegex":true}])"},
      {"empty-name", R"([{"name":"","value":"1"}])"},
      {"defaults", R"([{"name":"a","value":"1"}])"},
      {"not-regex", R"([{"name":"b","value":"x.*","isRegex":true,"isEqual":false}])"},
      {"not-equal", R"([{"name":"c","value":"2","isRegex":false,"isEqual":false}])"},
  };
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_file.c_str(), &db), SQLITE_OK);
  for (const auto& [id, matchers] : rows) {
    const std::string sql = "INSERT INTO silences VALUES (" + quoted(id) + ", " + quoted(matchers) +
                            ", " + ms(now - 1min) + ", " + ms(now + 1h) + ", " + ms(now) +
                            ", 'me', 'c')";
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << id;
  }
  sqlite3_close(db);

  silence_store store(db_file, time);
  std::vector<std::string> ids;
  for (const auto& s : store.list()) ids.push_back(s.id);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"defaults", "not-equal", "not-regex"}));
  EXPECT_EQ(store.get("defaults")->matchers.at(0).to_string(), R"(a="1")");
  EXPECT_EQ(store.get("not-regex")->matchers.at(0).to_string(), R"(b!~"x.*")");
  EXPECT_EQ(store.get("not-equal")->matchers.at(0).to_string(), R"(c!="2")");
  EXPECT_EQ(store.silenced_by({{"a", "1"}, {"b", "xyz"}, {"c", "2"}}, now),
            std::vector<std::string>{"defaults"});
}

TEST(silences_branches, refusals_without_a_problem_string) {
  manual_clock time;
  test::temp_dir dir("silencesb");
  silence_store store(dir / "router.db", time);
  const auto now = time.now();
  silence s;
  s.starts_at = now;
  s.ends_at = now + 1h;
  EXPECT_FALSE(store.upsert(s).has_value());  // no matchers
  s.matchers.push_back(*label_matcher::parse(R"(a="1")"));
  s.id = "no-such-id";
  EXPECT_FALSE(store.upsert(s, nullptr).has_value());
  s.id.clear();
  s.ends_at = now - 1h;
  s.starts_at = now - 2h;
  std::string problem;
  EXPECT_FALSE(store.upsert(s, &problem).has_value());
  EXPECT_EQ(problem, "end time can't be in the past");
  EXPECT_TRUE(store.list().empty());
  EXPECT_FALSE(store.expire("no-such-id", now));
}

}  // namespace
}  // namespace tocsin::sinks
