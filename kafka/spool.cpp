#include "kafka/spool.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <optional>
#include <stdexcept>
#include <utility>

namespace tocsin::kafka {
namespace {

constexpr std::size_t header_bytes = 8;  // u32 payload length, u32 CRC-32 of the payload
constexpr std::size_t key_length_bytes = 4;
constexpr std::size_t name_digits = 20;
constexpr std::uint64_t max_payload = std::numeric_limits<std::uint32_t>::max();

void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

std::uint32_t get_u32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::uint32_t checksum(std::string_view payload) {
  return static_cast<std::uint32_t>(crc32(crc32(0L, Z_NULL, 0),
                                          reinterpret_cast<const Bytef*>(payload.data()),
                                          static_cast<uInt>(payload.size())));
}

std::string encode_record(std::string_view key, std::string_view value) {
  const auto payload = static_cast<std::uint32_t>(key_length_bytes + key.size() + value.size());
  std::string record;
  record.reserve(header_bytes + payload);
  put_u32(record, payload);
  put_u32(record, 0);  // the CRC, filled in below
  put_u32(record, static_cast<std::uint32_t>(key.size()));
  record += key;
  record += value;
  const std::uint32_t crc = checksum(std::string_view(record).substr(header_bytes));
  std::string crc_bytes;
  put_u32(crc_bytes, crc);
  record.replace(4, 4, crc_bytes);
  return record;
}

// The payload of the intact record at `pos`, or nothing when it is torn or corrupt.
std::optional<std::string_view> intact_payload_at(std::string_view data, std::size_t pos) {
  if (data.size() - pos < header_bytes) return std::nullopt;
  const std::uint32_t length = get_u32(data.data() + pos);
  if (length < key_length_bytes || length > data.size() - pos - header_bytes) return std::nullopt;
  const std::string_view payload = data.substr(pos + header_bytes, length);
  if (checksum(payload) != get_u32(data.data() + pos + 4)) return std::nullopt;
  if (get_u32(payload.data()) > length - key_length_bytes) return std::nullopt;
  return payload;
}

// Records from `pos` to the end, as far as their length fields can be followed (a torn record
// counts as one). What is known to be lost when the record at `pos` is bad.
std::uint64_t records_from(std::string_view data, std::size_t pos) {
  std::uint64_t n = 0;
  while (pos < data.size()) {
    ++n;
    if (data.size() - pos < header_bytes) break;
    pos += header_bytes + get_u32(data.data() + pos);
  }
  return n;
}

std::string segment_name(std::uint64_t first_id) { return fmt::format("{:020}.seg", first_id); }

// The first record id a segment file name stands for; nothing for anything else.
std::optional<std::uint64_t> parse_segment_name(const std::filesystem::path& file) {
  if (file.extension() != ".seg") return std::nullopt;
  const std::string stem = file.stem().string();
  if (stem.size() != name_digits) return std::nullopt;
  if (!std::all_of(stem.begin(), stem.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  std::uint64_t id = 0;
  const auto [end, ec] = std::from_chars(stem.data(), stem.data() + stem.size(), id);
  if (ec != std::errc() || end != stem.data() + stem.size() || id == 0) return std::nullopt;
  return id;
}

bool read_whole_file(const std::filesystem::path& file, std::string& out) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out.clear();
  char buf[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      errno = error;
      return false;
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return true;
}

// Reads exactly `size` bytes at `offset`; false on an error or a file shorter than that.
bool pread_exact(int fd, char* out, std::size_t size, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, out + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// So that a new segment's name survives a power cut, not just a kill.
void sync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

void remove_file(const std::filesystem::path& file) {
  if (::unlink(file.c_str()) != 0 && errno != ENOENT) {
    spdlog::warn("spool: cannot delete {}: {}", file.string(), std::strerror(errno));
  }
}

}  // namespace

struct spool::segment {
  struct entry {
    std::uint64_t offset = 0;   // of the record header in the file
    std::uint32_t payload = 0;  // payload bytes
    bool in_flight = false;
    bool acked = false;
  };

  std::uint64_t first_id = 0;
  std::filesystem::path path;
  std::uint64_t file_bytes = 0;
  std::vector<entry> entries;  // entries[i] is record first_id + i
  std::size_t unacked = 0;
  std::size_t available = 0;  // neither acknowledged nor in flight
  int append_fd = -1;         // open on the current segment only
};

spool::spool(std::filesystem::path dir, spool_options options, metrics_registry& metrics)
    : dir_(std::move(dir)),
      options_(options),
      records_gauge_(
          metrics.get_gauge("tocsin_spool_records", "Alerts waiting in the disk spool for Kafka.")),
      bytes_gauge_(metrics.get_gauge("tocsin_spool_bytes", "Bytes of disk spool segment files.")),
      full_errors_(metrics.get_counter("tocsin_bus_errors_total", "Alerts the bus failed to carry.",
                                       {{"reason", "spool_full"}})),
      write_errors_(metrics.get_counter("tocsin_bus_errors_total",
                                        "Alerts the bus failed to carry.",
                                        {{"reason", "spool_write"}})),
      corrupt_records_(metrics.get_counter("tocsin_spool_corrupt_records_total",
                                           "Spooled records found torn or corrupt and skipped.")) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw std::runtime_error("spool: cannot create " + dir_.string() + ": " + ec.message());

  std::vector<std::pair<std::uint64_t, std::filesystem::path>> found;
  std::filesystem::directory_iterator it(dir_, ec);
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const auto first_id = parse_segment_name(it->path().filename());
    std::error_code type_ec;
    if (first_id && it->is_regular_file(type_ec)) found.emplace_back(*first_id, it->path());
  }
  if (ec) throw std::runtime_error("spool: cannot read " + dir_.string() + ": " + ec.message());

  std::sort(found.begin(), found.end());
  for (const auto& [first_id, file] : found) load_segment(first_id, file);
  if (records_ > 0) {
    spdlog::info("spool: {} records ({} bytes) waiting in {}", records_, bytes_, dir_.string());
  }
  publish_gauges();
}

spool::~spool() {
  if (current_ != nullptr) ::close(current_->append_fd);
}

void spool::load_segment(std::uint64_t first_id, const std::filesystem::path& file) {
  if (first_id < next_id_) {
    spdlog::warn("spool: ignoring {}: its records overlap the segment before it", file.string());
    return;
  }
  std::string data;
  if (!read_whole_file(file, data)) {
    spdlog::warn("spool: cannot read {}: {}; skipping it", file.string(), std::strerror(errno));
    next_id_ = first_id + 1;  // a new segment must never take its name
    return;
  }

  auto seg = std::make_unique<segment>();
  seg->first_id = first_id;
  seg->path = file;
  seg->file_bytes = data.size();
  std::size_t pos = 0;
  while (pos < data.size()) {
    const auto payload = intact_payload_at(data, pos);
    if (!payload) break;  // a torn or corrupt record ends the segment
    seg->entries.push_back({.offset = pos, .payload = static_cast<std::uint32_t>(payload->size())});
    pos += header_bytes + payload->size();
  }
  const std::uint64_t corrupt = records_from(data, pos);
  if (corrupt > 0) {
    corrupt_records_.inc(corrupt);
    spdlog::warn("spool: {}: torn or corrupt record at byte {}; skipping it and the {} after it",
                 file.string(), pos, corrupt - 1);
  }
  next_id_ = first_id + seg->entries.size() + corrupt;

  if (seg->entries.empty()) {  // nothing left to deliver from it
    remove_file(file);
    return;
  }
  seg->unacked = seg->available = seg->entries.size();
  records_ += seg->unacked;
  bytes_ += seg->file_bytes;
  segments_.emplace(first_id, std::move(seg));
}

bool spool::start_segment() {
  auto seg = std::make_unique<segment>();
  seg->first_id = next_id_;
  seg->path = dir_ / segment_name(next_id_);
  seg->append_fd =
      ::open(seg->path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
  if (seg->append_fd < 0) {
    write_failed("cannot create " + seg->path.string(), errno);
    return false;
  }
  sync_directory(dir_);
  current_ = seg.get();
  segments_.emplace(seg->first_id, std::move(seg));
  return true;
}

bool spool::append(std::string_view key, std::string_view value) {
  std::lock_guard lock(mutex_);
  const std::uint64_t payload = key_length_bytes + key.size() + value.size();
  const std::uint64_t size = header_bytes + payload;
  if (payload > max_payload || bytes_ + size > options_.max_bytes) {
    full_errors_.inc();
    if (!full_logged_) {
      spdlog::warn("spool: {} is full ({} of {} bytes); refusing alerts until Kafka takes some",
                   dir_.string(), bytes_, options_.max_bytes);
      full_logged_ = true;
    }
    return false;
  }

  if (current_ != nullptr && current_->file_bytes >= options_.segment_bytes) retire_current();
  if (current_ == nullptr && !start_segment()) return false;
  if (!write_record(encode_record(key, value))) return false;

  segment& seg = *current_;
  seg.entries.push_back({.offset = seg.file_bytes, .payload = static_cast<std::uint32_t>(payload)});
  seg.file_bytes += size;
  ++seg.unacked;
  ++seg.available;
  ++records_;
  bytes_ += size;
  ++next_id_;
  if (full_logged_) spdlog::info("spool: {} has room again", dir_.string());
  full_logged_ = false;
  write_error_logged_ = false;
  publish_gauges();
  return true;
}

// One write() so the record lands whole or (after a crash) torn at the end, never interleaved;
// fdatasync so it is on disk before the caller forgets the alert.
bool spool::write_record(const std::string& record) {
  segment& seg = *current_;
  ssize_t n;
  do {
    n = ::write(seg.append_fd, record.data(), record.size());
  } while (n < 0 && errno == EINTR);
  int error = errno;
  bool ok = n == static_cast<ssize_t>(record.size());
  if (!ok && n >= 0) error = ENOSPC;  // a short write: the disk is full
  if (ok && ::fdatasync(seg.append_fd) != 0) {
    error = errno;
    ok = false;
  }
  if (ok) return true;

  // Take the partial record back if possible; either way this segment gets no more records,
  // since a torn record would end it at the next start-up.
  if (n > 0 && ::ftruncate(seg.append_fd, static_cast<off_t>(seg.file_bytes)) != 0) {
    seg.file_bytes += static_cast<std::uint64_t>(n);
    bytes_ += static_cast<std::uint64_t>(n);
  }
  write_failed("cannot write to " + seg.path.string(), error);
  ++next_id_;  // a torn remnant may hold this id; never reuse it (nor a segment name)
  retire_current();
  publish_gauges();
  return false;
}

void spool::write_failed(const std::string& what, int error) {
  write_errors_.inc();
  if (!write_error_logged_) {
    spdlog::error("spool: {}: {}; refusing alerts", what, std::strerror(error));
    write_error_logged_ = true;
  }
}

void spool::retire_current() {
  if (current_ == nullptr) return;
  ::close(current_->append_fd);
  current_->append_fd = -1;
  const std::uint64_t first_id = current_->first_id;
  current_ = nullptr;
  remove_if_done(segments_.find(first_id));
}

std::vector<spool_record> spool::take(std::size_t max) {
  std::lock_guard lock(mutex_);
  std::vector<spool_record> out;
  auto it = segments_.begin();
  while (it != segments_.end() && out.size() < max) {
    if (it->second->available == 0) {
      ++it;
      continue;
    }
    const read_result result = read_available(*it->second, max, out);
    if (result == read_result::unreadable) break;  // later records must not overtake these
    it = result == read_result::file_gone ? drop_lost(it) : remove_if_done(it);
  }
  publish_gauges();
  return out;
}

spool::read_result spool::read_available(segment& seg, std::size_t max,
                                         std::vector<spool_record>& out) {
  const int fd = ::open(seg.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    spdlog::warn("spool: cannot read {}: {}", seg.path.string(), std::strerror(error));
    return error == ENOENT ? read_result::file_gone : read_result::unreadable;
  }
  std::string buf;
  for (std::size_t i = 0; i < seg.entries.size() && out.size() < max; ++i) {
    auto& e = seg.entries[i];
    if (e.acked || e.in_flight) continue;
    buf.resize(header_bytes + e.payload);
    const bool intact = pread_exact(fd, buf.data(), buf.size(), e.offset) &&
                        intact_payload_at(buf, 0).has_value() && get_u32(buf.data()) == e.payload;
    if (!intact) {  // changed under us since it was written or indexed: lost
      spdlog::warn("spool: {}: record {} is no longer readable; skipping it", seg.path.string(),
                   seg.first_id + i);
      corrupt_records_.inc();
      e.acked = true;
      --seg.available;
      --seg.unacked;
      --records_;
      continue;
    }
    const std::string_view payload = std::string_view(buf).substr(header_bytes);
    const std::uint32_t key_length = get_u32(payload.data());
    out.push_back({.id = seg.first_id + i,
                   .key = std::string(payload.substr(key_length_bytes, key_length)),
                   .value = std::string(payload.substr(key_length_bytes + key_length))});
    e.in_flight = true;
    --seg.available;
  }
  ::close(fd);
  return read_result::ok;
}

spool::segment_map::iterator spool::segment_of(std::uint64_t id) {
  auto it = segments_.upper_bound(id);
  if (it == segments_.begin()) return segments_.end();
  --it;
  if (id - it->first >= it->second->entries.size()) return segments_.end();
  return it;
}

void spool::ack(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  const auto it = segment_of(id);
  if (it == segments_.end()) return;
  segment& seg = *it->second;
  auto& e = seg.entries[id - seg.first_id];
  if (e.acked) return;
  if (!e.in_flight) --seg.available;
  e.acked = true;
  e.in_flight = false;
  --seg.unacked;
  --records_;
  remove_if_done(it);
  publish_gauges();
}

void spool::nack(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  const auto it = segment_of(id);
  if (it == segments_.end()) return;
  segment& seg = *it->second;
  auto& e = seg.entries[id - seg.first_id];
  if (e.acked || !e.in_flight) return;
  e.in_flight = false;
  ++seg.available;
}

// Deletes the segment at `it` once none of its records is waiting. Returns the next segment.
spool::segment_map::iterator spool::remove_if_done(segment_map::iterator it) {
  segment& seg = *it->second;
  if (seg.unacked > 0) return std::next(it);
  if (&seg == current_) {  // the next append starts a fresh segment
    ::close(seg.append_fd);
    current_ = nullptr;
  }
  remove_file(seg.path);
  bytes_ -= seg.file_bytes;
  return segments_.erase(it);
}

// Forgets a segment whose file disappeared: its waiting records are lost.
spool::segment_map::iterator spool::drop_lost(segment_map::iterator it) {
  segment& seg = *it->second;
  spdlog::warn("spool: {} disappeared; {} records in it are lost", seg.path.string(), seg.unacked);
  corrupt_records_.inc(seg.unacked);
  records_ -= seg.unacked;
  bytes_ -= seg.file_bytes;
  if (&seg == current_) {
    ::close(seg.append_fd);
    current_ = nullptr;
  }
  return segments_.erase(it);
}

void spool::publish_gauges() {
  records_gauge_.set(static_cast<std::int64_t>(records_));
  bytes_gauge_.set(static_cast<std::int64_t>(bytes_));
}

bool spool::empty() const {
  std::lock_guard lock(mutex_);
  return records_ == 0;
}

std::uint64_t spool::records() const {
  std::lock_guard lock(mutex_);
  return records_;
}

std::uint64_t spool::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

}  // namespace tocsin::kafka
