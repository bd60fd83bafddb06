#include "rules/alert.hpp"

#include "collector/event.hpp"
#include "core/rfc3339.hpp"

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
    append_rfc3339_utc(c.tp, out, 3);
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

void expect_same_alert(const alert& got, const alert& want) {
  EXPECT_EQ(got.labels, want.labels);
  EXPECT_EQ(got.annotations, want.annotations);
  EXPECT_EQ(got.starts_at, want.starts_at);
  EXPECT_EQ(got.ends_at, want.ends_at);
  EXPECT_EQ(got.firing, want.firing);
  EXPECT_EQ(got.fingerprint, want.fingerprint);
  EXPECT_EQ(got.generator_url, want.generator_url);
}

TEST(parse_alert_json, round_trips_to_json) {
  alert resolved = sample_alert();
  resolved.firing = false;
  resolved.generator_url.clear();
  resolved.annotations.clear();
  alert escaped = sample_alert();
  escaped.labels = {{"alertname", "q\"uote"}, {"path", "C:\\dir"}, {"nl", "a\nb"}};
  escaped.annotations = {{"summary", "tab\there \x01 ü"}};
  escaped.fingerprint = fingerprint(escaped.labels);
  for (const alert& a : {sample_alert(), resolved, escaped}) {
    std::string problem;
    const auto parsed = parse_alert_json(to_json(a), &problem);
    ASSERT_TRUE(parsed.has_value()) << problem;
    expect_same_alert(*parsed, a);
    EXPECT_EQ(to_json(*parsed), to_json(a));
  }
}

TEST(parse_alert_json, optional_fields_may_be_missing) {
  std::string problem;
  const auto a = parse_alert_json(
      R"({"labels":{"alertname":"x"},"startsAt":"2026-11-26T04:10:55Z","status":"firing"})",
      &problem);
  ASSERT_TRUE(a.has_value()) << problem;
  EXPECT_TRUE(a->annotations.empty());
  EXPECT_EQ(a->ends_at, time_point{});
  EXPECT_TRUE(a->generator_url.empty());
  EXPECT_EQ(a->fingerprint, fingerprint({{"alertname", "x"}}));
  EXPECT_EQ(a->starts_at, at(2026, 11, 26, 4h + 10min + 55s));
}

TEST(parse_alert_json, go_zero_ends_at_is_no_end) {
  // Alertmanager's API sends Go's zero time when no end is known.
  for (const char* zero : {"0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z"}) {
    std::string problem;
    const auto a = parse_alert_json(std::string(R"({"labels":{"alertname":"x"},)") +
                                        R"("startsAt":"2026-11-26T04:10:55.120+01:00",)" +
                                        R"("endsAt":")" + zero + R"(","status":"firing"})",
                                    &problem);
    ASSERT_TRUE(a.has_value()) << zero << ": " << problem;
    EXPECT_EQ(a->ends_at, time_point{});
    EXPECT_EQ(a->starts_at, at(2026, 11, 26, 3h + 10min + 55s + 120ms));
  }
}

TEST(parse_alert_json, wrong_or_missing_fingerprint_is_recomputed) {
  alert a = sample_alert();
  auto j = nlohmann::json::parse(to_json(a));
  j["fingerprint"] = "0000000000000000";
  auto parsed = parse_alert_json(j.dump());
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->fingerprint, "7b880cc256f084a7");
  j.erase("fingerprint");
  parsed = parse_alert_json(j.dump());
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->fingerprint, "7b880cc256f084a7");
}

TEST(parse_alert_json, rejects_with_a_reason) {
  const auto good = nlohmann::json::parse(to_json(sample_alert()));
  const auto without = [&](const char* key) {
    auto j = good;
    j.erase(key);
    return j.dump();
  };
  const auto with = [&](const char* key, nlohmann::json value) {
    auto j = good;
    j[key] = std::move(value);
    return j.dump();
  };
  struct test_case {
    std::string json;
    std::string reason_has;
  };
  const std::vector<test_case> cases = {
      {"", "not valid JSON"},
      {"not json", "not valid JSON"},
      {R"({"labels":)", "not valid JSON"},
      {"[1,2]", "not a JSON object"},
      {without("labels"), "labels missing"},
      {with("labels", nlohmann::json::object({{"severity", "warning"}})), "alertname"},
      {with("labels", nlohmann::json::object({{"alertname", ""}})), "alertname"},
      {with("labels", nlohmann::json::array()), "labels is not an object"},
      {with("labels", {{"alertname", "x"}, {"n", 1}}), "labels.n is not a string"},
      {with("annotations", {{"summary", true}}), "annotations.summary"},
      {without("startsAt"), "startsAt missing"},
      {with("startsAt", "yesterday"), "startsAt is not an RFC 3339 time"},
      {with("startsAt", "2026-13-01T00:00:00Z"), "startsAt"},
      {with("startsAt", 1764130255), "startsAt is not a string"},
      {with("startsAt", "0001-01-01T00:00:00Z"),
       "startsAt is out of range"},  // zero only allowed for endsAt
      {with("endsAt", "9999-01-01T00:00:00Z"),
       "endsAt is out of range"},  // out of system_clock's range
      {with("endsAt", "2026-11-26 04:10:55"), "endsAt"},
      {without("status"), "status missing"},
      {with("status", "pending"), "status"},
      {with("generatorURL", 5), "generatorURL"},
  };
  for (const auto& c : cases) {
    std::string problem;
    EXPECT_FALSE(parse_alert_json(c.json, &problem).has_value()) << c.json;
    EXPECT_NE(problem.find(c.reason_has), std::string::npos)
        << c.json << " -> \"" << problem << '"';
  }
  EXPECT_FALSE(parse_alert_json("{}").has_value());  // problem pointer is optional
}

}  // namespace
}  // namespace tocsin::rules
