// receiver_worker branches the main worker tests leave out: a missing notifier, failures with no
// dead letter file or one that cannot be opened, and the once-a-minute limit on its retry and
// failure log lines (on the manual clock, so "a minute later" is exact).

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>

#include "core/clock.hpp"
#include "sinks/notifier.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

namespace tocsin::sinks {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

class scripted_notifier final : public notifier {
 public:
  explicit scripted_notifier(std::function<delivery_result(int attempt)> answer)
      : answer_(std::move(answer)) {}
  delivery_result send(const notification&) override { return answer_(++attempts); }
  std::atomic<int> attempts{0};

 private:
  std::function<delivery_result(int)> answer_;
};

// The log of the code under test, for as long as the object lives. Read it only once the
// worker that writes it is gone.
class log_capture {
 public:
  log_capture() : saved_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(text_);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  }
  ~log_capture() { spdlog::set_default_logger(saved_); }
  log_capture(const log_capture&) = delete;
  log_capture& operator=(const log_capture&) = delete;
  [[nodiscard]] std::string text() const { return text_.str(); }

 private:
  std::shared_ptr<spdlog::logger> saved_;
  std::ostringstream text_;
};

notification make_notification(const std::string& key) {
  notification n;
  n.receiver = "ops";
  n.group_key = key;
  rules::alert a;
  a.labels = {{"alertname", "x"}};
  a.fingerprint = rules::fingerprint(a.labels);
  n.alerts = {a};
  return n;
}

delivery_result permanent() { return {delivery_result::outcome::permanent, 400, "bad", {}}; }
delivery_result retry() { return {delivery_result::outcome::retry, 503, "down", {}}; }

worker_options options(const std::filesystem::path& dead_letter = {}) {
  worker_options o;
  o.initial_backoff = 1ms;
  o.max_backoff = 2ms;
  o.max_retry_time = 1h;
  o.dead_letter_file = dead_letter;
  return o;
}

std::uint64_t count(metrics_registry& m, const char* result) {
  return m.get_counter("tocsin_notifications_total", "", {{"receiver", "ops"}, {"result", result}})
      .value();
}

TEST(receiver_worker_branches, a_missing_notifier_is_a_logic_error) {
  metrics_registry metrics;
  EXPECT_THROW(receiver_worker("ops", nullptr, options(), metrics, nullptr), std::logic_error);
}

TEST(receiver_worker_branches, failure_lines_are_limited_to_one_a_minute_without_a_file) {
  log_capture log;
  manual_clock time;
  metrics_registry metrics;
  {
    auto* fake = new scripted_notifier([](int) { return permanent(); });
    receiver_worker worker("ops", std::unique_ptr<notifier>(fake), options(), metrics, nullptr,
                           time);
    ASSERT_TRUE(worker.enqueue(make_notification("g1")));
    ASSERT_TRUE(test::wait_until([&] { return count(metrics, "failed") == 1; }, 5s));
    ASSERT_TRUE(worker.enqueue(make_notification("g2")));
    ASSERT_TRUE(test::wait_until([&] { return count(metrics, "failed") == 2; }, 5s));
    time.advance(61s);
    ASSERT_TRUE(worker.enqueue(make_notification("g3")));
    ASSERT_TRUE(test::wait_until([&] { return count(metrics, "failed") == 3; }, 5s));
  }
  const std::string text = log.text();
  EXPECT_THAT(text, HasSubstr("notification for group g1 failed (permanent failure): status 400"));
  EXPECT_THAT(text, Not(HasSubstr("group g2")));  // within the minute: counted, not logged
  EXPECT_THAT(text, HasSubstr("group g3 failed (permanent failure): status 400: bad (and 1 more "
                              "failures in the last minute)"));
  EXPECT_THAT(text, Not(HasSubstr("dead letter")));
}

TEST(receiver_worker_branches, a_dead_letter_file_that_cannot_be_opened_is_logged) {
  test::temp_dir dir("workerb");
  log_capture log;
  metrics_registry metrics;
  {
    auto* fake = new scripted_notifier([](int) { return permanent(); });
    // A directory where the file should be: fopen fails.
    receiver_worker worker("ops", std::unique_ptr<notifier>(fake), options(dir.path()), metrics,
                           nullptr);
    ASSERT_TRUE(worker.enqueue(make_notification("g1")));
    ASSERT_TRUE(test::wait_until([&] { return count(metrics, "failed") == 1; }, 5s));
  }
  EXPECT_THAT(log.text(), HasSubstr("receiver ops: cannot open dead letter file " +
                                    dir.path().string() + ": Is a directory"));
  EXPECT_TRUE(std::filesystem::is_directory(dir.path()));
}

TEST(receiver_worker_branches, retry_lines_are_limited_to_one_a_minute) {
  log_capture log;
  manual_clock time;
  metrics_registry metrics;
  std::atomic<bool> delivered{false};
  {
    // Attempts 1 and 2 fail within the same minute; 3 fails a minute later; 4 is delivered.
    auto* fake = new scripted_notifier([&](int attempt) {
      if (attempt == 3) time.advance(61s);
      return attempt < 4 ? retry() : delivery_result::delivered(202);
    });
    receiver_worker worker(
        "ops", std::unique_ptr<notifier>(fake), options(), metrics,
        [&](const notification&) { delivered = true; }, time);
    auto n = make_notification("g1");
    n.id = "id1";
    ASSERT_TRUE(worker.enqueue(n));
    ASSERT_TRUE(test::wait_until([&] { return delivered.load(); }, 5s));
    EXPECT_EQ(fake->attempts, 4);
  }
  EXPECT_EQ(count(metrics, "retry"), 3u);
  EXPECT_EQ(count(metrics, "success"), 1u);
  const std::string text = log.text();
  EXPECT_THAT(text,
              HasSubstr("notification id1 for group g1: attempt 1 failed (status 503: down)"));
  EXPECT_THAT(text, Not(HasSubstr("attempt 2 failed")));
  EXPECT_THAT(text, HasSubstr("attempt 3 failed (status 503: down), retrying in"));
  EXPECT_THAT(text, HasSubstr("(and 1 more retries in the last minute)"));
}

}  // namespace
}  // namespace tocsin::sinks
