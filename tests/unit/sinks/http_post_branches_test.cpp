// http_post and to_delivery_result at their edges: each Retry-After form (spaced seconds,
// negative, a past and a future HTTP-date, junk, empty), response bodies over the detail and
// body caps, a 3xx, basic auth winning over a bearer token, and no notification id header
// without an id.

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "sinks/http_post.hpp"
#include "tests/support/http_capture.hpp"

namespace tocsin::sinks {
namespace {

using namespace std::chrono_literals;
using outcome = delivery_result::outcome;

// What http_post makes of a 503 answered with `retry_after`.
std::optional<std::chrono::seconds> retry_after_of(const std::string& retry_after) {
  test::http_capture server;
  server.push_response({.status = 503, .headers = {{"Retry-After", retry_after}}});
  http_post_request request;
  request.url = server.url("/");
  const auto response = http_post(request);
  EXPECT_EQ(response.status, 503);
  return response.retry_after;
}

TEST(http_post_branches, retry_after_forms) {
  EXPECT_EQ(retry_after_of("  7 "), 7s);
  EXPECT_EQ(retry_after_of("-5"), 0s);
  EXPECT_EQ(retry_after_of("Wed, 21 Oct 2015 07:28:00 GMT"), 0s);  // in the past
  const auto future = retry_after_of("Fri, 31 Dec 2100 23:59:59 GMT");
  ASSERT_TRUE(future.has_value());
  EXPECT_GT(*future, 24h * 365);
  EXPECT_EQ(retry_after_of("soon"), std::nullopt);
  EXPECT_EQ(retry_after_of(""), std::nullopt);
}

TEST(http_post_branches, long_bodies_are_capped_and_details_truncated) {
  test::http_capture server;
  server.push_response({.status = 400, .body = std::string(100'000, 'x')});
  http_post_request request;
  request.url = server.url("/");
  const auto response = http_post(request);
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body.size(), 64u * 1024u);
  const auto r = to_delivery_result(response);
  EXPECT_EQ(r.result, outcome::permanent);
  EXPECT_EQ(r.detail, std::string(4096, 'x') + "…");
  EXPECT_FALSE(r.retry_after.has_value());
}

TEST(http_post_branches, statuses_map_to_outcomes) {
  http_post_response response;
  response.status = 302;
  EXPECT_EQ(to_delivery_result(response).result, outcome::permanent);
  response.status = 429;
  response.retry_after = 3s;
  const auto r = to_delivery_result(response);
  EXPECT_EQ(r.result, outcome::retry);
  EXPECT_EQ(r.retry_after, 3s);
  response.status = 0;
  response.error = "refused";
  const auto none = to_delivery_result(response);
  EXPECT_EQ(none.result, outcome::retry);
  EXPECT_EQ(none.detail, "refused");
  response.status = 299;
  EXPECT_EQ(to_delivery_result(response).result, outcome::delivered);
}

TEST(http_post_branches, basic_auth_wins_over_a_bearer_token_and_no_id_no_header) {
  test::http_capture server;
  http_post_request request;
  request.url = server.url("/x");
  request.basic_username = "u";
  request.basic_password = "p";
  request.bearer_token = "t0ken";
  request.content_type = "text/plain";
  add_notification_id(request, notification{});
  EXPECT_TRUE(request.headers.empty());
  ASSERT_EQ(http_post(request).status, 200);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].headers.at("authorization"), "Basic dTpw");
  EXPECT_EQ(requests[0].headers.at("content-type"), "text/plain");
  EXPECT_EQ(requests[0].headers.at("user-agent"), "tocsin");
}

}  // namespace
}  // namespace tocsin::sinks
