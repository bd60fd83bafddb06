// Tests for search/live_tail.hpp: filtering, the rate and buffer caps with their `dropped`
// event, the subscriber cap, unsubscribing, and consume() from several shards at once.

#include "search/live_tail.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "core/metrics.hpp"

namespace tocsin::search {
namespace {

using namespace std::chrono_literals;

collector::event make_event(std::string_view app, std::string_view message) {
  collector::event ev;
  ev.received_at = std::chrono::system_clock::time_point(std::chrono::seconds(1795666255));
  ev.host = "web1";
  ev.app = app;
  ev.message = message;
  return ev;
}

std::size_t count(const std::string& text, std::string_view what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::int64_t metric(metrics_registry& metrics, const std::string& name) {
  const std::string text = metrics.render();
  const auto at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(text.substr(at + name.size() + 2));
}

class live_tail_test : public testing::Test {
 protected:
  metrics_registry metrics_;
  manual_clock clock_;
  live_tail tail_{metrics_, 16, clock_};
};

TEST_F(live_tail_test, delivers_matching_events_as_sse) {
  auto sub = tail_.subscribe(rules::event_filter::parse(R"(app="sshd")"));
  ASSERT_NE(sub, nullptr);
  EXPECT_EQ(sub->take(), "");
  EXPECT_FALSE(sub->wait(0ms));
  tail_.consume(make_event("sshd", "Failed password"));
  tail_.consume(make_event("nginx", "GET /"));
  tail_.consume(make_event("sshd", "Accepted key"));
  EXPECT_TRUE(sub->wait(0ms));
  const std::string text = sub->take();
  EXPECT_EQ(text,
            "event: line\ndata: "
            R"({"received_at":"2026-11-26T04:10:55.000000Z","host":"web1","app":"sshd",)"
            R"("message":"Failed password"})"
            "\n\n"
            "event: line\ndata: "
            R"({"received_at":"2026-11-26T04:10:55.000000Z","host":"web1","app":"sshd",)"
            R"("message":"Accepted key"})"
            "\n\n");
  EXPECT_EQ(sub->take(), "");  // taken means cleared
}

TEST_F(live_tail_test, each_subscriber_has_its_own_filter) {
  auto ssh = tail_.subscribe(rules::event_filter::parse("app=sshd"));
  auto all = tail_.subscribe(rules::event_filter());
  tail_.consume(make_event("sshd", "a"));
  tail_.consume(make_event("nginx", "b"));
  EXPECT_EQ(count(ssh->take(), "event: line"), 1U);
  EXPECT_EQ(count(all->take(), "event: line"), 2U);
}

TEST_F(live_tail_test, rate_cap_drops_and_says_so) {
  auto sub = tail_.subscribe(rules::event_filter(), tail_limits{10, 1000});
  for (int i = 0; i < 25; ++i) tail_.consume(make_event("a", "m" + std::to_string(i)));
  std::string text = sub->take();
  EXPECT_EQ(count(text, "event: line"), 10U);
  EXPECT_NE(text.find("event: dropped\ndata: {\"dropped\":15}\n\n"), std::string::npos) << text;
  EXPECT_EQ(metric(metrics_, "tocsin_tail_dropped_total"), 15);
  // Half a second later, five more tokens; the drop count starts again.
  clock_.advance(500ms);
  for (int i = 0; i < 8; ++i) tail_.consume(make_event("a", "n"));
  text = sub->take();
  EXPECT_EQ(count(text, "event: line"), 5U);
  EXPECT_NE(text.find("{\"dropped\":3}"), std::string::npos) << text;
  // A long pause refills one second's worth only.
  clock_.advance(1h);
  for (int i = 0; i < 30; ++i) tail_.consume(make_event("a", "o"));
  EXPECT_EQ(count(sub->take(), "event: line"), 10U);
}

TEST_F(live_tail_test, buffer_cap_drops_until_taken) {
  auto sub = tail_.subscribe(rules::event_filter(), tail_limits{1e9, 4});
  for (int i = 0; i < 10; ++i) tail_.consume(make_event("a", "m" + std::to_string(i)));
  std::string text = sub->take();
  EXPECT_EQ(count(text, "event: line"), 4U);
  EXPECT_NE(text.find("\"message\":\"m3\""), std::string::npos);
  EXPECT_EQ(text.find("\"message\":\"m4\""), std::string::npos);
  EXPECT_NE(text.find("{\"dropped\":6}"), std::string::npos) << text;
  tail_.consume(make_event("a", "after"));
  text = sub->take();
  EXPECT_EQ(count(text, "event: line"), 1U);
  EXPECT_EQ(text.find("dropped"), std::string::npos);
}

// Drops alone wake a waiter: the dropped event is news too.
TEST_F(live_tail_test, wait_wakes_on_drops_alone) {
  auto sub = tail_.subscribe(rules::event_filter(), tail_limits{1e9, 0});
  EXPECT_FALSE(sub->wait(0ms));
  tail_.consume(make_event("a", "no room"));
  EXPECT_TRUE(sub->wait(0ms));
  const std::string text = sub->take();
  EXPECT_EQ(count(text, "event: line"), 0U);
  EXPECT_NE(text.find("{\"dropped\":1}"), std::string::npos) << text;
  EXPECT_FALSE(sub->wait(0ms));
}

TEST_F(live_tail_test, max_subscribers) {
  metrics_registry metrics;
  live_tail small(metrics, 2, clock_);
  auto a = small.subscribe(rules::event_filter());
  auto b = small.subscribe(rules::event_filter());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(small.subscribe(rules::event_filter()), nullptr);
  EXPECT_EQ(metric(metrics, "tocsin_tail_subscribers"), 2);
  a->close();
  EXPECT_EQ(metric(metrics, "tocsin_tail_subscribers"), 1);
  EXPECT_NE(small.subscribe(rules::event_filter()), nullptr);  // and released at once again
  EXPECT_EQ(small.subscribers(), 1U);
}

TEST_F(live_tail_test, close_and_destruction_unsubscribe) {
  auto a = tail_.subscribe(rules::event_filter());
  auto b = tail_.subscribe(rules::event_filter());
  EXPECT_EQ(tail_.subscribers(), 2U);
  tail_.consume(make_event("a", "before"));
  a->close();
  a->close();  // idempotent
  EXPECT_TRUE(a->closed());
  EXPECT_EQ(tail_.subscribers(), 1U);
  tail_.consume(make_event("a", "after"));
  const std::string text = a->take();  // what was buffered before close stays
  EXPECT_EQ(count(text, "event: line"), 1U);
  EXPECT_NE(text.find("before"), std::string::npos);
  EXPECT_FALSE(a->wait(10ms));
  b.reset();
  EXPECT_EQ(tail_.subscribers(), 0U);
  EXPECT_EQ(metric(metrics_, "tocsin_tail_subscribers"), 0);
  tail_.consume(make_event("a", "nobody"));
  EXPECT_TRUE(tail_.accepting());
}

TEST_F(live_tail_test, wait_wakes_on_an_event_from_another_thread) {
  auto sub = tail_.subscribe(rules::event_filter());
  std::thread shard([&] {
    std::this_thread::sleep_for(20ms);
    tail_.consume(make_event("a", "wake"));
  });
  EXPECT_TRUE(sub->wait(10s));
  shard.join();
  EXPECT_NE(sub->take().find("wake"), std::string::npos);
}

TEST_F(live_tail_test, concurrent_consume_from_two_shards) {
  auto sub = tail_.subscribe(rules::event_filter::parse("app=keep"), tail_limits{1e9, 1000000});
  constexpr int per_thread = 20000;
  std::atomic<bool> go{false};
  std::string taken;
  std::atomic<bool> done{false};
  // A reader takes while the shards write, and subscribers come and go.
  std::thread reader([&] {
    while (!done) {
      taken += sub->take();
      auto other = tail_.subscribe(rules::event_filter::parse("app=none"));
    }
  });
  std::vector<std::thread> shards;
  shards.reserve(2);
  for (int t = 0; t < 2; ++t) {
    shards.emplace_back([&, t] {
      while (!go) std::this_thread::yield();
      for (int i = 0; i < per_thread; ++i) {
        tail_.consume(make_event(i % 2 == 0 ? "keep" : "skip", "t" + std::to_string(t)));
      }
    });
  }
  go = true;
  for (auto& s : shards) s.join();
  done = true;
  reader.join();
  taken += sub->take();
  EXPECT_EQ(count(taken, "event: line"), std::size_t{per_thread});  // half of 2 × per_thread
  EXPECT_EQ(count(taken, "\"message\":\"t0\""), std::size_t{per_thread / 2});
  EXPECT_EQ(taken.find("dropped"), std::string::npos);
}

TEST(live_tail, costs_nothing_without_subscribers) {
  metrics_registry metrics;
  live_tail tail(metrics);
  const auto ev = make_event("a", "m");
  for (int i = 0; i < 1000; ++i) tail.consume(ev);
  EXPECT_EQ(tail.subscribers(), 0U);
  EXPECT_EQ(metric(metrics, "tocsin_tail_dropped_total"), 0);
}

}  // namespace
}  // namespace tocsin::search
