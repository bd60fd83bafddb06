// Tests for search/archive_search.hpp: which files a search opens, newest-first order across and
// within files, limit, window, histogram, bad lines and the scan budget.

#include "search/archive_search.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "collector/event.hpp"
#include "collector/file_archive.hpp"
#include "core/rfc3339.hpp"
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
  ev.severity = 6;
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

struct found {
  std::vector<std::string> messages;
  std::vector<time_point> times;
  search_result result;
};

found run(const std::vector<std::string>& templates, std::string_view filter_text,
          search_options options) {
  found f;
  const auto filter = rules::event_filter::parse(filter_text);
  f.result = search_archive(templates, filter, options,
                            [&](const collector::event& ev, std::string_view json_line) {
                              f.messages.emplace_back(ev.message);
                              f.times.push_back(ev.received_at);
                              EXPECT_EQ(json_line.front(), '{');
                              EXPECT_EQ(json_line.back(), '}');
                              return true;
                            });
  return f;
}

search_options window(time_point since, time_point until, std::size_t limit = 100) {
  search_options o;
  o.since = since;
  o.until = until;
  o.limit = limit;
  return o;
}

class archive_search_test : public testing::Test {
 protected:
  test::temp_dir dir_{"tocsin-search"};
  std::string template_ = (dir_.path() / "log/{date}/{host}/{app}.log").string();

  fs::path file(std::string_view date, std::string_view host, std::string_view app) const {
    return dir_.path() / "log" / date / host / (std::string(app) + ".log");
  }

  // Two days, three hosts, two apps: one line each per hour of day0 and of the day before.
  void write_fleet() {
    for (const auto* host : {"web1", "web2", "db1"}) {
      for (const auto* app : {"sshd", "nginx"}) {
        for (int h = 0; h < 24; ++h) {
          const std::string msg = std::string(host) + " " + app + " hour " + std::to_string(h);
          append(file("2026-03-09", host, app),
                 line(day0 - 24h + std::chrono::hours(h), host, app, "yesterday " + msg));
          append(file("2026-03-10", host, app), line(day0 + std::chrono::hours(h), host, app, msg));
        }
      }
    }
  }
};

TEST_F(archive_search_test, opens_only_the_files_that_can_match) {
  write_fleet();
  const auto one_day = window(day0, day0 + 24h);
  auto f = run({template_}, R"(host="web1" app="sshd")", one_day);
  EXPECT_EQ(f.result.files_scanned, 1U);
  EXPECT_EQ(f.messages.size(), 24U);
  EXPECT_EQ(f.messages.front(), "web1 sshd hour 23");

  f = run({template_}, R"(host="web1")", one_day);
  EXPECT_EQ(f.result.files_scanned, 2U);
  EXPECT_EQ(f.messages.size(), 48U);

  f = run({template_}, "", one_day);
  EXPECT_EQ(f.result.files_scanned, 6U);
  EXPECT_EQ(f.messages.size(), 100U);  // the default limit

  f = run({template_}, R"(app="nginx")", window(day0 - 24h, day0 + 24h, 1000));
  EXPECT_EQ(f.result.files_scanned, 6U);  // two days, three hosts
  EXPECT_EQ(f.messages.size(), 144U);

  // A regex on host is no exact value: every host's file is a candidate.
  f = run({template_}, R"(host=~"^web1$" app="sshd")", one_day);
  EXPECT_EQ(f.result.files_scanned, 3U);
  EXPECT_EQ(f.messages.size(), 24U);
}

TEST_F(archive_search_test, overflow_files_are_candidates_too) {
  write_fleet();
  append(file("2026-03-10", "_overflow", "_overflow"),
         line(day0 + 90min, "web1", "sshd", "web1 sshd from the overflow"));
  const auto f = run({template_}, R"(host="web1" app="sshd" overflow)", window(day0, day0 + 24h));
  EXPECT_EQ(f.result.files_scanned, 2U);
  ASSERT_EQ(f.messages.size(), 1U);
}

TEST_F(archive_search_test, host_values_are_sanitized_like_the_archive) {
  EXPECT_EQ(collector::sanitize_path_component("../evil"), "_._evil");
  append(file("2026-03-10", "_._evil", "x"), line(day0 + 1h, "../evil", "x", "sanitized"));
  const auto f = run({template_}, R"(host="../evil")", window(day0, day0 + 24h));
  EXPECT_EQ(f.result.files_scanned, 1U);
  ASSERT_EQ(f.messages.size(), 1U);
}

TEST_F(archive_search_test, newest_first_across_files_and_within_a_file) {
  // Interleaved seconds across two hosts' files, and a second day.
  for (int s = 0; s < 50; ++s) {
    const char* host = s % 3 == 0 ? "web2" : "web1";
    append(file("2026-03-10", host, "app"),
           line(day0 + std::chrono::seconds(s), host, "app", "t" + std::to_string(s)));
  }
  append(file("2026-03-11", "web1", "app"), line(day0 + 24h + 5s, "web1", "app", "next day"));
  const auto f = run({template_}, "", window(day0, day0 + 48h));
  ASSERT_EQ(f.messages.size(), 51U);
  EXPECT_EQ(f.messages[0], "next day");
  EXPECT_EQ(f.messages[1], "t49");
  EXPECT_EQ(f.messages[50], "t0");
  EXPECT_TRUE(std::is_sorted(f.times.rbegin(), f.times.rend()));
}

TEST_F(archive_search_test, limit_stops_early) {
  write_fleet();
  const auto f = run({template_}, R"(host="db1" app="sshd")", window(day0 - 24h, day0 + 24h, 3));
  ASSERT_EQ(f.messages.size(), 3U);
  EXPECT_EQ(f.messages[0], "db1 sshd hour 23");
  EXPECT_EQ(f.messages[2], "db1 sshd hour 21");
  EXPECT_EQ(f.result.delivered, 3U);
  EXPECT_EQ(f.result.files_scanned, 1U);  // yesterday's file was never opened
}

TEST_F(archive_search_test, since_is_inclusive_until_exclusive) {
  write_fleet();
  const auto f = run({template_}, R"(host="web2" app="nginx")", window(day0 + 3h, day0 + 7h));
  ASSERT_EQ(f.messages.size(), 4U);
  EXPECT_EQ(f.messages.front(), "web2 nginx hour 6");
  EXPECT_EQ(f.messages.back(), "web2 nginx hour 3");
  // Across midnight: the end of yesterday and the start of today.
  const auto g = run({template_}, R"(host="web2" app="nginx")", window(day0 - 2h, day0 + 2h));
  ASSERT_EQ(g.messages.size(), 4U);
  EXPECT_EQ(g.messages.front(), "web2 nginx hour 1");
  EXPECT_EQ(g.messages.back(), "yesterday web2 nginx hour 22");
}

TEST_F(archive_search_test, filter_terms_apply_to_every_line) {
  write_fleet();
  const auto f =
      run({template_}, R"(message=~"hour 1[0-2]$" app!="nginx")", window(day0, day0 + 24h));
  EXPECT_EQ(f.messages.size(), 9U);  // 3 hosts × hours 10..12
  for (const auto& m : f.messages) EXPECT_NE(m.find("sshd"), std::string::npos) << m;
  const auto g = run({template_}, R"("HOUR 7" WEB1)", window(day0, day0 + 24h));
  EXPECT_EQ(g.messages.size(), 2U);  // sshd and nginx
  const auto h = run({template_}, "HOUR 7 WEB1", window(day0, day0 + 24h));
  EXPECT_EQ(h.messages.size(), 4U);  // three words: hours 7 and 17
}

// The raw line is checked for a literal the regex needs before it is parsed: that shortcut
// must never lose a match.
TEST_F(archive_search_test, regex_shortcuts_lose_no_match) {
  const auto p = file("2026-03-10", "h", "a");
  const std::vector<std::string> messages = {
      "passwod", "password",   "pass word", "FAILED login",    "aaabc",        "x.y.z",
      "ab{2}c",  "say \"hi\"", "tab\there", "path /var/log/x", "no match here"};
  for (std::size_t i = 0; i < messages.size(); ++i) {
    append(p, line(day0 + std::chrono::seconds(i), "h", "a", messages[i]));
  }
  const auto count = [&](std::string_view filter) {
    return run({template_}, filter, window(day0, day0 + 1h)).messages.size();
  };
  EXPECT_EQ(count(R"(message=~"passwor?d")"), 2U);
  EXPECT_EQ(count(R"(message=~"passwor*d")"), 2U);
  EXPECT_EQ(count(R"(message=~"passwo(r)?d")"), 2U);
  EXPECT_EQ(count(R"(message=~"passwo(r|rr)?d")"), 2U);
  EXPECT_EQ(count(R"(message=~"passwor{0,1}d")"), 2U);
  EXPECT_EQ(count(R"(message=~"pass[ w]?word")"), 2U);
  EXPECT_EQ(count(R"(message=~"(?i)failed")"), 1U);
  EXPECT_EQ(count(R"(message=~"a+bc")"), 1U);
  EXPECT_EQ(count(R"(message=~"x\\.y\\.z")"), 1U);
  EXPECT_EQ(count(R"(message=~"say \"hi")"), 1U);
  EXPECT_EQ(count(R"(message=~"tab\there")"), 1U);
  EXPECT_EQ(count(R"(message=~"/var/log")"), 1U);
  EXPECT_EQ(count(R"(message=~"\\Qab{2}c\\E")"), 1U);
  EXPECT_EQ(count(R"(message=~"^no match here$")"), 1U);
  EXPECT_EQ(count(R"(message=~"nothing like it")"), 0U);
}

TEST_F(archive_search_test, histogram_counts_every_match_not_only_the_limit) {
  for (int s = 0; s < 60; ++s) {
    // 1 match in the first 10 s bucket, 2 in the second ...: second s gets matches if s%10 < k.
    if (s % 10 < s / 10 + 1) {
      append(file("2026-03-10", "h", "a"),
             line(day0 + std::chrono::seconds(s), "h", "a", "hit " + std::to_string(s)));
    }
    append(file("2026-03-10", "h", "a"), line(day0 + std::chrono::seconds(s), "h", "a", "other"));
  }
  auto options = window(day0, day0 + 60s, 2);
  options.buckets = 6;
  const auto f = run({template_}, "hit", options);
  EXPECT_EQ(f.messages.size(), 2U);
  EXPECT_EQ(f.result.matches, 21U);
  EXPECT_EQ(f.result.histogram.step, 10s);
  EXPECT_EQ(f.result.histogram.start, day0);
  EXPECT_EQ(f.result.histogram.counts, (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(histogram_step(day0, day0 + 24h, 60), 1440s);
  EXPECT_EQ(histogram_step(day0, day0 + 10s, 60), 1s);
}

TEST_F(archive_search_test, bad_lines_are_skipped_and_counted) {
  const auto p = file("2026-03-10", "h", "a");
  append(p, line(day0 + 1s, "h", "a", "good 1"));
  append(p, "not json at all\n");
  append(p, R"({"received_at":"2026-03-10T00:00:02Z","message":"torn)"
            "\n");
  append(p, "{\"received_at\":\"2026-03-10T00:00:03Z\",\"message\":\"bad \xff utf8\"}\n");
  append(p, R"({"received_at":"2026-03-10T00:00:04Z","fields":)" + std::string(100000, '[') +
                std::string(100000, ']') + "}\n");
  append(p, R"({"received_at":"yesterday","message":"bad time"})"
            "\n");
  append(p, "\n\n");
  append(p, line(day0 + 5s, "h", "a", "good 2"));
  const auto f = run({template_}, "", window(day0, day0 + 1h));
  EXPECT_EQ(f.messages, (std::vector<std::string>{"good 2", "good 1"}));
  EXPECT_EQ(f.result.bad_lines, 5U);
}

TEST_F(archive_search_test, a_torn_last_line_is_left_alone) {
  const auto p = file("2026-03-10", "h", "a");
  append(p, line(day0 + 1s, "h", "a", "whole"));
  append(p, R"({"received_at":"2026-03-10T00:00:02Z","message":"being wri)");
  const auto f = run({template_}, "", window(day0, day0 + 1h));
  EXPECT_EQ(f.messages, (std::vector<std::string>{"whole"}));
  EXPECT_EQ(f.result.bad_lines, 0U);
}

TEST_F(archive_search_test, long_lines_across_blocks_and_oversized_lines) {
  const auto p = file("2026-03-10", "h", "a");
  const std::string long_message(700 * 1024, 'x');  // several read blocks
  append(p, line(day0 + 1s, "h", "a", "first"));
  append(p, line(day0 + 2s, "h", "a", long_message));
  append(p, R"({"received_at":"2026-03-10T00:00:03Z","message":")" +
                std::string(17 * 1024 * 1024, 'y') + "\"}\n");
  append(p, line(day0 + 4s, "h", "a", "last"));
  const auto f = run({template_}, "", window(day0, day0 + 1h));
  ASSERT_EQ(f.messages.size(), 3U);
  EXPECT_EQ(f.messages[0], "last");
  EXPECT_EQ(f.messages[1], long_message);
  EXPECT_EQ(f.messages[2], "first");
  EXPECT_EQ(f.result.bad_lines, 1U);  // the 17 MiB line
}

TEST_F(archive_search_test, an_oversized_first_line_and_a_file_without_newlines) {
  append(file("2026-03-10", "h", "a"), R"({"received_at":"2026-03-10T00:00:03Z","message":")" +
                                           std::string(17 << 20, 'y') + "\"}\n" +
                                           line(day0 + 4s, "h", "a", "after"));
  append(file("2026-03-10", "h", "b"), std::string(3 << 20, 'z'));  // one torn "line"
  const auto f = run({template_}, "", window(day0, day0 + 1h));
  EXPECT_EQ(f.messages, (std::vector<std::string>{"after"}));
  EXPECT_EQ(f.result.bad_lines, 1U);
  EXPECT_EQ(f.result.files_scanned, 2U);
}

TEST_F(archive_search_test, max_scan_bytes_truncates) {
  const auto p = file("2026-03-10", "h", "a");
  std::string text;
  for (int i = 0; i < 20000; ++i) {
    text += line(day0 + std::chrono::milliseconds(i), "h", "a", "line " + std::to_string(i));
  }
  append(p, text);
  auto options = window(day0, day0 + 1h, 100000);
  options.max_scan_bytes = 100 * 1024;
  const auto f = run({template_}, "", options);
  EXPECT_TRUE(f.result.truncated);
  EXPECT_LT(f.result.bytes_scanned, text.size());
  EXPECT_GE(f.result.bytes_scanned, options.max_scan_bytes);
  EXPECT_GT(f.messages.size(), 100U);
  EXPECT_EQ(f.messages.front(), "line 19999");

  options.max_scan_bytes = std::uint64_t{1} << 30;
  const auto all = run({template_}, "", options);
  EXPECT_FALSE(all.result.truncated);
  EXPECT_EQ(all.result.bytes_scanned, text.size());
  EXPECT_EQ(all.messages.size(), 20000U);
}

TEST_F(archive_search_test, old_lines_end_the_file_early) {
  const auto p = file("2026-03-10", "h", "a");
  std::string text;
  for (int i = 0; i < 20000; ++i) {
    text += line(day0 + std::chrono::seconds(i), "h", "a", "line " + std::to_string(i));
  }
  append(p, text);
  const auto f = run({template_}, "", window(day0 + 19990s, day0 + 24h));
  EXPECT_EQ(f.messages.size(), 10U);
  EXPECT_LT(f.result.bytes_scanned, text.size() / 4);  // the first blocks only
}

TEST_F(archive_search_test, a_template_without_date_merges_its_files) {
  const std::string flat = (dir_.path() / "flat/{host}.log").string();
  append(dir_.path() / "flat/a.log", line(day0 + 1s, "a", "x", "a1"));
  append(dir_.path() / "flat/a.log", line(day0 + 48h, "a", "x", "a2"));
  append(dir_.path() / "flat/b.log", line(day0 + 24h, "b", "x", "b1"));
  const auto f = run({flat}, "", window(day0, day0 + 72h));
  EXPECT_EQ(f.messages, (std::vector<std::string>{"a2", "b1", "a1"}));
  EXPECT_EQ(f.result.files_scanned, 2U);
}

TEST_F(archive_search_test, callback_can_stop_and_missing_archive_is_empty) {
  write_fleet();
  const auto filter = rules::event_filter::parse("");
  int calls = 0;
  const auto r =
      search_archive({template_}, filter, window(day0, day0 + 24h),
                     [&](const collector::event&, std::string_view) { return ++calls < 5; });
  EXPECT_EQ(calls, 5);
  EXPECT_EQ(r.delivered, 5U);
  const auto none =
      run({(dir_.path() / "nothing/{date}/{host}.log").string()}, "", window(day0, day0 + 24h));
  EXPECT_TRUE(none.messages.empty());
  EXPECT_EQ(none.result.files_scanned, 0U);
}

TEST(archive_templates, file_outputs_once) {
  config::config cfg;
  cfg.outputs.push_back({config::output_type::file, "a/{host}.log"});
  cfg.outputs.push_back({config::output_type::kafka, "", "logs"});
  cfg.outputs.push_back({config::output_type::file, "a/{host}.log"});
  cfg.outputs.push_back({config::output_type::file, "b/{date}.log"});
  EXPECT_EQ(archive_templates(cfg), (std::vector<std::string>{"a/{host}.log", "b/{date}.log"}));
}

}  // namespace
}  // namespace tocsin::search
