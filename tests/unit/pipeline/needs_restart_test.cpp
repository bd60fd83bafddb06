#include "pipeline/needs_restart.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace tocsin::pipeline
