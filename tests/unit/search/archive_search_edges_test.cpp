// Edge cases of search/archive_search.hpp: odd characters in path templates, several templates,
// files that vanish or change while a search runs, old mtimes, lines longer than the read
// doubling reaches, the scan budget across files, and the window, limit and histogram corners.

#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "collector/event.hpp"
#include "search/archive_search.hpp"
#include "tests/support/temp_dir.hpp"

namespace tocsin::search {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// 2026-03-10T00:00:00Z
const time_point day0 = time_point(std::chrono::sys_days(std::chrono::year(2026) / 3 / 10));

std::string line(time_point received, std::string_view host, std::string_view app,
                 std::string_view message) {
  collector::event ev;
  ev.received_at = received;
  ev.host = host;
  ev.app = app;
  ev.message = message;
  std::string out;
  collector::append_event_json(ev, out);
  out += '\n';
  return out;
}

void append(const fs::path& file, std::string_view text) {
  fs::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::app | std::ios::binary);
  out << text;
}

search_options window(time_point since, time_point until, std::size_t limit = 100) {
  search_options o;
  o.since = since;
  o.until = until;
  o.limit = limit;
  return o;
}

struct found {
  std::vector<std::string> messages;
  search_result result;
};

found run(const std::vector<std::string>& templates, std::string_view filter_text,
          const search_options& options,
          const std::function<void(const collector::event&)>& also = nullptr) {
  found f;
  const auto filter = rules::event_filter::parse(filter_text);
  f.result =
      search_archive(templates, filter, options, [&](const collector::event& ev, std::string_view) {
        f.messages.emplace_back(ev.message);
        if (also) also(ev);
        return true;
      });
  return f;
}

class archive_search_edges : public testing::Test {
 protected:
  test::temp_dir dir_{"tocsin-search-edges"};
  std::string template_ = (dir_.path() / "log/{date}/{host}/{app}.log").string();

  fs::path file(std::string_view date, std::string_view host, std::string_view app) const {
    return dir_.path() / "log" / date / host / (std::string(app) + ".log");
  }
};

// Glob characters in a template are literal, an unknown {name} and a lone '{' too; the same file
// reached by two templates is read once; a directory or a dangling link is no file.
TEST_F(archive_search_edges, odd_templates_and_several_of_them) {
  const fs::path odd = dir_.path() / "odd*?[1]\\x";
  const std::string a = (odd / "{x}/{host}.log{").string();
  append(odd / "{x}/web1.log{", line(day0 + 3s, "web1", "a", "odd"));
  // What the template would reach if its glob characters or {x} were patterns.
  append(dir_.path() / "oddAB1x/{x}/web1.log{", line(day0 + 4s, "web1", "a", "decoy 1"));
  append(odd / "y/web1.log{", line(day0 + 4s, "web1", "a", "decoy 2"));

  const std::string b = (dir_.path() / "flat/{host}").string();  // ends with a name
  append(dir_.path() / "flat/web1", line(day0 + 1s, "web1", "a", "flat web1"));
  append(dir_.path() / "flat/web2", line(day0 + 2s, "web2", "a", "flat web2"));
  fs::create_directories(dir_.path() / "flat/adir");
  fs::create_symlink(dir_.path() / "nowhere", dir_.path() / "flat/ghost");

  auto f = run({a}, "", window(day0, day0 + 1h));
  EXPECT_EQ(f.messages, (std::vector<std::string>{"odd"}));
  EXPECT_EQ(f.result.files_scanned, 1U);

  f = run({a, b, a}, "", window(day0, day0 + 1h));
  EXPECT_EQ(f.messages, (std::vector<std::string>{"odd", "flat web2", "flat web1"}));
  EXPECT_EQ(f.result.files_scanned, 3U);

  f = run({b, a}, R"(host="web1")", window(day0, day0 + 1h));
  EXPECT_EQ(f.messages, (std::vector<std::string>{"odd", "flat web1"}));
  EXPECT_EQ(f.result.files_scanned, 2U);
}

// The next day's files are looked at after this day's matches: one that is gone by then, or is
// a directory now, is skipped.
TEST_F(archive_search_edges, files_gone_before_their_day_is_read) {
  append(file("2026-03-10", "h", "a"), line(day0 + 10s, "h", "a", "newest"));
  append(file("2026-03-09", "h", "a"), line(day0 - 10s, "h", "a", "gone"));
  append(file("2026-03-09", "h", "b"), line(day0 - 20s, "h", "b", "now a directory"));
  const auto f = run({template_}, "", window(day0 - 24h, day0 + 24h), [&](const auto&) {
    fs::remove(file("2026-03-09", "h", "a"));
    fs::remove(file("2026-03-09", "h", "b"));
    fs::create_directories(file("2026-03-09", "h", "b"));
  });
  EXPECT_EQ(f.messages, (std::vector<std::string>{"newest"}));
  EXPECT_EQ(f.result.files_scanned, 1U);
}

// A file is read a block at a time: once it is removed, replaced (logrotate) or truncated, the
// rest of it is left, and what was read already still counts.
TEST_F(archive_search_edges, a_file_changed_while_it_is_read_is_left) {
  const auto newest = file("2026-03-10", "h", "a");
  const auto big = file("2026-03-10", "h", "b");
  std::string text;
  for (int i = 0; i < 20000; ++i) {
    text += line(day0 + std::chrono::milliseconds(i), "h", "b", "line " + std::to_string(i));
  }
  for (const std::string how : {"remove", "replace", "truncate"}) {
    SCOPED_TRACE(how);
    fs::remove_all(dir_.path() / "log");
    append(newest, line(day0 + 1h, "h", "a", "newest"));
    append(big, text);
    bool changed = false;
    const auto f = run({template_}, "", window(day0, day0 + 2h, 100000), [&](const auto&) {
      if (std::exchange(changed, true)) return;
      if (how == "remove") {
        fs::remove(big);
      } else if (how == "replace") {
        const auto next = big.string() + ".new";
        append(next, text);
        fs::rename(next, big);
      } else {
        fs::resize_file(big, 0);
      }
    });
    ASSERT_GT(f.messages.size(), 2U);
    EXPECT_EQ(f.messages[0], "newest");
    EXPECT_EQ(f.messages[1], "line 19999");
    EXPECT_LT(f.messages.size(), 20001U);  // not to the start of the file
    EXPECT_EQ(f.result.files_scanned, 2U);
    EXPECT_FALSE(f.result.truncated);
    EXPECT_EQ(f.result.bad_lines, 0U);
  }
}

// A file last written before the window (more than 2 s) is not opened.
TEST_F(archive_search_edges, a_file_written_before_the_window_is_not_opened) {
  const auto p = file("2026-03-10", "h", "a");
  append(p, line(day0 + 1h + 1s, "h", "a", "says it is newer than its mtime"));
  const auto set_mtime = [&](time_point t) {
    const auto s = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
    const timespec times[2] = {{s, 0}, {s, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, 0), 0);
  };
  set_mtime(day0 + 1h - 3s);
  auto f = run({template_}, "", window(day0 + 1h, day0 + 2h));
  EXPECT_TRUE(f.messages.empty());
  EXPECT_EQ(f.result.files_scanned, 0U);
  set_mtime(day0 + 1h - 1s);  // within the clock slack
  f = run({template_}, "", window(day0 + 1h, day0 + 2h));
  EXPECT_EQ(f.messages.size(), 1U);
  EXPECT_EQ(f.result.files_scanned, 1U);
}

// The budget is spent by the first file: the second is not read at all.
TEST_F(archive_search_edges, budget_spent_before_the_second_file) {
  std::string text;
  for (int i = 0; i < 10; ++i) text += line(day0 + std::chrono::seconds(i), "h", "a", "x");
  append(file("2026-03-10", "h", "a"), text);
  append(file("2026-03-10", "h", "b"), text);
  auto options = window(day0, day0 + 1h);
  options.max_scan_bytes = 1;
  const auto f = run({template_}, "", options);
  EXPECT_TRUE(f.result.truncated);
  EXPECT_EQ(f.result.bytes_scanned, text.size());
  EXPECT_EQ(f.result.files_scanned, 2U);
}

// Lines longer than 32 MiB are given up on before the read reaches their start: the bytes up to
// the newline before them are dropped and the line counts as bad, in the middle of a file and as
// its first line. A file may start with an empty line.
TEST_F(archive_search_edges, lines_longer_than_the_read_doubling_reaches) {
  const std::string huge =
      R"({"received_at":"2026-03-10T00:00:05Z","message":")" + std::string(40 << 20, 'y') + "\"}\n";
  append(file("2026-03-10", "h", "a"),
         line(day0 + 1s, "h", "a", "before") + huge + line(day0 + 6s, "h", "a", "after"));
  append(file("2026-03-10", "h", "b"), huge + line(day0 + 7s, "h", "b", "after first"));
  append(file("2026-03-10", "h", "c"), "\n" + line(day0 + 2s, "h", "c", "after empty"));
  const auto f = run({template_}, "", window(day0, day0 + 1h));
  EXPECT_EQ(f.messages,
            (std::vector<std::string>{"after first", "after", "after empty", "before"}));
  EXPECT_EQ(f.result.bad_lines, 2U);

  // The budget runs out while the bytes before the first one are dropped: no bad line then.
  auto options = window(day0, day0 + 1h);
  options.max_scan_bytes = std::uint64_t{33} << 20;
  const auto g = run({template_}, R"(app="b")", options);
  EXPECT_EQ(g.messages, (std::vector<std::string>{"after first"}));
  EXPECT_TRUE(g.result.truncated);
  EXPECT_EQ(g.result.bad_lines, 0U);
}

// received_at values that are no time: unclosed, or far too long to be one.
TEST_F(archive_search_edges, received_at_that_is_no_time_is_a_bad_line) {
  const auto p = file("2026-03-10", "h", "a");
  append(p, line(day0 + 1s, "h", "a", "good"));
  append(p, R"({"received_at":"2026-03-10T00:00:02Z)"
            "\n");
  append(p, R"({"received_at":")" + std::string(70, '1') + R"(","message":"long"})" + "\n");
  append(file("2026-03-10", "h", "empty"), "");
  const auto f = run({template_}, "", window(day0, day0 + 1h));
  EXPECT_EQ(f.messages, (std::vector<std::string>{"good"}));
  EXPECT_EQ(f.result.bad_lines, 2U);
  EXPECT_EQ(f.result.files_scanned, 2U);
}

// Terms whose JSON form is not the text itself (control characters, DEL, a backslash) and empty
// values are left to the filter: they still match.
TEST_F(archive_search_edges, terms_the_line_prefilter_cannot_use_still_match) {
  const auto p = file("2026-03-10", "h", "a");
  const std::vector<std::string> messages = {"tab\there", "del\x7f",   "back\\slash",
                                             "",          "pass word", "password"};
  for (std::size_t i = 0; i < messages.size(); ++i) {
    append(p, line(day0 + std::chrono::seconds(i), "h", "a", messages[i]));
  }
  const auto count = [&](std::string_view filter) {
    return run({template_}, filter, window(day0, day0 + 1h)).messages.size();
  };
  EXPECT_EQ(count("\"tab\there\""), 1U);
  EXPECT_EQ(count("DEL\x7f"), 1U);
  EXPECT_EQ(count(R"(message="back\\slash")"), 1U);
  EXPECT_EQ(count(R"(message="")"), 1U);
  EXPECT_EQ(count(R"(message=~"pass[\\w ]word")"), 1U);  // an escape inside a class
  EXPECT_EQ(count(R"(message=~"pass[\\w ]?word")"), 2U);
}

TEST_F(archive_search_edges, limit_zero_and_the_window_corners) {
  for (int s = 0; s < 6; ++s) {
    append(file("2026-03-10", "h", "a"), line(day0 + std::chrono::seconds(s), "h", "a", "m"));
  }
  int calls = 0;
  const auto filter = rules::event_filter::parse("");
  const auto count_calls = [&](const collector::event&, std::string_view) { return ++calls > 0; };

  // Nothing asked for: nothing read.
  auto r = search_archive({template_}, filter, window(day0, day0 + 1h, 0), count_calls);
  EXPECT_EQ(r.files_scanned, 0U);
  EXPECT_EQ(r.matches, 0U);

  // A histogram without lines.
  auto options = window(day0, day0 + 6s, 0);
  options.buckets = 3;
  r = search_archive({template_}, filter, options, count_calls);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(r.delivered, 0U);
  EXPECT_EQ(r.matches, 6U);
  EXPECT_EQ(r.histogram.counts, (std::vector<std::uint64_t>{2, 2, 2}));

  // An empty or reversed window finds nothing (and has no histogram).
  for (const time_point until : {day0, day0 - 1h}) {
    options = window(day0, until);
    options.buckets = 10;
    r = search_archive({template_}, filter, options, count_calls);
    EXPECT_EQ(r.matches, 0U);
    EXPECT_EQ(r.files_scanned, 0U);
    EXPECT_TRUE(r.histogram.counts.empty());
    EXPECT_TRUE(candidate_files(template_, filter, day0, until).empty());
  }
  EXPECT_EQ(calls, 0);

  EXPECT_EQ(histogram_step(day0, day0 + 1h, 0), 1s);
  EXPECT_EQ(histogram_step(day0, day0, 10), 1s);
  EXPECT_EQ(histogram_step(day0 + 1h, day0, 10), 1s);
}

// {date} is expanded for 100 years at most, newest first.
TEST_F(archive_search_edges, date_expansion_stops_after_a_hundred_years) {
  const auto old_day = std::chrono::floor<std::chrono::days>(day0) - std::chrono::days(36600);
  const std::chrono::year_month_day ymd(old_day);
  char name[16];
  std::snprintf(name, sizeof name, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  append(file(name, "h", "a"), "\n");
  append(file("2026-03-10", "h", "a"), "\n");
  append(file("1930-01-01", "h", "a"), "\n");
  const auto filter = rules::event_filter::parse(R"(host="h" app="a")");
  const auto groups = candidate_files(template_, filter, time_point(old_day), day0 + 24h);
  ASSERT_EQ(groups.size(), 2U);
  EXPECT_EQ(groups[0], (std::vector<std::string>{file("2026-03-10", "h", "a").string()}));
  EXPECT_EQ(groups[1], (std::vector<std::string>{file("1930-01-01", "h", "a").string()}));
}

TEST(parse_search_time, rfc3339_or_a_duration_before_now) {
  EXPECT_EQ(parse_search_time("2026-03-10T00:00:00Z", day0 + 1h), day0);
  EXPECT_EQ(parse_search_time("15m", day0 + 1h), day0 + 45min);
  EXPECT_EQ(parse_search_time("1h30m", day0 + 2h), day0 + 30min);
  EXPECT_EQ(parse_search_time("yesterday", day0), std::nullopt);
  EXPECT_EQ(parse_search_time("", day0), std::nullopt);
}

}  // namespace
}  // namespace tocsin::search
