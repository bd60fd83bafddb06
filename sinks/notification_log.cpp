#include "sinks/notification_log.hpp"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <system_error>

namespace tocsin::sinks {
namespace {

constexpr const char* schema = R"(
  CREATE TABLE IF NOT EXISTS notified (
    receiver       TEXT    NOT NULL,
    fingerprint    TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    starts_at_ms   INTEGER NOT NULL,
    notified_at_ms INTEGER NOT NULL,
    PRIMARY KEY (receiver, fingerprint)
  ))";

constexpr const char* select_sql =
    "SELECT status, starts_at_ms FROM notified WHERE receiver = ?1 AND fingerprint = ?2";

constexpr const char* upsert_sql = R"(
  INSERT INTO notified (receiver, fingerprint, status, starts_at_ms, notified_at_ms)
  VALUES (?1, ?2, ?3, ?4, ?5)
  ON CONFLICT (receiver, fingerprint) DO UPDATE SET
    status = excluded.status,
    starts_at_ms = excluded.starts_at_ms,
    notified_at_ms = excluded.notified_at_ms)";

// Another process (a second router on the same data_dir) may hold the write lock briefly.
constexpr int busy_timeout_ms = 5000;

const char* status_text(const rules::alert& a) { return a.firing ? "firing" : "resolved"; }

std::int64_t to_ms(std::chrono::system_clock::time_point tp) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count();
}

// A prepared statement, finalized on scope exit.
class statement {
 public:
  statement(sqlite3* db, const char* sql) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~statement() { sqlite3_finalize(stmt_); }
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;

  [[nodiscard]] bool prepared() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() { return stmt_; }
  void bind(int index, const std::string& text) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  }
  void bind(int index, std::int64_t value) { sqlite3_bind_int64(stmt_, index, value); }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

}  // namespace

notification_log::notification_log(const std::filesystem::path& db_file) {
  const auto fail = [&](const std::string& reason) {
    if (db_ != nullptr) sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("notification log " + db_file.string() + ": " + reason);
  };
  if (db_file.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(db_file.parent_path(), ec);
    if (ec) fail("cannot create directory " + db_file.parent_path().string() + ": " + ec.message());
  }
  const int rc =
      sqlite3_open_v2(db_file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) fail(db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
  sqlite3_busy_timeout(db_, busy_timeout_ms);
  // WAL with synchronous=NORMAL: a committed record survives a crash of the router (not
  // necessarily a power cut), and readers never block the writer.
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", schema}) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(sqlite3_errmsg(db_));
  }
}

notification_log::~notification_log() { sqlite3_close(db_); }

bool notification_log::is_news(const std::string& receiver, const rules::alert& a) {
  std::lock_guard lock(mutex_);
  statement select(db_, select_sql);
  if (select.prepared()) {
    select.bind(1, receiver);
    select.bind(2, a.fingerprint);
    const int rc = sqlite3_step(select.get());
    if (rc == SQLITE_DONE) return true;  // never notified to this receiver
    if (rc == SQLITE_ROW) {
      const auto* status = reinterpret_cast<const char*>(sqlite3_column_text(select.get(), 0));
      const std::int64_t starts_at_ms = sqlite3_column_int64(select.get(), 1);
      return status == nullptr || std::string_view(status) != status_text(a) ||
             starts_at_ms != to_ms(a.starts_at);
    }
  }
  // Better to notify twice than never.
  spdlog::error("notification log: cannot look up {} for receiver {}: {}; treating it as news",
                a.fingerprint, receiver, sqlite3_errmsg(db_));
  return true;
}

void notification_log::record(const std::string& receiver, const rules::alert& a) {
  std::lock_guard lock(mutex_);
  statement upsert(db_, upsert_sql);
  if (upsert.prepared()) {
    upsert.bind(1, receiver);
    upsert.bind(2, a.fingerprint);
    upsert.bind(3, std::string(status_text(a)));
    upsert.bind(4, to_ms(a.starts_at));
    upsert.bind(5, to_ms(std::chrono::system_clock::now()));
    // Autocommit: the statement is its own transaction, committed when step returns DONE.
    if (sqlite3_step(upsert.get()) == SQLITE_DONE) return;
  }
  spdlog::error("notification log: cannot record {} for receiver {}: {}", a.fingerprint, receiver,
                sqlite3_errmsg(db_));
}

}  // namespace tocsin::sinks
