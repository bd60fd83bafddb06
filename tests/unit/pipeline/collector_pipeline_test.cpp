#include "pipeline/collector_pipeline.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "pipeline/router_pipeline.hpp"
#include "rules/rule.hpp"
#include "tests/support/files.hpp"
#include "tests/support/temp_dir.hpp"

namespace tocsin::pipeline {
namespace {

using namespace std::chrono_literals;

// Both halves of `tocsin run` on the embedded bus, without inputs: events go in through the
// collector's sink, alerts come out in the router (and its file receiver).
class collector_pipeline_test : public ::testing::Test {
 protected:
  collector_pipeline_test()
      : cfg_(config::load_string(config_yaml("archive.log"), dir_ / "tocsin.yaml")),
        router_(cfg_, nullptr, metrics_),
        collector_(cfg_, disk_full_rule(), router_.in_process_bus(), metrics_, nullptr) {}

  std::string config_yaml(const std::string& archive) const {
    return "data_dir: " + (dir_ / "lib").string() +
           "\n"
           "outputs:\n"
           "  - { type: file, path: \"" +
           (dir_ / archive).string() +
           "\" }\n"
           "route: { receiver: audit, group_by: ['...'], group_wait: 0s }\n"
           "receivers:\n"
           "  - { name: audit, file: { path: \"" +
           (dir_ / "alerts.jsonl").string() + "\" } }\n";
  }

  static std::shared_ptr<const rules::compiled_rules> disk_full_rule() {
    return std::make_shared<const rules::compiled_rules>(rules::load_rules_string(
        "rules:\n  - { name: disk-full, match: { message: 'No space left' } }\n", "rules.yaml"));
  }

  static collector::event event(const std::string& message) {
    collector::event ev;
    ev.host = "web1";
    ev.app = "app";
    ev.message = message;
    ev.received_at = std::chrono::system_clock::now();
    return ev;
  }

  void drain_both() {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    collector_.drain(deadline);
    collector_.stop();
    ASSERT_TRUE(router_.drain(deadline));
  }

  test::temp_dir dir_{"tocsin-pipeline"};
  metrics_registry metrics_;
  config::config cfg_;
  router_pipeline router_;
  collector_pipeline collector_;
};

TEST_F(collector_pipeline_test, every_event_passes_the_live_tail_across_reloads) {
  collector_.start();
  auto sub = collector_.live_tail().subscribe(rules::event_filter::parse("space"));
  ASSERT_NE(sub, nullptr);
  collector_.sink().consume(event("all is well"));
  collector_.sink().consume(event("No space left on device"));
  EXPECT_EQ(sub->take().find("event: line\ndata: {"), 0U);
  // A reload without outputs and rules keeps the tail in the fanout.
  const auto next =
      config::load_string("data_dir: " + (dir_ / "lib").string() + "\n", dir_ / "tocsin.yaml");
  (void)collector_.reload(
      std::make_shared<const rules::compiled_rules>(std::vector<rules::rule_definition>{}),
      collector_.build_outputs(next));
  collector_.sink().consume(event("still no space"));
  EXPECT_NE(sub->take().find("still no space"), std::string::npos);
  drain_both();
}

TEST_F(collector_pipeline_test, an_event_is_archived_and_its_alert_reaches_the_router) {
  router_.start();
  collector_.start();
  collector_.sink().consume(event("all is well"));
  collector_.sink().consume(event("write failed: No space left on device"));
  drain_both();

  const std::string archive = test::read_file(dir_ / "archive.log");
  EXPECT_NE(archive.find("all is well"), std::string::npos);
  EXPECT_NE(archive.find("No space left"), std::string::npos);
  const auto alerts = router_.router().alerts();
  ASSERT_EQ(alerts.size(), 1U);
  EXPECT_EQ(alerts[0].alert.labels.at("alertname"), "disk-full");
  const auto sent = test::read_json_lines(dir_ / "alerts.jsonl");
  ASSERT_EQ(sent.size(), 1U) << "group_wait 0s: the drain sends the group";
  EXPECT_NE(sent[0].dump().find("disk-full"), std::string::npos);
  router_.stop();
}

TEST_F(collector_pipeline_test, a_reload_switches_the_outputs_and_the_rules) {
  router_.start();
  collector_.start();
  const config::config next = config::load_string(config_yaml("next.log"), dir_ / "tocsin.yaml");
  const auto no_rules =
      std::make_shared<const rules::compiled_rules>(std::vector<rules::rule_definition>{});
  EXPECT_EQ(collector_.reload(no_rules, collector_.build_outputs(next)), 0U);
  collector_.sink().consume(event("write failed: No space left on device"));
  drain_both();

  EXPECT_EQ(test::read_file_if_present(dir_ / "archive.log"), "");
  EXPECT_NE(test::read_file(dir_ / "next.log").find("No space left"), std::string::npos);
  EXPECT_TRUE(router_.router().alerts().empty()) << "no rules any more";
  router_.stop();
}

TEST_F(collector_pipeline_test, stop_is_idempotent_and_needs_no_start) {
  collector_.stop();
  collector_.stop();
  router_.stop();
  router_.stop();
}

}  // namespace
}  // namespace tocsin::pipeline
