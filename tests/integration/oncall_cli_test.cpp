// `tocsin oncall who|schedule` and check-config's gap warnings, run as an operator would: a
// Europe/Madrid rota across both 2026 DST changes, an override, a night layer, an ics schedule.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/support.hpp"

namespace tocsin::test {
namespace {

// ops: alice and bob hand over daily at 02:30 local, carol takes the nights from 30 November,
// dave the 24th to the 26th of December. dba: alice on Mondays 09:00-17:00 Madrid (an ics file).
constexpr const char* config_text = R"(oncall:
  users: [ {name: alice}, {name: bob}, {name: carol}, {name: dave} ]
  schedules:
    - name: ops
      time_zone: Europe/Madrid
      layers:
        - { name: daily, start: 2026-03-27T02:30, rotation: 1d, users: [alice, bob] }
        - { name: nights, start: 2026-11-30T20:00, rotation: 1d, users: [carol],
            restrict: { times: ["20:00-08:00"] } }
      overrides: [ { user: dave, start: 2026-12-24T00:00, end: 2026-12-27T00:00 } ]
    - { name: dba, ics: dba.ics }
)";

constexpr const char* dba_ics =
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tocsin test//EN\r\n"
    "BEGIN:VEVENT\r\nUID:mondays\r\nSUMMARY:alice\r\n"
    "DTSTART;TZID=Europe/Madrid:20260302T090000\r\nDURATION:PT8H\r\nRRULE:FREQ=WEEKLY\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n";

class oncall_cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.write_file("dba.ics", dba_ics);
    config_ = dir_.write_file("tocsin.yaml", config_text);
  }

  command_result tocsin(std::vector<std::string> args) const {
    args.insert(args.begin(), tocsin_binary().string());
    return run_command(args);
  }
  // `oncall who --at AT`'s line for ops.
  std::string ops_at(const std::string& at) const {
    const auto r = tocsin({"oncall", "who", "-c", config_.string(), "--at", at});
    EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
    return r.stdout_text.substr(0, r.stdout_text.find('\n'));
  }

  temp_dir dir_{"oncall-cli"};
  std::filesystem::path config_;
};

TEST_F(oncall_cli, who_across_spring_forward) {
  // 02:30 does not exist on 29 March: the handoff is at 03:00 CEST, 01:00Z.
  EXPECT_EQ(ops_at("2026-03-29T00:59:59Z"), "ops  bob  2026-03-29T01:00:00Z");
  EXPECT_EQ(ops_at("2026-03-29T01:00:00Z"), "ops  alice  2026-03-30T00:30:00Z");
}

TEST_F(oncall_cli, who_across_fall_back) {
  // 02:30 happens twice on 25 October: the handoff is at the first, 00:30Z.
  EXPECT_EQ(ops_at("2026-10-25T00:29:59Z"), "ops  bob  2026-10-25T00:30:00Z");
  EXPECT_EQ(ops_at("2026-10-25T00:30:00Z"), "ops  alice  2026-10-26T01:30:00Z");
}

TEST_F(oncall_cli, who_in_and_out_of_the_night_layer) {
  EXPECT_EQ(ops_at("2026-12-02T18:59:59Z"), "ops  alice  2026-12-02T19:00:00Z");
  EXPECT_EQ(ops_at("2026-12-02T21:00:00+02:00"), "ops  carol  2026-12-03T07:00:00Z");
  EXPECT_EQ(ops_at("2026-12-03T07:00:00Z"), "ops  bob  2026-12-03T19:00:00Z");
}

TEST_F(oncall_cli, who_during_an_override_and_in_a_gap) {
  const auto r = tocsin({"oncall", "who", "-c", config_.string(), "--at", "2026-12-25T12:00:00Z"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(r.stdout_text,
            "ops  dave  2026-12-26T23:00:00Z\n"
            "dba  -     2026-12-28T08:00:00Z\n");
}

TEST_F(oncall_cli, who_json_is_the_api_body) {
  const auto r =
      tocsin({"oncall", "who", "-c", config_.string(), "--at", "2026-12-25T12:00:00Z", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(r.stdout_text,
            R"([{"schedule":"ops","user":"dave","until":"2026-12-26T23:00:00.000Z"},)"
            R"({"schedule":"dba","user":null,"until":"2026-12-28T08:00:00.000Z"}])"
            "\n");
  EXPECT_TRUE(nlohmann::json::parse(r.stdout_text).is_array());
}

TEST_F(oncall_cli, who_from_the_ics_schedule) {
  const auto r = tocsin({"oncall", "who", "-c", config_.string(), "--at", "2026-03-30T07:30:00Z"});
  EXPECT_NE(r.stdout_text.find("\ndba  alice  2026-03-30T15:00:00Z\n"), std::string::npos)
      << r.stdout_text;
}

TEST_F(oncall_cli, schedule_lists_the_rota_in_local_time) {
  const auto r = tocsin({"oncall", "schedule", "-c", config_.string(), "ops", "--at",
                         "2026-12-02T12:00:00Z", "--days", "1"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(r.stdout_text,
            "START                      END                        USER\n"
            "2026-12-02T13:00:00+01:00  2026-12-02T20:00:00+01:00  alice\n"
            "2026-12-02T20:00:00+01:00  2026-12-03T08:00:00+01:00  carol\n"
            "2026-12-03T08:00:00+01:00  2026-12-03T13:00:00+01:00  bob\n");
}

TEST_F(oncall_cli, schedule_shows_gaps_as_nobody) {
  const auto r = tocsin({"oncall", "schedule", "-c", config_.string(), "dba", "--at",
                         "2026-03-30T00:00:00Z", "--days", "1"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(r.stdout_text,
            "START                      END                        USER\n"
            "2026-03-30T00:00:00+00:00  2026-03-30T07:00:00+00:00  (nobody)\n"
            "2026-03-30T07:00:00+00:00  2026-03-30T15:00:00+00:00  alice\n"
            "2026-03-30T15:00:00+00:00  2026-03-31T00:00:00+00:00  (nobody)\n");
}

TEST_F(oncall_cli, an_unknown_schedule_or_time_is_an_error) {
  const auto r = tocsin({"oncall", "schedule", "-c", config_.string(), "web"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.stderr_text.find("no schedule 'web' (schedules: ops, dba)"), std::string::npos)
      << r.stderr_text;
  const auto bad_time = tocsin({"oncall", "who", "-c", config_.string(), "--at", "tomorrow"});
  EXPECT_EQ(bad_time.exit_code, 1);
  EXPECT_NE(bad_time.stderr_text.find("not an RFC 3339 time"), std::string::npos);
}

TEST_F(oncall_cli, check_config_warns_about_gaps_and_passes) {
  const auto r = tocsin({"check-config", "-c", config_.string()});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_NE(r.stdout_text.find(": ok"), std::string::npos);
  // Four Monday shifts in 28 days leave 4 or 5 gaps: three lines, then the count.
  EXPECT_NE(r.stderr_text.find("warning: schedule 'dba' names nobody from "), std::string::npos)
      << r.stderr_text;
  EXPECT_NE(r.stderr_text.find("warning: schedule 'dba': and "), std::string::npos)
      << r.stderr_text;
  EXPECT_EQ(r.stderr_text.find("schedule 'ops'"), std::string::npos) << r.stderr_text;
}

TEST_F(oncall_cli, an_ics_error_is_a_config_error_everywhere) {
  dir_.write_file("dba.ics",
                  std::string(dba_ics).replace(std::string(dba_ics).find("alice"), 5, "mallory"));
  const std::string expected =
      (dir_ / "dba.ics").string() +
      ": event \"mallory\" (UID mondays): its SUMMARY names no user of oncall.users\n";
  const auto check = tocsin({"check-config", "-c", config_.string()});
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_NE(check.stderr_text.find(expected), std::string::npos) << check.stderr_text;
  const auto who = tocsin({"oncall", "who", "-c", config_.string()});
  EXPECT_EQ(who.exit_code, 1);
  EXPECT_EQ(who.stderr_text, expected);
}

}  // namespace
}  // namespace tocsin::test
