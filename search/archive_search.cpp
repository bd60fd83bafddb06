#include "search/archive_search.hpp"

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <set>

#include "collector/file_archive.hpp"
#include "core/json_text.hpp"
#include "core/rfc3339.hpp"

namespace tocsin::search {
namespace {

// Longer than any line the archive writes (file_archive's torn-tail limit); longer lines are
// skipped without being held in memory.
constexpr std::size_t max_line_bytes = std::size_t{16} << 20;
// Lines of one file are in received_at order up to what ingest shards interleave; a file is
// left once its lines are this much older than the window.
constexpr auto order_slack = std::chrono::seconds(60);
// A file last written before the window (with this much clock slack) holds nothing in it.
constexpr auto mtime_slack = std::chrono::seconds(2);
// Read buffers of the files merged at once share this much memory (within the block limits).
constexpr std::size_t merge_memory = std::size_t{64} << 20;
constexpr std::size_t min_block = std::size_t{16} << 10;
constexpr std::size_t max_block = std::size_t{256} << 10;
// Days of {date} expanded at most (100 years).
constexpr long max_days = 36525;

std::string glob_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string format_day(std::chrono::sys_days day) {
  const std::chrono::year_month_day ymd(day);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

// `path_template` as a glob(3) pattern: literal text escaped, {host} and {app} replaced by
// `host` and `app` (already patterns), {date} by `date`.
std::string template_pattern(std::string_view path_template, const std::string& host,
                             const std::string& app, const std::string& date) {
  std::string out;
  std::size_t i = 0;
  while (i < path_template.size()) {
    const std::size_t open = path_template.find('{', i);
    if (open == std::string_view::npos) break;
    const std::size_t close = path_template.find('}', open);
    if (close == std::string_view::npos) break;
    out += glob_escape(path_template.substr(i, open - i));
    const std::string_view name = path_template.substr(open + 1, close - open - 1);
    if (name == "host") {
      out += host;
    } else if (name == "app") {
      out += app;
    } else if (name == "date") {
      out += date;
    } else {
      out += glob_escape(path_template.substr(open, close - open + 1));
    }
    i = close + 1;
  }
  out += glob_escape(path_template.substr(i));
  return out;
}

// The {host} or {app} patterns for a filter: its exact value as the archive names it, and the
// overflow directory; else anything.
std::vector<std::string> component_patterns(const rules::event_filter& filter,
                                            std::string_view field) {
  const std::string* exact = filter.exact_value(field);
  if (exact == nullptr) return {"*"};
  return {glob_escape(collector::sanitize_path_component(*exact)),
          std::string(collector::overflow_path_component)};
}

void glob_files(const std::string& pattern, std::set<std::string>& out) {
  glob_t g{};
  if (::glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    for (std::size_t i = 0; i < g.gl_pathc; ++i) {
      struct stat st {};
      if (::stat(g.gl_pathv[i], &st) == 0 && S_ISREG(st.st_mode)) out.emplace(g.gl_pathv[i]);
    }
  }
  ::globfree(&g);
}

std::optional<time_point> quick_received_at(std::string_view line) {
  // Inside a JSON string a quote is escaped, so this text is a key: the top-level one comes
  // before "fields" (append_event_json's order).
  constexpr std::string_view key = R"("received_at":")";
  const std::size_t k = line.find(key);
  if (k == std::string_view::npos) return std::nullopt;
  const std::size_t start = k + key.size();
  const std::size_t quote = line.find('"', start);
  if (quote == std::string_view::npos || quote - start > 64) return std::nullopt;
  return parse_rfc3339(line.substr(start, quote - start));
}

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Whether `c` is written into Event JSON as itself (both by append_json_escaped and nlohmann).
bool json_verbatim(char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '/'; }

// The longest text every match of `pattern` contains, "" when none of 3 bytes or more is certain:
// a run of literal characters outside groups and classes, in a pattern without alternation or
// flags (conservative: anything unusual gives up).
std::string required_literal(std::string_view pattern) {
  if (pattern.find('|') != std::string_view::npos || pattern.find("(?") != std::string_view::npos) {
    return "";
  }
  constexpr std::string_view meta = "\\.^$*+?()[]{}|";
  std::string best, run;
  int depth = 0;
  bool in_class = false;
  const auto end_run = [&](bool last_is_optional) {
    if (last_is_optional && !run.empty()) run.pop_back();
    if (run.size() > best.size()) best = run;
    run.clear();
  };
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (in_class) {
      if (c == '\\') ++i;
      if (c == ']') in_class = false;
      continue;
    }
    if (c == '\\') {
      end_run(false);
      ++i;  // an escape: \d \. \x41 ... never part of a run
      continue;
    }
    if (meta.find(c) == std::string_view::npos && json_verbatim(c)) {
      if (depth == 0) run += c;
      continue;
    }
    // `?`, `*` and `{` make the character before optional; `+` keeps it.
    end_run(c == '?' || c == '*' || c == '{');
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == '[') in_class = true;
  }
  end_run(false);
  return best.size() >= 3 ? best : "";
}

// Texts a line must contain to be worth parsing: the JSON form of each `FIELD="value"` term and
// each bare word (ignoring case), and a literal each `FIELD=~"RE2"` match must contain. Only
// values whose JSON form is certain (printable ASCII without quote, backslash or slash) take
// part; the filter decides the rest.
class line_prefilter {
 public:
  explicit line_prefilter(const rules::event_filter& filter) {
    for (const rules::filter_term& t : filter.terms()) {
      if (t.op == config::match_op::regex) {
        if (std::string literal = required_literal(t.value); !literal.empty()) {
          exact_.push_back(std::move(literal));
        }
        continue;
      }
      if (!t.is_word() && t.op != config::match_op::equal) continue;
      if (t.value.empty() || !std::all_of(t.value.begin(), t.value.end(), json_verbatim)) continue;
      if (t.is_word()) {
        std::string lower = t.value;
        std::transform(lower.begin(), lower.end(), lower.begin(), ascii_lower);
        words_.push_back(std::move(lower));
      } else {
        exact_.push_back(t.value);
      }
    }
  }

  [[nodiscard]] bool passes(std::string_view line) const {
    for (const std::string& e : exact_) {
      if (line.find(e) == std::string_view::npos) return false;
    }
    for (const std::string& w : words_) {
      const auto it = std::search(line.begin(), line.end(), w.begin(), w.end(),
                                  [](char a, char b) { return ascii_lower(a) == b; });
      if (it == line.end()) return false;
    }
    return true;
  }

 private:
  std::vector<std::string> exact_;
  std::vector<std::string> words_;
};

struct scan_budget {
  std::uint64_t used = 0;
  std::uint64_t max = 0;
  bool exhausted = false;
  std::uint64_t bad_lines = 0;
};

// Reads one file's lines last to first, a block at a time. The file is opened for each block
// (merging thousands of files must not hold thousands of descriptors) and left when it is
// replaced meanwhile (logrotate). Lines appended after the first read are not seen.
class backward_reader {
 public:
  backward_reader(std::string path, off_t size, dev_t dev, ino_t ino, std::size_t block)
      : path_(std::move(path)), dev_(dev), ino_(ino), pos_(size), block_(block) {}

  // The previous line into `line` (valid until the next call); false at the start of the file,
  // on a read error, or when the budget is spent.
  bool previous(std::string_view& line, scan_budget& budget) {
    if (first_) {
      first_ = false;
      if (!fill(budget)) return false;
      // A last line without its newline is still being written (or torn): not ours to read.
      if (end_ > 0 && buf_[end_ - 1] != '\n') skipping_ = true;
    }
    while (true) {
      if (skipping_) {
        const void* nl = ::memrchr(buf_.data(), '\n', end_);
        if (nl != nullptr) {
          end_ = static_cast<std::size_t>(static_cast<const char*>(nl) - buf_.data()) + 1;
          skipping_ = false;
          if (oversized_) ++budget.bad_lines;
          oversized_ = false;
          continue;
        }
        end_ = 0;
        if (pos_ == 0) {
          if (oversized_) ++budget.bad_lines;
          return false;
        }
        if (!fill(budget)) return false;
        continue;
      }
      // Outside skipping, buf_[0, end_) ends with a newline (the one after the line returned
      // last, or the file's last one); nothing is left once it is empty, as pos_ is 0 then.
      if (end_ == 0) return false;
      const std::size_t stop = end_ - 1;
      const void* nl = stop == 0 ? nullptr : ::memrchr(buf_.data(), '\n', stop);
      if (nl != nullptr) {
        const auto start = static_cast<std::size_t>(static_cast<const char*>(nl) - buf_.data()) + 1;
        end_ = start;
        if (stop - start > max_line_bytes) {
          ++budget.bad_lines;
          continue;
        }
        line = std::string_view(buf_.data() + start, stop - start);
        return true;
      }
      if (pos_ == 0) {
        end_ = 0;
        if (stop > max_line_bytes) {
          ++budget.bad_lines;
          return false;
        }
        line = std::string_view(buf_.data(), stop);
        return true;
      }
      if (end_ > max_line_bytes) {  // drop what we hold and look for the line before it
        skipping_ = true;
        oversized_ = true;
        end_ = 0;
        continue;
      }
      if (!fill(budget)) return false;
    }
  }

  time_point time;
  std::string_view line;

 private:
  // Prepends the block before pos_ to what is left of the buffer.
  bool fill(scan_budget& budget) {
    if (budget.used >= budget.max) {
      budget.exhausted = true;
      return false;
    }
    // A line longer than a block doubles the read, so a long line costs O(its length) copying.
    const std::size_t want = std::max(block_, end_);
    const auto n = static_cast<std::size_t>(std::min<off_t>(static_cast<off_t>(want), pos_));
    const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st {};
    bool ok = ::fstat(fd, &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_;
    spare_.resize(n + end_);
    std::size_t got = 0;
    while (ok && got < n) {
      const ssize_t r = ::pread(fd, spare_.data() + got, n - got,
                                pos_ - static_cast<off_t>(n) + static_cast<off_t>(got));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        ok = false;
        break;
      }
      got += static_cast<std::size_t>(r);
    }
    ::close(fd);
    if (!ok) return false;
    if (end_ > 0) std::memcpy(spare_.data() + n, buf_.data(), end_);
    buf_.swap(spare_);
    end_ += n;
    pos_ -= static_cast<off_t>(n);
    budget.used += n;
    return true;
  }

  const std::string path_;
  const dev_t dev_;
  const ino_t ino_;
  off_t pos_;  // file offset of buf_[0]
  const std::size_t block_;
  std::string buf_, spare_;
  std::size_t end_ = 0;  // buf_[0, end_) is not read yet
  bool first_ = true;
  bool skipping_ = false;   // dropping bytes up to the previous newline
  bool oversized_ = false;  // ... of a line too long to read (counted as bad)
};

class archive_scan {
 public:
  archive_scan(const rules::event_filter& filter, const search_options& options,
               const match_callback& on_match)
      : filter_(filter), options_(options), on_match_(on_match), prefilter_(filter) {
    budget_.max = options.max_scan_bytes;
    if (options.buckets > 0 && options.since < options.until) {
      const auto step = histogram_step(options.since, options.until, options.buckets);
      const auto window = std::chrono::ceil<std::chrono::seconds>(options.until - options.since);
      result_.histogram.start = options.since;
      result_.histogram.step = step;
      result_.histogram.counts.assign(
          static_cast<std::size_t>((window.count() + step.count() - 1) / step.count()), 0);
    }
  }

  // One day's files (or a template's, without {date}), merged newest first.
  void scan_group(const std::vector<std::string>& paths) {
    if (done()) return;
    const std::size_t block =
        std::clamp(merge_memory / std::max<std::size_t>(1, paths.size()), min_block, max_block);
    std::vector<std::unique_ptr<backward_reader>> readers;
    readers.reserve(paths.size());
    for (const std::string& path : paths) {
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      const time_point mtime{std::chrono::duration_cast<time_point::duration>(
          std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec))};
      if (mtime + mtime_slack < options_.since) continue;
      readers.push_back(
          std::make_unique<backward_reader>(path, st.st_size, st.st_dev, st.st_ino, block));
      ++result_.files_scanned;
    }
    const auto newer = [&](std::size_t a, std::size_t b) {
      return readers[a]->time < readers[b]->time;
    };
    std::priority_queue<std::size_t, std::vector<std::size_t>, decltype(newer)> heap(newer);
    for (std::size_t i = 0; i < readers.size(); ++i) {
      if (advance(*readers[i])) heap.push(i);
    }
    while (!heap.empty() && !done()) {
      const std::size_t i = heap.top();
      heap.pop();
      process(readers[i]->line, readers[i]->time);
      if (advance(*readers[i])) heap.push(i);
    }
  }

  [[nodiscard]] bool done() const { return stopped_ || budget_.exhausted; }

  search_result finish() {
    result_.bytes_scanned = budget_.used;
    result_.bad_lines = budget_.bad_lines;
    result_.truncated = budget_.exhausted;
    return std::move(result_);
  }

 private:
  // To the reader's previous line with a time in or after the window's slack; false when the
  // file has no more.
  bool advance(backward_reader& r) {
    std::string_view line;
    while (r.previous(line, budget_)) {
      if (line.empty()) continue;
      const auto t = quick_received_at(line);
      if (!t) {
        ++budget_.bad_lines;
        continue;
      }
      if (*t + order_slack < options_.since) return false;
      r.line = line;
      r.time = *t;
      return true;
    }
    return false;
  }

  void process(std::string_view line, time_point t) {
    if (t < options_.since || t >= options_.until) return;
    if (!prefilter_.passes(line)) return;
    if (!collector::parse_event_json(line, event_).is_ok()) {
      ++budget_.bad_lines;
      return;
    }
    if (!filter_.matches(event_)) return;
    ++result_.matches;
    auto& counts = result_.histogram.counts;
    if (!counts.empty()) {
      const auto bucket = static_cast<std::size_t>((t - options_.since) / result_.histogram.step);
      if (bucket < counts.size()) ++counts[bucket];
    }
    if (result_.delivered < options_.limit) {
      ++result_.delivered;
      if (!on_match_(event_, line)) stopped_ = true;
    }
    if (result_.delivered >= options_.limit && counts.empty()) stopped_ = true;
  }

  const rules::event_filter& filter_;
  const search_options& options_;
  const match_callback& on_match_;
  const line_prefilter prefilter_;
  scan_budget budget_;
  search_result result_;
  collector::event event_;
  bool stopped_ = false;
};

}  // namespace

std::optional<time_point> parse_search_time(std::string_view text, time_point now) {
  if (auto t = parse_rfc3339(text)) return t;
  if (auto ago = config::parse_duration(text)) return now - *ago;
  return std::nullopt;
}

std::chrono::seconds histogram_step(time_point since, time_point until, std::size_t buckets) {
  if (buckets == 0 || until <= since) return std::chrono::seconds(1);
  const auto window = std::chrono::ceil<std::chrono::seconds>(until - since).count();
  const auto n = static_cast<std::chrono::seconds::rep>(buckets);
  return std::chrono::seconds(std::max<std::chrono::seconds::rep>(1, (window + n - 1) / n));
}

std::vector<std::string> archive_templates(const config::config& cfg) {
  std::vector<std::string> out;
  for (const config::output_config& o : cfg.outputs) {
    if (o.type == config::output_type::file &&
        std::find(out.begin(), out.end(), o.path) == out.end()) {
      out.push_back(o.path);
    }
  }
  return out;
}

std::vector<std::vector<std::string>> candidate_files(std::string_view path_template,
                                                      const rules::event_filter& filter,
                                                      time_point since, time_point until) {
  std::vector<std::vector<std::string>> groups;
  if (until <= since) return groups;
  std::vector<std::string> days;
  if (path_template.find("{date}") != std::string_view::npos) {
    const auto last = std::chrono::floor<std::chrono::days>(until - std::chrono::microseconds(1));
    const auto first = std::chrono::floor<std::chrono::days>(since);
    for (auto d = last; d >= first && static_cast<long>(days.size()) < max_days;
         d -= std::chrono::days(1)) {
      days.push_back(format_day(d));
    }
  } else {
    days.emplace_back();
  }
  const auto hosts = component_patterns(filter, "host");
  const auto apps = component_patterns(filter, "app");
  groups.reserve(days.size());
  for (const std::string& day : days) {
    std::set<std::string> files;
    for (const std::string& h : hosts) {
      for (const std::string& a : apps)
        glob_files(template_pattern(path_template, h, a, day), files);
    }
    if (!files.empty()) groups.emplace_back(files.begin(), files.end());
  }
  return groups;
}

search_result search_archive(const std::vector<std::string>& path_templates,
                             const rules::event_filter& filter, const search_options& options,
                             const match_callback& on_match) {
  archive_scan scan(filter, options, on_match);
  if (options.limit == 0 && options.buckets == 0) return scan.finish();
  // Days newest first across templates: each template's groups are newest first already; with
  // several templates, the same day of each is merged together.
  std::vector<std::vector<std::vector<std::string>>> per_template;
  per_template.reserve(path_templates.size());
  for (const std::string& t : path_templates) {
    per_template.push_back(candidate_files(t, filter, options.since, options.until));
  }
  if (per_template.size() == 1) {
    for (const auto& group : per_template.front()) scan.scan_group(group);
  } else {
    // Several outputs: merge all their files (rare; an archive and a copy of it).
    std::vector<std::string> all;
    for (const auto& groups : per_template) {
      for (const auto& group : groups) all.insert(all.end(), group.begin(), group.end());
    }
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    scan.scan_group(all);
  }
  return scan.finish();
}

}  // namespace tocsin::search
