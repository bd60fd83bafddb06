#include "ui/ui_assets.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

#include "core/admin_server.hpp"
#include "tests/support/net.hpp"

namespace tocsin::ui {
namespace {

TEST(ui_assets, every_file_of_ui_web_is_embedded_with_its_type) {
  std::set<std::string> paths;
  for (const ui_asset& a : ui_assets()) paths.emplace(a.path);
  for (const char* p :
       {"/ui/index.html", "/ui/app.js", "/ui/app.css", "/ui/favicon.svg", "/ui/alerts.js",
        "/ui/silences.js", "/ui/oncall.js", "/ui/rules.js", "/ui/tail.js", "/ui/search.js"}) {
    EXPECT_TRUE(paths.contains(p)) << p;
  }
  ASSERT_NE(find_ui_asset("/"), nullptr);
  EXPECT_EQ(find_ui_asset("/")->path, "/ui/index.html");
  EXPECT_EQ(find_ui_asset("/ui/app.js")->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(find_ui_asset("/ui/app.css")->content_type, "text/css; charset=utf-8");
  EXPECT_EQ(find_ui_asset("/ui/favicon.svg")->content_type, "image/svg+xml");
  EXPECT_EQ(find_ui_asset("/ui/nope.js"), nullptr);
  EXPECT_EQ(find_ui_asset("/zzz"), nullptr);  // after every asset
  EXPECT_EQ(find_ui_asset("/a"), nullptr);    // before every asset
  EXPECT_EQ(find_ui_asset("/ui/")->path, "/ui/index.html");
  EXPECT_EQ(find_ui_asset("/ui/../CMakeLists.txt"), nullptr);
  EXPECT_NE(find_ui_asset("/")->body.find("<script type=\"module\" src=\"/ui/app.js\">"),
            std::string_view::npos);
}

// The page loads nothing from elsewhere and has nothing inline for the CSP to refuse.
TEST(ui_assets, no_inline_script_style_or_handler_and_nothing_from_another_origin) {
  const std::regex inline_script(R"(<script(?![^>]*\bsrc=)[^>]*>)");
  const std::regex inline_handler(R"(<[^>]+\son[a-z]+\s*=)", std::regex::icase);
  const std::regex style(R"(<style|\sstyle\s*=)", std::regex::icase);
  const std::regex remote(R"((src|href)\s*=\s*"(https?:)?//)", std::regex::icase);
  for (const ui_asset& a : ui_assets()) {
    const std::string body(a.body);
    if (a.path.ends_with(".html")) {
      EXPECT_FALSE(std::regex_search(body, inline_script)) << a.path;
      EXPECT_FALSE(std::regex_search(body, inline_handler)) << a.path;
      EXPECT_FALSE(std::regex_search(body, style)) << a.path;
      EXPECT_FALSE(std::regex_search(body, remote)) << a.path;
    }
    if (a.path.ends_with(".js")) {
      EXPECT_EQ(body.find("innerHTML"), std::string::npos) << a.path;
      EXPECT_EQ(body.find("insertAdjacentHTML"), std::string::npos) << a.path;
      EXPECT_EQ(body.find("eval("), std::string::npos) << a.path;
    }
    if (a.path.ends_with(".css")) EXPECT_EQ(body.find("@import"), std::string::npos) << a.path;
  }
}

TEST(ui_assets, served_with_csp_and_etag_and_304_when_unchanged) {
  admin_server admin;
  register_ui(admin);
  admin.require_token("secret", {"/"}, {"/ui/"});
  admin.start("127.0.0.1", 0);

  const auto index = test::http_get("127.0.0.1", admin.port(), "/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.headers.at("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(index.headers.at("cache-control"), "no-cache");
  // No inline script or style, nothing from elsewhere (the admin server's, on every answer).
  EXPECT_NE(index.headers.at("content-security-policy")
                .find("default-src 'none'; script-src 'self'; style-src 'self'"),
            std::string::npos);
  EXPECT_EQ(index.headers.at("x-content-type-options"), "nosniff");
  EXPECT_EQ(index.body, find_ui_asset("/")->body);

  const auto js = test::http_get("127.0.0.1", admin.port(), "/ui/app.js?v=1");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.headers.at("content-type"), "text/javascript; charset=utf-8");
  const std::string etag = js.headers.at("etag");
  EXPECT_TRUE(std::regex_match(etag, std::regex(R"("[0-9a-f]{20}")"))) << etag;

  for (const std::string& validator : {etag, "W/" + etag, "\"other\", " + etag, std::string("*")}) {
    const auto again = test::http_request("GET", "127.0.0.1", admin.port(), "/ui/app.js", {}, {},
                                          std::chrono::seconds(10), {{"If-None-Match", validator}});
    EXPECT_EQ(again.status, 304) << validator;
    EXPECT_TRUE(again.body.empty());
  }
  // The ETag inside another list element (after something other than a comma, a space or W/)
  // is no match.
  for (const std::string& validator :
       {std::string("\"0000\""), "x" + etag, "xW" + etag, "ab" + etag, "\"a" + etag}) {
    const auto changed =
        test::http_request("GET", "127.0.0.1", admin.port(), "/ui/app.js", {}, {},
                           std::chrono::seconds(10), {{"If-None-Match", validator}});
    EXPECT_EQ(changed.status, 200) << validator;
    EXPECT_EQ(changed.body, find_ui_asset("/ui/app.js")->body) << validator;
  }
  // ... but a later whole element is.
  const auto later =
      test::http_request("GET", "127.0.0.1", admin.port(), "/ui/app.js", {}, {},
                         std::chrono::seconds(10), {{"If-None-Match", "ab" + etag + "," + etag}});
  EXPECT_EQ(later.status, 304);
  // /ui/ is the index too.
  const auto ui_index = test::http_get("127.0.0.1", admin.port(), "/ui/");
  EXPECT_EQ(ui_index.status, 200);
  EXPECT_EQ(ui_index.body, find_ui_asset("/")->body);

  EXPECT_EQ(test::http_get("127.0.0.1", admin.port(), "/ui/missing.js").status, 404);
  EXPECT_EQ(test::http_request("POST", "127.0.0.1", admin.port(), "/ui/app.js", "x").status, 405);
  // The API stays behind the token.
  EXPECT_EQ(test::http_get("127.0.0.1", admin.port(), "/api/v2/alerts").status, 401);
  admin.stop();
}

}  // namespace
}  // namespace tocsin::ui
