// receiver_worker: retries, dead letters, the bounded queue, metrics and a quick stop.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "sinks/notifier.hpp"
#include "tests/support/files.hpp"
#include "tests/support/http_capture.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"
#include "tests/unit/sinks/receiver_yaml.hpp"

namespace tocsin::sinks {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// A notifier whose every attempt is answered by the test.
class scripted_notifier final : public notifier {
 public:
  explicit scripted_notifier(std::function<delivery_result(const notification&)> answer)
      : answer_(std::move(answer)) {}
  delivery_result send(const notification& n) override {
    ++attempts;
    return answer_(n);
  }
  std::atomic<int> attempts{0};

 private:
  std::function<delivery_result(const notification&)> answer_;
};

delivery_result retry_result(int status, std::string detail = {}) {
  return {delivery_result::outcome::retry, status, std::move(detail), {}};
}

notification make_notification(std::string group_key = "{}:{alertname=\"disk_full\"}") {
  notification n;
  n.receiver = "ops";
  n.group_key = std::move(group_key);
  rules::alert a;
  a.labels = {{"alertname", "disk_full"}, {"host", "web1"}};
  a.starts_at = std::chrono::system_clock::time_point(1795666255120ms);
  a.ends_at = a.starts_at + 1h;
  a.fingerprint = rules::fingerprint(a.labels);
  n.alerts = {a};
  n.group_labels = {{"alertname", "disk_full"}};
  return n;
}

std::unique_ptr<notifier> webhook_to(const test::http_capture& server) {
  notifier_registry registry;
  register_builtin_notifiers(registry);
  return registry.create(test_receivers::load("ops", "webhook", {{"url", server.url("/hook")}}));
}

worker_options fast_options(const std::filesystem::path& dead_letter = {}) {
  worker_options o;
  o.initial_backoff = 5ms;
  o.max_backoff = 20ms;
  o.max_retry_time = 10s;
  o.dead_letter_file = dead_letter;
  return o;
}

std::uint64_t result_count(metrics_registry& m, const char* result) {
  return m.get_counter("tocsin_notifications_total", "", {{"receiver", "ops"}, {"result", result}})
      .value();
}

TEST(receiver_worker, retries_5xx_then_delivers) {
  test::http_capture server;
  server.push_response({.status = 500, .body = "oops"});
  server.push_response({.status = 502});
  metrics_registry metrics;
  std::atomic<int> delivered{0};
  std::string delivered_key;
  receiver_worker worker("ops", webhook_to(server), fast_options(), metrics,
                         [&](const notification& n) {
                           delivered_key = n.group_key;
                           ++delivered;
                         });
  ASSERT_TRUE(worker.enqueue(make_notification()));
  ASSERT_TRUE(test::wait_until([&] { return delivered == 1; }, 5s));
  EXPECT_EQ(delivered_key, "{}:{alertname=\"disk_full\"}");
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(result_count(metrics, "retry"), 2u);
  EXPECT_EQ(result_count(metrics, "success"), 1u);
  EXPECT_EQ(result_count(metrics, "failed"), 0u);
}

TEST(receiver_worker, permanent_failure_goes_to_the_dead_letter_file) {
  test::temp_dir dir("worker");
  const auto dead_letter = dir / "lib/dead-letter.jsonl";
  test::http_capture server;
  server.push_response({.status = 400, .body = "invalid_payload"});
  metrics_registry metrics;
  bool delivered = false;
  receiver_worker worker("ops", webhook_to(server), fast_options(dead_letter), metrics,
                         [&](const notification&) { delivered = true; });
  ASSERT_TRUE(worker.enqueue(make_notification()));
  ASSERT_TRUE(test::wait_until([&] { return test::read_json_lines(dead_letter).size() == 1; }, 5s));
  EXPECT_EQ(server.requests().size(), 1u);  // not retried
  EXPECT_EQ(result_count(metrics, "failed"), 1u);
  EXPECT_EQ(result_count(metrics, "retry"), 0u);
  EXPECT_FALSE(delivered);

  const json line = test::read_json_lines(dead_letter).at(0);
  EXPECT_TRUE(line["time"].get<std::string>().ends_with("Z"));
  EXPECT_EQ(line["receiver"], "ops");
  EXPECT_EQ(line["group_key"], "{}:{alertname=\"disk_full\"}");
  EXPECT_EQ(line["status"], 400);
  EXPECT_EQ(line["detail"], "invalid_payload");
  EXPECT_EQ(line["notification"]["version"], "4");
  EXPECT_EQ(line["notification"]["alerts"][0]["labels"]["host"], "web1");
}

TEST(receiver_worker, gives_up_after_max_retry_time) {
  test::temp_dir dir("worker");
  auto* fake = new scripted_notifier([](const notification&) { return retry_result(503, "down"); });
  metrics_registry metrics;
  auto options = fast_options(dir / "dead-letter.jsonl");
  options.max_retry_time = 150ms;
  receiver_worker worker("ops", std::unique_ptr<notifier>(fake), options, metrics, nullptr);
  ASSERT_TRUE(worker.enqueue(make_notification()));
  ASSERT_TRUE(test::wait_until([&] { return result_count(metrics, "failed") == 1; }, 5s));
  EXPECT_GE(fake->attempts.load(), 3);
  EXPECT_EQ(result_count(metrics, "retry"), static_cast<std::uint64_t>(fake->attempts - 1));
  const auto lines = test::read_json_lines(dir / "dead-letter.jsonl");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["status"], 503);
  EXPECT_EQ(lines[0]["detail"], "down");
}

TEST(receiver_worker, honours_retry_after) {
  std::vector<std::chrono::steady_clock::time_point> attempts;
  auto* fake = new scripted_notifier([&](const notification&) {
    attempts.push_back(std::chrono::steady_clock::now());
    if (attempts.size() > 1) return delivery_result::delivered(200);
    auto r = retry_result(429);
    r.retry_after = 1s;
    return r;
  });
  metrics_registry metrics;
  {
    receiver_worker worker("ops", std::unique_ptr<notifier>(fake), fast_options(), metrics,
                           nullptr);
    ASSERT_TRUE(worker.enqueue(make_notification()));
    ASSERT_TRUE(test::wait_until([&] { return result_count(metrics, "success") == 1; }, 5s));
  }  // joined: `attempts` is safe to read
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_GE(attempts[1] - attempts[0], 1s);
}

TEST(receiver_worker, full_queue_drops_and_counts) {
  std::atomic<bool> release{false};
  std::atomic<bool> busy{false};
  auto* fake = new scripted_notifier([&](const notification&) {
    busy = true;
    release.wait(false);
    return delivery_result::delivered();
  });
  metrics_registry metrics;
  auto options = fast_options();
  options.queue_capacity = 2;
  receiver_worker worker("ops", std::unique_ptr<notifier>(fake), options, metrics, nullptr);
  auto& depth = metrics.get_gauge("tocsin_queue_depth", "", {{"queue", "receiver:ops"}});
  ASSERT_TRUE(worker.enqueue(make_notification("a")));
  ASSERT_TRUE(test::wait_until([&] { return busy.load(); }, 5s));  // "a" is being sent
  EXPECT_TRUE(worker.enqueue(make_notification("b")));
  EXPECT_TRUE(worker.enqueue(make_notification("c")));
  EXPECT_EQ(depth.value(), 2);
  EXPECT_FALSE(worker.enqueue(make_notification("d")));
  EXPECT_EQ(result_count(metrics, "dropped"), 1u);
  release = true;
  release.notify_all();
  ASSERT_TRUE(test::wait_until([&] { return result_count(metrics, "success") == 3; }, 5s));
  EXPECT_EQ(depth.value(), 0);
}

TEST(receiver_worker, observes_latency_from_due_since) {
  test::http_capture server;
  metrics_registry metrics;
  receiver_worker worker("ops", webhook_to(server), fast_options(), metrics, nullptr);
  auto n = make_notification();
  n.due_since = std::chrono::steady_clock::now() - 100ms;
  ASSERT_TRUE(worker.enqueue(n));
  auto& latency =
      metrics.get_histogram("tocsin_notification_latency_seconds", "", {{"receiver", "ops"}}, {});
  ASSERT_TRUE(test::wait_until([&] { return latency.count() == 1; }, 5s));
  EXPECT_GE(latency.sum(), 0.1);
  EXPECT_LT(latency.sum(), 5.0);
  const std::string text = metrics.render();
  EXPECT_NE(
      text.find("tocsin_notification_latency_seconds_bucket{receiver=\"ops\",le=\"0.05\"} 0\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("tocsin_notification_latency_seconds_bucket{receiver=\"ops\",le=\"60\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("tocsin_notification_latency_seconds_count{receiver=\"ops\"} 1\n"),
            std::string::npos);
}

TEST(receiver_worker, gives_up_by_the_injected_clock) {
  test::temp_dir dir("worker");
  auto* fake = new scripted_notifier([](const notification&) { return retry_result(503, "down"); });
  metrics_registry metrics;
  manual_clock time;
  auto options = fast_options(dir / "dead-letter.jsonl");
  options.max_retry_time = 1h;
  receiver_worker worker("ops", std::unique_ptr<notifier>(fake), options, metrics, nullptr, time);
  ASSERT_TRUE(worker.enqueue(make_notification()));
  ASSERT_TRUE(test::wait_until([&] { return fake->attempts >= 3; }, 5s));
  EXPECT_EQ(result_count(metrics, "failed"), 0u);  // an hour has not passed on `time`
  time.advance(2h);
  ASSERT_TRUE(test::wait_until([&] { return result_count(metrics, "failed") == 1; }, 5s));
  const auto lines = test::read_json_lines(dir / "dead-letter.jsonl");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["time"], "2024-10-01T02:00:00.000Z");
}

TEST(receiver_worker, measures_latency_on_the_injected_clock) {
  test::http_capture server;
  metrics_registry metrics;
  manual_clock time;
  receiver_worker worker("ops", webhook_to(server), fast_options(), metrics, nullptr, time);
  auto n = make_notification();
  n.due_since = time.steady_now();
  time.advance(250ms);
  ASSERT_TRUE(worker.enqueue(n));
  auto& latency =
      metrics.get_histogram("tocsin_notification_latency_seconds", "", {{"receiver", "ops"}}, {});
  ASSERT_TRUE(test::wait_until([&] { return latency.count() == 1; }, 5s));
  EXPECT_DOUBLE_EQ(latency.sum(), 0.25);
}

TEST(receiver_worker, stops_quickly_while_backing_off) {
  auto* fake = new scripted_notifier([](const notification&) { return retry_result(500); });
  metrics_registry metrics;
  auto options = fast_options();
  options.initial_backoff = 1min;  // the jittered wait is all but certain to exceed 100 ms
  options.max_backoff = 1min;
  options.max_retry_time = 1h;
  auto worker = std::make_unique<receiver_worker>("ops", std::unique_ptr<notifier>(fake), options,
                                                  metrics, nullptr);
  ASSERT_TRUE(worker->enqueue(make_notification("a")));
  ASSERT_TRUE(worker->enqueue(make_notification("b")));
  // Counted as a retry, the attempt is over and the backoff begins.
  ASSERT_TRUE(test::wait_until([&] { return result_count(metrics, "retry") >= 1; }, 5s));
  const auto start = std::chrono::steady_clock::now();
  worker.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s) << "waited out the 1 min backoff";
  EXPECT_EQ(result_count(metrics, "failed"), 0u);  // left for the notification log, not dropped
  EXPECT_EQ(metrics.get_gauge("tocsin_queue_depth", "", {{"queue", "receiver:ops"}}).value(), 0);
}

}  // namespace
}  // namespace tocsin::sinks
