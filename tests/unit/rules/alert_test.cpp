#include "rules/alert.hpp"

#include "collector/event.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tocsin::rules {
namespace {

using namespace std::chrono_literals;
using time_point = std::chrono::system_clock::time_point;

time_point at(int y, unsigned mo, unsigned d, std::chrono::nanoseconds since_midnight) {
  return time_point(std::chrono::sys_days(std::chrono::year(y) / mo / d).time_since_epoch() +
                    std::chrono::duration_cast<time_point::duration>(since_midnight));
}

TEST(fingerprint, known_values) {
  // Reference values computed independently (Python, FNV-1a 64 with the 0xff separators).
  struct test_case {
    label_set labels;
    std::string expected;
  };
  const std::vector<test_case> cases = {
      {{}, "cbf29ce484222325"},  // the FNV-1a 64 offset basis: nothing hashed
      {{{"alertname", "disk-full"}, {"severity", "critical"}}, "77e8f15cf0f1c81b"},
      {{{"alertname", "ssh-bruteforce"},
        {"severity", "warning"},
        {"host", "web1"},
        {"src_ip", "203.0.113.9"}},
       "7b880cc256f084a7"},
  };
  for (const auto& c : cases) EXPECT_EQ(fingerprint(c.labels), c.expected);
}

TEST(fingerprint, independent_of_insertion_order) {
  label_set a;
  a["src_ip"] = "203.0.113.9";
  a["host"] = "web1";
  a["severity"] = "warning";
  a["alertname"] = "ssh-bruteforce";
  label_set b;
  b["alertname"] = "ssh-bruteforce";
  b["host"] = "web1";
  b["src_ip"] = "203.0.113.9";
  b["severity"] = "warning";
  EXPECT_EQ(fingerprint(a), fingerprint(b));
  EXPECT_EQ(fingerprint(a), "7b880cc256f084a7");
}

TEST(fingerprint, separates_names_from_values) {
  // The 0xff separators keep differently split labels apart.
  const std::vector<label_set> distinct = {
      {{"ab", "c"}}, {{"a", "bc"}},          {{"a", "b"}, {"c", ""}},
      {{"a", ""}},   {{"a", ""}, {"b", ""}}, {{"", "a"}},
  };
  for (std::size_t i = 0; i < distinct.size(); ++i) {
    const std::string fp = fingerprint(distinct[i]);
    EXPECT_EQ(fp.size(), 16u);
    EXPECT_EQ(fp.find_first_not_of("0123456789abcdef"), std::string::npos) << fp;
    for (std::size_t j = i + 1; j < distinct.size(); ++j) {
      EXPECT_NE(fp, fingerprint(distinct[j])) << i << " vs " << j;
    }
  }
}

TEST(rfc3339_millis, formats) {
  struct test_case {
    time_point tp;
    std::string expected;
  };
  const std::vector<test_case> cases = {
      {time_point{}, "1970-01-01T00:00:00.000Z"},
      {at(2026, 11, 26, 4h + 10min + 55s + 120ms), "2026-11-26T04:10:55.120Z"},
      // Sub-millisecond digits are dropped, not rounded.
      {at(2026, 11, 26, 4h + 10min + 55s + 120999us), "2026-11-26T04:10:55.120Z"},
      {at(2024, 2, 29, 23h + 59min + 59s + 999ms), "2024-02-29T23:59:59.999Z"},
      {at(2000, 1, 1, 0s), "2000-01-01T00:00:00.000Z"},
      // Before the epoch: floor, so the fraction is still positive.
      {time_point{} - 1ms, "1969-12-31T23:59:59.999Z"},
      {time_point{} - 1500ms, "1969-12-31T23:59:58.500Z"},
  };
  for (const auto& c : cases) {
    std::string out = "x";
    collector::append_rfc3339_utc(c.tp, out, 3);
    EXPECT_EQ(out, "x" + c.expected);
  }
}

alert sample_alert() {
  alert a;
  a.labels = {{"alertname", "ssh-bruteforce"},
              {"severity", "warning"},
              {"host", "web1"},
              {"src_ip", "203.0.113.9"}};
  a.annotations = {{"summary", "5 failed SSH logins for root from 203.0.113.9 on web1"}};
  a.starts_at = at(2026, 11, 26, 4h + 10min + 55s + 120ms);
  a.ends_at = at(2026, 11, 26, 4h + 13min + 55s + 120ms);
  a.fingerprint = fingerprint(a.labels);
  a.generator_url = "tocsin://tocsin-1/ssh-bruteforce";
  return a;
}

TEST(alert_json, firing_exact_bytes) {
  EXPECT_EQ(to_json(sample_alert()),
            R"({"labels":{"alertname":"ssh-bruteforce","host":"web1","severity":"warning",)"
            R"("src_ip":"203.0.113.9"},)"
            R"("annotations":{"summary":"5 failed SSH logins for root from 203.0.113.9 on web1"},)"
            R"("startsAt":"2026-11-26T04:10:55.120Z","endsAt":"2026-11-26T04:13:55.120Z",)"
            R"("status":"firing","fingerprint":"7b880cc256f084a7",)"
            R"("generatorURL":"tocsin://tocsin-1/ssh-bruteforce"})");
}

TEST(alert_json, resolved_without_generator_url) {
  alert a = sample_alert();
  a.firing = false;
  a.generator_url.clear();
  a.annotations.clear();
  const auto j = nlohmann::json::parse(to_json(a));
  EXPECT_EQ(j["status"], "resolved");
  EXPECT_FALSE(j.contains("generatorURL"));
  EXPECT_TRUE(j["annotations"].is_object());
  EXPECT_TRUE(j["annotations"].empty());
  EXPECT_EQ(j["endsAt"], "2026-11-26T04:13:55.120Z");
}

TEST(alert_json, escapes_strings) {
  alert a;
  a.labels = {{"alertname", "q\"uote"}, {"path", "C:\\dir"}, {"nl", "a\nb"}};
  a.annotations = {{"summary", "tab\there \x01 ü"}, {"bad_utf8", std::string("x\xff y")}};
  a.fingerprint = fingerprint(a.labels);
  const std::string text = to_json(a);
  EXPECT_EQ(text.find('\n'), std::string::npos);
  const auto j = nlohmann::json::parse(text);  // throws (fails the test) if not valid JSON
  EXPECT_EQ(j["labels"]["alertname"], "q\"uote");
  EXPECT_EQ(j["labels"]["path"], "C:\\dir");
  EXPECT_EQ(j["labels"]["nl"], "a\nb");
  EXPECT_EQ(j["annotations"]["summary"], "tab\there \x01 ü");
  EXPECT_EQ(j["annotations"]["bad_utf8"], "x\xEF\xBF\xBD y");  // replaced by U+FFFD
  EXPECT_EQ(j["fingerprint"], a.fingerprint);
}

TEST(alert_json, key_order_is_alertmanagers) {
  const std::string text = to_json(sample_alert());
  const std::vector<std::string> keys = {"\"labels\"",      "\"annotations\"", "\"startsAt\"",
                                         "\"endsAt\"",      "\"status\"",      "\"fingerprint\"",
                                         "\"generatorURL\""};
  std::size_t last = 0;
  for (const auto& k : keys) {
    const std::size_t pos = text.find(k);
    ASSERT_NE(pos, std::string::npos) << k;
    EXPECT_GE(pos, last) << k;
    last = pos;
  }
}

}  // namespace
}  // namespace tocsin::rules
