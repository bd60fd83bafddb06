#pragma once
// The terms a new_term rule has seen, per group, with when each was last seen: bounded (the
// least recently seen term goes first), and kept in a file under data_dir so a restart does not
// fire every known term again. The file is a journal of JSON lines: a header
// {"v":1,"rule","identity","warmup_started"}, then {"k": key, "s": second} per sighting worth
// keeping (the key percent-encoded byte for byte, so any bytes survive); it is rewritten compactly
// when it grows to twice the live terms and by flush(). A header with another identity (the rule's
// patterns, field or group_by changed) starts the rule afresh.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tocsin::rules {

class term_store {
 public:
  // `file` empty: nothing is persisted. Loads the file when it exists with this identity.
  term_store(std::filesystem::path file, std::string rule, std::string identity,
             std::size_t max_terms);
  ~term_store();
  term_store(const term_store&) = delete;
  term_store& operator=(const term_store&) = delete;

  // Records a sighting of the term `key` (its group's and its own labels) at `second`. True when
  // the term is new: never seen, or last seen `lookback` seconds ago or longer.
  bool see(const std::string& key, std::int64_t second, std::int64_t lookback);

  // When the rule was first seen running: persisted, so a restart does not warm up again.
  [[nodiscard]] std::optional<std::int64_t> warmup_started() const { return warmup_started_; }
  void set_warmup_started(std::int64_t second);

  // Rewrites the file with the live terms and their latest sightings.
  void flush();
  // Writes the journal's buffered lines out (a crash then loses at most what came since).
  void sync();

  [[nodiscard]] std::size_t size() const { return terms_.size(); }
  [[nodiscard]] std::uint64_t evicted() const { return evicted_; }
  // Why the file could not be read or written, once per kind of trouble ("" when fine).
  [[nodiscard]] const std::string& problem() const { return problem_; }

 private:
  struct entry {
    std::string key;
    std::int64_t last_seen = 0;
  };
  void load();
  void append(const std::string& key, std::int64_t second);
  void rewrite();
  void fail(const std::string& what);

  std::filesystem::path file_;
  std::string rule_, identity_;
  std::size_t max_terms_;
  std::optional<std::int64_t> warmup_started_;
  std::list<entry> lru_;  // least recently seen first
  std::unordered_map<std::string_view, std::list<entry>::iterator> terms_;
  std::ofstream journal_;
  std::size_t journal_lines_ = 0;
  bool dirty_ = false;  // sightings newer than the file
  std::uint64_t evicted_ = 0;
  std::string problem_;
};

}  // namespace tocsin::rules
