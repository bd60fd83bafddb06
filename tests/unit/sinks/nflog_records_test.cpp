// The notification-log record a router publishes after each send (sinks/cluster.hpp).

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "sinks/cluster.hpp"

namespace tocsin::sinks {
namespace {

using namespace std::chrono_literals;
using sys_clock = std::chrono::system_clock;

nflog_record sample() {
  nflog_record r;
  r.receiver = "ops-pager";
  r.group_key = R"({}/{severity="critical"}:{alertname="disk-full", host="web\"1"})";
  r.firing = {"00000000000000a1", "00000000000000b2"};
  r.resolved = {"00000000000000c3"};
  r.sent_at = sys_clock::time_point(1'800'000'123'456ms);
  return r;
}

void expect_same(const nflog_record& got, const nflog_record& want) {
  EXPECT_EQ(got.receiver, want.receiver);
  EXPECT_EQ(got.group_key, want.group_key);
  EXPECT_EQ(got.firing, want.firing);
  EXPECT_EQ(got.resolved, want.resolved);
  EXPECT_EQ(got.sent_at, want.sent_at);
}

TEST(nflog_records, round_trip_keeps_every_field) {
  const nflog_record r = sample();
  const std::string record = to_record(r);
  std::string problem;
  const auto back = nflog_from_record(record, &problem);
  ASSERT_TRUE(back.has_value()) << problem << ": " << record;
  expect_same(*back, r);
  EXPECT_EQ(to_record(*back), record);
}

TEST(nflog_records, empty_sets_round_trip) {
  nflog_record r = sample();
  r.firing.clear();
  r.resolved.clear();
  std::string problem;
  const auto back = nflog_from_record(to_record(r), &problem);
  ASSERT_TRUE(back.has_value()) << problem;
  expect_same(*back, r);
}

TEST(nflog_records, reads_the_documented_json) {
  const std::string record =
      R"({"v":1,"receiver":"ops","groupKey":"{}:{alertname=\"x\"}","firing":["f1","f2"],)"
      R"("resolved":[],"sentAt":1800000000001})";
  std::string problem;
  const auto r = nflog_from_record(record, &problem);
  ASSERT_TRUE(r.has_value()) << problem;
  EXPECT_EQ(r->receiver, "ops");
  EXPECT_EQ(r->group_key, R"({}:{alertname="x"})");
  EXPECT_EQ(r->firing, (std::set<std::string>{"f1", "f2"}));
  EXPECT_TRUE(r->resolved.empty());
  EXPECT_EQ(r->sent_at, sys_clock::time_point(1'800'000'000'001ms));
}

TEST(nflog_records, refuses_what_is_not_a_version_1_record) {
  const auto with = [](const std::string& v, const std::string& firing) {
    return R"({"v":)" + v + R"(,"receiver":"ops","groupKey":"k","firing":)" + firing +
           R"(,"resolved":[],"sentAt":1})";
  };
  std::string problem;
  ASSERT_TRUE(nflog_from_record(with("1", R"(["f"])"), &problem).has_value()) << problem;

  const std::vector<std::string> bad = {
      "",
      "{",
      "[]",
      R"({"receiver":"ops"})",
      with(R"("1")", "[]"),
      with("1.0", "[]"),
      with("1", R"("f")"),  // not an array
      with("1", "[1, 2]"),  // not strings
      with("1", "null"),
      R"({"v":1,"groupKey":"k","firing":[],"resolved":[],"sentAt":1})",
      R"({"v":1,"receiver":"ops","firing":[],"resolved":[],"sentAt":1})",
      R"({"v":1,"receiver":"ops","groupKey":"k","firing":[],"sentAt":1})",
      R"({"v":1,"receiver":"ops","groupKey":"k","firing":[],"resolved":[]})",
      R"({"v":1,"receiver":"ops","groupKey":"k","firing":[],"resolved":[],"sentAt":"1"})",
      R"({"v":1,"receiver":7,"groupKey":"k","firing":[],"resolved":[],"sentAt":1})",
  };
  for (const std::string& record : bad) {
    problem.clear();
    EXPECT_FALSE(nflog_from_record(record, &problem).has_value()) << record;
    EXPECT_FALSE(problem.empty()) << record;
    EXPECT_FALSE(nflog_from_record(record, nullptr).has_value()) << record;
  }
}

TEST(nflog_records, refuses_a_sent_at_the_clock_cannot_hold) {
  // Unix ms beyond about ±292 years overflow system_clock's nanoseconds (undefined behaviour,
  // in practice a wrapped, arbitrary time): such a record is refused, not misread.
  for (const char* value :
       {"9223372036854775807", "-9223372036854775807", "18446744073709551615", "9300000000000"}) {
    auto j = nlohmann::json::parse(to_record(sample()));
    j["sentAt"] = nlohmann::json::parse(value);
    std::string problem;
    EXPECT_FALSE(nflog_from_record(j.dump(), &problem).has_value()) << j.dump();
    EXPECT_FALSE(problem.empty());
  }
  auto j = nlohmann::json::parse(to_record(sample()));
  j["sentAt"] = 7'258'118'400'000;  // the year 2200: far, but within reach
  std::string problem;
  const auto far = nflog_from_record(j.dump(), &problem);
  ASSERT_TRUE(far.has_value()) << problem;
  EXPECT_EQ(far->sent_at, sys_clock::time_point(7'258'118'400'000ms));
}

TEST(nflog_records, refuses_a_newer_version_and_says_so) {
  for (const char* v : {"2", "0", "4294967297"}) {
    std::string record = to_record(sample());
    record.replace(record.find(R"("v":1)"), 5, std::string(R"("v":)") + v);
    std::string problem;
    EXPECT_FALSE(nflog_from_record(record, &problem).has_value()) << record;
    EXPECT_NE(problem.find(std::string("version ") + v), std::string::npos) << problem;
  }
}

}  // namespace
}  // namespace tocsin::sinks
