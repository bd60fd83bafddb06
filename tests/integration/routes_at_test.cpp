// `tocsin routes test --at TIME`: per matched route, whether its mute_time_intervals or
// active_time_intervals keep it from sending then, and by which interval.

#include <gtest/gtest.h>

#include "tests/integration/tocsin_daemon.hpp"

namespace tocsin::test {
namespace {

command_result tocsin_cli(std::vector<std::string> args) {
  args.insert(args.begin(), tocsin_binary().string());
  return run_command(args);
}

constexpr const char* tree = R"yaml(route:
  receiver: default
  routes:
    - matchers: ['team="a"']
      receiver: team-a
      mute_time_intervals: [lunch, weekends]
      continue: true
    - { matchers: ['team="a"'], receiver: office, active_time_intervals: [office-hours],
        continue: true }
    - { matchers: ['team="a"'], receiver: always }
receivers: [ { name: default }, { name: team-a }, { name: office }, { name: always } ]
time_intervals:
  - name: office-hours
    time_intervals:
      - { weekdays: ['monday:friday'], times: [ { start_time: '09:00', end_time: '17:00' } ],
          location: Europe/Berlin }
mute_time_intervals:
  - name: weekends
    time_intervals: [ { weekdays: [saturday, sunday] } ]
  - name: lunch
    time_intervals: [ { times: [ { start_time: '12:00', end_time: '13:00' } ] } ]
)yaml";

TEST(routes_test_at, says_which_routes_are_muted_then_and_by_what) {
  temp_dir dir("routes-at");
  const auto path = dir.write_file("tocsin.yaml", tree).string();

  // Saturday: team-a is muted by weekends, office is outside its active interval.
  auto r = tocsin_cli({"routes", "test", "-c", path, "--at", "2026-12-05T10:00:00Z", "team=a"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(r.stdout_text,
            "team-a,office,always\n"
            "route {}/{team=\"a\"} (receiver team-a): muted by mute_time_intervals \"weekends\"\n"
            "route {}/{team=\"a\"} (receiver office): muted: outside its active_time_intervals "
            "\"office-hours\"\n"
            "route {}/{team=\"a\"} (receiver always): sends\n");

  // Monday 12:00Z is 13:00 in Berlin: lunch (UTC) mutes team-a, office hours hold.
  r = tocsin_cli({"routes", "test", "-c", path, "--at", "2026-12-07T12:00:00Z", "team=a"});
  EXPECT_EQ(r.stdout_text,
            "team-a,office,always\n"
            "route {}/{team=\"a\"} (receiver team-a): muted by mute_time_intervals \"lunch\"\n"
            "route {}/{team=\"a\"} (receiver office): sends (in active_time_intervals "
            "\"office-hours\")\n"
            "route {}/{team=\"a\"} (receiver always): sends\n");

  // 16:00Z is 17:00 in Berlin: the end is exclusive. An offset in --at is honoured.
  r = tocsin_cli({"routes", "test", "-c", path, "--at", "2026-12-07T17:00:00+01:00", "team=a"});
  EXPECT_NE(r.stdout_text.find("(receiver office): muted: outside"), std::string::npos)
      << r.stdout_text;
  EXPECT_NE(r.stdout_text.find("(receiver team-a): sends\n"), std::string::npos) << r.stdout_text;

  // Without --at the output is amtool's, unchanged; the root route is never muted.
  r = tocsin_cli({"routes", "test", "-c", path, "team=b"});
  EXPECT_EQ(r.stdout_text, "default\n");
  r = tocsin_cli({"routes", "test", "-c", path, "--at", "2026-12-05T10:00:00Z", "team=b"});
  EXPECT_EQ(r.stdout_text, "default\nroute {} (receiver default): sends\n");
}

TEST(routes_test_at, refuses_a_time_that_is_not_rfc3339) {
  temp_dir dir("routes-at-bad");
  const auto path = dir.write_file("tocsin.yaml", tree).string();
  auto r = tocsin_cli({"routes", "test", "-c", path, "--at", "saturday", "team=a"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.stderr_text,
            "routes test: --at 'saturday' is not an RFC 3339 time (2026-12-05T10:00:00Z)\n");
}

TEST(routes_test_at, check_config_reports_an_unknown_interval_at_its_name) {
  temp_dir dir("routes-at-unknown");
  const auto path =
      dir.write_file("tocsin.yaml",
                     "route:\n"
                     "  receiver: r\n"
                     "  routes: [ { receiver: r, mute_time_intervals: [weekend] } ]\n"
                     "receivers: [ { name: r } ]\n"
                     "time_intervals: [ { name: weekends, time_intervals: [ {} ] } ]\n")
          .string();
  auto r = tocsin_cli({"check-config", "-c", path});
  EXPECT_EQ(r.exit_code, 1);
  const std::string expected = path +
                               ":3:50: route.routes[0].mute_time_intervals[0]: unknown time "
                               "interval 'weekend'; did you mean 'weekends'?\n";
  EXPECT_EQ(r.stderr_text, expected) << "reported once";
}

}  // namespace
}  // namespace tocsin::test
