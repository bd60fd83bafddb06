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

#include "core/fault_injection.hpp"

namespace tocsin::kafka {
namespace {

// Record formats (see spool.hpp). Format 1 is only read; a segment is written in format 2.
enum class record_format { v1, v2 };

constexpr std::string_view record_magic("\xf5TS\x02", 4);  // 0xF5 never occurs in UTF-8
constexpr std::size_t v1_header_bytes = 8;                 // u32 length, u32 payload CRC
constexpr std::size_t v2_header_bytes = 16;  // magic, u32 length, u32 payload CRC, u32 header CRC
constexpr std::size_t key_length_bytes = 4;
constexpr std::size_t name_digits = 20;
constexpr std::uint64_t max_payload = std::numeric_limits<std::uint32_t>::max();

// Damaged stretches logged one by one per segment before a summary line takes over.
constexpr std::size_t damage_log_lines = 5;

std::size_t header_bytes(record_format format) {
  return format == record_format::v1 ? v1_header_bytes : v2_header_bytes;
}

void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

void set_u32(std::string& out, std::size_t pos, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out[pos + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

std::uint32_t get_u32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::uint32_t checksum(std::string_view bytes) {
  return static_cast<std::uint32_t>(crc32(crc32(0L, Z_NULL, 0),
                                          reinterpret_cast<const Bytef*>(bytes.data()),
                                          static_cast<uInt>(bytes.size())));
}

std::string encode_record(std::string_view key, std::string_view value) {
  const auto length = static_cast<std::uint32_t>(key_length_bytes + key.size() + value.size());
  std::string record;
  record.reserve(v2_header_bytes + length);
  record += record_magic;
  put_u32(record, length);
  put_u32(record, 0);  // payload CRC, filled in below
  put_u32(record, 0);  // header CRC, filled in below
  put_u32(record, static_cast<std::uint32_t>(key.size()));
  record += key;
  record += value;
  set_u32(record, 8, checksum(std::string_view(record).substr(v2_header_bytes)));
  set_u32(record, 12, checksum(std::string_view(record).substr(0, 12)));
  return record;
}

// What starts at one offset of a segment file.
enum class frame_kind {
  intact,   // a whole record, checksums right
  damaged,  // a record whose length is known but whose payload (or its CRC) is wrong
  torn,     // a record cut short by the end of the file (a crash mid-write), as far as can be told
  invalid,  // no record header
};

struct frame {
  frame_kind kind = frame_kind::invalid;
  std::size_t size = 0;  // header + payload, for intact and damaged records
};

// The payload checks both formats share: its CRC and the key length inside it.
frame payload_frame(std::string_view data, std::size_t pos, std::size_t header,
                    std::uint32_t length, std::uint32_t crc) {
  const std::string_view payload = data.substr(pos + header, length);
  const bool ok = checksum(payload) == crc && get_u32(payload.data()) <= length - key_length_bytes;
  return {ok ? frame_kind::intact : frame_kind::damaged, header + length};
}

frame v2_frame_at(std::string_view data, std::size_t pos) {
  const std::size_t left = data.size() - pos;
  if (left < v2_header_bytes) {  // a header cut short can be told from junk by its magic only
    return {record_magic.starts_with(data.substr(pos, record_magic.size())) ? frame_kind::torn
                                                                            : frame_kind::invalid};
  }
  if (data.compare(pos, record_magic.size(), record_magic) != 0 ||
      checksum(data.substr(pos, 12)) != get_u32(data.data() + pos + 12)) {
    return {frame_kind::invalid};
  }
  const std::uint32_t length = get_u32(data.data() + pos + 4);
  if (length < key_length_bytes) return {frame_kind::invalid};  // no writer makes this
  if (length > left - v2_header_bytes) return {frame_kind::torn};
  return payload_frame(data, pos, v2_header_bytes, length, get_u32(data.data() + pos + 8));
}

// Format 1 has no header CRC: a length that does not fit may be torn or damaged, and a CRC
// mismatch may mean a damaged length as well as a damaged payload (see parse_segment).
frame v1_frame_at(std::string_view data, std::size_t pos) {
  const std::size_t left = data.size() - pos;
  if (left < v1_header_bytes) return {frame_kind::torn};
  const std::uint32_t length = get_u32(data.data() + pos);
  if (length < key_length_bytes) return {frame_kind::invalid};
  if (length > left - v1_header_bytes) return {frame_kind::torn};
  return payload_frame(data, pos, v1_header_bytes, length, get_u32(data.data() + pos + 4));
}

frame frame_at(record_format format, std::string_view data, std::size_t pos) {
  return format == record_format::v1 ? v1_frame_at(data, pos) : v2_frame_at(data, pos);
}

// Where reading can resume after damage at `from - 1`: the next offset holding a record header
// (format 2: magic and header CRC right; format 1, which has neither: a whole intact record), or
// the end of the data.
std::size_t resync(record_format format, std::string_view data, std::size_t from) {
  if (format == record_format::v2) {
    for (auto q = data.find(record_magic, from); q != std::string_view::npos;
         q = data.find(record_magic, q + 1)) {
      if (v2_frame_at(data, q).kind != frame_kind::invalid) return q;
    }
    return data.size();
  }
  for (std::size_t q = from; q < data.size(); ++q) {
    if (v1_frame_at(data, q).kind == frame_kind::intact) return q;
  }
  return data.size();
}

// A stretch of a segment file that could not be read.
struct damaged_stretch {
  std::uint64_t offset = 0;
  std::uint64_t bytes = 0;
  bool tail = false;  // nothing intact follows it
  bool torn = false;  // tail only: it begins with a record cut short, as a crash mid-write leaves
};

struct parsed_segment {
  record_format format = record_format::v2;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> records;  // intact: offset, payload bytes
  std::vector<damaged_stretch> damage;
};

// Every intact record of a segment file and the stretches between them that are not.
parsed_segment parse_segment(std::string_view data, record_format format) {
  parsed_segment out{.format = format};
  const std::size_t header = header_bytes(format);
  std::size_t pos = 0;
  while (pos < data.size()) {
    const frame f = frame_at(format, data, pos);
    if (f.kind == frame_kind::intact) {
      out.records.emplace_back(pos, static_cast<std::uint32_t>(f.size - header));
      pos += f.size;
      continue;
    }
    // A format 2 header CRC vouches for the length, so the damage ends with this record.
    if (f.kind == frame_kind::damaged && format == record_format::v2) {
      out.damage.push_back({.offset = pos, .bytes = f.size});
      pos += f.size;
      continue;
    }
    // A format 1 length is believed only when the next intact record (or the end of the file)
    // starts exactly where it says the record ends: a damaged length that happened to fit would
    // otherwise swallow the records after it.
    const std::size_t next = resync(format, data, pos + 1);
    const bool framed = f.kind == frame_kind::damaged && next == pos + f.size;
    out.damage.push_back({.offset = pos,
                          .bytes = next - pos,
                          .tail = next == data.size() && !framed,
                          .torn = f.kind == frame_kind::torn});
    pos = next;
  }
  return out;
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

// Renames a damaged segment file to `<file>.bad` (`.bad.1`, `.bad.2` ... when an earlier one holds
// that name) so that bytes the spool could not read are kept for inspection, never deleted. A
// rename needs no free space, so this works on a full disk too. The new name, or "" on failure.
std::filesystem::path move_aside(const std::filesystem::path& file) {
  constexpr int max_copies = 1000;
  for (int n = 0; n < max_copies; ++n) {
    std::filesystem::path bad = file;
    bad += n == 0 ? std::string(".bad") : fmt::format(".bad.{}", n);
    struct stat st {};
    if (::lstat(bad.c_str(), &st) == 0) continue;
    if (errno == ENOENT && ::rename(file.c_str(), bad.c_str()) == 0) {
      sync_directory(file.parent_path());
      return bad;
    }
    spdlog::error("spool: cannot move damaged {} to {}: {}; leaving it in place", file.string(),
                  bad.string(), std::strerror(errno));
    return {};
  }
  spdlog::error("spool: cannot move damaged {} aside: {}.bad to .bad.{} exist; leaving it in place",
                file.string(), file.string(), max_copies - 1);
  return {};
}

// One warning per damaged stretch (the first few of a file, then a summary), with what becomes
// of the file.
void log_damage(const std::filesystem::path& file, const std::vector<damaged_stretch>& damage,
                std::string_view fate) {
  for (std::size_t i = 0; i < damage.size() && i < damage_log_lines; ++i) {
    const damaged_stretch& d = damage[i];
    if (!d.tail) {
      spdlog::warn("spool: {}: damaged record at byte {} ({} bytes) skipped; {}", file.string(),
                   d.offset, d.bytes, fate);
    } else {
      spdlog::warn("spool: {}: {} at byte {} ({} bytes to the end of the file) skipped; {}",
                   file.string(), d.torn ? "torn record (a crash mid-write?)" : "unreadable tail",
                   d.offset, d.bytes, fate);
    }
  }
  if (damage.size() > damage_log_lines) {
    spdlog::warn("spool: {}: {} more damaged stretches skipped", file.string(),
                 damage.size() - damage_log_lines);
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
  record_format format = record_format::v2;
  bool damaged = false;  // moved aside instead of deleted once done
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
      corrupt_records_(metrics.get_counter(
          "tocsin_spool_corrupt_records_total",
          "Spooled records found torn or corrupt and skipped (a damaged stretch counts as one).")),
      corrupt_record_events_(metrics.get_counter(
          "tocsin_spool_corrupt_total",
          "Damaged stretches of spool segment files skipped: a record (reading resumed after "
          "it) or a tail (nothing intact after it).",
          {{"what", "record"}})),
      corrupt_tail_events_(metrics.get_counter(
          "tocsin_spool_corrupt_total",
          "Damaged stretches of spool segment files skipped: a record (reading resumed after "
          "it) or a tail (nothing intact after it).",
          {{"what", "tail"}})) {
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
    spdlog::info("spool: {} records ({} bytes) waiting in {}", records_.load(), bytes_,
                 dir_.string());
  }
  publish_gauges();
}

spool::~spool() {
  if (current_ != nullptr) ::close(current_->append_fd);
}

void spool::load_segment(std::uint64_t name_id, const std::filesystem::path& file) {
  std::string data;
  if (!read_whole_file(file, data)) {
    spdlog::warn("spool: cannot read {}: {}; skipping it", file.string(), std::strerror(errno));
    next_id_ = std::max(next_id_, name_id + 1);  // a new segment must never take its name
    return;
  }
  if (data.empty()) {  // created, then a crash before its first record: nothing to keep
    remove_file(file);
    next_id_ = std::max(next_id_, name_id);
    return;
  }

  parsed_segment parsed = parse_segment(data, record_format::v2);
  if (!data.starts_with(record_magic)) {  // written before format 2, or its first header damaged
    parsed_segment legacy = parse_segment(data, record_format::v1);
    if (legacy.records.size() > parsed.records.size()) parsed = std::move(legacy);
  }
  for (const damaged_stretch& d : parsed.damage) {
    corrupt_records_.inc();
    (d.tail ? corrupt_tail_events_ : corrupt_record_events_).inc();
  }

  // Ids live in memory only: a segment whose name overlaps the records of the one before it (a
  // file copied in by hand) is numbered after them rather than left behind.
  const std::uint64_t first_id = std::max(name_id, next_id_);
  if (first_id != name_id) {
    spdlog::warn("spool: {} overlaps the segment before it; numbering its records from {}",
                 file.string(), first_id);
  }
  next_id_ = first_id + std::max<std::uint64_t>(parsed.records.size(), 1);

  if (parsed.records.empty()) {  // nothing left to deliver from it
    const std::filesystem::path bad = move_aside(file);
    log_damage(file, parsed.damage,
               bad.empty() ? "the file stays where it is" : "the file is now " + bad.string());
    return;
  }
  if (!parsed.damage.empty()) {
    log_damage(file, parsed.damage,
               fmt::format("the file will be renamed to .bad once its {} intact records are "
                           "delivered",
                           parsed.records.size()));
  }

  auto seg = std::make_unique<segment>();
  seg->first_id = first_id;
  seg->path = file;
  seg->file_bytes = data.size();
  seg->format = parsed.format;
  seg->damaged = !parsed.damage.empty();
  for (const auto& [offset, payload] : parsed.records) {
    seg->entries.push_back({.offset = offset, .payload = payload});
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
      fault_injection::fail("spool.create", ENOSPC)
          ? -1
          : ::open(seg->path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
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
  const std::uint64_t size = v2_header_bytes + payload;
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
    n = fault_injection::fail("spool.write", EIO)
            ? -1
            : ::write(seg.append_fd, record.data(), record.size());
  } while (n < 0 && errno == EINTR);
  int error = errno;
  bool ok = n == static_cast<ssize_t>(record.size());
  if (!ok && n >= 0) error = ENOSPC;  // a short write: the disk is full
  if (ok && (fault_injection::fail("spool.fdatasync", EIO) || ::fdatasync(seg.append_fd) != 0)) {
    error = errno;
    ok = false;
  }
  if (ok) return true;

  // Take the partial record back if possible; either way this segment gets no more records, so
  // that a torn remnant can only ever be its tail (skipped and counted at the next start-up).
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
    const std::size_t header = header_bytes(seg.format);
    buf.resize(header + e.payload);
    const bool intact = pread_exact(fd, buf.data(), buf.size(), e.offset) && [&] {
      const frame f = frame_at(seg.format, buf, 0);
      return f.kind == frame_kind::intact && f.size == buf.size();
    }();
    if (!intact) {  // changed under us since it was written or indexed: lost
      spdlog::warn(
          "spool: {}: damaged record at byte {} ({} bytes) skipped; the file will be renamed to "
          ".bad once its other records are delivered",
          seg.path.string(), e.offset, buf.size());
      corrupt_records_.inc();
      corrupt_record_events_.inc();
      seg.damaged = true;
      e.acked = true;
      --seg.available;
      --seg.unacked;
      --records_;
      continue;
    }
    const std::string_view payload = std::string_view(buf).substr(header);
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

// Deletes the segment at `it` once none of its records is waiting (moves it aside when it is
// damaged). Returns the next segment.
spool::segment_map::iterator spool::remove_if_done(segment_map::iterator it) {
  segment& seg = *it->second;
  if (seg.unacked > 0) return std::next(it);
  if (&seg == current_) {  // the next append starts a fresh segment
    ::close(seg.append_fd);
    current_ = nullptr;
  }
  if (seg.damaged) {
    const std::filesystem::path bad = move_aside(seg.path);
    if (!bad.empty()) spdlog::info("spool: damaged {} is now {}", seg.path.string(), bad.string());
  } else {
    remove_file(seg.path);
  }
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

bool spool::empty() const { return records_ == 0; }

std::uint64_t spool::records() const { return records_; }

std::uint64_t spool::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

}  // namespace tocsin::kafka
