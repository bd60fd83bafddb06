#include "pipeline/router_pipeline.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/support/temp_dir.hpp"

namespace tocsin::pipeline {
namespace {

using namespace std::chrono_literals;

class router_pipeline_test : public ::testing::Test {
 protected:
  config::config config_with_route_to(const std::string& receiver) const {
    return config::load_string("data_dir: " + (dir_ / "lib").string() +
                                   "\n"
                                   "route: { receiver: " +
                                   receiver +
                                   ", group_wait: 1h }\n"
                                   "receivers:\n"
                                   "  - { name: audit, file: { path: \"" +
                                   (dir_ / "alerts.jsonl").string() + "\" } }\n",
                               dir_ / "tocsin.yaml");
  }

  static rules::alert alert(const std::string& name) {
    rules::alert a;
    a.labels = {{"alertname", name}};
    a.starts_at = std::chrono::system_clock::now();
    return a;
  }

  test::temp_dir dir_{"tocsin-router-pipeline"};
  metrics_registry metrics_;
  config::config cfg_ = config_with_route_to("audit");
};

TEST_F(router_pipeline_test, the_embedded_bus_carries_alerts_into_the_router) {
  router_pipeline router(cfg_, nullptr, metrics_);
  ASSERT_NE(router.in_process_bus(), nullptr);
  router.start();
  router.in_process_bus()->publish({alert("a"), alert("b")});
  EXPECT_TRUE(router.drain(std::chrono::steady_clock::now() + 10s));
  EXPECT_EQ(router.router().alerts().size(), 2U);
  EXPECT_EQ(router.not_ready_reason(), "");
  router.stop();
  router.stop();
}

TEST_F(router_pipeline_test, a_reload_with_an_unknown_receiver_changes_nothing) {
  router_pipeline router(cfg_, nullptr, metrics_);
  router.start();
  // Built by hand: loading such a file would already fail, before the router could refuse it.
  config::config next = cfg_;
  next.route->receiver = "nobody";
  EXPECT_ANY_THROW(router.reload(next, nullptr));
  router.in_process_bus()->publish({alert("a")});
  EXPECT_TRUE(router.drain(std::chrono::steady_clock::now() + 10s));
  ASSERT_EQ(router.router().alerts().size(), 1U);
  EXPECT_EQ(router.router().alerts()[0].receivers, std::vector<std::string>{"audit"});
}

TEST_F(router_pipeline_test, alerts_left_on_the_bus_at_the_deadline_still_reach_the_router) {
  router_pipeline router(cfg_, nullptr, metrics_);
  router.start();
  std::vector<rules::alert> alerts;
  for (int i = 0; i < 500; ++i) alerts.push_back(alert("a" + std::to_string(i)));
  router.in_process_bus()->publish(std::move(alerts));
  // A deadline already past: whatever the bus still holds is handed over by stop().
  router.drain(std::chrono::steady_clock::now() - 1s);
  router.stop();
  EXPECT_EQ(router.router().alerts().size(), 500U);
}

}  // namespace
}  // namespace tocsin::pipeline
