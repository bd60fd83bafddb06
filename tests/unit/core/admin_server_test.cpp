#include "core/admin_server.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "tests/support/net.hpp"

namespace tocsin {
namespace {

using namespace std::chrono_literals;

http_handler answer(const std::string& text) {
  return [text](const http_request_view& req) {
    return http_reply{200, "text/plain", text + " " + req.method + " " + req.target};
  };
}

TEST(admin_server, exact_path_then_longest_prefix) {
  admin_server admin;
  admin.handle("/a/b", answer("exact"));
  admin.handle_prefix("/a/", answer("short"));
  admin.handle_prefix("/a/b/", answer("long"));
  admin.handle("/boom",
               [](const http_request_view&) -> http_reply { throw std::runtime_error("kaput"); });
  admin.start("127.0.0.1", 0);
  const auto get = [&](const char* path) {
    return test::http_get("127.0.0.1", admin.port(), path);
  };

  EXPECT_EQ(get("/a/b").body, "exact GET /a/b");
  EXPECT_EQ(get("/a/b?x=1").body, "exact GET /a/b?x=1");  // the query is not part of the match
  EXPECT_EQ(get("/a/b/c").body, "long GET /a/b/c");
  EXPECT_EQ(get("/a/c?q=/a/b/").body, "short GET /a/c?q=/a/b/");
  EXPECT_EQ(get("/a").status, 404);
  EXPECT_EQ(get("/z").status, 404);
  const auto boom = get("/boom");
  EXPECT_EQ(boom.status, 500);
  EXPECT_EQ(boom.body, "internal error: kaput\n");

  const auto posted = test::http_request("POST", "127.0.0.1", admin.port(), "/a/x", "{}");
  EXPECT_EQ(posted.body, "short POST /a/x");
  admin.stop();
}

TEST(admin_server, a_token_guards_everything_but_the_open_paths) {
  admin_server admin;
  admin.handle("/healthz", answer("health"));
  admin.handle("/metrics", answer("metrics"));
  admin.require_token("s3cret", {"/healthz"});
  admin.start("127.0.0.1", 0);
  const auto get = [&](const char* path, std::map<std::string, std::string> headers = {}) {
    return test::http_request("GET", "127.0.0.1", admin.port(), path, {}, {}, 10s, headers);
  };

  EXPECT_EQ(get("/healthz").status, 200);
  const auto refused = get("/metrics");
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(refused.headers.at("www-authenticate"), "Bearer");
  EXPECT_EQ(get("/metrics", {{"Authorization", "Bearer wrong"}}).status, 401);
  EXPECT_EQ(get("/metrics", {{"Authorization", "Bearer s3cret0"}}).status, 401);
  EXPECT_EQ(get("/metrics", {{"Authorization", "Basic s3cret"}}).status, 401);
  EXPECT_EQ(get("/nowhere").status, 401);  // unknown paths do not leak either
  const auto ok = get("/metrics", {{"Authorization", "Bearer s3cret"}});
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "metrics GET /metrics");
  admin.stop();
}

}  // namespace
}  // namespace tocsin
