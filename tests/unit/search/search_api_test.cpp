// Tests for search/search_api.hpp: GET /api/v1/search's parameters, answer and errors.

#include "search/search_api.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "collector/event.hpp"
#include "core/http_query.hpp"
#include "tests/support/net.hpp"
#include "tests/support/temp_dir.hpp"

namespace tocsin::search {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

class search_api_test : public testing::Test {
 protected:
  search_api_test() {
    // Ten sshd lines and ten nginx lines, one a minute, in the hour before the clock's now.
    std::ofstream out(dir_.path() / "web1.log");
    for (int i = 0; i < 10; ++i) {
      for (const char* app : {"sshd", "nginx"}) {
        collector::event ev;
        ev.received_at = clock_.now() - 60min + std::chrono::minutes(i);
        ev.host = "web1";
        ev.app = app;
        const std::string message = std::string(app) + " line " + std::to_string(i);
        ev.message = message;
        std::string line;
        collector::append_event_json(ev, line);
        out << line << '\n';
      }
    }
  }

  http_reply get(const std::string& query) {
    return search_request(templates_, http_request_view{"GET", "/api/v1/search?" + query, "", ""},
                          clock_);
  }

  test::temp_dir dir_{"tocsin-search-api"};
  manual_clock clock_;
  std::vector<std::string> templates_{(dir_.path() / "{host}.log").string()};
};

TEST_F(search_api_test, lines_newest_first_and_a_histogram) {
  const http_reply r = get("filter=" + std::string("app%3D%22sshd%22") + "&since=1h&buckets=6");
  ASSERT_EQ(r.status, 200U) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  const json body = json::parse(r.body);
  ASSERT_EQ(body["lines"].size(), 10U);
  EXPECT_EQ(body["lines"][0]["message"], "sshd line 9");
  EXPECT_EQ(body["lines"][9]["message"], "sshd line 0");
  EXPECT_EQ(body["histogram"]["step_seconds"], 600);
  EXPECT_EQ(body["histogram"]["counts"], json::parse("[10,0,0,0,0,0]"));
  EXPECT_EQ(body["files_scanned"], 1);
  EXPECT_GT(body["bytes_scanned"].get<int>(), 0);
  EXPECT_EQ(body["truncated"], false);
}

TEST_F(search_api_test, limit_and_window) {
  json body = json::parse(get("limit=3&since=1h").body);
  ASSERT_EQ(body["lines"].size(), 3U);
  EXPECT_EQ(body["histogram"]["counts"].size(), 60U);  // the default buckets
  std::uint64_t total = 0;
  for (const auto& c : body["histogram"]["counts"]) total += c.get<std::uint64_t>();
  EXPECT_EQ(total, 20U);  // every match, not only the three lines

  body = json::parse(get("since=55m&until=53m").body);  // minutes 5 and 6 before now - 53m
  EXPECT_EQ(body["lines"].size(), 4U);
  body = json::parse(get("filter=%22LINE%207%22&since=2h").body);
  EXPECT_EQ(body["lines"].size(), 2U);
}

TEST_F(search_api_test, bad_parameters_are_400_with_the_reason) {
  const auto expect_400 = [&](const std::string& query, const std::string& words) {
    const http_reply r = get(query);
    EXPECT_EQ(r.status, 400U) << query;
    const json body = json::parse(r.body);
    EXPECT_NE(body["error"].get<std::string>().find(words), std::string::npos) << r.body;
  };
  expect_400("filter=message%3D~%22(%22", "invalid regex");
  expect_400("filter=nosuch%3D%22x%22", "unknown field");
  expect_400("since=yesterday", "since: yesterday");
  expect_400("since=1h&until=2h", "since must be before until");
  expect_400("limit=-1", "limit");
  expect_400("limit=100000", "limit");
  expect_400("buckets=0", "buckets");
  expect_400("limit=5x", "limit");
  expect_400("buckets=many", "buckets");
  expect_400("until=soon", "until: soon");
  EXPECT_EQ(search_request(templates_, http_request_view{"POST", "/api/v1/search", "", ""}).status,
            405U);
}

// Registered on an admin server: the archives of the config's file outputs.
TEST_F(search_api_test, served_by_the_admin_server) {
  config::config cfg;
  cfg.outputs.push_back({config::output_type::file, templates_.front()});
  admin_server admin;
  register_search_api(admin, cfg, clock_);
  admin.start("127.0.0.1", 0);
  const auto r = test::http_get("127.0.0.1", admin.port(),
                                "/api/v1/search?filter=app%3D%22nginx%22&since=2h&limit=2");
  admin.stop();
  ASSERT_EQ(r.status, 200) << r.body;
  const json body = json::parse(r.body);
  ASSERT_EQ(body["lines"].size(), 2U);
  EXPECT_EQ(body["lines"][0]["message"], "nginx line 9");
  EXPECT_EQ(body["files_scanned"], 1);
}

}  // namespace
}  // namespace tocsin::search
