// `tocsin search` against the archive of a real `tocsin run` fed by util-linux `logger`: the
// filter finds the lines newest first as a table and as Event JSON, a bad filter exits 2, and
// GET /api/v1/search answers the same.

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/tocsin_daemon.hpp"

namespace tocsin::test {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(search_cli, finds_logger_lines_newest_first) {
  daemon_options options;
  options.archive_template = "log/{date}/{host}/{app}.log";
  tocsin_daemon daemon(options);
  const std::string port = std::to_string(daemon.syslog_port());
  // One TCP connection each, so the order on the wire is the order of receipt.
  const auto sent = run_command({"logger", "-n", "127.0.0.1", "-P", port, "-T", "-t", "sshd-it"},
                                "Failed password for root from 10.0.0.1 port 22\n"
                                "Accepted publickey for deploy from 10.0.0.9\n"
                                "Failed password for admin from 10.0.0.2 port 22\n"
                                "Failed password for root from 10.0.0.3 port 22\n");
  ASSERT_EQ(sent.exit_code, 0) << sent.stderr_text;
  const auto noise = run_command({"logger", "-n", "127.0.0.1", "-P", port, "-T", "-t", "cron-it"},
                                 "Failed password is not cron's business\n");
  ASSERT_EQ(noise.exit_code, 0) << noise.stderr_text;
  ASSERT_TRUE(wait_until([&] { return daemon.events().size() >= 5; }, patience))
      << "archived " << daemon.events().size() << " of 5 events";

  const std::string binary = tocsin_binary().string();
  const std::string config = daemon.config_path().string();
  const std::string filter = R"(app="sshd-it" message=~"Failed password")";

  const auto table = run_command({binary, "search", "-c", config, "--since", "1h", filter});
  ASSERT_EQ(table.exit_code, 0) << table.stderr_text;
  const auto rows = lines_of(table.stdout_text);
  ASSERT_EQ(rows.size(), 3U) << table.stdout_text;
  EXPECT_NE(rows[0].find("sshd-it"), std::string::npos) << rows[0];
  EXPECT_NE(rows[0].find("Failed password for root from 10.0.0.3 port 22"), std::string::npos);
  EXPECT_NE(rows[1].find("10.0.0.2"), std::string::npos) << rows[1];
  EXPECT_NE(rows[2].find("10.0.0.1"), std::string::npos) << rows[2];

  // The filter may come as several arguments; --json prints the Event JSON lines.
  const auto as_json = run_command({binary, "search", "-c", config, "--json", "--limit", "2",
                                    "app=sshd-it", R"(message=~"Failed password")"});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.stderr_text;
  const auto json_rows = lines_of(as_json.stdout_text);
  ASSERT_EQ(json_rows.size(), 2U) << as_json.stdout_text;
  const json newest = json::parse(json_rows[0]);
  const json next = json::parse(json_rows[1]);
  EXPECT_EQ(text_field(newest, "message"), "Failed password for root from 10.0.0.3 port 22");
  EXPECT_EQ(text_field(newest, "input"), "syslog-tcp");
  EXPECT_EQ(text_field(next, "message"), "Failed password for admin from 10.0.0.2 port 22");
  EXPECT_GE(text_field(newest, "received_at"), text_field(next, "received_at"));

  // A word search, ignoring case, over both apps; nothing found is no error.
  const auto words = run_command({binary, "search", "-c", config, "--json", "FAILED", "root"});
  ASSERT_EQ(words.exit_code, 0) << words.stderr_text;
  EXPECT_EQ(lines_of(words.stdout_text).size(), 2U) << words.stdout_text;
  const auto none = run_command({binary, "search", "-c", config, "app=nothing-here"});
  EXPECT_EQ(none.exit_code, 0) << none.stderr_text;
  EXPECT_EQ(none.stdout_text, "");
  const auto old = run_command({binary, "search", "-c", config, "--until", "2h", "Failed"});
  EXPECT_EQ(old.exit_code, 0) << old.stderr_text;
  EXPECT_EQ(old.stdout_text, "");

  // Bad filters, times and configs: exit 2 and a message naming the problem.
  const auto bad = run_command({binary, "search", "-c", config, R"(message=~"(unclosed")"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.stderr_text.find("invalid regex"), std::string::npos) << bad.stderr_text;
  const auto unknown = run_command({binary, "search", "-c", config, R"(hots="web1")"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.stderr_text.find("unknown field \"hots\""), std::string::npos);
  const auto bad_time = run_command({binary, "search", "-c", config, "--since", "soon", "x"});
  EXPECT_EQ(bad_time.exit_code, 2);
  EXPECT_NE(bad_time.stderr_text.find("--since soon"), std::string::npos) << bad_time.stderr_text;

  // The admin API of the running daemon answers the same search.
  const auto api = http_get("127.0.0.1", daemon.admin_port(),
                            "/api/v1/search?since=1h&filter=app%3D%22sshd-it%22+Failed");
  ASSERT_EQ(api.status, 200) << api.body;
  const json body = json::parse(api.body);
  ASSERT_EQ(body["lines"].size(), 3U) << api.body;
  EXPECT_EQ(text_field(body["lines"][0], "message"),
            "Failed password for root from 10.0.0.3 port 22");
  EXPECT_EQ(body["histogram"]["counts"].size(), 60U);
  const auto api_bad =
      http_get("127.0.0.1", daemon.admin_port(), "/api/v1/search?filter=message%3D~%22(%22");
  EXPECT_EQ(api_bad.status, 400);
  EXPECT_NE(api_bad.body.find("invalid regex"), std::string::npos) << api_bad.body;
}

}  // namespace
}  // namespace tocsin::test
