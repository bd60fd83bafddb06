#include "core/admin_server.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "tests/support/net.hpp"

namespace tocsin {
namespace {

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

}  // namespace
}  // namespace tocsin
