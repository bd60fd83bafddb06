#pragma once
// What the router has already notified, per receiver and fingerprint, in SQLite
// (data_dir/router.db), so an alert redelivered by the bus or re-sent by the rules engine is not
// notified twice, across restarts too. An alert is news when its fingerprint was never notified to
// that receiver, when it starts a new firing episode (another startsAt), or when its status
// changed (firing → resolved). Thread-safe.

#include <filesystem>
#include <mutex>
#include <string>

#include "rules/alert.hpp"

struct sqlite3;

namespace tocsin::sinks {

class notification_log {
 public:
  // Creates the file and its parent directory if needed; throws std::runtime_error when the
  // database cannot be opened or created (the message names the file and SQLite's reason).
  explicit notification_log(const std::filesystem::path& db_file);
  ~notification_log();
  notification_log(const notification_log&) = delete;
  notification_log& operator=(const notification_log&) = delete;

  [[nodiscard]] bool is_news(const std::string& receiver, const rules::alert& a);
  // Durable when it returns (the transaction is committed).
  void record(const std::string& receiver, const rules::alert& a);

 private:
  std::mutex mutex_;
  sqlite3* db_ = nullptr;
};

}  // namespace tocsin::sinks
