#include "pipeline/alerting_sink.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <vector>

#include "rules/rule.hpp"

namespace tocsin::pipeline {
namespace {

// Every publish() call, as it came.
class recording_bus final : public bus::alert_bus {
 public:
  void publish(std::vector<rules::alert> alerts) override { calls.push_back(std::move(alerts)); }
  std::vector<std::vector<rules::alert>> calls;
};

class alerting_sink_test : public ::testing::Test {
 protected:
  alerting_sink_test()
      : engine_(std::make_shared<const rules::compiled_rules>(rules::load_rules_string(
                    "rules:\n"
                    "  - { name: disk-full, match: { message: 'No space left' } }\n",
                    "rules.yaml")),
                metrics_),
        sink_(engine_, bus_) {}

  static collector::event event(const std::string& message) {
    collector::event ev;
    ev.host = "web1";
    ev.app = "app";
    ev.message = message;
    ev.received_at = std::chrono::system_clock::now();
    return ev;
  }

  metrics_registry metrics_;
  rules::alert_engine engine_;
  recording_bus bus_;
  alerting_sink sink_;
};

TEST_F(alerting_sink_test, publishes_only_what_the_engine_emits) {
  sink_.consume(event("all is well"));
  EXPECT_TRUE(bus_.calls.empty()) << "an event that matches no rule publishes nothing";

  sink_.consume(event("write failed: No space left on device"));
  ASSERT_EQ(bus_.calls.size(), 1U);
  ASSERT_EQ(bus_.calls[0].size(), 1U);
  EXPECT_EQ(bus_.calls[0][0].labels.at("alertname"), "disk-full");
  EXPECT_EQ(bus_.calls[0][0].labels.at("host"), "web1");
}

TEST_F(alerting_sink_test, always_accepts) { EXPECT_TRUE(sink_.accepting()); }

}  // namespace
}  // namespace tocsin::pipeline
