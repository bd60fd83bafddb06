#include "pipeline/needs_restart.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace tocsin::pipeline {
namespace {

TEST(needs_restart, nothing_when_only_reloadable_settings_change) {
  config::config running;
  config::config next = running;
  next.rules_files = {"rules/*.yaml"};
  next.outputs.push_back({});
  next.shutdown_timeout = running.shutdown_timeout * 2;
  EXPECT_TRUE(needs_restart(running, next).empty());
}

TEST(needs_restart, names_each_fixed_section_that_changed) {
  config::config running;
  config::config next = running;
  next.inputs.push_back({});
  next.bus.type = "kafka";
  next.data_dir = "/elsewhere";
  next.node_name = "other";
  EXPECT_EQ(needs_restart(running, next),
            (std::vector<std::string>{"inputs", "bus", "data_dir", "node_name"}));
}

TEST(needs_restart, limits_and_each_fixed_admin_setting) {
  config::config running;
  running.admin = config::admin_config{};
  config::config next = running;
  next.limits.max_connections = running.limits.max_connections + 1;
  EXPECT_EQ(needs_restart(running, next), (std::vector<std::string>{"limits"}));
  config::config other_brokers = running;
  other_brokers.bus.kafka.brokers = "kafka-2:9092";
  EXPECT_EQ(needs_restart(running, other_brokers), (std::vector<std::string>{"bus"}));

  const auto admin_changed = [&](const std::function<void(config::admin_config&)>& change) {
    config::config n = running;
    change(*n.admin);
    return needs_restart(running, n) == std::vector<std::string>{"admin"};
  };
  EXPECT_TRUE(admin_changed([](auto& a) { a.listen.port = 1; }));
  EXPECT_TRUE(admin_changed([](auto& a) { a.token_file = "admin.token"; }));
  EXPECT_TRUE(admin_changed([](auto& a) { a.max_connections = 1; }));
  EXPECT_TRUE(admin_changed([](auto& a) { a.tls = config::tls_config{"admin.crt", "admin.key"}; }));
  EXPECT_FALSE(admin_changed([](auto& a) { a.external_url = "https://tocsin.example"; }))
      << "links follow a reload";

  config::config without = running;
  without.admin.reset();
  EXPECT_EQ(needs_restart(running, without), (std::vector<std::string>{"admin"}));
  EXPECT_EQ(needs_restart(without, running), (std::vector<std::string>{"admin"}));
  EXPECT_TRUE(needs_restart(without, without).empty());
}

}  // namespace
}  // namespace tocsin::pipeline
