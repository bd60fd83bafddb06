#include "rules/term_store.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <charconv>
#include <system_error>
#include <utility>

namespace tocsin::rules {
namespace {

std::string header(const std::string& rule, const std::string& identity,
                   std::optional<std::int64_t> warmup_started) {
  nlohmann::json j = {{"v", 1}, {"rule", rule}, {"identity", identity}};
  if (warmup_started) j["warmup_started"] = *warmup_started;
  return j.dump();
}

// Keys hold any bytes (label values from logs); JSON strings hold UTF-8 only.
std::string encode(std::string_view key) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : key) {
    if (c < 0x20 || c >= 0x7f || c == '%') {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::optional<std::string> decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    unsigned value = 0;
    if (i + 2 >= text.size() || !std::isxdigit(static_cast<unsigned char>(text[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      return std::nullopt;
    }
    std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

std::string line(std::string_view key, std::int64_t second) {
  const nlohmann::json j = {{"k", encode(key)}, {"s", second}};
  return j.dump();
}

}  // namespace

term_store::term_store(std::filesystem::path file, std::string rule, std::string identity,
                       std::size_t max_terms)
    : file_(std::move(file)),
      rule_(std::move(rule)),
      identity_(std::move(identity)),
      max_terms_(std::max<std::size_t>(max_terms, 1)) {
  if (!file_.empty()) load();
}

term_store::~term_store() {
  if (dirty_) flush();
}

void term_store::fail(const std::string& what) {
  if (problem_.empty()) problem_ = what;
}

void term_store::load() {
  std::ifstream in(file_);
  if (!in) return;  // a new rule
  std::string text;
  if (!std::getline(in, text)) return;
  const auto head = nlohmann::json::parse(text, nullptr, false);
  if (!head.is_object() || head.value("v", 0) != 1 || head.value("identity", "") != identity_) {
    return;  // another rule by this name, or an older format: start afresh
  }
  if (const auto w = head.find("warmup_started"); w != head.end() && w->is_number_integer()) {
    warmup_started_ = w->get<std::int64_t>();
  }
  while (std::getline(in, text)) {
    const auto j = nlohmann::json::parse(text, nullptr, false);
    // A torn last line (a crash mid-write) or a stray edit is skipped.
    if (!j.is_object() || !j.contains("k") || !j["k"].is_string() || !j.contains("s") ||
        !j["s"].is_number_integer()) {
      continue;
    }
    auto decoded = decode(j["k"].get_ref<const std::string&>());
    if (!decoded) continue;
    std::string key = std::move(*decoded);
    const auto second = j["s"].get<std::int64_t>();
    if (const auto it = terms_.find(key); it != terms_.end()) {
      it->second->last_seen = std::max(it->second->last_seen, second);
      lru_.splice(lru_.end(), lru_, it->second);
      continue;
    }
    if (lru_.size() >= max_terms_) {
      terms_.erase(lru_.front().key);
      lru_.pop_front();
    }
    lru_.push_back({std::move(key), second});
    terms_.emplace(lru_.back().key, std::prev(lru_.end()));
  }
  // The journal opens at the first append, with a compacting rewrite.
}

void term_store::set_warmup_started(std::int64_t second) {
  warmup_started_ = second;
  dirty_ = true;
  flush();
}

bool term_store::see(const std::string& key, std::int64_t second, std::int64_t lookback) {
  if (const auto it = terms_.find(key); it != terms_.end()) {
    entry& e = *it->second;
    const bool fresh = second - e.last_seen >= lookback;
    e.last_seen = std::max(e.last_seen, second);
    lru_.splice(lru_.end(), lru_, it->second);
    dirty_ = true;
    if (fresh) append(e.key, e.last_seen);
    return fresh;
  }
  if (lru_.size() >= max_terms_) {
    terms_.erase(lru_.front().key);
    lru_.pop_front();
    ++evicted_;
  }
  lru_.push_back({key, second});
  terms_.emplace(lru_.back().key, std::prev(lru_.end()));
  append(lru_.back().key, second);
  return true;
}

void term_store::append(const std::string& key, std::int64_t second) {
  // A store that could not write waits for flush() to try again, instead of rewriting the
  // whole file at every new term.
  if (file_.empty()) return;
  if (!problem_.empty()) {
    dirty_ = true;
    return;
  }
  if (!journal_.is_open() || journal_lines_ >= 2 * lru_.size() + 64) {
    rewrite();  // compacts, and opens the journal
    return;
  }
  journal_ << line(key, second) << '\n';
  ++journal_lines_;
}

void term_store::sync() {
  if (!journal_.is_open()) return;
  journal_.flush();
  if (!journal_) fail("cannot append to " + file_.string());
}

void term_store::flush() {
  if (file_.empty() || (!dirty_ && problem_.empty())) return;
  problem_.clear();  // tried again; rewrite() says if it still fails
  rewrite();
}

void term_store::rewrite() {
  if (file_.empty()) return;
  journal_.close();
  std::error_code ec;
  std::filesystem::create_directories(file_.parent_path(), ec);
  const std::filesystem::path temp = file_.string() + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << header(rule_, identity_, warmup_started_) << '\n';
    for (const entry& e : lru_) out << line(e.key, e.last_seen) << '\n';
    out.flush();
    if (!out) {
      fail("cannot write " + temp.string());
      return;
    }
  }
  std::filesystem::rename(temp, file_, ec);
  if (ec) {
    fail("cannot replace " + file_.string() + ": " + ec.message());
    return;
  }
  journal_.open(file_, std::ios::app);
  journal_lines_ = lru_.size();
  dirty_ = false;
}

}  // namespace tocsin::rules
