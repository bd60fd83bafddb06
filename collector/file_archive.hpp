#pragma once
// The `file` log output: Event JSON lines under a path template with {host}, {app}, {date}.
// Shards append to per-file buffers; a writer thread flushes them at least every 200 ms, so
// ingest never waits on the disk. SIGHUP → reopen() for logrotate.
//
// Hostile senders and broken disks (DESIGN.md, "Hostile and broken input"):
// - at most `max_open_files` descriptors, the least recently written file closed first, each
//   taken from the process's fd_budget so archive files cannot starve the admin API;
// - at most `max_new_paths_per_minute` new {host}/{app} combinations: a flood of spoofed host
//   names goes to {host}/{app} = `_overflow`, counted, not lost;
// - a full disk keeps what could not be written, stops accepting (TCP backpressure) and retries
//   every second, logging once a minute; writing resumes by itself when space returns;
// - files hold whole lines only: a line cut by a full disk is taken back, and a file that ends
//   in half a line (kill -9 mid-write) is repaired when it is opened.

#include "collector/event_sink.hpp"
#include "core/fd_budget.hpp"
#include "core/metrics.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

namespace tocsin::collector {

// Replaces everything but [A-Za-z0-9._@+:-] with '_' and a leading '.' with '_', so a value
// such as "../../etc" cannot leave the directory the template puts it in. Empty → "unknown".
std::string sanitize_path_component(std::string_view value);

// Expands {host}, {app} and {date} (UTC receive date, YYYY-MM-DD) for one event.
std::string expand_path_template(std::string_view path_template, const event& ev);

// Where events go whose {host}/{app} would be a new path beyond max_new_paths_per_minute.
inline constexpr std::string_view overflow_path_component = "_overflow";

// Removes a last line that has no '\n' (a write cut short by kill -9 or a full disk) from the
// file open as `fd` (read and write). Returns the bytes removed, or -1 with errno set.
long long repair_torn_tail(int fd);

struct file_archive_limits {
  std::size_t max_open_files = 1024;
  std::size_t max_new_paths_per_minute = 600;
  // Buffered bytes above which accepting() turns false (backpressure).
  std::size_t max_pending_bytes = 64 * 1024 * 1024;
  fd_budget* fds = nullptr;  // shared with the inputs; null: only max_open_files applies
};

class file_archive final : public event_sink {
 public:
  file_archive(std::string path_template, metrics_registry& metrics,
               file_archive_limits limits = {});
  ~file_archive() override;
  file_archive(const file_archive&) = delete;
  file_archive& operator=(const file_archive&) = delete;

  [[nodiscard]] bool accepting() const override;
  void consume(const event& ev) override;
  bool wait_written(std::chrono::milliseconds timeout) override { return flush(timeout); }

  // Closes every file after the next flush so the next write opens them anew (logrotate).
  void reopen();
  // Writes everything buffered so far; true when it is done: written (in the page cache), or
  // lost for good and counted in tocsin_output_errors_total{reason="write"} (a file that cannot
  // be opened for another reason than space or descriptors). While the disk is full it waits
  // for space, at most `timeout` (then false).
  bool flush(std::chrono::milliseconds timeout = std::chrono::milliseconds::max());

 private:
  struct open_file {
    int fd = -1;
    std::string pending;   // guarded by mutex_
    bool retired = false;  // guarded by mutex_: no longer in files_ (closed for being idle)
    // Writer thread only: the buffer `pending` had before, written and emptied, given back to it
    // at the next round, so shards append into memory already grown instead of growing anew.
    std::string spare;
    std::chrono::steady_clock::time_point last_write;
  };
  struct batch_item {
    std::string path;
    std::shared_ptr<open_file> file;
    std::string data;
  };
  enum class write_result { written, retry, failed };

  // Shard side, under mutex_, for an event whose `path` is not in files_: `path`, or the
  // overflow path when its {host}/{app} is new and the new-path budget is spent.
  std::string admit_new_path(const event& ev, std::string path);
  [[nodiscard]] bool take_new_path_token(std::chrono::steady_clock::time_point now);

  // Writer thread only.
  void writer_loop();
  write_result write_out(batch_item& item);
  write_result open_for_append(const std::shared_ptr<open_file>& handle, const std::string& path,
                               std::uint64_t lines);
  bool make_room_for_one_more();
  void close_file(open_file& file);
  void close_all();
  void note_disk_full(const std::string& path, int error);
  void put_back(batch_item& item);

  const std::string path_template_;
  const file_archive_limits limits_;
  const std::uint64_t id_;  // tells this archive's entries in the shards' path caches from others
  counter& lines_written_;
  counter& bytes_written_;
  counter& write_errors_;
  counter& disk_full_errors_;
  counter& torn_lines_;
  counter& overflowed_;
  counter& descriptor_waits_;
  gauge& open_files_gauge_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable flushed_;
  std::map<std::string, std::shared_ptr<open_file>> files_;
  // Bytes consumed and not yet written or given up. Kept under mutex_ (a locked add per event
  // costs more than the rest of consume()); the atomic copy is what accepting() reads.
  std::size_t pending_total_ = 0;
  std::atomic<std::size_t> pending_bytes_{0};
  std::uint64_t flush_requests_ = 0, flushes_done_ = 0;  // guarded by mutex_
  bool reopen_requested_ = false;
  bool stopping_ = false;

  // New-path budget, guarded by mutex_: a token bucket refilled at max_new_paths_per_minute,
  // and the {host}/{app} pairs already given a path (bounded, oldest forgotten first), so that a
  // new {date} or a file closed for being idle is not a new path.
  double new_path_tokens_;
  std::chrono::steady_clock::time_point new_path_refill_;
  std::unordered_set<std::string> known_sources_;
  std::deque<std::string> known_order_;
  std::uint64_t overflowed_since_log_ = 0;
  std::chrono::steady_clock::time_point overflow_logged_{};

  // Writer thread only.
  std::vector<std::shared_ptr<open_file>> open_;  // files holding a descriptor
  std::size_t spare_bytes_ = 0;                   // what every open_file::spare holds on the heap
  std::atomic<bool> disk_full_{false};
  bool disk_full_this_round_ = false;
  std::chrono::steady_clock::time_point disk_full_since_{}, disk_full_logged_{};

  std::thread writer_;
};

}  // namespace tocsin::collector
