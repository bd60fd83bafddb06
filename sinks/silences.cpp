#include "sinks/silences.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <system_error>

#include "sinks/record_time.hpp"
#include "sinks/sqlite_db.hpp"

namespace tocsin::sinks {
namespace {

using namespace std::chrono_literals;
using time_point = std::chrono::system_clock::time_point;

// Alertmanager keeps expired silences this long (its --data.retention default) so they can be
// looked at and recreated.
constexpr auto expired_retention = std::chrono::hours(24 * 5);

constexpr const char* schema = R"(
  CREATE TABLE IF NOT EXISTS silences (
    id            TEXT    PRIMARY KEY,
    matchers      TEXT    NOT NULL,
    starts_at_ms  INTEGER NOT NULL,
    ends_at_ms    INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    created_by    TEXT    NOT NULL,
    comment       TEXT    NOT NULL
  ))";

constexpr const char* select_sql =
    "SELECT id, matchers, starts_at_ms, ends_at_ms, updated_at_ms, created_by, comment "
    "FROM silences ORDER BY rowid";

constexpr const char* prune_sql = "DELETE FROM silences WHERE ends_at_ms < ?1";

constexpr const char* upsert_sql = R"(
  INSERT INTO silences (id, matchers, starts_at_ms, ends_at_ms, updated_at_ms, created_by, comment)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
  ON CONFLICT (id) DO UPDATE SET
    matchers = excluded.matchers,
    starts_at_ms = excluded.starts_at_ms,
    ends_at_ms = excluded.ends_at_ms,
    updated_at_ms = excluded.updated_at_ms,
    created_by = excluded.created_by,
    comment = excluded.comment)";

std::int64_t to_ms(time_point tp) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count();
}

time_point from_ms(std::int64_t ms) { return time_point(std::chrono::milliseconds(ms)); }

// Times are kept at the millisecond precision SQLite stores, so a silence reads back equal.
time_point floor_ms(time_point tp) { return std::chrono::floor<std::chrono::milliseconds>(tp); }

void set_problem(std::string* problem, std::string text) {
  if (problem != nullptr) *problem = std::move(text);
}

// The API's matcher shape: {"name", "value", "isRegex", "isEqual"}.
std::string matchers_json(const std::vector<label_matcher>& matchers) {
  auto out = nlohmann::json::array();
  for (const label_matcher& m : matchers) {
    const bool regex = m.op() == match_op::regex || m.op() == match_op::not_regex;
    const bool equal = m.op() == match_op::equal || m.op() == match_op::regex;
    out.push_back(
        {{"name", m.name()}, {"value", m.value()}, {"isRegex", regex}, {"isEqual", equal}});
  }
  // Invalid UTF-8 (possible in a value parsed from matcher text) is replaced, not thrown on.
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<std::vector<label_matcher>> parse_matchers_json(const std::string& text,
                                                              std::string& problem) {
  const auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_array()) {
    problem = "matchers are not a JSON array";
    return std::nullopt;
  }
  std::vector<label_matcher> out;
  for (const auto& item : json) {
    const auto flag = [&](const char* key, bool fallback) -> std::optional<bool> {
      if (!item.contains(key)) return fallback;
      if (!item[key].is_boolean()) return std::nullopt;
      return item[key].get<bool>();
    };
    const auto regex = item.is_object() ? flag("isRegex", false) : std::nullopt;
    const auto equal = item.is_object() ? flag("isEqual", true) : std::nullopt;
    if (!item.is_object() || !item.value("name", nlohmann::json()).is_string() ||
        !item.value("value", nlohmann::json()).is_string() || !regex || !equal) {
      problem = "a matcher that is not {name, value, isRegex, isEqual}";
      return std::nullopt;
    }
    const match_op op = *regex ? (*equal ? match_op::regex : match_op::not_regex)
                               : (*equal ? match_op::equal : match_op::not_equal);
    auto m = label_matcher::make(item["name"].get<std::string>(), item["value"].get<std::string>(),
                                 op, &problem);
    if (!m) return std::nullopt;
    out.push_back(std::move(*m));
  }
  return out;
}

std::string new_uuid() {
  std::random_device random;
  std::array<std::uint8_t, 16> bytes{};
  for (std::size_t i = 0; i < bytes.size(); i += 4) {
    const std::uint32_t word = random();
    for (std::size_t j = 0; j < 4; ++j) bytes[i + j] = static_cast<std::uint8_t>(word >> (8 * j));
  }
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += fmt::format("{:02x}", bytes[i]);
  }
  return out;
}

bool write_silence(sqlite3* db, const silence& row) {
  sqlite_statement upsert(db, upsert_sql);
  if (!upsert.prepared()) return false;
  upsert.bind(1, row.id);
  upsert.bind(2, matchers_json(row.matchers));
  upsert.bind(3, to_ms(row.starts_at));
  upsert.bind(4, to_ms(row.ends_at));
  upsert.bind(5, to_ms(row.updated_at));
  upsert.bind(6, row.created_by);
  upsert.bind(7, row.comment);
  return sqlite3_step(upsert.get()) == SQLITE_DONE;
}

bool matches_empty(const label_matcher& m) { return m.matches(rules::label_set{}); }

bool same_matchers(const std::vector<label_matcher>& a, const std::vector<label_matcher>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const label_matcher& x, const label_matcher& y) {
                      return x.name() == y.name() && x.value() == y.value() && x.op() == y.op();
                    });
}

// Alertmanager's canUpdate: a silence is changed in place only when its matchers stay the same
// and the new times do not rewrite its past; otherwise the old one is expired and a new one made.
bool can_update(const silence& before, const silence& after, time_point now) {
  if (!same_matchers(before.matchers, after.matchers)) return false;
  switch (before.state(now)) {
    case silence_state::active:
      // By the second, as Alertmanager 0.25 compares (StartsAt.Unix()): a client that sends the
      // start back without its milliseconds still changes the same silence.
      return std::chrono::floor<std::chrono::seconds>(after.starts_at) ==
                 std::chrono::floor<std::chrono::seconds>(before.starts_at) &&
             after.ends_at >= now;
    case silence_state::pending:
      return after.starts_at >= now;
    case silence_state::expired:
      return false;
  }
  return false;
}

}  // namespace

silence_state silence::state(time_point now) const {
  if (now < starts_at) return silence_state::pending;
  if (now < ends_at) return silence_state::active;
  return silence_state::expired;
}

silence_store::silence_store(const std::filesystem::path& db_file, clock& time_source)
    : time_(time_source) {
  const auto fail = [&](const std::string& reason) {
    sqlite3_close_v2(db_);  // closes once the statements in scope are finalized
    db_ = nullptr;
    throw std::runtime_error("silences " + db_file.string() + ": " + reason);
  };
  db_ = open_state_db(db_file, schema, "silences");

  sqlite_statement prune(db_, prune_sql);
  if (!prune.prepared()) fail(sqlite3_errmsg(db_));
  prune.bind(1, to_ms(time_.now() - expired_retention));
  if (sqlite3_step(prune.get()) != SQLITE_DONE) fail(sqlite3_errmsg(db_));

  sqlite_statement select(db_, select_sql);
  if (!select.prepared()) fail(sqlite3_errmsg(db_));
  int step = SQLITE_ROW;
  while ((step = sqlite3_step(select.get())) == SQLITE_ROW) {
    silence s;
    s.id = select.text(0);
    std::string problem;
    auto matchers = parse_matchers_json(select.text(1), problem);
    if (!matchers) {
      // One damaged row should not keep the router from starting with the others.
      spdlog::error("silences {}: skipping silence {}: {}", db_file.string(), s.id, problem);
      continue;
    }
    s.matchers = std::move(*matchers);
    s.starts_at = from_ms(sqlite3_column_int64(select.get(), 2));
    s.ends_at = from_ms(sqlite3_column_int64(select.get(), 3));
    s.updated_at = from_ms(sqlite3_column_int64(select.get(), 4));
    s.created_by = select.text(5);
    s.comment = select.text(6);
    silences_.push_back(std::move(s));
  }
  if (step != SQLITE_DONE) fail(sqlite3_errmsg(db_));
}

silence_store::~silence_store() { sqlite3_close(db_); }

std::optional<std::string> silence_store::upsert(silence s, std::string* problem) {
  const time_point now = floor_ms(time_.now());
  s.starts_at = floor_ms(s.starts_at);
  s.ends_at = floor_ms(s.ends_at);
  if (s.matchers.empty()) {
    set_problem(problem, "a silence needs at least one matcher");
    return std::nullopt;
  }
  // A silence of matchers that all match "" would mute every alert lacking those labels.
  if (std::all_of(s.matchers.begin(), s.matchers.end(), matches_empty)) {
    set_problem(problem, "at least one matcher must not match the empty string");
    return std::nullopt;
  }
  if (s.ends_at < s.starts_at) {
    set_problem(problem, "end time must not be before start time");
    return std::nullopt;
  }
  if (s.ends_at < now) {
    set_problem(problem, "end time can't be in the past");
    return std::nullopt;
  }

  std::lock_guard lock(mutex_);
  const auto write = [&](const silence& row) { return write_silence(db_, row); };
  const auto write_failed = [&]() -> std::optional<std::string> {
    set_problem(problem, std::string("cannot store the silence: ") + sqlite3_errmsg(db_));
    spdlog::error("silences: cannot store silence {}: {}", s.id, sqlite3_errmsg(db_));
    return std::nullopt;
  };

  auto previous = silences_.end();
  if (!s.id.empty()) {
    previous = std::find_if(silences_.begin(), silences_.end(),
                            [&](const silence& x) { return x.id == s.id; });
    if (previous == silences_.end()) {
      set_problem(problem, "silence not found");
      return std::nullopt;
    }
  }
  s.updated_at = now;
  if (previous != silences_.end() && can_update(*previous, s, now)) {
    if (!write(s)) return write_failed();
    *previous = s;
    if (publish_) publish_(s);
    return s.id;
  }

  // A new silence, or one that replaces `previous`: the old one ends now (unless it already
  // has), both in one transaction.
  std::optional<silence> replaced;
  if (previous != silences_.end() && previous->state(now) != silence_state::expired) {
    replaced = *previous;
    if (replaced->state(now) == silence_state::pending) replaced->starts_at = now;
    replaced->ends_at = now;
    replaced->updated_at = now;
  }
  s.id = new_uuid();
  s.starts_at = std::max(s.starts_at, now);
  if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return write_failed();
  }
  if ((replaced && !write(*replaced)) || !write(s)) {
    auto result = write_failed();
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return result;
  }
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    auto result = write_failed();
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return result;
  }
  if (replaced) *previous = *replaced;
  silences_.push_back(s);
  if (publish_) {
    if (replaced) publish_(*replaced);
    publish_(s);
  }
  return s.id;
}

bool silence_store::expire(const std::string& id, time_point now) {
  now = floor_ms(now);
  std::lock_guard lock(mutex_);
  const auto it = std::find_if(silences_.begin(), silences_.end(),
                               [&](const silence& x) { return x.id == id; });
  if (it == silences_.end()) return false;
  const silence_state state = it->state(now);
  if (state == silence_state::expired) return true;  // nothing left to do
  // A pending silence gets starts_at = ends_at = now, so it never was active (Alertmanager).
  if (state == silence_state::pending) it->starts_at = now;
  it->ends_at = now;
  it->updated_at = now;
  sqlite_statement update(
      db_,
      "UPDATE silences SET starts_at_ms = ?2, ends_at_ms = ?3, updated_at_ms = ?3 "
      "WHERE id = ?1");
  bool stored = false;
  if (update.prepared()) {
    update.bind(1, id);
    update.bind(2, to_ms(it->starts_at));
    update.bind(3, to_ms(now));
    stored = sqlite3_step(update.get()) == SQLITE_DONE;
  }
  // Still expired for this run; only a restart would bring it back (unless published).
  if (!stored) {
    spdlog::error("silences: cannot store the expiry of silence {}: {}", id, sqlite3_errmsg(db_));
  }
  if (publish_) publish_(*it);
  return true;
}

void silence_store::on_change(std::function<void(const silence&)> publish) {
  std::lock_guard lock(mutex_);
  publish_ = std::move(publish);
}

void silence_store::apply(const silence& s) {
  // What upsert() would refuse is refused here too: a record on the topic cannot mute
  // everything.
  if (s.matchers.empty() || std::all_of(s.matchers.begin(), s.matchers.end(), matches_empty)) {
    spdlog::error("silences: ignoring silence {} from the cluster: its matchers match everything",
                  s.id);
    return;
  }
  std::lock_guard lock(mutex_);
  const auto it = std::find_if(silences_.begin(), silences_.end(),
                               [&](const silence& x) { return x.id == s.id; });
  if (it != silences_.end() && it->updated_at >= s.updated_at) return;  // ours, or older
  if (!write_silence(db_, s)) {
    spdlog::error("silences: cannot store silence {} from the cluster: {}", s.id,
                  sqlite3_errmsg(db_));
  }
  if (it != silences_.end()) {
    *it = s;
  } else {
    silences_.push_back(s);
  }
}

std::string to_record(const silence& s) {
  nlohmann::json j = {{"v", 1},
                      {"id", s.id},
                      {"matchers", nlohmann::json::parse(matchers_json(s.matchers))},
                      {"startsAt", to_ms(s.starts_at)},
                      {"endsAt", to_ms(s.ends_at)},
                      {"updatedAt", to_ms(s.updated_at)},
                      {"createdBy", s.created_by},
                      {"comment", s.comment}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<silence> silence_from_record(std::string_view record, std::string* problem) {
  const auto j = nlohmann::json::parse(record, nullptr, /*allow_exceptions=*/false);
  const auto is = [&](const char* key, auto check) { return j.contains(key) && check(j[key]); };
  const auto integer = [](const nlohmann::json& v) { return v.is_number_integer(); };
  const auto text = [](const nlohmann::json& v) { return v.is_string(); };
  if (!j.is_object() || !is("v", integer) || !is("id", text) || !is("startsAt", integer) ||
      !is("endsAt", integer) || !is("updatedAt", integer) || !is("createdBy", text) ||
      !is("comment", text) || !j.contains("matchers")) {
    set_problem(problem, "not a silence record");
    return std::nullopt;
  }
  if (j["v"].get<std::int64_t>() != 1) {
    set_problem(problem, "silence record version " + j["v"].dump() + " (this tocsin reads 1)");
    return std::nullopt;
  }
  const auto starts = record_ms(j["startsAt"]);
  const auto ends = record_ms(j["endsAt"]);
  const auto updated = record_ms(j["updatedAt"]);
  if (!starts || !ends || !updated) {
    set_problem(problem, "a silence record with a time out of range");
    return std::nullopt;
  }
  silence s;
  std::string why;
  auto matchers = parse_matchers_json(j["matchers"].dump(), why);
  if (!matchers || matchers->empty()) {
    set_problem(problem, why.empty() ? "a silence record without matchers" : why);
    return std::nullopt;
  }
  s.id = j["id"].get<std::string>();
  s.matchers = std::move(*matchers);
  s.starts_at = from_ms(*starts);
  s.ends_at = from_ms(*ends);
  s.updated_at = from_ms(*updated);
  s.created_by = j["createdBy"].get<std::string>();
  s.comment = j["comment"].get<std::string>();
  return s;
}

std::optional<silence> silence_store::get(const std::string& id) const {
  std::lock_guard lock(mutex_);
  const auto it = std::find_if(silences_.begin(), silences_.end(),
                               [&](const silence& x) { return x.id == id; });
  if (it == silences_.end()) return std::nullopt;
  return *it;
}

std::vector<silence> silence_store::list() const {
  std::lock_guard lock(mutex_);
  return silences_;
}

std::vector<std::string> silence_store::silenced_by(const rules::label_set& labels,
                                                    time_point now) const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> ids;
  for (const silence& s : silences_) {
    if (s.state(now) == silence_state::active && matches_all(s.matchers, labels)) {
      ids.push_back(s.id);
    }
  }
  return ids;
}

}  // namespace tocsin::sinks
