// iCalendar schedules (oncall/ics_calendar.hpp through oncall/roster.hpp): time zones, RRULE and
// EXDATE, overlapping events, and files that are wrong or hostile.

#include "oncall/ics_calendar.hpp"

#include <date/tz.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/rfc3339.hpp"
#include "oncall/roster.hpp"
#include "tests/support/temp_dir.hpp"

namespace tocsin::oncall {

void PrintTo(const shift& s, std::ostream* os) {
  *os << s.user << " [" << format_rfc3339_millis(s.start) << ", " << format_rfc3339_millis(s.end)
      << ")";
}

namespace {

using std::chrono::sys_seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

sys_seconds utc(const char* text) {
  return std::chrono::floor<std::chrono::seconds>(parse_rfc3339(text).value());
}

shift on(const char* user, const char* start, const char* end) {
  return {user, utc(start), utc(end)};
}

std::string calendar(const std::string& body) {
  return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tocsin test//EN\r\n" + body +
         "END:VCALENDAR\r\n";
}

// A config with users alice, bob, carol and schedule `dba` reading `ics` (written to dba.ics).
class ics_schedule : public ::testing::Test {
 protected:
  roster load(const std::string& ics) {
    dir_.write_file("dba.ics", ics);
    const config::config cfg = config::load_string(
        "oncall:\n"
        "  users: [ {name: alice}, {name: bob}, {name: carol} ]\n"
        "  schedules: [ { name: dba, time_zone: Europe/Madrid, ics: dba.ics } ]\n",
        dir_ / "tocsin.yaml");
    return roster(cfg.oncall, dir_ / "tocsin.yaml");
  }
  std::vector<std::string> errors_of(const std::string& ics) {
    try {
      (void)load(ics);
    } catch (const config::config_error& e) {
      return e.errors();
    }
    return {};
  }
  std::string path() const { return (dir_ / "dba.ics").string(); }

  test::temp_dir dir_{"tocsin-ics"};
};

constexpr const char* fortnightly = R"(BEGIN:VEVENT
UID:w1
SUMMARY:alice
DTSTART;TZID=Europe/Madrid:20260316T090000
DTEND;TZID=Europe/Madrid:20260323T090000
RRULE:FREQ=WEEKLY;INTERVAL=2
EXDATE;TZID=Europe/Madrid:20260413T090000
END:VEVENT
BEGIN:VEVENT
UID:w2
SUMMARY:bob
DTSTART;TZID=Europe/Madrid:20260323T090000
DURATION:P7D
RRULE:FREQ=WEEKLY;INTERVAL=2
END:VEVENT
)";

TEST_F(ics_schedule, weekly_rule_in_an_iana_zone_with_an_exdate) {
  const roster r = load(calendar(fortnightly));
  // 09:00 Madrid is 08:00Z in winter and 07:00Z in summer; alice's 13 April week is excluded.
  EXPECT_THAT(r.rota("dba", utc("2026-03-16T00:00:00Z"), utc("2026-04-27T12:00:00Z")),
              ElementsAre(on("alice", "2026-03-16T08:00:00Z", "2026-03-23T08:00:00Z"),
                          on("bob", "2026-03-23T08:00:00Z", "2026-03-30T07:00:00Z"),
                          on("alice", "2026-03-30T07:00:00Z", "2026-04-06T07:00:00Z"),
                          on("bob", "2026-04-06T07:00:00Z", "2026-04-13T07:00:00Z"),
                          on("bob", "2026-04-20T07:00:00Z", "2026-04-27T07:00:00Z"),
                          on("alice", "2026-04-27T07:00:00Z", "2026-04-27T12:00:00Z")));
}

TEST_F(ics_schedule, a_rule_is_expanded_far_from_its_start) {
  const roster r = load(calendar(fortnightly));
  // 2028-01-10 is 95 weeks after 2026-03-16: an odd week, bob's.
  EXPECT_EQ(r.on_call("dba", utc("2028-01-10T12:00:00Z")),
            on("bob", "2028-01-10T08:00:00Z", "2028-01-17T08:00:00Z"));
}

TEST_F(ics_schedule, utc_floating_and_vtimezone_times) {
  const roster r = load(calendar(R"(BEGIN:VTIMEZONE
TZID:W. Europe Standard Time
BEGIN:STANDARD
DTSTART:16010101T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VEVENT
UID:u
SUMMARY:alice
DTSTART:20260701T090000Z
DTEND:20260701T100000Z
END:VEVENT
BEGIN:VEVENT
UID:f
SUMMARY:bob
DTSTART:20260701T120000
DTEND:20260701T130000
END:VEVENT
BEGIN:VEVENT
UID:v
SUMMARY:carol
DTSTART;TZID=W. Europe Standard Time:20260701T150000
DTEND;TZID=W. Europe Standard Time:20260701T160000
END:VEVENT
)"));
  // Floating times are the schedule's (Madrid, +02:00 in July), as is the VTIMEZONE.
  EXPECT_THAT(r.rota("dba", utc("2026-07-01T00:00:00Z"), utc("2026-07-02T00:00:00Z")),
              ElementsAre(on("alice", "2026-07-01T09:00:00Z", "2026-07-01T10:00:00Z"),
                          on("bob", "2026-07-01T10:00:00Z", "2026-07-01T11:00:00Z"),
                          on("carol", "2026-07-01T13:00:00Z", "2026-07-01T14:00:00Z")));
}

TEST_F(ics_schedule, overlapping_events_the_later_starting_wins) {
  const roster r = load(calendar(R"(BEGIN:VEVENT
UID:a
SUMMARY:alice
DTSTART:20261130T090000Z
DTEND:20261207T090000Z
END:VEVENT
BEGIN:VEVENT
UID:b
SUMMARY:bob
DTSTART:20261202T100000Z
DTEND:20261202T140000Z
END:VEVENT
BEGIN:VEVENT
UID:c
SUMMARY:carol
DTSTART:20261129T000000Z
DTEND:20261203T000000Z
END:VEVENT
)"));
  EXPECT_THAT(r.rota("dba", utc("2026-11-29T00:00:00Z"), utc("2026-12-08T00:00:00Z")),
              ElementsAre(on("carol", "2026-11-29T00:00:00Z", "2026-11-30T09:00:00Z"),
                          on("alice", "2026-11-30T09:00:00Z", "2026-12-02T10:00:00Z"),
                          on("bob", "2026-12-02T10:00:00Z", "2026-12-02T14:00:00Z"),
                          on("alice", "2026-12-02T14:00:00Z", "2026-12-07T09:00:00Z")));
}

TEST_F(ics_schedule, a_summary_naming_no_user_is_a_config_error) {
  EXPECT_THAT(
      errors_of(calendar(R"(BEGIN:VEVENT
UID:m1
SUMMARY:mallory
DTSTART:20261130T090000Z
DTEND:20261207T090000Z
END:VEVENT
)")),
      ElementsAre(path() +
                  ": event \"mallory\" (UID m1): its SUMMARY names no user of oncall.users"));
}

TEST_F(ics_schedule, broken_files_are_config_errors) {
  EXPECT_THAT(errors_of("this is not a calendar\n\x01\xff\xfe"),
              ElementsAre(path() + ": not an iCalendar file (no VCALENDAR)"));
  EXPECT_THAT(errors_of(""), ElementsAre(path() + ": not an iCalendar file (no VCALENDAR)"));
  EXPECT_THAT(errors_of(calendar("BEGIN:VEVENT\r\nSUMMARY:alice\r\nEND:VEVENT\r\n")),
              ElementsAre(path() + ": event \"alice\": has no DTSTART"));
  EXPECT_THAT(errors_of(calendar("BEGIN:VEVENT\r\nSUMMARY:alice\r\nDTSTART;TZID=Mars/Olympus:"
                                 "20261130T090000\r\nDURATION:PT1H\r\nEND:VEVENT\r\n")),
              ElementsAre(path() + ": event \"alice\": TZID \"Mars/Olympus\" is neither an IANA "
                                   "zone nor a VTIMEZONE of the file"));
  // libical's own message, then what it leaves of the event.
  EXPECT_THAT(errors_of(calendar("BEGIN:VEVENT\r\nSUMMARY:alice\r\nDTSTART:yesterday\r\n"
                                 "DURATION:PT1H\r\nEND:VEVENT\r\n")),
              ElementsAre(path() + ": Can't parse as DATE-TIME value in DTSTART property. "
                                   "Removing entire property: yesterday",
                          path() + ": event \"alice\": has no DTSTART"));
}

TEST_F(ics_schedule, a_missing_file_is_a_config_error) {
  const config::config cfg = config::load_string(
      "oncall:\n  users: [ {name: alice} ]\n  schedules: [ { name: dba, ics: gone.ics } ]\n",
      dir_ / "tocsin.yaml");
  try {
    roster(cfg.oncall, dir_ / "tocsin.yaml");
    FAIL() << "no error";
  } catch (const config::config_error& e) {
    EXPECT_THAT(e.errors(), ElementsAre((dir_ / "gone.ics").string() +
                                        ": cannot read: No such file or directory"));
  }
}

TEST_F(ics_schedule, endless_and_huge_rules_take_bounded_time) {
  const auto started = std::chrono::steady_clock::now();
  const roster endless = load(calendar(
      "BEGIN:VEVENT\r\nUID:e\r\nSUMMARY:alice\r\nDTSTART:20260101T000000Z\r\nDURATION:PT1M\r\n"
      "RRULE:FREQ=MINUTELY\r\nEND:VEVENT\r\n"));
  // Minute after minute of alice merge into one shift, seen from 60 days back; the expansion
  // starts two days and a length before that (2030-03-30T23:59) and stops after 100 000 minutes.
  EXPECT_EQ(endless.on_call("dba", utc("2030-06-01T00:00:00Z")),
            on("alice", "2030-04-02T00:00:00Z", "2030-06-08T10:39:00Z"));
  const roster counted = load(calendar(
      "BEGIN:VEVENT\r\nUID:c\r\nSUMMARY:bob\r\nDTSTART:20260101T000000Z\r\nDURATION:PT1S\r\n"
      "RRULE:FREQ=SECONDLY;COUNT=1000000\r\nEND:VEVENT\r\n"));
  // With COUNT libical cannot start mid-rule: expansion stops after 100 000 instances.
  EXPECT_EQ(counted.on_call("dba", utc("2026-01-01T01:00:00Z")),
            on("bob", "2026-01-01T00:00:00Z", "2026-01-02T03:46:40Z"));
  EXPECT_EQ(counted.on_call("dba", utc("2026-01-05T00:00:00Z")), std::nullopt);
  const roster impossible = load(calendar(
      "BEGIN:VEVENT\r\nUID:i\r\nSUMMARY:carol\r\nDTSTART:20260101T000000Z\r\nDURATION:PT1H\r\n"
      "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30\r\nEND:VEVENT\r\n"));
  EXPECT_EQ(impossible.on_call("dba", utc("2027-02-28T00:30:00Z")), std::nullopt);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20));
}

}  // namespace
}  // namespace tocsin::oncall
