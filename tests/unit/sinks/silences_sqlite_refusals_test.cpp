// silence_store when SQLite itself says no, not the disk: a router.db whose silences table is
// not the one tocsin writes stops start-up naming the file; rows SQLite refuses (here by a
// trigger, as a read-only or locked database would) leave memory as the file is, and the caller
// is told; another writer holding the file past the busy timeout refuses the write the same way.
// A silence from the cluster is kept in memory even when the file refuses it (the topic is the
// source of truth and brings it back).

#include <sqlite3.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "sinks/label_matcher.hpp"
#include "sinks/silences.hpp"
#include "tests/support/temp_dir.hpp"

namespace tocsin::sinks {
namespace {

using namespace std::chrono_literals;
using sys_clock = std::chrono::system_clock;
using ::testing::HasSubstr;

template <class F>
std::string error_of(F make) {
  try {
    make();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

silence one_hour_silence(const std::string& host, const std::string& comment) {
  silence s;
  s.matchers = {*label_matcher::parse("host=\"" + host + "\"")};
  s.starts_at = sys_clock::now();
  s.ends_at = s.starts_at + 1h;
  s.created_by = "test";
  s.comment = comment;
  return s;
}

std::vector<std::string> comments_of(const std::vector<silence>& silences) {
  std::vector<std::string> out;
  for (const auto& s : silences) out.push_back(s.comment);
  return out;
}

class silences_sqlite_refusals : public ::testing::Test {
 protected:
  void sql(const std::string& text) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, text.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  // The table as tocsin creates it, by opening a store once.
  void create_table() { silence_store store(file); }

  test::temp_dir dir{"silences-refusals"};
  std::filesystem::path file = dir / "router.db";
};

TEST_F(silences_sqlite_refusals, a_table_without_the_end_time_column_stops_start_up) {
  sql("CREATE TABLE silences (id TEXT PRIMARY KEY, matchers TEXT)");
  const std::string error = error_of([&] { silence_store store(file); });
  EXPECT_THAT(error, HasSubstr("silences " + file.string() + ": "));
  EXPECT_THAT(error, HasSubstr("ends_at_ms"));
}

TEST_F(silences_sqlite_refusals, a_table_missing_a_column_read_at_start_stops_start_up) {
  sql("CREATE TABLE silences (id TEXT PRIMARY KEY, matchers TEXT, starts_at_ms INTEGER, "
      "ends_at_ms INTEGER, updated_at_ms INTEGER, created_by TEXT)");
  const std::string error = error_of([&] { silence_store store(file); });
  EXPECT_THAT(error, HasSubstr("silences " + file.string() + ": "));
  EXPECT_THAT(error, HasSubstr("comment"));
}

TEST_F(silences_sqlite_refusals, old_silences_that_cannot_be_pruned_stop_start_up) {
  create_table();
  sql("INSERT INTO silences VALUES ('old', '[]', 0, 1, 1, 'test', 'from 1970');"
      "CREATE TRIGGER keep BEFORE DELETE ON silences BEGIN SELECT RAISE(ABORT, 'kept'); END;");
  const std::string error = error_of([&] { silence_store store(file); });
  EXPECT_THAT(error, HasSubstr("silences " + file.string() + ": kept"));
}

TEST_F(silences_sqlite_refusals, a_new_silence_sqlite_refuses_is_not_created) {
  create_table();
  sql("CREATE TRIGGER no_refuse BEFORE INSERT ON silences WHEN NEW.comment = 'refuse' "
      "BEGIN SELECT RAISE(ABORT, 'refused by policy'); END;");
  silence_store store(file);
  ASSERT_TRUE(store.upsert(one_hour_silence("web1", "fine")).has_value());
  std::string problem;
  EXPECT_FALSE(store.upsert(one_hour_silence("web2", "refuse"), &problem).has_value());
  EXPECT_THAT(problem, HasSubstr("cannot store the silence: refused by policy"));
  EXPECT_EQ(comments_of(store.list()), std::vector<std::string>{"fine"});
  EXPECT_TRUE(store.silenced_by({{"host", "web2"}}, sys_clock::now()).empty());
}

TEST_F(silences_sqlite_refusals, a_replacement_whose_old_silence_cannot_be_ended_changes_nothing) {
  create_table();
  sql("CREATE TRIGGER locked BEFORE UPDATE ON silences WHEN OLD.comment = 'locked' "
      "BEGIN SELECT RAISE(ABORT, 'row is locked'); END;");
  silence_store store(file);
  const std::string id = store.upsert(one_hour_silence("web1", "locked")).value();
  // New matchers: a new silence replaces it, and the old one must end, which SQLite refuses.
  silence edit = one_hour_silence("web9", "replacement");
  edit.id = id;
  std::string problem;
  EXPECT_FALSE(store.upsert(edit, &problem).has_value());
  EXPECT_THAT(problem, HasSubstr("row is locked"));
  // Neither half happened, in memory or in the file.
  EXPECT_EQ(comments_of(store.list()), std::vector<std::string>{"locked"});
  EXPECT_EQ(store.silenced_by({{"host", "web1"}}, sys_clock::now()), std::vector<std::string>{id});
  EXPECT_TRUE(store.silenced_by({{"host", "web9"}}, sys_clock::now()).empty());
  silence_store reopened(file);
  EXPECT_EQ(comments_of(reopened.list()), std::vector<std::string>{"locked"});
}

TEST_F(silences_sqlite_refusals, a_write_is_refused_while_another_writer_holds_the_file) {
  create_table();
  silence_store store(file);
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  std::string problem;
  // Waits out the 5 s busy timeout, then gives up.
  EXPECT_FALSE(store.upsert(one_hour_silence("web1", "blocked"), &problem).has_value());
  EXPECT_THAT(problem, HasSubstr("cannot store the silence"));
  EXPECT_TRUE(store.list().empty());
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  EXPECT_TRUE(store.upsert(one_hour_silence("web1", "later")).has_value());
}

TEST_F(silences_sqlite_refusals, a_cluster_silence_the_file_refuses_is_still_applied) {
  create_table();
  sql("CREATE TRIGGER no_refuse BEFORE INSERT ON silences WHEN NEW.comment = 'refuse' "
      "BEGIN SELECT RAISE(ABORT, 'refused by policy'); END;");
  silence_store store(file);
  silence s = one_hour_silence("web1", "refuse");
  s.id = "11111111-2222-4333-8444-555555555555";
  s.updated_at = sys_clock::now();
  store.apply(s);
  EXPECT_EQ(store.silenced_by({{"host", "web1"}}, sys_clock::now()),
            std::vector<std::string>{s.id});
  silence_store reopened(file);
  EXPECT_TRUE(reopened.list().empty());  // the topic brings it back, not the file
}

}  // namespace
}  // namespace tocsin::sinks
