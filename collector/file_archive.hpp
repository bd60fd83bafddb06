#pragma once
// The `file` log output: Event JSON lines under a path template with {host}, {app}, {date}.
// Shards append to per-file buffers; a writer thread flushes them at least every 200 ms, so
// ingest never waits on the disk. SIGHUP → reopen() for logrotate.

#include "collector/event_sink.hpp"
#include "core/metrics.hpp"

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace tocsin::collector {

// Replaces everything but [A-Za-z0-9._@+:-] with '_' and a leading '.' with '_', so a value
// such as "../../etc" cannot leave the directory the template puts it in. Empty → "unknown".
std::string sanitize_path_component(std::string_view value);

// Expands {host}, {app} and {date} (UTC receive date, YYYY-MM-DD) for one event.
std::string expand_path_template(std::string_view path_template, const event& ev);

class file_archive final : public event_sink {
 public:
  // `max_pending_bytes`: buffered bytes above which accepting() turns false (backpressure).
  file_archive(std::string path_template, metrics_registry& metrics,
               std::size_t max_pending_bytes = 64 * 1024 * 1024);
  ~file_archive() override;
  file_archive(const file_archive&) = delete;
  file_archive& operator=(const file_archive&) = delete;

  [[nodiscard]] bool accepting() const override;
  void consume(const event& ev) override;

  // Closes every file after the next flush so the next write opens them anew (logrotate).
  void reopen();
  // Writes everything buffered so far; returns when it is on disk (in the page cache).
  void flush();
  void wait_written() override { flush(); }

 private:
  struct open_file {
    int fd = -1;
    std::string pending;  // guarded by mutex_
    std::chrono::steady_clock::time_point last_write;
  };
  void writer_loop();
  void write_out(open_file& file, const std::string& path, std::string& data);
  void close_all();

  const std::string path_template_;
  const std::size_t max_pending_bytes_;
  counter& lines_written_;
  counter& bytes_written_;
  counter& write_errors_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable flushed_;
  std::map<std::string, std::shared_ptr<open_file>> files_;
  std::atomic<std::size_t> pending_bytes_{0};
  std::uint64_t flush_requests_ = 0, flushes_done_ = 0;  // guarded by mutex_
  bool reopen_requested_ = false;
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace tocsin::collector
