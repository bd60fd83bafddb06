// fanout_sink hands every event to each of its sinks, accepts only while all of them do, and is
// written only once all of them are; switchable_sink passes accepting() and consume() through to
// the sink it currently holds.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <vector>

#include "collector/event_sink.hpp"
#include "collector/switchable_sink.hpp"

namespace tocsin::collector {
namespace {

using namespace std::chrono_literals;

class counting_sink final : public event_sink {
 public:
  [[nodiscard]] bool accepting() const override { return open; }
  void consume(const event& ev) override { messages.emplace_back(ev.message); }
  bool wait_written(std::chrono::milliseconds timeout) override {
    timeouts.push_back(timeout);
    return written;
  }
  bool open = true;
  bool written = true;
  std::vector<std::string> messages;
  std::vector<std::chrono::milliseconds> timeouts;
};

event with_message(std::string_view message) {
  event ev;
  ev.message = message;
  return ev;
}

TEST(fanout_sink, every_sink_gets_every_event) {
  auto a = std::make_shared<counting_sink>();
  auto b = std::make_shared<counting_sink>();
  fanout_sink fan({a, b});
  fan.consume(with_message("one"));
  fan.consume(with_message("two"));
  EXPECT_EQ(a->messages, (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(b->messages, (std::vector<std::string>{"one", "two"}));
}

TEST(fanout_sink, accepts_only_while_every_sink_does) {
  auto a = std::make_shared<counting_sink>();
  auto b = std::make_shared<counting_sink>();
  fanout_sink fan({a, b});
  EXPECT_TRUE(fan.accepting());
  b->open = false;
  EXPECT_FALSE(fan.accepting());
  b->open = true;
  a->open = false;
  EXPECT_FALSE(fan.accepting());
  EXPECT_TRUE(fanout_sink({}).accepting());
}

TEST(fanout_sink, is_written_once_every_sink_is_and_stops_at_the_first_that_is_not) {
  auto a = std::make_shared<counting_sink>();
  auto b = std::make_shared<counting_sink>();
  auto c = std::make_shared<counting_sink>();
  fanout_sink fan({a, b, c});
  EXPECT_TRUE(fan.wait_written(10s));
  ASSERT_EQ(a->timeouts.size(), 1u);
  ASSERT_EQ(c->timeouts.size(), 1u);
  // Each sink gets what is left of the one timeout, never more.
  EXPECT_LE(a->timeouts[0], 10s);
  EXPECT_LE(c->timeouts[0], a->timeouts[0]);
  b->written = false;
  EXPECT_FALSE(fan.wait_written(10s));
  EXPECT_EQ(b->timeouts.size(), 2u);
  EXPECT_EQ(c->timeouts.size(), 1u) << "waited for a sink after one that failed";
  // A spent timeout is passed on as zero, not negative.
  b->written = true;
  EXPECT_TRUE(fan.wait_written(0ms));
  EXPECT_EQ(c->timeouts.back(), 0ms);
}

TEST(switchable_sink, accepting_and_consume_go_to_the_current_sink) {
  auto first = std::make_shared<counting_sink>();
  auto second = std::make_shared<counting_sink>();
  switchable_sink sink(first);
  sink.consume(with_message("to first"));
  first->open = false;
  EXPECT_FALSE(sink.accepting());
  sink.exchange(second);
  EXPECT_TRUE(sink.accepting());
  sink.consume(with_message("to second"));
  EXPECT_EQ(first->messages, (std::vector<std::string>{"to first"}));
  EXPECT_EQ(second->messages, (std::vector<std::string>{"to second"}));
}

}  // namespace
}  // namespace tocsin::collector
