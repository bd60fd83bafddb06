#include "sinks/route_tree.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace tocsin::sinks {
namespace {

using namespace std::chrono_literals;

std::vector<config::receiver_config> receivers(std::initializer_list<const char*> names) {
  std::vector<config::receiver_config> out;
  for (const char* n : names) out.push_back(config::receiver_config{n, "", {}, {}});
  return out;
}

config::route_config route(std::string receiver, std::vector<std::string> matchers = {},
                           std::vector<config::route_config> routes = {}) {
  config::route_config r;
  r.receiver = std::move(receiver);
  r.matchers = std::move(matchers);
  r.routes = std::move(routes);
  return r;
}

std::vector<std::string> receivers_of(const std::vector<const route_node*>& nodes) {
  std::vector<std::string> out;
  out.reserve(nodes.size());
  for (const route_node* n : nodes) out.push_back(n->receiver);
  return out;
}

std::vector<std::string> ids_of(const std::vector<const route_node*>& nodes) {
  std::vector<std::string> out;
  out.reserve(nodes.size());
  for (const route_node* n : nodes) out.push_back(n->id);
  return out;
}

using strings = std::vector<std::string>;

TEST(route_tree, root_is_the_destination_when_no_child_matches) {
  const route_tree tree(route("default", {}, {route("pager", {R"(severity="critical")"})}),
                        receivers({"default", "pager"}));
  EXPECT_EQ(receivers_of(tree.match({{"severity", "warning"}})), strings{"default"});
  EXPECT_EQ(receivers_of(tree.match({})), strings{"default"});
  EXPECT_EQ(receivers_of(tree.match({{"severity", "critical"}})), strings{"pager"});
}

TEST(route_tree, first_matching_child_wins_without_continue) {
  const route_tree tree(
      route("default", {},
            {route("a", {R"(team="db")"}), route("b", {R"(team=~"d.*")"}), route("c", {})}),
      receivers({"default", "a", "b", "c"}));
  EXPECT_EQ(receivers_of(tree.match({{"team", "db"}})), strings{"a"});
  EXPECT_EQ(receivers_of(tree.match({{"team", "dev"}})), strings{"b"});
  EXPECT_EQ(receivers_of(tree.match({{"team", "web"}})), strings{"c"});
}

TEST(route_tree, continue_goes_on_to_later_siblings) {
  auto first = route("audit", {R"(severity=~".+")"});
  first.continue_matching = true;
  auto second = route("pager", {R"(severity="critical")"});
  second.continue_matching = true;
  const route_tree tree(route("default", {}, {first, second, route("chat", {})}),
                        receivers({"default", "audit", "pager", "chat"}));
  EXPECT_EQ(receivers_of(tree.match({{"severity", "critical"}})),
            (strings{"audit", "pager", "chat"}));
  EXPECT_EQ(receivers_of(tree.match({{"severity", "warning"}})), (strings{"audit", "chat"}));
  EXPECT_EQ(receivers_of(tree.match({})), strings{"chat"});
}

TEST(route_tree, receivers_names_each_receiver_once_in_tree_order) {
  auto first = route("pager", {R"(severity="critical")"});
  first.continue_matching = true;
  auto second = route("chat", {R"(team="db")"});
  second.continue_matching = true;
  const route_tree tree(route("default", {}, {first, second, route("pager", {})}),
                        receivers({"default", "pager", "chat"}));
  EXPECT_EQ(tree.receivers({{"severity", "critical"}, {"team", "db"}}), (strings{"pager", "chat"}));
  EXPECT_EQ(tree.receivers({{"team", "web"}}), strings{"pager"});
}

TEST(route_tree, a_continuing_child_that_matched_keeps_the_parent_from_matching) {
  auto only = route("audit", {R"(env="prod")"});
  only.continue_matching = true;
  const route_tree tree(route("default", {}, {only}), receivers({"default", "audit"}));
  EXPECT_EQ(receivers_of(tree.match({{"env", "prod"}})), strings{"audit"});
  EXPECT_EQ(receivers_of(tree.match({{"env", "dev"}})), strings{"default"});
}

TEST(route_tree, depth_first_and_a_node_whose_children_miss_is_the_destination) {
  const route_tree tree(route("default", {},
                              {route("db", {R"(team="db")"},
                                     {route("db-pager", {R"(severity="critical")"}),
                                      route("db-mysql", {R"(service="mysql")"})}),
                               route("web", {R"(team="web")"})}),
                        receivers({"default", "db", "db-pager", "db-mysql", "web"}));
  EXPECT_EQ(receivers_of(tree.match({{"team", "db"}, {"severity", "critical"}})),
            strings{"db-pager"});
  EXPECT_EQ(receivers_of(tree.match({{"team", "db"}, {"service", "mysql"}})), strings{"db-mysql"});
  EXPECT_EQ(receivers_of(tree.match({{"team", "db"}})), strings{"db"});
  EXPECT_EQ(ids_of(tree.match({{"team", "db"}, {"service", "mysql"}})), strings{"0.0.1"});
  EXPECT_EQ(ids_of(tree.match({{"team", "web"}})), strings{"0.1"});
  EXPECT_EQ(tree.root().id, "0");
}

TEST(route_tree, children_inherit_unset_fields_and_root_has_alertmanager_defaults) {
  auto root = route("default");
  auto child = route("", {R"(team="db")"});
  child.group_wait = 10s;
  auto grandchild = route("pager", {R"(severity="critical")"});
  grandchild.repeat_interval = 1h;
  child.routes = {grandchild};
  auto sibling = route("", {R"(team="web")"});
  sibling.group_by = strings{"alertname", "host"};
  sibling.group_interval = 1min;
  sibling.routes = {route("", {R"(severity="critical")"})};
  root.routes = {child, sibling};
  const route_tree tree(root, receivers({"default", "pager"}));

  const route_node& r = tree.root();
  EXPECT_EQ(r.group_wait, 30s);
  EXPECT_EQ(r.group_interval, 5min);
  EXPECT_EQ(r.repeat_interval, 4h);
  EXPECT_TRUE(r.group_by.empty());
  EXPECT_FALSE(r.group_by_all);

  const route_node& db = r.routes[0];
  EXPECT_EQ(db.receiver, "default");
  EXPECT_EQ(db.group_wait, 10s);
  EXPECT_EQ(db.group_interval, 5min);
  EXPECT_EQ(db.repeat_interval, 4h);
  const route_node& pager = db.routes[0];
  EXPECT_EQ(pager.receiver, "pager");
  EXPECT_EQ(pager.group_wait, 10s);
  EXPECT_EQ(pager.repeat_interval, 1h);

  const route_node& web_critical = r.routes[1].routes[0];
  EXPECT_EQ(web_critical.receiver, "default");
  EXPECT_EQ(web_critical.group_by, (strings{"alertname", "host"}));
  EXPECT_EQ(web_critical.group_interval, 1min);
  EXPECT_EQ(web_critical.group_wait, 30s);
}

TEST(route_tree, explicit_empty_group_by_overrides_the_parent) {
  auto root = route("default");
  root.group_by = strings{"..."};
  auto child = route("", {R"(a="1")"});
  child.group_by = strings{};
  auto inherits = route("", {R"(a="2")"});
  root.routes = {child, inherits};
  const route_tree tree(root, receivers({"default"}));
  EXPECT_TRUE(tree.root().group_by_all);
  EXPECT_FALSE(tree.root().routes[0].group_by_all);
  EXPECT_TRUE(tree.root().routes[0].group_by.empty());
  EXPECT_TRUE(tree.root().routes[1].group_by_all);
}

TEST(route_tree, group_labels) {
  auto root = route("default");
  root.group_by = strings{"alertname", "host"};
  auto all = route("", {R"(team="db")"});
  all.group_by = strings{"..."};
  root.routes = {all};
  const route_tree tree(root, receivers({"default"}));
  const rules::label_set labels = {
      {"alertname", "disk-full"}, {"host", "web1"}, {"severity", "critical"}};

  EXPECT_EQ(route_tree::group_labels(tree.root(), labels),
            (rules::label_set{{"alertname", "disk-full"}, {"host", "web1"}}));
  // A group_by label the alert lacks is left out, not set to "".
  EXPECT_EQ(route_tree::group_labels(tree.root(), {{"alertname", "x"}}),
            (rules::label_set{{"alertname", "x"}}));
  // `...` groups by every label.
  auto with_team = labels;
  with_team["team"] = "db";
  EXPECT_EQ(route_tree::group_labels(tree.root().routes[0], with_team), with_team);

  // No group_by: one group for every alert of the route.
  const route_tree plain(route("default"), receivers({"default"}));
  EXPECT_TRUE(route_tree::group_labels(plain.root(), labels).empty());
  EXPECT_EQ(route_tree::group_key(plain.root(), {}), "{}:{}");
}

TEST(route_tree, group_key_text_is_alertmanagers) {
  auto root = route("default");
  root.group_by = strings{"alertname", "host"};
  // Matchers are sorted in the key, whatever order they were written in.
  root.routes = {route("pager", {R"(severity="critical")"},
                       {route("", {R"(team=~"db|web")", R"(env!="dev")"})})};
  const route_tree tree(root, receivers({"default", "pager"}));
  const rules::label_set labels = {
      {"alertname", "disk-full"}, {"host", "web1"}, {"severity", "critical"}};

  const auto nodes = tree.match(labels);
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(route_tree::group_key(*nodes[0], route_tree::group_labels(*nodes[0], labels)),
            R"({}/{severity="critical"}:{alertname="disk-full", host="web1"})");

  auto deeper = labels;
  deeper["team"] = "db";
  const auto deep = tree.match(deeper);
  ASSERT_EQ(deep.size(), 1u);
  EXPECT_EQ(deep[0]->key, R"({}/{severity="critical"}/{env!="dev",team=~"db|web"})");
  EXPECT_EQ(route_tree::group_key(*deep[0], {{"host", "a\"b"}}),
            R"({}/{severity="critical"}/{env!="dev",team=~"db|web"}:{host="a\"b"})");
  // Label pairs are sorted as text, like Go's LabelSet.String().
  EXPECT_EQ(route_tree::group_key(tree.root(), {{"a", "1"}, {"a1", "2"}}), R"({}:{a1="2", a="1"})");
}

TEST(route_tree, unknown_receiver_and_bad_matchers_are_config_errors_with_locations) {
  auto root = route("default");
  auto child = route("nobody", {R"(a=~"(")"});
  child.where = {"tocsin.yaml", 12, 7};
  root.routes = {child};
  try {
    route_tree tree(root, receivers({"default"}));
    FAIL() << "expected config_error";
  } catch (const config::config_error& e) {
    ASSERT_EQ(e.errors().size(), 2u);
    EXPECT_EQ(e.errors()[0], R"(tocsin.yaml:12:7: unknown receiver "nobody")");
    EXPECT_TRUE(e.errors()[1].starts_with(R"(tocsin.yaml:12:7: invalid matcher 'a=~"("')"))
        << e.errors()[1];
  }
  EXPECT_THROW(route_tree(route(""), receivers({"default"})), config::config_error);
}

TEST(route_tree, builds_from_a_loaded_config) {
  const auto cfg = config::load_string(R"(
route:
  receiver: default
  group_by: [alertname]
  routes:
    - matchers: ['severity="critical"', instance=~web.*]
      receiver: pager
      continue: true
    - matchers: [team="db"]
      receiver: db
      group_by: ['...']
receivers:
  - name: default
  - name: pager
  - name: db
)",
                                       "tocsin.yaml");
  ASSERT_TRUE(cfg.route.has_value());
  const route_tree tree(*cfg.route, cfg.receivers);
  const rules::label_set labels = {
      {"alertname", "x"}, {"severity", "critical"}, {"instance", "web1"}, {"team", "db"}};
  const auto nodes = tree.match(labels);
  EXPECT_EQ(receivers_of(nodes), (strings{"pager", "db"}));
  EXPECT_EQ(route_tree::group_key(*nodes[0], route_tree::group_labels(*nodes[0], labels)),
            R"({}/{instance=~"web.*",severity="critical"}:{alertname="x"})");
  EXPECT_TRUE(nodes[1]->group_by_all);
}

// Alertmanager's own routing test (dispatch/route_test.go, TestRouteMatch): its tree written with
// the deprecated `match`/`match_re`, the same tree translated to `matchers` items (brace,
// quoted, unquoted), and TestRouteMatchers' variant (which adds `level!="critical"` and
// `baz!~".*quux"`, true for every label set here) must route every label set to the same
// receivers, in the same order, with the route options and keys Alertmanager's test expects.
const char* const alertmanager_receivers = R"yaml(
receivers:
  - name: notify-def
  - name: notify-A
  - name: notify-testing
  - name: notify-productionA
  - name: notify-productionB
  - name: notify-BC
)yaml";

const char* const match_tree = R"yaml(
route:
  receiver: 'notify-def'

  routes:
  - match:
      owner: 'team-A'

    receiver: 'notify-A'

    routes:
    - match:
        env: 'testing'

      receiver: 'notify-testing'
      group_by: [...]

    - match:
        env: "production"

      receiver: 'notify-productionA'
      group_wait: 1m

      continue: true

    - match_re:
        env: "produ.*"
        job: ".*"

      receiver: 'notify-productionB'
      group_wait: 30s
      group_interval: 5m
      repeat_interval: 1h
      group_by: ['job']

  - match_re:
      owner: 'team-(B|C)'

    group_by: ['foo', 'bar']
    group_wait: 2m
    receiver: 'notify-BC'

  - match:
      group_by: 'role'
    group_by: ['role']

    routes:
    - match:
        env: 'testing'
      receiver: 'notify-testing'
      routes:
      - match:
          wait: 'long'
        group_wait: 2m
)yaml";

const char* const matchers_tree = R"yaml(
route:
  receiver: 'notify-def'
  routes:
  - matchers: ['{owner="team-A"}']
    receiver: 'notify-A'
    routes:
    - matchers: [env="testing"]
      receiver: 'notify-testing'
      group_by: [...]
    - matchers: ['  env = production ']
      receiver: 'notify-productionA'
      group_wait: 1m
      continue: true
    - matchers: ['{env=~"produ.*", job=~".*"}']
      receiver: 'notify-productionB'
      group_wait: 30s
      group_interval: 5m
      repeat_interval: 1h
      group_by: ['job']
  - matchers: [owner=~"team-(B|C)"]
    group_by: ['foo', 'bar']
    group_wait: 2m
    receiver: 'notify-BC'
  - matchers: ['"group_by"="role"']
    group_by: ['role']
    routes:
    - matchers: ['{env="testing"}']
      receiver: 'notify-testing'
      routes:
      - matchers: [wait=long]
        group_wait: 2m
)yaml";

// TestRouteMatchers' tree, verbatim.
const char* const alertmanager_matchers_tree = R"yaml(
route:
  receiver: 'notify-def'

  routes:
  - matchers: ['{owner="team-A"}', '{level!="critical"}']

    receiver: 'notify-A'

    routes:
    - matchers: ['{env="testing"}', '{baz!~".*quux"}']

      receiver: 'notify-testing'
      group_by: [...]

    - matchers: ['{env="production"}']

      receiver: 'notify-productionA'
      group_wait: 1m

      continue: true

    - matchers: [ env=~"produ.*", job=~".*"]

      receiver: 'notify-productionB'
      group_wait: 30s
      group_interval: 5m
      repeat_interval: 1h
      group_by: ['job']


  - matchers: [owner=~"team-(B|C)"]

    group_by: ['foo', 'bar']
    group_wait: 2m
    receiver: 'notify-BC'

  - matchers: [group_by="role"]
    group_by: ['role']

    routes:
    - matchers: ['{env="testing"}']
      receiver: 'notify-testing'
      routes:
      - matchers: [wait="long"]
        group_wait: 2m
)yaml";

route_tree load_tree(const char* yaml) {
  const auto cfg =
      config::load_string(std::string(yaml) + alertmanager_receivers, "alertmanager.yml");
  return route_tree(*cfg.route, cfg.receivers);
}

struct am_route {
  std::string receiver;
  std::chrono::milliseconds group_wait = 30s;
  strings group_by;  // sorted
  bool group_by_all = false;
  std::chrono::milliseconds group_interval = 5min, repeat_interval = 4h;
};

struct am_case {
  rules::label_set labels;
  std::vector<am_route> routes;
  strings match_keys;        // TestRouteMatch's keys (match_re regexes kept anchored)
  strings matchers_keys;     // the translated tree's
  strings am_matchers_keys;  // TestRouteMatchers' keys (empty: not in its table)
};

std::vector<am_case> alertmanager_cases() {
  const am_route a{"notify-A"};
  const am_route def{"notify-def"};
  const am_route bc{"notify-BC", 2min, {"bar", "foo"}};
  const am_route production_b{"notify-productionB", 30s, {"job"}, false, 5min, 1h};
  return {
      {{{"owner", "team-A"}},
       {a},
       {R"k({}/{owner="team-A"})k"},
       {R"k({}/{owner="team-A"})k"},
       {R"k({}/{level!="critical",owner="team-A"})k"}},
      {{{"owner", "team-A"}, {"env", "unset"}},
       {a},
       {R"k({}/{owner="team-A"})k"},
       {R"k({}/{owner="team-A"})k"},
       {R"k({}/{level!="critical",owner="team-A"})k"}},
      {{{"owner", "team-C"}},
       {bc},
       {R"k({}/{owner=~"^(?:team-(B|C))$"})k"},
       {R"k({}/{owner=~"team-(B|C)"})k"},
       {R"k({}/{owner=~"team-(B|C)"})k"}},
      {{{"owner", "team-A"}, {"env", "testing"}},
       {{"notify-testing", 30s, {}, true}},
       {R"k({}/{owner="team-A"}/{env="testing"})k"},
       {R"k({}/{owner="team-A"}/{env="testing"})k"},
       {R"k({}/{level!="critical",owner="team-A"}/{baz!~".*quux",env="testing"})k"}},
      {{{"owner", "team-A"}, {"env", "production"}},
       {{"notify-productionA", 1min}, production_b},
       {R"k({}/{owner="team-A"}/{env="production"})k",
        R"k({}/{owner="team-A"}/{env=~"^(?:produ.*)$",job=~"^(?:.*)$"})k"},
       {R"k({}/{owner="team-A"}/{env="production"})k",
        R"k({}/{owner="team-A"}/{env=~"produ.*",job=~".*"})k"},
       {R"k({}/{level!="critical",owner="team-A"}/{env="production"})k",
        R"k({}/{level!="critical",owner="team-A"}/{env=~"produ.*",job=~".*"})k"}},
      {{{"group_by", "role"}},
       {{"notify-def", 30s, {"role"}}},
       {R"k({}/{group_by="role"})k"},
       {R"k({}/{group_by="role"})k"},
       {R"k({}/{group_by="role"})k"}},
      {{{"env", "testing"}, {"group_by", "role"}},
       {{"notify-testing", 30s, {"role"}}},
       {R"k({}/{group_by="role"}/{env="testing"})k"},
       {R"k({}/{group_by="role"}/{env="testing"})k"},
       {R"k({}/{group_by="role"}/{env="testing"})k"}},
      {{{"env", "testing"}, {"group_by", "role"}, {"wait", "long"}},
       {{"notify-testing", 2min, {"role"}}},
       {R"k({}/{group_by="role"}/{env="testing"}/{wait="long"})k"},
       {R"k({}/{group_by="role"}/{env="testing"}/{wait="long"})k"},
       {R"k({}/{group_by="role"}/{env="testing"}/{wait="long"})k"}},
      // Beyond Alertmanager's table: what the anchoring and the fall-through decide.
      {{}, {def}, {"{}"}, {"{}"}, {}},
      {{{"owner", "team-D"}}, {def}, {"{}"}, {"{}"}, {}},
      {{{"owner", "xteam-B"}}, {def}, {"{}"}, {"{}"}, {}},
      {{{"owner", "team-B"}, {"env", "production"}},
       {bc},
       {R"k({}/{owner=~"^(?:team-(B|C))$"})k"},
       {R"k({}/{owner=~"team-(B|C)"})k"},
       {}},
      {{{"owner", "team-A"}, {"env", "productionX"}},
       {production_b},
       {R"k({}/{owner="team-A"}/{env=~"^(?:produ.*)$",job=~"^(?:.*)$"})k"},
       {R"k({}/{owner="team-A"}/{env=~"produ.*",job=~".*"})k"},
       {}},
      {{{"owner", "team-A"}, {"env", "prod"}},
       {a},
       {R"k({}/{owner="team-A"})k"},
       {R"k({}/{owner="team-A"})k"},
       {}},
      {{{"env", "testing"}, {"wait", "long"}}, {def}, {"{}"}, {"{}"}, {}},
  };
}

strings keys_of(const std::vector<const route_node*>& nodes) {
  strings out;
  for (const route_node* n : nodes) out.push_back(n->key);
  return out;
}

TEST(route_tree, alertmanagers_route_match_test_with_match_and_with_matchers) {
  const route_tree with_match = load_tree(match_tree);
  const route_tree with_matchers = load_tree(matchers_tree);
  const route_tree am_matchers = load_tree(alertmanager_matchers_tree);
  for (const am_case& c : alertmanager_cases()) {
    std::string trace;
    for (const auto& [name, value] : c.labels) trace += name + "=" + value + " ";
    SCOPED_TRACE(trace);
    strings expected;
    for (const am_route& r : c.routes) expected.push_back(r.receiver);

    const auto nodes = with_match.match(c.labels);
    EXPECT_EQ(receivers_of(nodes), expected);
    EXPECT_EQ(receivers_of(with_matchers.match(c.labels)), expected);
    EXPECT_EQ(receivers_of(am_matchers.match(c.labels)), expected);

    EXPECT_EQ(keys_of(nodes), c.match_keys);
    EXPECT_EQ(keys_of(with_matchers.match(c.labels)), c.matchers_keys);
    if (!c.am_matchers_keys.empty()) {
      EXPECT_EQ(keys_of(am_matchers.match(c.labels)), c.am_matchers_keys);
    }

    ASSERT_EQ(nodes.size(), c.routes.size());
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const am_route& want = c.routes[i];
      strings group_by = nodes[i]->group_by;
      std::sort(group_by.begin(), group_by.end());
      EXPECT_EQ(group_by, want.group_by) << want.receiver;
      EXPECT_EQ(nodes[i]->group_by_all, want.group_by_all) << want.receiver;
      EXPECT_EQ(nodes[i]->group_wait, want.group_wait) << want.receiver;
      EXPECT_EQ(nodes[i]->group_interval, want.group_interval) << want.receiver;
      EXPECT_EQ(nodes[i]->repeat_interval, want.repeat_interval) << want.receiver;
    }
  }
}

TEST(route_tree, a_bad_regex_is_reported_where_it_was_written) {
  const auto cfg = config::load_string(R"yaml(route:
  receiver: a
  routes:
    - receiver: a
      match_re:
        host: 'web('
      matchers: ['{env="prod", job=~"[a-"}']
receivers: [{ name: a }]
)yaml",
                                       "am.yml");
  try {
    route_tree tree(*cfg.route, cfg.receivers);
    FAIL() << "expected config_error";
  } catch (const config::config_error& e) {
    ASSERT_EQ(e.errors().size(), 2u);
    EXPECT_TRUE(e.errors()[0].starts_with(
        R"m(am.yml:6:9: invalid matcher 'host=~"^(?:web()$"': invalid regex "^(?:web()$": missing ))m"))
        << e.errors()[0];
    EXPECT_TRUE(e.errors()[1].starts_with(
        R"m(am.yml:7:18: invalid matcher 'job=~"[a-"': invalid regex "[a-": )m"))
        << e.errors()[1];
  }
}

// Alertmanager's `status.mutedBy` for a group (its TimeActiveStage, then TimeMuteStage, in
// notify/notify.go): outside every active interval, all of them; else each mute interval that
// holds.
TEST(route_tree, muted_by_names_the_intervals_as_alertmanager_reports_them) {
  const auto interval = [](const std::string& name,
                           const std::vector<config::minute_range>& times) {
    std::vector<config::time_interval_entry> entries;
    for (const auto& t : times) {
      config::time_interval_entry e;
      e.times = std::vector<config::minute_range>{t};
      entries.push_back(std::move(e));
    }
    return config::time_interval_config{name, std::move(entries), {}};
  };
  auto muted = route("muted", {R"(team="a")"});
  // "lunch" holds by both its entries at 12:30; it is named once.
  muted.mute_time_intervals = {"night", "lunch", "noon"};
  auto active = route("active", {R"(team="b")"});
  active.active_time_intervals = {"morning", "noon"};
  active.mute_time_intervals = {"lunch"};
  const route_tree tree(
      route("default", {}, {muted, active}), receivers({"default", "muted", "active"}),
      {interval("night", {{0, 6 * 60}}),
       interval("lunch", {{12 * 60, 13 * 60}, {12 * 60 + 15, 12 * 60 + 45}}),
       interval("noon", {{11 * 60, 14 * 60}}), interval("morning", {{6 * 60, 10 * 60}})});
  const route_node& a = tree.root().routes[0];
  const route_node& b = tree.root().routes[1];
  const auto at = [](int hour, int minute) {
    return std::chrono::sys_days{std::chrono::year{2026} / 12 / 4} + std::chrono::hours(hour) +
           std::chrono::minutes(minute);
  };
  EXPECT_EQ(tree.muted_by(a, at(12, 30)), (strings{"lunch", "noon"}));
  EXPECT_EQ(tree.muted_by(a, at(3, 0)), strings{"night"});
  EXPECT_EQ(tree.muted_by(a, at(20, 0)), strings{});
  // Outside both active intervals: both, whatever the mute intervals say.
  EXPECT_EQ(tree.muted_by(b, at(20, 0)), (strings{"morning", "noon"}));
  // Inside one: only the mute intervals that hold.
  EXPECT_EQ(tree.muted_by(b, at(12, 30)), strings{"lunch"});
  EXPECT_EQ(tree.muted_by(b, at(8, 0)), strings{});
  EXPECT_EQ(tree.muted_by(tree.root(), at(12, 30)), strings{});
}

}  // namespace
}  // namespace tocsin::sinks
