#include "sinks/sqlite_db.hpp"

#include <stdexcept>
#include <system_error>

namespace tocsin::sinks {

sqlite3* open_state_db(const std::filesystem::path& file, const char* schema,
                       const std::string& what) {
  sqlite3* db = nullptr;
  const auto fail = [&](const std::string& reason) {
    sqlite3_close(db);
    throw std::runtime_error(what + " " + file.string() + ": " + reason);
  };
  if (file.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) fail("cannot create directory " + file.parent_path().string() + ": " + ec.message());
  }
  const int rc =
      sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) fail(db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  sqlite3_busy_timeout(db, 5000);
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", schema}) {
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(sqlite3_errmsg(db));
  }
  return db;
}

}  // namespace tocsin::sinks
