#include "collector/file_archive.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <limits>
#include <vector>

namespace tocsin::collector {
namespace {

constexpr auto flush_period = std::chrono::milliseconds(200);
// How often a write held back by a full disk or a lack of descriptors is tried again.
constexpr auto retry_period = std::chrono::seconds(1);
constexpr auto log_period = std::chrono::minutes(1);
// Longer than any line the archive writes (max_message_bytes, JSON-escaped, and the fields).
constexpr off_t max_torn_tail_scan = 16 * 1024 * 1024;
// {host}/{app} pairs remembered as known; beyond it the oldest is forgotten (and is "new" again).
constexpr std::size_t max_known_sources = 64 * 1024;
constexpr std::size_t eager_flush_bytes = 1024 * 1024;
// A file's buffer is kept for the next round up to this size (a burst's larger one is freed), and
// all of them together up to a quarter of max_pending_bytes.
constexpr std::size_t max_spare_bytes = 256 * 1024;
constexpr auto idle_file_close = std::chrono::minutes(5);
constexpr std::size_t max_component_bytes = 128;

// Shard side, per thread: the file each recent {host}/{app}/{date} went to, so that most events
// skip expanding and sanitizing the path template and looking the path up. Direct-mapped: a
// collision is only a miss.
struct recent_file {
  std::uint64_t archive = 0;  // file_archive::id_; 0: empty
  std::int64_t day = 0;
  std::string host, app;
  std::shared_ptr<void> file;  // the archive's open_file
};
constexpr std::size_t recent_files = 256;
std::atomic<std::uint64_t> next_archive_id{1};

// What a string holds on the heap (none while its text fits in the string itself).
std::size_t heap_bytes(const std::string& s) {
  return s.capacity() > std::string().capacity() ? s.capacity() : 0;
}

bool is_safe_path_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || c == '@' || c == '+' || c == ':';
}

std::string expand_path(std::string_view path_template, std::string_view host, std::string_view app,
                        std::chrono::system_clock::time_point received_at) {
  std::string out;
  out.reserve(path_template.size() + 32);
  std::size_t i = 0;
  while (i < path_template.size()) {
    const std::size_t open = path_template.find('{', i);
    if (open == std::string_view::npos) break;
    const std::size_t close = path_template.find('}', open);
    if (close == std::string_view::npos) break;
    out.append(path_template.substr(i, open - i));
    const std::string_view name = path_template.substr(open + 1, close - open - 1);
    if (name == "host") {
      out += sanitize_path_component(host);
    } else if (name == "app") {
      out += sanitize_path_component(app);
    } else if (name == "date") {
      const std::time_t t = std::chrono::system_clock::to_time_t(received_at);
      std::tm tm{};
      gmtime_r(&t, &tm);
      char buf[16];
      std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
      out += buf;
    } else {
      out.append(path_template.substr(open, close - open + 1));  // not ours: keep as written
    }
    i = close + 1;
  }
  out.append(path_template.substr(i));
  return out;
}

}  // namespace

std::string sanitize_path_component(std::string_view value) {
  if (value.empty()) return "unknown";
  std::string out(value.substr(0, max_component_bytes));
  for (char& c : out) {
    if (!is_safe_path_char(c)) c = '_';
  }
  if (out[0] == '.') out[0] = '_';  // no ".", "..", nor hidden files
  return out;
}

std::string expand_path_template(std::string_view path_template, const event& ev) {
  return expand_path(path_template, ev.host, ev.app, ev.received_at);
}

long long repair_torn_tail(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return -1;
  const off_t size = st.st_size;
  if (size == 0) return 0;
  char last = '\n';
  if (::pread(fd, &last, 1, size - 1) != 1) return -1;
  if (last == '\n') return 0;
  // Look back for the end of the last whole line, a chunk at a time.
  std::vector<char> chunk(64 * 1024);
  off_t end = size - 1;
  while (end > 0 && size - end <= max_torn_tail_scan) {
    const off_t begin = std::max<off_t>(0, end - static_cast<off_t>(chunk.size()));
    const auto want = static_cast<std::size_t>(end - begin);
    if (::pread(fd, chunk.data(), want, begin) != static_cast<ssize_t>(want)) return -1;
    for (std::size_t i = want; i-- > 0;) {
      if (chunk[i] == '\n') {
        const off_t keep = begin + static_cast<off_t>(i) + 1;
        if (::ftruncate(fd, keep) != 0) return -1;
        return size - keep;
      }
    }
    end = begin;
  }
  if (end == 0) {  // one half line and nothing before it
    if (::ftruncate(fd, 0) != 0) return -1;
    return size;
  }
  // No line end for longer than any line we write: not our torn line. End it rather than cut it.
  if (::write(fd, "\n", 1) != 1) return -1;
  return 0;
}

file_archive::file_archive(std::string path_template, metrics_registry& metrics,
                           file_archive_limits limits)
    : path_template_(std::move(path_template)),
      limits_(limits),
      id_(next_archive_id.fetch_add(1)),
      lines_written_(metrics.get_counter("tocsin_output_lines_total", "Lines written by outputs.",
                                         {{"output", "file"}})),
      bytes_written_(metrics.get_counter("tocsin_output_bytes_total", "Bytes written by outputs.",
                                         {{"output", "file"}})),
      write_errors_(metrics.get_counter("tocsin_output_errors_total",
                                        "Lines outputs failed to write.",
                                        {{"output", "file"}, {"reason", "write"}})),
      disk_full_errors_(metrics.get_counter(
          "tocsin_output_stalls_total",
          "Times an output could not write yet and kept the lines to try again.",
          {{"output", "file"}, {"reason", "disk_full"}})),
      torn_lines_(metrics.get_counter(
          "tocsin_output_torn_lines_total",
          "Half-written last lines (kill -9, full disk) removed when a file was opened.",
          {{"output", "file"}})),
      overflowed_(metrics.get_counter(
          "tocsin_output_overflow_total",
          "Events written under _overflow because max_new_paths_per_minute was reached.",
          {{"output", "file"}})),
      descriptor_waits_(metrics.get_counter(
          "tocsin_output_stalls_total",
          "Times an output could not write yet and kept the lines to try again.",
          {{"output", "file"}, {"reason", "no_descriptor"}})),
      open_files_gauge_(metrics.get_gauge("tocsin_output_open_files", "Files an output holds open.",
                                          {{"output", "file"}})),
      new_path_tokens_(static_cast<double>(limits.max_new_paths_per_minute)),
      new_path_refill_(std::chrono::steady_clock::now()) {
  writer_ = std::thread([this] { writer_loop(); });
}

file_archive::~file_archive() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  writer_.join();
  close_all();
}

bool file_archive::accepting() const {
  return !disk_full_.load(std::memory_order_relaxed) &&
         pending_bytes_.load(std::memory_order_relaxed) < limits_.max_pending_bytes;
}

bool file_archive::take_new_path_token(std::chrono::steady_clock::time_point now) {
  const double per_minute = static_cast<double>(limits_.max_new_paths_per_minute);
  const std::chrono::duration<double, std::ratio<60>> elapsed = now - new_path_refill_;
  new_path_tokens_ = std::min(per_minute, new_path_tokens_ + elapsed.count() * per_minute);
  new_path_refill_ = now;
  if (new_path_tokens_ < 1.0) return false;
  new_path_tokens_ -= 1.0;
  return true;
}

std::string file_archive::admit_new_path(const event& ev, std::string path) {
  std::string source = sanitize_path_component(ev.host);
  source += '/';
  source += sanitize_path_component(ev.app);
  if (known_sources_.contains(source)) return path;
  const auto now = std::chrono::steady_clock::now();
  if (take_new_path_token(now)) {
    if (known_order_.size() >= max_known_sources) {
      known_sources_.erase(known_order_.front());
      known_order_.pop_front();
    }
    known_sources_.insert(source);
    known_order_.push_back(std::move(source));
    return path;
  }
  overflowed_.inc();
  ++overflowed_since_log_;
  if (now - overflow_logged_ >= log_period) {
    spdlog::warn(
        "archive: {} events from new host/app paths (this one: {}) written under {} instead: "
        "max_new_paths_per_minute ({}) reached",
        overflowed_since_log_, source, overflow_path_component, limits_.max_new_paths_per_minute);
    overflowed_since_log_ = 0;
    overflow_logged_ = now;
  }
  return expand_path(path_template_, overflow_path_component, overflow_path_component,
                     ev.received_at);
}

void file_archive::consume(const event& ev) {
  thread_local std::string line;
  line.clear();
  append_event_json(ev, line);
  line += '\n';

  thread_local std::array<recent_file, recent_files> recent;
  const std::int64_t day =
      std::chrono::floor<std::chrono::days>(ev.received_at.time_since_epoch()).count();
  const std::hash<std::string_view> hash;
  recent_file& slot =
      recent[(hash(ev.host) * 31 + hash(ev.app) + static_cast<std::size_t>(day)) % recent_files];
  std::shared_ptr<open_file> cached;
  if (slot.archive == id_ && slot.day == day && slot.host == ev.host && slot.app == ev.app) {
    cached = std::static_pointer_cast<open_file>(slot.file);
  }

  std::shared_ptr<open_file> admitted;  // to remember once the lock is released
  std::size_t pending;
  {
    std::lock_guard lock(mutex_);
    open_file* file = cached && !cached->retired ? cached.get() : nullptr;
    if (file == nullptr) {
      std::string path = expand_path_template(path_template_, ev);
      auto it = files_.find(path);
      bool own_path = true;  // not sent to _overflow, which it may leave once tokens are back
      if (it == files_.end()) {
        std::string granted = admit_new_path(ev, path);
        own_path = granted == path;
        it = files_.try_emplace(std::move(granted)).first;
      }
      if (!it->second) it->second = std::make_shared<open_file>();
      file = it->second.get();
      if (own_path) admitted = it->second;
    }
    file->pending += line;
    pending = pending_total_ += line.size();
    pending_bytes_.store(pending, std::memory_order_relaxed);
  }
  if (admitted) {
    slot.archive = id_;
    slot.day = day;
    slot.host = ev.host;
    slot.app = ev.app;
    slot.file = std::move(admitted);
  }
  if (pending >= eager_flush_bytes) wake_.notify_one();
}

void file_archive::reopen() {
  {
    std::lock_guard lock(mutex_);
    reopen_requested_ = true;
  }
  wake_.notify_one();
}

bool file_archive::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  const std::uint64_t ticket = ++flush_requests_;
  wake_.notify_one();
  const auto done = [&] { return flushes_done_ >= ticket; };
  if (timeout == std::chrono::milliseconds::max()) {
    flushed_.wait(lock, done);
    return true;
  }
  return flushed_.wait_for(lock, timeout, done);
}

void file_archive::writer_loop() {
  std::vector<batch_item> batch;
  bool held_back = false;  // the last round kept lines to try again
  std::unique_lock lock(mutex_);
  for (;;) {
    // While lines wait for disk space or a descriptor, try again once a second, not at every
    // flush request.
    wake_.wait_for(lock, held_back ? retry_period : flush_period, [&] {
      if (stopping_ || reopen_requested_) return true;
      return !held_back && (flush_requests_ > flushes_done_ ||
                            pending_bytes_.load(std::memory_order_relaxed) >= eager_flush_bytes);
    });
    const std::uint64_t requests_seen = flush_requests_;
    const bool reopen = std::exchange(reopen_requested_, false);
    const bool stopping = stopping_;
    const auto now = std::chrono::steady_clock::now();

    batch.clear();
    std::vector<std::shared_ptr<open_file>> idle;
    for (auto it = files_.begin(); it != files_.end();) {
      auto& file = it->second;
      if (!file->pending.empty()) {
        spare_bytes_ -= heap_bytes(file->spare);
        auto& item = batch.emplace_back(batch_item{it->first, file, std::move(file->spare)});
        item.data.clear();
        item.data.swap(file->pending);
        ++it;
      } else if (now - file->last_write > idle_file_close) {
        file->retired = true;  // a shard's path cache may still hold it: give back its memory
        spare_bytes_ -= heap_bytes(file->spare);
        std::string().swap(file->spare);
        std::string().swap(file->pending);
        idle.push_back(std::move(file));  // bounded fds: hosts come and go
        it = files_.erase(it);
      } else {
        ++it;
      }
    }
    lock.unlock();

    held_back = false;
    disk_full_this_round_ = false;
    bool wrote = false;
    std::size_t done_bytes = 0;  // written, or lost for good
    for (auto& item : batch) {
      const std::size_t size = item.data.size();
      const auto result = write_out(item);
      done_bytes += size - item.data.size();
      if (result == write_result::written) {
        wrote = true;
        if (item.data.capacity() <= max_spare_bytes &&
            spare_bytes_ + heap_bytes(item.data) <= limits_.max_pending_bytes / 4) {
          spare_bytes_ += heap_bytes(item.data);
          item.file->spare = std::move(item.data);
        }
      }
      if (result == write_result::retry) {
        held_back = true;
      } else if (result == write_result::failed) {
        done_bytes += item.data.size();
        item.data.clear();
      }
    }
    for (auto& file : idle) close_file(*file);
    if (reopen) close_all();
    // Writing again once a write went through, or once nothing waits for space any more (a
    // round short of descriptors alone proves nothing).
    if ((wrote || !held_back) && !disk_full_this_round_ && disk_full_.exchange(false)) {
      spdlog::info("archive: writing again; the disk was full for {}s",
                   std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::steady_clock::now() - disk_full_since_)
                       .count());
    }

    lock.lock();
    pending_total_ -= done_bytes;
    pending_bytes_.store(pending_total_, std::memory_order_relaxed);
    for (auto& item : batch) {
      if (!item.data.empty()) put_back(item);
    }
    if (stopping && held_back) {
      // Exiting with lines the disk would not take: say how many are lost.
      std::uint64_t lines = 0;
      for (auto& [path, file] : files_) {
        lines += static_cast<std::uint64_t>(
            std::count(file->pending.begin(), file->pending.end(), '\n'));
        file->pending.clear();
      }
      pending_total_ = 0;
      pending_bytes_.store(0, std::memory_order_relaxed);
      write_errors_.inc(lines);
      spdlog::error("archive: stopping with {} lines that could not be written", lines);
      held_back = false;
    }
    // A flush is done only when what it waited for is written (RELP acknowledges after it).
    if (!held_back || stopping) {
      flushes_done_ = requests_seen;
      flushed_.notify_all();
    }
    if (stopping && pending_bytes_.load(std::memory_order_relaxed) == 0) {
      // No flush may wait for a writer that is gone.
      flushes_done_ = std::numeric_limits<std::uint64_t>::max();
      flushed_.notify_all();
      return;
    }
  }
}

// Under mutex_: older than anything consumed since, so it goes first.
void file_archive::put_back(batch_item& item) {
  auto& file = files_[item.path];
  if (!file) file = item.file;
  item.data += file->pending;
  file->pending = std::move(item.data);
}

bool file_archive::make_room_for_one_more() {
  if (open_.empty()) return false;
  const auto lru = std::min_element(open_.begin(), open_.end(), [](const auto& a, const auto& b) {
    return a->last_write < b->last_write;
  });
  close_file(**lru);
  return true;
}

file_archive::write_result file_archive::open_for_append(const std::shared_ptr<open_file>& handle,
                                                         const std::string& path,
                                                         std::uint64_t lines) {
  open_file& file = *handle;
  if (open_.size() >= limits_.max_open_files) make_room_for_one_more();
  if (limits_.fds != nullptr && !limits_.fds->try_acquire_file() &&
      !(make_room_for_one_more() && limits_.fds->try_acquire_file())) {
    descriptor_waits_.inc();
    return write_result::retry;
  }
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  file.fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (file.fd < 0) {
    const int error = errno;
    if (limits_.fds != nullptr) limits_.fds->release_file();
    if (error == EMFILE || error == ENFILE) {
      descriptor_waits_.inc();
      make_room_for_one_more();
      return write_result::retry;
    }
    if (error == ENOSPC || error == EDQUOT) {
      note_disk_full(path, error);
      return write_result::retry;
    }
    write_errors_.inc(lines);
    spdlog::error("archive: cannot open {}: {} ({} lines lost)", path, std::strerror(error), lines);
    return write_result::failed;
  }
  open_.push_back(handle);
  open_files_gauge_.add(1);
  const long long removed = repair_torn_tail(file.fd);
  if (removed > 0) {
    torn_lines_.inc();
    spdlog::warn(
        "archive: {} ended in half a line ({} bytes, from a crash or a full disk); "
        "removed it so the next line starts whole",
        path, removed);
  } else if (removed < 0) {
    spdlog::warn("archive: cannot check the end of {}: {}", path, std::strerror(errno));
  }
  return write_result::written;
}

file_archive::write_result file_archive::write_out(batch_item& item) {
  open_file& file = *item.file;
  std::string& data = item.data;
  file.last_write = std::chrono::steady_clock::now();
  const auto lines_in = [](std::string_view text) {
    return static_cast<std::uint64_t>(std::count(text.begin(), text.end(), '\n'));
  };
  if (file.fd < 0) {
    const auto opened = open_for_append(item.file, item.path, lines_in(data));
    if (opened != write_result::written) return opened;
  }
  std::size_t done = 0;
  int error = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(file.fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = errno;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  // Whole lines only: a line the disk cut short is taken back out of the file.
  std::size_t whole = done;
  if (error != 0) {
    const std::size_t last_newline = done == 0 ? std::string::npos : data.rfind('\n', done - 1);
    whole = last_newline == std::string::npos ? 0 : last_newline + 1;
    struct stat st {};
    if (done > whole && ::fstat(file.fd, &st) == 0) {
      if (::ftruncate(file.fd, st.st_size - static_cast<off_t>(done - whole)) != 0) {
        spdlog::warn(
            "archive: cannot take back a half-written line from {}: {}; it is removed "
            "when the file is opened again",
            item.path, std::strerror(errno));
        close_file(file);  // reopening repairs the torn tail
      }
    }
  }
  const std::string_view written(data.data(), whole);
  lines_written_.inc(lines_in(written));
  bytes_written_.inc(written.size());
  data.erase(0, whole);
  if (error == 0) return write_result::written;
  if (error == ENOSPC || error == EDQUOT) {
    note_disk_full(item.path, error);
    return write_result::retry;
  }
  const auto lost = lines_in(data);
  write_errors_.inc(lost);
  spdlog::error("archive: write to {} failed: {} ({} lines lost)", item.path, std::strerror(error),
                lost);
  close_file(file);
  return write_result::failed;
}

void file_archive::note_disk_full(const std::string& path, int error) {
  disk_full_errors_.inc();
  disk_full_this_round_ = true;
  const auto now = std::chrono::steady_clock::now();
  if (!disk_full_.exchange(true)) disk_full_since_ = now;
  if (now - disk_full_logged_ >= log_period) {
    disk_full_logged_ = now;
    spdlog::error(
        "archive: cannot write {}: {}; holding {} bytes, not reading TCP inputs, retrying every "
        "second",
        path, std::strerror(error), pending_bytes_.load(std::memory_order_relaxed));
  }
}

void file_archive::close_file(open_file& file) {
  if (file.fd < 0) return;
  ::close(file.fd);
  file.fd = -1;
  if (limits_.fds != nullptr) limits_.fds->release_file();
  open_files_gauge_.add(-1);
  std::erase_if(open_, [&](const auto& f) { return f.get() == &file; });
}

// Runs on the writer thread (or after it has stopped): fds are only ever touched there.
void file_archive::close_all() {
  const auto files = open_;
  for (const auto& file : files) close_file(*file);
}

}  // namespace tocsin::collector
