// check-config's on-call warnings (pipeline/config_check.hpp): each schedule's gaps over the next
// 28 days, a few lines each, local times with their offset.

#include "pipeline/config_check.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/rfc3339.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_certs.hpp"

namespace tocsin::pipeline {
namespace {

using ::testing::ElementsAre;

TEST(schedule_gap_warnings, a_few_lines_per_schedule_then_a_count) {
  const config::config cfg = config::load_string(R"(oncall:
  users: [ {name: alice}, {name: bob} ]
  schedules:
    - { name: always, time_zone: Europe/Madrid,
        layers: [ { name: w, start: 2026-11-30T09:00, rotation: 1w, users: [bob] } ] }
    - { name: office, time_zone: Europe/Madrid,
        layers: [ { name: d, start: 2026-11-30T09:00, rotation: 1w, users: [alice],
                    restrict: { times: ["09:00-17:00"] } } ] }
)",
                                                 "t.yaml");
  const oncall::roster roster(cfg.oncall, "t.yaml");
  const auto now =
      std::chrono::floor<std::chrono::seconds>(parse_rfc3339("2026-12-01T12:00:00Z").value());
  // 28 evenings from 17:00 to 09:00 the next morning.
  EXPECT_THAT(
      schedule_gap_warnings(roster, now),
      ElementsAre("warning: schedule 'office' names nobody from 2026-12-01T17:00:00+01:00 to "
                  "2026-12-02T09:00:00+01:00",
                  "warning: schedule 'office' names nobody from 2026-12-02T17:00:00+01:00 to "
                  "2026-12-03T09:00:00+01:00",
                  "warning: schedule 'office' names nobody from 2026-12-03T17:00:00+01:00 to "
                  "2026-12-04T09:00:00+01:00",
                  "warning: schedule 'office': and 25 more gaps"));
}

TEST(check_config_file, kafka_properties_are_checked_even_with_the_embedded_bus) {
  const test::temp_dir dir("tocsin-config-check");
  const auto file = dir.write_file("tocsin.yaml",
                                   "data_dir: /tmp\n"
                                   "bus:\n"
                                   "  type: embedded\n"
                                   "  kafka:\n"
                                   "    brokers: \"127.0.0.1:9\"\n"
                                   "    properties: { no.such.property: \"1\" }\n");
  const checked_config checked = check_config_file(file);
  ASSERT_EQ(checked.errors.size(), 1U) << ::testing::PrintToString(checked.errors);
  EXPECT_THAT(checked.errors[0], ::testing::HasSubstr("no.such.property"));
}

}  // namespace
}  // namespace tocsin::pipeline

namespace tocsin::pipeline {
namespace {

TEST(check_config_file, admin_tls_files_are_read_and_named_when_wrong) {
  test::temp_dir dir;
  const test::test_ca ca(dir.path(), "ca");
  const auto good = ca.issue("admin", {"localhost", {"localhost"}, {"127.0.0.1"}});
  const auto config = dir.write_file("tocsin.yaml",
                                     "admin:\n  listen: 127.0.0.1:0\n  tls:\n    cert: admin.crt\n"
                                     "    key: admin.key\n");
  EXPECT_THAT(check_config_file(config).errors, ::testing::IsEmpty());

  // A key that is not the certificate's: the line of admin.tls, and both files, are named.
  const auto other = ca.issue("other", {"other", {"other"}, {}});
  std::filesystem::copy_file(other.key, dir.path() / "admin.key",
                             std::filesystem::copy_options::overwrite_existing);
  const auto errors = check_config_file(config).errors;
  ASSERT_EQ(errors.size(), 1U);
  EXPECT_THAT(errors[0], ::testing::HasSubstr("tocsin.yaml:4:5: admin.tls key '"));
  EXPECT_THAT(errors[0], ::testing::HasSubstr("does not match tls cert"));

  std::filesystem::remove(dir.path() / "admin.crt");
  EXPECT_THAT(check_config_file(config).errors,
              ::testing::ElementsAre(::testing::HasSubstr("admin.crt' cannot be read")));
}

}  // namespace
}  // namespace tocsin::pipeline
