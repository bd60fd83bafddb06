#pragma once
// Silences (Alertmanager's): matchers plus a time window, with who and why. Kept in SQLite
// (data_dir/router.db, table silences) so they survive restarts. Thread-safe.

#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "rules/alert.hpp"
#include "sinks/label_matcher.hpp"

struct sqlite3;

namespace tocsin::sinks {

enum class silence_state { pending, active, expired };

struct silence {
  std::string id;  // UUID v4 text
  std::vector<label_matcher> matchers;
  std::chrono::system_clock::time_point starts_at, ends_at, updated_at;
  std::string created_by, comment;
  [[nodiscard]] silence_state state(std::chrono::system_clock::time_point now) const;
};

// A silence as a record of the silences topic (key = id), so every router of a cluster has it:
// JSON {"v":1, "id", "matchers", "startsAt", "endsAt", "updatedAt" (Unix ms), "createdBy",
// "comment"}. Parsing returns nullopt and `problem` for anything else (a newer "v" too).
std::string to_record(const silence& s);
std::optional<silence> silence_from_record(std::string_view record, std::string* problem);

// The silences of one router.db; validates new ones and prunes old ones by `time_source`.
class silence_store {
 public:
  // Opens/creates the table in `db_file`, dropping silences expired over five days ago; throws
  // std::runtime_error naming the file.
  explicit silence_store(const std::filesystem::path& db_file, clock& time_source = real_clock());
  ~silence_store();
  silence_store(const silence_store&) = delete;
  silence_store& operator=(const silence_store&) = delete;

  // Creates (empty id → new UUID) or updates a silence; returns its id. nullopt with `problem`
  // for no matchers, ends_at before starts_at or before now, or an unknown id.
  std::optional<std::string> upsert(silence s, std::string* problem = nullptr);
  // Sets ends_at = now for a pending or active silence. False for an unknown id.
  bool expire(const std::string& id, std::chrono::system_clock::time_point now);
  [[nodiscard]] std::optional<silence> get(const std::string& id) const;
  [[nodiscard]] std::vector<silence> list() const;
  // Called with every silence this store created or changed (upsert, expire), after it was
  // stored; with a Kafka bus it publishes the silence to the other routers. Set before use.
  void on_change(std::function<void(const silence&)> publish);
  // A silence another router (or this one, read back) published: stored when it is new or
  // newer (updatedAt) than the one held, without the checks of upsert() and without on_change.
  void apply(const silence& s);

  // Ids of the silences active at `now` that match `labels`.
  [[nodiscard]] std::vector<std::string> silenced_by(
      const rules::label_set& labels, std::chrono::system_clock::time_point now) const;

 private:
  clock& time_;
  mutable std::mutex mutex_;
  std::vector<silence> silences_;  // all, also expired ones (kept 5 days, like Alertmanager)
  std::function<void(const silence&)> publish_;
  sqlite3* db_ = nullptr;
};

}  // namespace tocsin::sinks
