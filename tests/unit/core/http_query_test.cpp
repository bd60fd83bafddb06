// Tests for core/http_query.hpp: query strings and form bodies of admin API requests.

#include "core/http_query.hpp"

#include <gtest/gtest.h>

namespace tocsin {
namespace {

TEST(http_query, percent_decode_as_go_does) {
  EXPECT_EQ(percent_decode("a+b%20c%3D%22d%22"), "a b c=\"d\"");
  EXPECT_EQ(percent_decode("%zz%4"), "%zz%4");  // broken escapes kept as written
  EXPECT_EQ(percent_decode("%e2%9c%93"), "\xe2\x9c\x93");
}

TEST(http_query, parse_query_of_a_target_and_a_form_body) {
  const auto params = parse_query("/api/v1/search?filter=app%3D%22sshd%22&limit=5&&flag&limit=7");
  EXPECT_EQ(first_value(params, "filter"), "app=\"sshd\"");
  EXPECT_EQ(first_value(params, "limit"), "5");
  EXPECT_EQ(params.count("limit"), 2U);
  EXPECT_EQ(first_value(params, "flag"), "");
  EXPECT_TRUE(params.contains("flag"));
  EXPECT_EQ(first_value(params, "absent"), "");
  EXPECT_TRUE(parse_query("/no/query").empty());
  const auto form = parse_query("by=alice&comment=on+it", /*form_body=*/true);
  EXPECT_EQ(first_value(form, "comment"), "on it");
}

}  // namespace
}  // namespace tocsin
