// Branches of kafka/client_config.cpp the main tests do not reach: a consumer-only creation
// problem, every severity and event type log_events handles
// (with a fake RdKafka::Event, so each branch is driven deterministically), and error_label for
// a code librdkafka does not name.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <vector>

#include "kafka/client_config.hpp"

namespace tocsin::kafka {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class fake_event final : public RdKafka::Event {
 public:
  Type type_ = EVENT_LOG;
  RdKafka::ErrorCode err_ = RdKafka::ERR_NO_ERROR;
  Severity severity_ = EVENT_SEVERITY_INFO;
  std::string fac_ = "TEST";
  std::string str_ = "message";
  bool fatal_ = false;

  Type type() const override { return type_; }
  RdKafka::ErrorCode err() const override { return err_; }
  Severity severity() const override { return severity_; }
  std::string fac() const override { return fac_; }
  std::string str() const override { return str_; }
  int throttle_time() const override { return 0; }
  std::string broker_name() const override { return ""; }
  int broker_id() const override { return -1; }
  bool fatal() const override { return fatal_; }
};

// Captures what spdlog's default logger writes while it lives, as "LEVEL MESSAGE" lines.
class captured_log {
 public:
  captured_log()
      : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64)),
        previous_(spdlog::default_logger()) {
    auto logger = std::make_shared<spdlog::logger>("capture", sink_);
    logger->set_level(spdlog::level::trace);
    logger->set_pattern("%l %v");
    spdlog::set_default_logger(logger);
  }
  ~captured_log() { spdlog::set_default_logger(previous_); }
  captured_log(const captured_log&) = delete;
  captured_log& operator=(const captured_log&) = delete;

  std::vector<std::string> lines() { return sink_->last_formatted(); }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

std::string trimmed(std::string line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return line;
}

std::string level_of(RdKafka::Event::Severity severity, const std::string& fac = "TEST") {
  captured_log log;
  log_events events("producer x");
  fake_event event;
  event.severity_ = severity;
  event.fac_ = fac;
  event.str_ = "hello";
  events.event_cb(event);
  const auto lines = log.lines();
  if (lines.size() != 1) return "lines: " + std::to_string(lines.size());
  return trimmed(lines[0]);
}

TEST(log_events_branches, syslog_severities_map_to_spdlog_levels) {
  EXPECT_EQ(level_of(RdKafka::Event::EVENT_SEVERITY_EMERG), "error kafka: producer x: TEST hello");
  EXPECT_EQ(level_of(RdKafka::Event::EVENT_SEVERITY_ALERT), "error kafka: producer x: TEST hello");
  EXPECT_EQ(level_of(RdKafka::Event::EVENT_SEVERITY_CRITICAL),
            "error kafka: producer x: TEST hello");
  EXPECT_EQ(level_of(RdKafka::Event::EVENT_SEVERITY_ERROR),
            "warning kafka: producer x: TEST hello");
  EXPECT_EQ(level_of(RdKafka::Event::EVENT_SEVERITY_WARNING),
            "warning kafka: producer x: TEST hello");
  EXPECT_EQ(level_of(RdKafka::Event::EVENT_SEVERITY_NOTICE), "info kafka: producer x: TEST hello");
  EXPECT_EQ(level_of(RdKafka::Event::EVENT_SEVERITY_INFO), "info kafka: producer x: TEST hello");
  EXPECT_EQ(level_of(RdKafka::Event::EVENT_SEVERITY_DEBUG), "debug kafka: producer x: TEST hello");
}

TEST(log_events_branches, fail_and_fatal_logs_are_demoted_to_debug) {
  EXPECT_EQ(level_of(RdKafka::Event::EVENT_SEVERITY_ERROR, "FAIL"),
            "debug kafka: producer x: FAIL hello");
  EXPECT_EQ(level_of(RdKafka::Event::EVENT_SEVERITY_EMERG, "FATAL"),
            "debug kafka: producer x: FATAL hello");
}

TEST(log_events_branches, error_events_warn_or_call_on_fatal) {
  captured_log log;
  int fatal_calls = 0;
  log_events events("consumer", [&] { ++fatal_calls; });
  fake_event event;
  event.type_ = RdKafka::Event::EVENT_ERROR;
  event.err_ = RdKafka::ERR__TRANSPORT;
  event.str_ = "broker down";
  events.event_cb(event);
  EXPECT_EQ(fatal_calls, 0);

  event.fatal_ = true;
  event.err_ = RdKafka::ERR__FATAL;
  event.str_ = "fenced";
  events.event_cb(event);
  EXPECT_EQ(fatal_calls, 1);

  const auto lines = log.lines();
  ASSERT_EQ(lines.size(), 2U);
  EXPECT_THAT(lines[0], StartsWith("warning kafka: consumer: "));
  EXPECT_THAT(lines[0], HasSubstr("broker down"));
  EXPECT_THAT(lines[1], StartsWith("error kafka: consumer: fatal error "));
  EXPECT_THAT(lines[1], HasSubstr("fenced"));
}

TEST(log_events_branches, fatal_without_callback_only_logs) {
  captured_log log;
  log_events events("output logs");
  fake_event event;
  event.type_ = RdKafka::Event::EVENT_ERROR;
  event.fatal_ = true;
  event.err_ = RdKafka::ERR__FATAL;
  events.event_cb(event);
  const auto lines = log.lines();
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_THAT(lines[0], StartsWith("error kafka: output logs: fatal error "));
}

TEST(log_events_branches, stats_and_throttle_events_are_ignored) {
  captured_log log;
  int fatal_calls = 0;
  log_events events("producer", [&] { ++fatal_calls; });
  fake_event event;
  event.type_ = RdKafka::Event::EVENT_STATS;
  event.fatal_ = true;
  events.event_cb(event);
  event.type_ = RdKafka::Event::EVENT_THROTTLE;
  events.event_cb(event);
  EXPECT_TRUE(log.lines().empty());
  EXPECT_EQ(fatal_calls, 0);
}

TEST(validate_branches, a_consumer_only_problem_is_reported_from_the_consumer) {
  config::kafka_config kafka;
  kafka.brokers = "127.0.0.1:1";
  kafka.group = "routers";
  kafka.where = {"t.yaml", 2, 3};
  // Fine for a producer; a consumer refuses to be created with a group.protocol it does not know
  // or a partition.assignment.strategy it has no assignor for.
  kafka.properties = {{"partition.assignment.strategy", "nosuchassignor"}};
  const auto errors = validate(kafka);
  ASSERT_THAT(errors, ElementsAre(StartsWith("t.yaml:2:3: bus.kafka.properties: ")));
  EXPECT_THAT(errors[0], HasSubstr("nosuchassignor"));
}

// (An unnamed code cannot be tested: a value outside RdKafka::ErrorCode is undefined behaviour.)
TEST(error_label_branches, a_named_code_gives_its_lower_case_name) {
  EXPECT_EQ(error_label(RdKafka::ERR_NO_ERROR), "no_error");
  EXPECT_EQ(error_label(RdKafka::ERR_MSG_SIZE_TOO_LARGE), "msg_size_too_large");
}

}  // namespace
}  // namespace tocsin::kafka
