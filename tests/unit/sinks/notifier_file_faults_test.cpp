// The file receiver when its file cannot be written: send() answers "retry" with the reason
// (the receiver worker keeps the notification and tries again), and once the cause is gone the
// next attempt appends the notification whole, with no piece of the failed attempt before it.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "sinks/notifier.hpp"
#include "tests/support/file_size_limit.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/sinks/receiver_yaml.hpp"

namespace tocsin::sinks {
namespace {

namespace fs = std::filesystem;

std::unique_ptr<notifier> file_receiver(const fs::path& path) {
  notifier_registry registry;
  register_builtin_notifiers(registry);
  return registry.create(test_receivers::load("archive", "file", {{"path", path.string()}}));
}

notification about(const std::vector<std::string>& hosts) {
  notification n;
  n.receiver = "archive";
  for (const auto& host : hosts) {
    rules::alert a;
    a.labels = {{"alertname", "disk_full"}, {"host", host}};
    a.starts_at = std::chrono::system_clock::time_point(std::chrono::seconds(1795666255));
    a.fingerprint = rules::fingerprint(a.labels);
    n.alerts.push_back(a);
  }
  return n;
}

// The host label of every line, in order; every line must be whole Alert JSON.
std::vector<std::string> hosts_in(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(text.empty() || text.back() == '\n') << file << " ends in half a line";
  std::vector<std::string> hosts;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    const auto doc = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    EXPECT_TRUE(doc.is_object() && doc.contains("labels")) << line;
    if (doc.is_object() && doc.contains("labels")) hosts.push_back(doc["labels"].value("host", ""));
  }
  return hosts;
}

TEST(file_notifier_faults, a_failed_write_is_retried_and_lands_whole) {
  test::temp_dir dir("file-receiver-efbig");
  const fs::path file = dir / "alerts.jsonl";
  const auto receiver = file_receiver(file);
  ASSERT_EQ(receiver->send(about({"web1"})).result, delivery_result::outcome::delivered);
  const auto size_before = fs::file_size(file);
  {
    // Room for a few bytes of the next notification only: the write is cut, then refused.
    const test::file_size_limit limit(size_before + 20);
    ASSERT_TRUE(limit.ok());
    const auto r = receiver->send(about({"web2", "web3"}));
    EXPECT_EQ(r.result, delivery_result::outcome::retry);
    EXPECT_NE(r.detail.find("write to " + file.string() + " failed"), std::string::npos)
        << r.detail;
  }
  // The worker's retry of the same notification.
  ASSERT_EQ(receiver->send(about({"web2", "web3"})).result, delivery_result::outcome::delivered);
  EXPECT_EQ(hosts_in(file), (std::vector<std::string>{"web1", "web2", "web3"}));
}

TEST(file_notifier_faults, a_file_that_cannot_be_opened_is_retried_until_it_can) {
  test::temp_dir dir("file-receiver-open");
  const fs::path file = dir / "out" / "alerts.jsonl";
  const auto receiver = file_receiver(file);
  // Its directory cannot be made: a file holds the name.
  dir.write_file("out", "not a directory");
  const auto r = receiver->send(about({"web1"}));
  EXPECT_EQ(r.result, delivery_result::outcome::retry);
  EXPECT_NE(r.detail.find("open " + file.string() + " failed"), std::string::npos) << r.detail;

  fs::remove(dir / "out");
  ASSERT_EQ(receiver->send(about({"web1"})).result, delivery_result::outcome::delivered);
  EXPECT_EQ(hosts_in(file), std::vector<std::string>{"web1"});
}

}  // namespace
}  // namespace tocsin::sinks
