// Small edges of label matchers, the route tree and the state database: a matcher parsed
// without a problem string, matchers of one name and value told apart by their operator in a
// route's key, a root with matchers of its own, and a database file whose directory cannot be
// made.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "sinks/label_matcher.hpp"
#include "sinks/route_tree.hpp"
#include "sinks/silences.hpp"
#include "tests/support/temp_dir.hpp"

namespace tocsin::sinks {
namespace {

using ::testing::HasSubstr;

config::route_config route(std::string receiver, std::vector<std::string> matchers = {},
                           std::vector<config::route_config> routes = {}) {
  config::route_config r;
  r.receiver = std::move(receiver);
  r.matchers = std::move(matchers);
  r.routes = std::move(routes);
  return r;
}

std::vector<config::receiver_config> receivers(std::initializer_list<const char*> names) {
  std::vector<config::receiver_config> out;
  for (const char* n : names) out.push_back(config::receiver_config{n, "", {}, {}});
  return out;
}

TEST(matcher_tree_branches, bad_matchers_without_a_problem_string) {
  EXPECT_FALSE(label_matcher::parse("", nullptr).has_value());
  EXPECT_FALSE(label_matcher::parse(R"(a=~"(")", nullptr).has_value());
  EXPECT_FALSE(label_matcher::make("", "1", match_op::equal, nullptr).has_value());
}

TEST(matcher_tree_branches, same_name_and_value_are_ordered_by_operator_in_the_key) {
  const route_tree one(route("r", {}, {route("a", {R"(x="1")", R"(x=~"1")"})}),
                       receivers({"r", "a"}));
  const route_tree two(route("r", {}, {route("a", {R"(x=~"1")", R"(x="1")"})}),
                       receivers({"r", "a"}));
  const auto m1 = one.match({{"x", "1"}});
  const auto m2 = two.match({{"x", "1"}});
  ASSERT_EQ(m1.size(), 1u);
  ASSERT_EQ(m2.size(), 1u);
  EXPECT_EQ(m1[0]->receiver, "a");
  EXPECT_EQ(m1[0]->key, m2[0]->key);  // written in either order, the same key
  EXPECT_THAT(m1[0]->key, HasSubstr(R"(x="1")"));
  EXPECT_THAT(m1[0]->key, HasSubstr(R"(x=~"1")"));
}

TEST(matcher_tree_branches, a_root_with_matchers_is_still_the_last_resort) {
  const route_tree tree(route("r", {R"(env="prod")"}, {route("a", {R"(x="1")"})}),
                        receivers({"r", "a"}));
  const auto m = tree.match({{"x", "1"}});  // no env: the root's own matchers miss
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0], &tree.root());
  EXPECT_EQ(tree.receivers({{"x", "1"}}), std::vector<std::string>{"r"});
  EXPECT_EQ(tree.receivers({{"x", "1"}, {"env", "prod"}}), std::vector<std::string>{"a"});
}

TEST(matcher_tree_branches, a_database_whose_directory_cannot_be_made) {
  test::temp_dir dir("mtb");
  const auto blocker = dir.write_file("blocker", "x");
  manual_clock time;
  try {
    silence_store store(blocker / "sub" / "router.db", time);
    FAIL() << "no throw";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(std::string(e.what()),
                HasSubstr("cannot create directory " + (blocker / "sub").string()));
  }
}

}  // namespace
}  // namespace tocsin::sinks
