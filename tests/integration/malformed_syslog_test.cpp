// Malformed syslog through the running daemon: a broken RFC 5424 line is archived with every
// field it has and a parse_error, counted in tocsin_input_malformed_total, never dropped.

#include <gtest/gtest.h>

#include "tests/integration/tocsin_daemon.hpp"

namespace tocsin::test {
namespace {

TEST(malformed_syslog, broken_rfc5424_is_archived_best_effort_and_counted) {
  tocsin_daemon daemon;
  udp_client sender;
  ASSERT_TRUE(sender.send_to(daemon.syslog_port(),
                             "<166>1 2021-03-04T10:12:33.123Z esx01 Hostd 2098989 - "
                             "[Originator@6876 sub=Vimsvc.TaskManager opID=esxui-4c5e] Task "
                             "Created"));
  ASSERT_TRUE(sender.send_to(daemon.syslog_port(),
                             "<14>1 2026-10-05T21:30:01.123456789Z gohost goapp - - - nanos"));
  ASSERT_TRUE(sender.send_to(daemon.syslog_port(), "<38> Mar  7 19:06:53 example tag: spaced"));

  const auto esxi = daemon.wait_for_event_with("message", "Task Created");
  ASSERT_TRUE(esxi.has_value());
  EXPECT_EQ(text_field(*esxi, "host"), "esx01");
  EXPECT_EQ(text_field(*esxi, "app"), "Hostd");
  EXPECT_EQ(text_field(*esxi, "parse_error"), "bad_structured_data");
  EXPECT_EQ((*esxi)["sd"]["Originator@6876"]["opID"], "esxui-4c5e");

  const auto nanos = daemon.wait_for_event_with("message", "nanos");
  ASSERT_TRUE(nanos.has_value());
  EXPECT_EQ(text_field(*nanos, "timestamp"), "2026-10-05T21:30:01.123456789Z");
  EXPECT_EQ(text_field(*nanos, "parse_error"), "bad_timestamp");

  const auto spaced = daemon.wait_for_event_with("message", "spaced");
  ASSERT_TRUE(spaced.has_value());
  EXPECT_EQ(text_field(*spaced, "app"), "tag");
  EXPECT_FALSE(spaced->contains("parse_error"));

  EXPECT_EQ(daemon.metric("tocsin_input_malformed_total",
                          {{"input", "syslog-udp"}, {"reason", "bad_structured_data"}}),
            1);
  EXPECT_EQ(daemon.metric("tocsin_input_malformed_total", {{"input", "syslog-udp"}}), 2);
  EXPECT_EQ(daemon.input_messages("syslog-udp"), 3);
  EXPECT_EQ(daemon.input_errors("syslog-udp"), 0);
}

}  // namespace
}  // namespace tocsin::test
