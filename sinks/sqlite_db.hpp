#pragma once
// The SQLite plumbing shared by the router's state and the silence store, which keep their tables
// in the same file (data_dir/router.db) on connections of their own.

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace tocsin::sinks {

// Opens `file` (creating it and its directory) in WAL mode with synchronous=NORMAL — a committed
// write survives a crash of tocsin, not necessarily a power cut — and a 5 s busy timeout, then
// runs `schema`. Throws std::runtime_error("<what> <file>: <reason>").
sqlite3* open_state_db(const std::filesystem::path& file, const char* schema,
                       const std::string& what);

// A prepared statement, finalized on destruction.
class sqlite_statement {
 public:
  sqlite_statement() = default;
  sqlite_statement(sqlite3* db, const char* sql) { prepare(db, sql); }
  ~sqlite_statement() { sqlite3_finalize(stmt_); }
  sqlite_statement(const sqlite_statement&) = delete;
  sqlite_statement& operator=(const sqlite_statement&) = delete;

  bool prepare(sqlite3* db, const char* sql) {
    sqlite3_finalize(stmt_);
    stmt_ = nullptr;
    return sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) == SQLITE_OK;
  }
  [[nodiscard]] bool prepared() const { return stmt_ != nullptr; }
  sqlite3_stmt* get() { return stmt_; }

  void bind(int index, const std::string& text) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  }
  void bind(int index, std::int64_t value) { sqlite3_bind_int64(stmt_, index, value); }
  std::string text(int column) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return p == nullptr ? std::string() : std::string(p);
  }

  // Runs a statement that returns no rows and readies it for the next run; true when it completed.
  bool run() {
    const int rc = sqlite3_step(stmt_);
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    return rc == SQLITE_DONE;
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace tocsin::sinks
