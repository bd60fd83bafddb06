#include "collector/switchable_sink.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace tocsin::collector {
namespace {

using namespace std::chrono_literals;

// Counts what it is asked to do; "written" only when `written` says so.
class recording_sink final : public event_sink {
 public:
  [[nodiscard]] bool accepting() const override { return true; }
  void consume(const event&) override { ++consumed; }
  bool wait_written(std::chrono::milliseconds) override {
    ++waits;
    return written;
  }
  int consumed = 0, waits = 0;
  bool written = true;
};

TEST(switchable_sink, an_event_consumed_before_a_swap_is_waited_for_in_the_old_sink) {
  auto first = std::make_shared<recording_sink>();
  auto second = std::make_shared<recording_sink>();
  switchable_sink sink(first);
  sink.consume(event{});   // goes to `first`
  first->written = false;  // not written yet
  auto retired = sink.exchange(second);
  EXPECT_EQ(retired, first);
  EXPECT_FALSE(sink.wait_written(10ms)) << "acknowledged while the old sink had not written";
  EXPECT_EQ(first->waits, 1);

  first->written = true;
  EXPECT_TRUE(sink.wait_written(10ms));
  EXPECT_EQ(second->waits, 1);

  // Once the reload has flushed the old sink, only the current one counts.
  sink.forget_previous();
  first->written = false;
  EXPECT_TRUE(sink.wait_written(10ms));
  EXPECT_EQ(first->waits, 2);
  sink.consume(event{});
  EXPECT_EQ(second->consumed, 1);
}

}  // namespace
}  // namespace tocsin::collector
