// Tests for collector/source_limiter.hpp. Time is a fake clock the test moves: no sleeping.

#include "collector/source_limiter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace tocsin::collector {
namespace {

using namespace std::chrono_literals;
using clock_type = source_limiter::clock;

class fake_clock {
 public:
  clock_type::time_point now() const { return now_; }
  void advance(clock_type::duration d) { now_ += d; }
  auto fn() {
    return [this] { return now(); };
  }

 private:
  clock_type::time_point now_{std::chrono::hours(1000)};
};

boost::asio::ip::address ip(const std::string& text) { return boost::asio::ip::make_address(text); }

TEST(source_limiter, without_limits_everything_passes_and_nothing_is_tracked) {
  fake_clock t;
  source_limiter limiter({}, t.fn());
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(limiter.try_take(ip("192.0.2.1")));
  EXPECT_EQ(limiter.take(ip("192.0.2.1"), 1000), 0ns);
  std::vector<source_limiter::connection_slot> slots;
  for (int i = 0; i < 100; ++i) {
    auto slot = limiter.open_connection(ip("192.0.2.1"));
    ASSERT_TRUE(slot.has_value());
    slots.push_back(std::move(*slot));
  }
  EXPECT_EQ(limiter.tracked_sources(), 0u);
}

TEST(source_limiter, datagrams_beyond_the_burst_are_refused_until_tokens_refill) {
  fake_clock t;
  source_limiter limiter({.rate = 10, .burst = 5}, t.fn());
  const auto a = ip("192.0.2.1");
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.try_take(a)) << i;
  EXPECT_FALSE(limiter.try_take(a));
  t.advance(99ms);  // 0.99 tokens: not yet one
  EXPECT_FALSE(limiter.try_take(a));
  t.advance(1ms);
  EXPECT_TRUE(limiter.try_take(a));
  EXPECT_FALSE(limiter.try_take(a));
  // A long pause refills to the burst, not beyond.
  t.advance(1h);
  int passed = 0;
  for (int i = 0; i < 100; ++i) passed += limiter.try_take(a) ? 1 : 0;
  EXPECT_EQ(passed, 5);
}

TEST(source_limiter, sources_have_their_own_buckets) {
  fake_clock t;
  source_limiter limiter({.rate = 1, .burst = 2}, t.fn());
  EXPECT_TRUE(limiter.try_take(ip("127.0.0.2")));
  EXPECT_TRUE(limiter.try_take(ip("127.0.0.2")));
  EXPECT_FALSE(limiter.try_take(ip("127.0.0.2")));
  EXPECT_TRUE(limiter.try_take(ip("127.0.0.3")));
  EXPECT_TRUE(limiter.try_take(ip("2001:db8::1")));
}

TEST(source_limiter, ipv4_and_its_v4_mapped_ipv6_form_are_one_source) {
  fake_clock t;
  source_limiter limiter({.rate = 1, .burst = 1}, t.fn());
  EXPECT_TRUE(limiter.try_take(ip("192.0.2.7")));
  EXPECT_FALSE(limiter.try_take(ip("::ffff:192.0.2.7")));
}

TEST(source_limiter, native_ipv6_senders_are_one_source_per_64) {
  fake_clock t;
  source_limiter limiter({.rate = 1, .burst = 1, .max_connections = 2}, t.fn());
  // A host that owns a /64 cannot escape its bucket by rotating the interface identifier.
  EXPECT_TRUE(limiter.try_take(ip("2001:db8:1:2::1")));
  EXPECT_FALSE(limiter.try_take(ip("2001:db8:1:2::2")));
  EXPECT_FALSE(limiter.try_take(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")));
  // The neighbouring /64 is someone else.
  EXPECT_TRUE(limiter.try_take(ip("2001:db8:1:3::1")));
  // Connections count per /64 too.
  auto a = limiter.open_connection(ip("2001:db8:1:2::a"));
  auto b = limiter.open_connection(ip("2001:db8:1:2::b"));
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(limiter.open_connection(ip("2001:db8:1:2::c")));
  EXPECT_TRUE(limiter.open_connection(ip("2001:db8:1:3::c")));
  a.reset();
  EXPECT_TRUE(limiter.open_connection(ip("2001:db8:1:2::c")));
}

TEST(source_limiter, ipv4_senders_stay_per_address_in_v4_mapped_form) {
  fake_clock t;
  source_limiter limiter({.rate = 1, .burst = 1}, t.fn());
  // A dual-stack socket reports IPv4 senders as ::ffff:a.b.c.d, all in one /64: they must not
  // share a bucket.
  EXPECT_TRUE(limiter.try_take(ip("::ffff:192.0.2.7")));
  EXPECT_TRUE(limiter.try_take(ip("::ffff:192.0.2.8")));
  EXPECT_TRUE(limiter.try_take(ip("192.0.2.9")));
  EXPECT_FALSE(limiter.try_take(ip("192.0.2.8")));
  EXPECT_EQ(limiter.tracked_sources(), 3u);
}

TEST(source_limiter, burst_is_at_least_one_message) {
  fake_clock t;
  source_limiter limiter({.rate = 0.5, .burst = 0}, t.fn());
  EXPECT_TRUE(limiter.try_take(ip("192.0.2.1")));
  EXPECT_FALSE(limiter.try_take(ip("192.0.2.1")));
  t.advance(2s);
  EXPECT_TRUE(limiter.try_take(ip("192.0.2.1")));
}

TEST(source_limiter, streams_go_into_debt_and_are_told_how_long_to_pause) {
  fake_clock t;
  source_limiter limiter({.rate = 100, .burst = 10}, t.fn());
  const auto a = ip("192.0.2.1");
  EXPECT_EQ(limiter.take(a, 10), 0ns);  // the burst
  // 50 more messages already read: 50 tokens of debt at 100/s = 0.5 s without reading.
  EXPECT_EQ(limiter.take(a, 50), 500ms);
  // Datagrams from the same source find no token either: the bucket is shared.
  EXPECT_FALSE(limiter.try_take(a));
  t.advance(500ms);
  EXPECT_EQ(limiter.take(a, 1), 10ms);
  t.advance(10ms);
  EXPECT_EQ(limiter.take(a, 0), 0ns);
  EXPECT_FALSE(limiter.try_take(a));  // balance 0: no whole token
  t.advance(10ms);
  EXPECT_TRUE(limiter.try_take(a));
}

TEST(stream_throttle, counts_messages_and_pays_them_before_the_next_read) {
  fake_clock t;
  source_limiter limiter({.rate = 10, .burst = 1}, t.fn());
  stream_throttle throttle(&limiter, ip("192.0.2.1"));
  EXPECT_EQ(throttle.pause_before_read(), 0ns);  // nothing counted yet
  throttle.count();
  EXPECT_EQ(throttle.pause_before_read(), 0ns);  // the burst of one
  throttle.count(3);
  EXPECT_EQ(throttle.pause_before_read(), 300ms);
  EXPECT_EQ(throttle.pause_before_read(), 0ns) << "already paid for";

  stream_throttle unlimited;
  unlimited.count(1000);
  EXPECT_EQ(unlimited.pause_before_read(), 0ns);
  source_limiter connections_only({.max_connections = 1}, t.fn());
  stream_throttle no_rate(&connections_only, ip("192.0.2.1"));
  no_rate.count(1000);
  EXPECT_EQ(no_rate.pause_before_read(), 0ns);
}

TEST(source_limiter, connections_beyond_the_cap_are_refused_until_one_closes) {
  fake_clock t;
  source_limiter limiter({.max_connections = 2}, t.fn());
  const auto a = ip("192.0.2.1");
  auto first = limiter.open_connection(a);
  auto second = limiter.open_connection(a);
  ASSERT_TRUE(first && second);
  EXPECT_FALSE(limiter.open_connection(a).has_value());
  EXPECT_TRUE(limiter.open_connection(ip("192.0.2.2")).has_value()) << "another source";
  first.reset();  // closing gives the place back
  auto third = limiter.open_connection(a);
  EXPECT_TRUE(third.has_value());
  EXPECT_FALSE(limiter.open_connection(a).has_value());
}

TEST(source_limiter, a_moved_slot_is_released_once) {
  fake_clock t;
  source_limiter limiter({.max_connections = 1}, t.fn());
  const auto a = ip("192.0.2.1");
  {
    auto slot = limiter.open_connection(a);
    ASSERT_TRUE(slot);
    source_limiter::connection_slot moved = std::move(*slot);
    slot.reset();  // the moved-from slot releases nothing
    EXPECT_FALSE(limiter.open_connection(a).has_value());
    source_limiter::connection_slot assigned;
    assigned = std::move(moved);
    EXPECT_FALSE(limiter.open_connection(a).has_value());
  }
  EXPECT_TRUE(limiter.open_connection(a).has_value());
  EXPECT_EQ(limiter.tracked_sources(), 0u) << "a source with nothing open is forgotten";
}

TEST(source_limiter, idle_sources_are_forgotten) {
  fake_clock t;
  source_limiter limiter({.rate = 10, .burst = 10, .max_sources = 1 << 20}, t.fn());
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(
        limiter.try_take(ip("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256))));
  }
  EXPECT_EQ(limiter.tracked_sources(), 1000u);
  t.advance(2s);  // every bucket is full again
  // Sources seen later forget the idle ones, so the map shrinks back to the sources that are
  // really being limited.
  for (int i = 0; i < 2000; ++i) {
    t.advance(2s);
    ASSERT_TRUE(
        limiter.try_take(ip("10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256))));
  }
  EXPECT_LT(limiter.tracked_sources(), 100u);
}

TEST(source_limiter, memory_is_bounded_under_a_flood_of_new_sources) {
  fake_clock t;
  source_limiter limiter({.rate = 1, .burst = 1, .max_sources = 1024}, t.fn());
  for (int i = 0; i < 100'000; ++i) {
    const auto a = boost::asio::ip::address_v4(0x0a000000U + static_cast<unsigned>(i));
    limiter.try_take(a);
  }
  EXPECT_LE(limiter.tracked_sources(), 1024u);
  EXPECT_GE(limiter.tracked_sources(), 512u);
}

TEST(source_limiter, sources_with_open_connections_are_never_evicted) {
  fake_clock t;
  source_limiter limiter({.rate = 1, .burst = 1, .max_connections = 1, .max_sources = 16}, t.fn());
  const auto held = ip("192.0.2.1");
  auto slot = limiter.open_connection(held);
  ASSERT_TRUE(slot);
  for (unsigned i = 0; i < 10'000; ++i) {
    limiter.try_take(boost::asio::ip::address_v4(0x0a000000U + i));
  }
  // Still counted: a second connection from it is refused.
  EXPECT_FALSE(limiter.open_connection(held).has_value());
}

TEST(source_limiter, is_safe_to_share_between_threads) {
  source_limiter limiter({.rate = 1e9, .burst = 1e9, .max_connections = 1000});
  std::atomic<int> passed{0};
  std::vector<std::thread> threads;
  for (int n = 0; n < 4; ++n) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20'000; ++i) {
        const auto a = boost::asio::ip::address_v4(0x7f000000U + static_cast<unsigned>(i % 64));
        if (limiter.try_take(a)) ++passed;
        auto slot = limiter.open_connection(a);
        (void)limiter.take(a, 1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(passed.load(), 80'000);
}

}  // namespace
}  // namespace tocsin::collector
