#pragma once
// Alerts Kafka could not take, kept on disk until it can. Append-only segment files under one
// directory, named by the sequence number of their first record (`00000000000000000042.seg`).
// Each record (format 2) is: the magic bytes F5 'T' 'S' 02, u32 payload length, u32 CRC-32 of the
// payload, u32 CRC-32 of the 12 header bytes before it, then the payload = u32 key length, key,
// value (little-endian). Format 1 files (no magic, no header CRC: u32 length, u32 payload CRC,
// payload), written by earlier versions, are still read. A record is on disk once append()
// returns, so `kill -9` loses nothing that reached the spool.
//
// Damage costs only the records it touches. A record whose header is intact but whose payload is
// not is skipped alone; after a damaged header, reading resumes at the next intact header. Each
// damaged stretch is logged once with its file and offset and counted
// (tocsin_spool_corrupt_total{what="record"}, or what="tail" when nothing intact follows it: a
// torn write or damage up to the end) and in tocsin_spool_corrupt_records_total. A damaged segment
// file is never deleted: once its intact records are acknowledged (at once when it has none) it is
// renamed to `<segment>.bad` (`.bad.1` ... when that name is taken) for inspection.
//
// Records are handed out oldest first by take() and stay on disk until ack(); a segment is deleted
// once every record in it is acknowledged. nack() makes a record available to take() again.
// Thread-safe.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/metrics.hpp"

namespace tocsin::kafka {

struct spool_record {
  std::uint64_t id = 0;  // > 0, increasing; new records get ids above every record on disk
  std::string key;
  std::string value;
};

struct spool_options {
  std::uint64_t max_bytes = std::uint64_t{1} << 30;       // on-disk cap; append() refuses beyond it
  std::uint64_t segment_bytes = std::uint64_t{16} << 20;  // a new segment starts past this size
};

class spool {
 public:
  // Creates `dir` if needed and indexes the segments already there (the replay at start-up).
  // Throws std::runtime_error when the directory cannot be created or read.
  spool(std::filesystem::path dir, spool_options options, metrics_registry& metrics);
  ~spool();
  spool(const spool&) = delete;
  spool& operator=(const spool&) = delete;

  // Appends one record. False when the cap would be exceeded (counted as
  // tocsin_bus_errors_total{reason="spool_full"}, logged once per full episode) or the write
  // failed (counted as reason="spool_write", logged).
  bool append(std::string_view key, std::string_view value);

  // Up to `max` records that are neither acknowledged nor already handed out, oldest first.
  std::vector<spool_record> take(std::size_t max);
  void ack(std::uint64_t id);   // delivered: gone for good once its segment is fully acked
  void nack(std::uint64_t id);  // not delivered: take() hands it out again

  // Neither waits for an append in progress (its fdatasync): an ingest shard asks.
  [[nodiscard]] bool empty() const;             // no unacknowledged record at all
  [[nodiscard]] std::uint64_t records() const;  // unacknowledged records (tocsin_spool_records)
  [[nodiscard]] std::uint64_t bytes() const;    // bytes of live segment files (tocsin_spool_bytes)

 private:
  struct segment;                                                         // defined in spool.cpp
  using segment_map = std::map<std::uint64_t, std::unique_ptr<segment>>;  // by first record id

  enum class read_result { ok, file_gone, unreadable };

  void load_segment(std::uint64_t name_id, const std::filesystem::path& file);
  bool start_segment();
  bool write_record(const std::string& record);
  void write_failed(const std::string& what, int error);
  void retire_current();
  read_result read_available(segment& seg, std::size_t max, std::vector<spool_record>& out);
  segment_map::iterator segment_of(std::uint64_t id);
  segment_map::iterator remove_if_done(segment_map::iterator it);
  segment_map::iterator drop_lost(segment_map::iterator it);
  void publish_gauges();

  const std::filesystem::path dir_;
  const spool_options options_;
  mutable std::mutex mutex_;
  segment_map segments_;
  segment* current_ = nullptr;  // the segment append() writes to; none until the first append
  std::uint64_t next_id_ = 1;
  std::atomic<std::uint64_t> records_{0};  // unacknowledged; written under mutex_ only
  std::uint64_t bytes_ = 0;                // live segment files
  bool full_logged_ = false;               // one warning per full episode
  bool write_error_logged_ = false;

  gauge& records_gauge_;
  gauge& bytes_gauge_;
  counter& full_errors_;
  counter& write_errors_;
  counter& corrupt_records_;
  counter& corrupt_record_events_;  // tocsin_spool_corrupt_total{what="record"}
  counter& corrupt_tail_events_;    // tocsin_spool_corrupt_total{what="tail"}
};

}  // namespace tocsin::kafka
