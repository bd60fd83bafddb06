#include "pipeline/log_outputs.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "tests/support/files.hpp"
#include "tests/support/kafka_mock.hpp"
#include "tests/support/temp_dir.hpp"

namespace tocsin::pipeline {
namespace {

class log_outputs_test : public ::testing::Test {
 protected:
  config::config with_files(std::initializer_list<std::string> names) const {
    config::config cfg;
    for (const auto& name : names) {
      config::output_config out;
      out.type = config::output_type::file;
      out.path = (dir_ / name).string();
      cfg.outputs.push_back(out);
    }
    return cfg;
  }

  test::temp_dir dir_{"tocsin-log-outputs"};
  metrics_registry metrics_;
  log_output_set outputs_{config::kafka_config{}, metrics_, nullptr};
};

TEST_F(log_outputs_test, a_reload_keeps_an_unchanged_output_and_drops_the_rest) {
  outputs_.replace(outputs_.build(with_files({"a.log", "b.log"})));
  const auto a = outputs_.running()[0].archive;
  const auto b = outputs_.running()[1].archive;

  const std::vector<log_output> next = outputs_.build(with_files({"a.log", "c.log"}));
  ASSERT_EQ(next.size(), 2U);
  EXPECT_EQ(next[0].archive, a) << "same key: the running archive, with its open files";
  EXPECT_EQ(outputs_.running().size(), 2U) << "build() switches nothing";

  const std::vector<log_output> dropped = outputs_.replace(next);
  ASSERT_EQ(dropped.size(), 1U);
  EXPECT_EQ(dropped[0].archive, b);
  EXPECT_EQ(outputs_.sinks().size(), 2U);
}

TEST_F(log_outputs_test, an_output_listed_twice_is_written_once) {
  EXPECT_EQ(outputs_.build(with_files({"a.log", "a.log"})).size(), 1U);
}

TEST_F(log_outputs_test, a_kafka_output_writes_the_events_to_its_topic) {
  test::mock_kafka_cluster cluster;
  cluster.create_topic("logs", 1);
  config::kafka_config bus;
  bus.brokers = cluster.bootstraps();
  log_output_set outputs(bus, metrics_, nullptr);
  config::config cfg = with_files({"a.log"});
  config::output_config kafka;
  kafka.type = config::output_type::kafka;
  kafka.topic = "logs";
  cfg.outputs.push_back(kafka);
  outputs.replace(outputs.build(cfg));
  ASSERT_EQ(outputs.running().size(), 2U);
  EXPECT_EQ(outputs.running()[1].key, "kafka:logs");
  ASSERT_NE(outputs.running()[1].kafka, nullptr);
  EXPECT_EQ(outputs.sinks()[1], outputs.running()[1].kafka);

  collector::event ev;
  ev.host = "web1";
  ev.app = "app";
  ev.message = "to both outputs";
  ev.received_at = std::chrono::system_clock::now();
  for (const auto& sink : outputs.sinks()) sink->consume(ev);
  outputs.reopen_archives();
  outputs.flush(std::chrono::steady_clock::now() + std::chrono::seconds(30));

  const auto records = test::kcat_read(cluster.bootstraps(), "logs");
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].key, "web1");
  EXPECT_NE(records[0].value.find("to both outputs"), std::string::npos) << records[0].value;
  EXPECT_NE(test::read_file(dir_ / "a.log").find("to both outputs"), std::string::npos);
}

TEST_F(log_outputs_test, a_flush_past_its_deadline_leaves_the_writing_to_the_archive) {
  outputs_.replace(outputs_.build(with_files({"a.log"})));
  collector::event ev;
  ev.host = "web1";
  ev.app = "app";
  ev.received_at = std::chrono::system_clock::now();
  for (int i = 0; i < 1000; ++i) {
    const std::string message = "line " + std::to_string(i);  // the event only views it
    ev.message = message;
    outputs_.sinks()[0]->consume(ev);
  }
  // No time left: the flush does not wait (and says so when something is still unwritten) ...
  outputs_.flush(std::chrono::steady_clock::now() - std::chrono::seconds(1));
  // ... and the archive's writer writes it all anyway.
  EXPECT_TRUE(outputs_.running()[0].archive->flush(std::chrono::seconds(30)));
  const std::string written = test::read_file(dir_ / "a.log");
  EXPECT_NE(written.find("\"line 999\""), std::string::npos) << written.substr(0, 300);
}

}  // namespace
}  // namespace tocsin::pipeline
