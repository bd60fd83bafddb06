// notification_text: placeholders over a notification, escaping of values only, and the short
// default title and text.

#include "sinks/notification_text.hpp"

#include <gtest/gtest.h>

#include "tests/unit/sinks/notifier_fixtures.hpp"

namespace tocsin::sinks {
namespace {

using namespace fixtures;

void brackets(std::string_view value, std::string& out) {
  out += "[";
  out += value;
  out += "]";
}

TEST(notification_text, names_are_status_count_common_labels_then_common_annotations) {
  const notification_text text(
      "{{status}} {{ count }} {{alertname}} {{severity}} {{runbook}} "
      "{{host}}|{{summary}}|{{nope}} {{ .Labels.x }}");
  EXPECT_EQ(text.render(disk_full_group()),
            "firing 2 disk_full critical r1 || {{ .Labels.x }}");  // host, summary: not common
  EXPECT_EQ(text.render(all_resolved(disk_full_group())),
            "resolved 3 disk_full critical r1 || {{ .Labels.x }}");
  auto group = disk_full_group();
  for (auto& a : group.alerts) a.annotations["alertname"] = "from an annotation";
  EXPECT_EQ(notification_text("{{alertname}}").render(group), "disk_full");  // labels first
}

TEST(notification_text, escape_applies_to_values_not_to_the_text) {
  const notification_text text("<{{alertname}}|{{status}}> {{count}}");
  EXPECT_EQ(text.render(disk_full_group(), brackets), "<[disk_full]|firing> 2");
}

TEST(notification_text, defaults) {
  EXPECT_EQ(default_title(disk_full_group()), "[FIRING:2] disk_full");
  EXPECT_EQ(default_title(all_resolved(disk_full_group())), "[RESOLVED] disk_full");
  EXPECT_EQ(default_text(disk_full_group()),
            "Firing:\n- disk full on web1\n- disk full on web2\nResolved:\n- disk full on db1");
  // Without a summary, the labels; the whole default is escaped (it has no markup).
  auto group = all_resolved(disk_full_group());
  group.alerts.resize(1);
  group.alerts[0].annotations.clear();
  EXPECT_EQ(default_text(group), "Resolved:\n- alertname=disk_full host=web1 severity=critical");
  EXPECT_EQ(default_title(group, brackets), "[[RESOLVED] disk_full]");
  EXPECT_EQ(default_text(group, brackets),
            "[Resolved:\n- alertname=disk_full host=web1 severity=critical]");
}

}  // namespace
}  // namespace tocsin::sinks
