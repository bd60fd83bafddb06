#include "collector/file_archive.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

namespace tocsin::collector {
namespace {

constexpr auto flush_period = std::chrono::milliseconds(200);
constexpr std::size_t eager_flush_bytes = 1024 * 1024;
constexpr auto idle_file_close = std::chrono::minutes(5);
constexpr std::size_t max_component_bytes = 128;

bool is_safe_path_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || c == '@' || c == '+' || c == ':';
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
      out += sanitize_path_component(ev.host);
    } else if (name == "app") {
      out += sanitize_path_component(ev.app);
    } else if (name == "date") {
      const std::time_t t = std::chrono::system_clock::to_time_t(ev.received_at);
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

file_archive::file_archive(std::string path_template, metrics_registry& metrics,
                           std::size_t max_pending_bytes)
    : path_template_(std::move(path_template)),
      max_pending_bytes_(max_pending_bytes),
      lines_written_(metrics.get_counter("tocsin_output_lines_total", "Lines written by outputs.",
                                         {{"output", "file"}})),
      bytes_written_(metrics.get_counter("tocsin_output_bytes_total", "Bytes written by outputs.",
                                         {{"output", "file"}})),
      write_errors_(metrics.get_counter("tocsin_output_errors_total",
                                        "Lines outputs failed to write.",
                                        {{"output", "file"}, {"reason", "write"}})) {
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
  return pending_bytes_.load(std::memory_order_relaxed) < max_pending_bytes_;
}

void file_archive::consume(const event& ev) {
  thread_local std::string line;
  line.clear();
  append_event_json(ev, line);
  line += '\n';
  std::string path = expand_path_template(path_template_, ev);

  std::size_t pending;
  {
    std::lock_guard lock(mutex_);
    auto& file = files_[std::move(path)];
    if (!file) file = std::make_shared<open_file>();
    file->pending += line;
    pending = pending_bytes_.fetch_add(line.size(), std::memory_order_relaxed) + line.size();
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

void file_archive::flush() {
  std::unique_lock lock(mutex_);
  const std::uint64_t ticket = ++flush_requests_;
  wake_.notify_one();
  flushed_.wait(lock, [&] { return flushes_done_ >= ticket; });
}

void file_archive::writer_loop() {
  struct batch_item {
    std::string path;
    std::shared_ptr<open_file> file;
    std::string data;
  };
  std::vector<batch_item> batch;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait_for(lock, flush_period, [&] {
      return stopping_ || reopen_requested_ || flush_requests_ > flushes_done_ ||
             pending_bytes_.load(std::memory_order_relaxed) >= eager_flush_bytes;
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
        batch.push_back({it->first, file, std::move(file->pending)});
        file->pending.clear();
        ++it;
      } else if (now - file->last_write > idle_file_close) {
        idle.push_back(std::move(file));  // bounded fds: hosts come and go
        it = files_.erase(it);
      } else {
        ++it;
      }
    }
    std::size_t taken = 0;
    for (const auto& item : batch) taken += item.data.size();
    pending_bytes_.fetch_sub(taken, std::memory_order_relaxed);
    lock.unlock();

    for (auto& item : batch) write_out(*item.file, item.path, item.data);
    for (auto& file : idle) {
      if (file->fd >= 0) ::close(file->fd);
    }
    if (reopen) close_all();

    lock.lock();
    flushes_done_ = requests_seen;
    flushed_.notify_all();
    if (stopping && pending_bytes_.load(std::memory_order_relaxed) == 0) return;
  }
}

void file_archive::write_out(open_file& file, const std::string& path, std::string& data) {
  file.last_write = std::chrono::steady_clock::now();
  const auto lines = static_cast<std::uint64_t>(std::count(data.begin(), data.end(), '\n'));
  if (file.fd < 0) {
    std::error_code ec;
    const auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    file.fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (file.fd < 0) {
      write_errors_.inc(lines);
      spdlog::error("archive: cannot open {}: {} ({} lines lost)", path, std::strerror(errno),
                    lines);
      return;
    }
  }
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(file.fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      write_errors_.inc(lines);
      spdlog::error("archive: write to {} failed: {} ({} lines lost)", path, std::strerror(errno),
                    lines);
      ::close(file.fd);
      file.fd = -1;
      return;
    }
    done += static_cast<std::size_t>(n);
  }
  lines_written_.inc(lines);
  bytes_written_.inc(data.size());
}

// Runs on the writer thread (or after it has stopped): fds are only ever touched there.
void file_archive::close_all() {
  std::vector<std::shared_ptr<open_file>> files;
  {
    std::lock_guard lock(mutex_);
    for (auto& [path, file] : files_) files.push_back(file);
  }
  for (auto& file : files) {
    if (file->fd >= 0) {
      ::close(file->fd);
      file->fd = -1;
    }
  }
}

}  // namespace tocsin::collector
