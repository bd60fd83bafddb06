// What an operator relies on at 3 a.m.: check-config explains a broken config completely in one
// run, `routes test` answers like amtool's, a reload (SIGHUP or POST /-/reload) switches rules,
// routes and receivers without dropping connections and refuses an invalid config, the admin
// token guards everything but /healthz, /readyz, and SIGTERM exits 0 after draining.

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <random>
#include <regex>

#include "tests/integration/tocsin_daemon.hpp"
#include "tests/support/http_capture.hpp"

namespace tocsin::test {
namespace {

namespace fs = std::filesystem;

command_result tocsin_cli(std::vector<std::string> args) {
  args.insert(args.begin(), tocsin_binary().string());
  return run_command(args);
}

TEST(check_config, reports_every_problem_of_every_part_in_one_run) {
  temp_dir dir("ops-check");
  dir.write_file("rules/a.yaml",
                 "rules:\n"
                 "  - name: broken\n"
                 "    match: { message: 'unclosed (' }\n");
  const auto path = dir.write_file(
      "tocsin.yaml",
      "admin: { listen: 127.0.0.1:9095, token_file: " + (dir / "missing-token").string() +
          " }\n"                                                      // 1
          "limits: { idle_timeout: soon }\n"                          // 2
          "rules_files: ['rules/*.yaml']\n"                           // 3
          "route:\n"                                                  // 4
          "  receiver: ops\n"                                         // 5
          "  routes:\n"                                               // 6
          "    - { receiver: nobody }\n"                              // 7
          "    - { receiver: ops, matchers: ['severity=~\"(\"'] }\n"  // 8
          "receivers:\n"                                              // 9
          "  - name: ops\n"                                           // 10
          "    email: { smarthost: 'smtp.example.com:587', from: a@example.com, to: "
          "[b@example.com],\n"
          "             auth: { username: u, password_file: " +
          (dir / "missing-password").string() +
          " } }\n"
          "bogus_key: 1\n");
  const auto r = tocsin_cli({"check-config", "-c", path.string()});
  EXPECT_EQ(r.exit_code, 1);
  const std::string out = r.stderr_text;
  const std::string at = path.string() + ":";
  for (const std::string& expected : {
           at + "2:",                                // the bad duration
           at + "7:",                                // the unknown receiver
           at + "8:",                                // the bad matcher regex
           std::string("missing-password"),          // the unreadable secret
           std::string("missing-token"),             // the unreadable admin token
           std::string("bogus_key"),                 // the unknown key
           (dir / "rules/a.yaml").string() + ":3:",  // RE2's complaint, in the rule file
       }) {
    EXPECT_NE(out.find(expected), std::string::npos) << "missing " << expected << " in:\n" << out;
  }
}

TEST(check_config, a_file_receiver_is_not_created_by_checking) {
  temp_dir dir("ops-check");
  const auto path = dir.write_file("tocsin.yaml",
                                   "route: { receiver: audit }\n"
                                   "receivers:\n"
                                   "  - { name: audit, file: { path: " +
                                       (dir / "out/alerts.jsonl").string() + " } }\n");
  const auto r = tocsin_cli({"check-config", "-c", path.string()});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_FALSE(fs::exists(dir / "out"));

  const auto bad = dir.write_file("bad.yaml",
                                  "route: { receiver: audit }\n"
                                  "receivers:\n"
                                  "  - { name: audit, file: { path: " +
                                      path.string() + "/x.jsonl } }\n");
  const auto refused = tocsin_cli({"check-config", "-c", bad.string()});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.stderr_text.find("is not a directory"), std::string::npos)
      << refused.stderr_text;
}

// Each receiver's integration checks its own section; check-config builds every one of them and
// lists all their problems, each at its key.
TEST(check_config, reports_the_problems_of_every_receiver) {
  temp_dir dir("ops-check");
  const std::string missing = (dir / "missing-key").string();
  const auto path = dir.write_file("tocsin.yaml",
                                   "route: { receiver: a }\n"                          // 1
                                   "receivers:\n"                                      // 2
                                   "  - { name: a, webhook: { url: ftp://x } }\n"      // 3
                                   "  - { name: b, slack: { channel: '#ops' } }\n"     // 4
                                   "  - { name: c, pagerduty: { routing_key_file: " +  // 5
                                       missing +
                                       " } }\n"
                                       "  - { name: d, slakc: {} }\n");  // 6
  const auto r = tocsin_cli({"check-config", "-c", path.string()});
  EXPECT_EQ(r.exit_code, 1);
  const std::string at = path.string() + ":";
  for (const std::string& expected : {
           at + "3:32: receivers[0].webhook.url: invalid URL 'ftp://x'",
           at + "4:23: missing required key 'webhook_url' or 'webhook_url_file' in "
                "receivers[1].slack",
           at + "5:47: receivers[2].pagerduty.routing_key_file: cannot read '" + missing + "'",
           at + "6:16: receiver d: unknown integration 'slakc'; did you mean 'slack'?",
       }) {
    EXPECT_NE(r.stderr_text.find(expected), std::string::npos) << "missing " << expected << " in:\n"
                                                               << r.stderr_text;
  }
}

TEST(start, refuses_a_config_with_bad_receivers_and_names_every_problem) {
  temp_dir dir("ops-start");
  const auto path = dir.write_file("tocsin.yaml",
                                   "data_dir: " + (dir / "var").string() +
                                       "\n"
                                       "route: { receiver: a }\n"
                                       "receivers:\n"
                                       "  - { name: a, webhook: { url: ftp://x } }\n"  // 4
                                       "  - { name: b, slakc: {} }\n");                // 5
  const auto r = tocsin_cli({"run", "-c", path.string()});
  EXPECT_EQ(r.exit_code, 1);
  const std::string log = r.stdout_text + r.stderr_text;  // spdlog writes to stdout
  const std::string at = path.string() + ":";
  for (const std::string& expected : {
           at + "4:32: receivers[0].webhook.url: invalid URL 'ftp://x'",
           at + "5:16: receiver b: unknown integration 'slakc'; did you mean 'slack'?",
       }) {
    EXPECT_NE(log.find(expected), std::string::npos) << "missing " << expected << " in:\n" << log;
  }
}

TEST(routes_test_command, prints_the_receivers_and_verifies_them) {
  temp_dir dir("ops-routes");
  const auto path =
      dir.write_file("tocsin.yaml",
                     "route:\n"
                     "  receiver: default\n"
                     "  routes:\n"
                     "    - { matchers: ['severity=\"critical\"'], receiver: pager,"
                     " continue: true }\n"
                     "    - { matchers: ['team=~\"db|storage\"'], receiver: dba }\n"
                     "receivers: [ { name: default }, { name: pager }, { name: dba } ]\n");
  auto r = tocsin_cli({"routes", "test", "-c", path.string(), "severity=critical", "team=db"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(r.stdout_text, "pager,dba\n");
  r = tocsin_cli({"routes", "test", "-c", path.string(), "team=web"});
  EXPECT_EQ(r.stdout_text, "default\n");

  r = tocsin_cli({"routes", "test", "-c", path.string(), "--verify-receivers", "pager,dba",
                  "severity=critical", "team=\"storage\""});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  r = tocsin_cli(
      {"routes", "test", "-c", path.string(), "--verify-receivers", "dba", "severity=critical"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.stderr_text.find("expected dba, got pager\n"), std::string::npos) << r.stderr_text;
}

// The classic grammar's corners that Alertmanager's own tests pin down (pkg/labels/parse_test.go)
// and a regex that only parses once anchored: amtool and tocsin must agree on each label set.
const std::string tricky_tree = R"yaml(route:
  receiver: r0
  routes:
    - { matchers: ['tricky=~~~'], receiver: r1, continue: true }
    - { matchers: ['trickier==\\=\=\"'], receiver: r2, continue: true }
    - { matchers: ['{foo=bar}}'], receiver: r3, continue: true }
    - { matchers: ['host=~web\d+', 'host!~web1.*'], receiver: r4, continue: true }
    - { matchers: ['{a="x,y" , b!~"", }'], receiver: r5, continue: true }
    - { matchers: ['{q="She said: \"Hi\""}'], receiver: r6, continue: true }
    - { match_re: { host: 'web[0-9]|db' }, match: { env: '' }, receiver: r7, continue: true }
    - { matchers: ['{host=~"a|b)(c"}'], receiver: r8 }
receivers: [ {name: r0}, {name: r1}, {name: r2}, {name: r3}, {name: r4}, {name: r5}, {name: r6},
             {name: r7}, {name: r8} ]
)yaml";

// `name="value"` with the value escaped for the matcher grammar, as a command-line label.
std::string label_arg(const std::string& name, const std::string& value) {
  std::string out = name + "=\"";
  for (const char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    out += c;
  }
  return out + "\"";
}

// An alertmanager.yml-style tree in Alertmanager's deprecated and current syntax at once: `match`,
// `match_re`, brace items with several matchers, quoted commas and escaped quotes, unquoted
// values, a quoted UTF-8 label name, `continue`, and receivers with no integration. tocsin and
// amtool both load it unchanged.
const std::string alertmanager_tree =
    "route:\n"
    "  receiver: notify-def\n"
    "  group_by: [alertname]\n"
    "  routes:\n"
    "    - match: { owner: team-A }\n"
    "      receiver: notify-A\n"
    "      routes:\n"
    "        - matchers: ['{env=\"testing\"}']\n"
    "          receiver: notify-testing\n"
    "          group_by: [...]\n"
    "        - match: { env: production }\n"
    "          receiver: notify-productionA\n"
    "          continue: true\n"
    "        - match_re: { env: 'produ.*', job: '.*' }\n"
    "          receiver: notify-productionB\n"
    "    - match_re: { owner: 'team-(B|C)' }\n"
    "      receiver: notify-BC\n"
    "    - matchers: ['{severity=~\"crit.*\", msg=\"a, \\\"quoted\\\" b\"}', 'team!=ops']\n"
    "      receiver: notify-crit\n"
    "      continue: true\n"
    "    - matchers: ['  severity = critical ']\n"
    "      receiver: notify-page\n"
    "      routes:\n"
    "        - matchers: [ 'dc =~ \"eu-.*\"', instance!~db.* ]\n"
    "          receiver: notify-eu\n"
    "inhibit_rules:\n"
    "  - source_match: { severity: critical }\n"
    "    target_match_re: { severity: 'warn.*' }\n"
    "    target_matchers: ['{team!=\"ops\"}']\n"
    "    equal: [host]\n"
    "receivers:\n"
    "  - name: notify-def\n"
    "  - name: notify-A\n"
    "  - name: notify-testing\n"
    "  - name: notify-productionA\n"
    "  - name: notify-productionB\n"
    "  - name: notify-BC\n"
    "  - name: notify-crit\n"
    "  - name: notify-page\n"
    "  - name: notify-eu\n";

// Label sets (`tocsin routes test` / `amtool config routes test` arguments) and where they go.
const std::vector<std::pair<std::vector<std::string>, std::string>> alertmanager_tree_cases = {
    {{}, "notify-def"},
    {{"owner=team-A"}, "notify-A"},
    {{"owner=team-A", "env=testing"}, "notify-testing"},
    {{"owner=team-A", "env=production"}, "notify-productionA,notify-productionB"},
    {{"owner=team-A", "env=productionX"}, "notify-productionB"},
    {{"owner=team-A", "env=prod"}, "notify-A"},
    {{"owner=team-C"}, "notify-BC"},
    {{"owner=xteam-C"}, "notify-def"},
    {{"severity=critical"}, "notify-page"},
    {{"severity=critical", "msg=\"a, \\\"quoted\\\" b\""}, "notify-crit,notify-page"},
    {{"severity=critical", "msg=\"a, \\\"quoted\\\" b\"", "team=ops"}, "notify-page"},
    {{"severity=critical", "dc=eu-west"}, "notify-eu"},
    {{"severity=critical", "dc=eu-west", "instance=db1"}, "notify-page"},
    {{"severity=criticalX", "msg=\"a, \\\"quoted\\\" b\""}, "notify-crit"},
    {{"severity=warning", "dc=\"eu-west\""}, "notify-def"},
    {{"owner=team-B", "severity=critical"}, "notify-BC"},
};

TEST(routes_test_command, reads_alertmanagers_route_syntax) {
  temp_dir dir("ops-routes-am");
  const auto path = dir.write_file("alertmanager.yml", alertmanager_tree);
  const auto check = tocsin_cli({"check-config", "-c", path.string()});
  EXPECT_EQ(check.exit_code, 0) << check.stderr_text;
  for (const auto& [labels, expected] : alertmanager_tree_cases) {
    std::vector<std::string> args = {"routes", "test", "-c", path.string()};
    args.insert(args.end(), labels.begin(), labels.end());
    const auto r = tocsin_cli(args);
    EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
    EXPECT_EQ(r.stdout_text, expected + "\n") << ::testing::PrintToString(labels);
  }
  // A label argument is read like a matcher, as amtool reads it: a quoted UTF-8 name works, a
  // non-equality operator does not.
  const auto utf8 =
      dir.write_file("utf8.yaml",
                     "route:\n  receiver: a\n  routes:\n"
                     "    - { matchers: ['{\"service name\"=~\"api|web\"}'], receiver: b }\n"
                     "receivers: [ { name: a }, { name: b } ]\n");
  auto r = tocsin_cli({"routes", "test", "-c", utf8.string(), "\"service name\"=web"});
  EXPECT_EQ(r.stdout_text, "b\n") << r.stderr_text;
  r = tocsin_cli({"routes", "test", "-c", utf8.string(), "team=~db"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.stderr_text.find("name=value"), std::string::npos) << r.stderr_text;
}

TEST(check_config, alertmanager_errors_point_at_the_item) {
  temp_dir dir("ops-check-am");
  const auto path = dir.write_file("alertmanager.yml",
                                   "route:\n"                                            // 1
                                   "  receiver: a\n"                                     // 2
                                   "  continue: true\n"                                  // 3
                                   "  routes:\n"                                         // 4
                                   "    - receiver: a\n"                                 // 5
                                   "      match_re: { host: 'web(' }\n"                  // 6
                                   "      matchers: ['{env=\"prod\", job=~\"[a-\"}',\n"  // 7
                                   "                 'severity']\n"                      // 8
                                   "inhibit_rules:\n"                                    // 9
                                   "  - source_match: { host-name: x }\n"                // 10
                                   "    target_matchers: ['{a=\"b\", c=~\"(\"}']\n"      // 11
                                   "receivers: [ { name: a } ]\n");
  const auto r = tocsin_cli({"check-config", "-c", path.string()});
  EXPECT_EQ(r.exit_code, 1);
  const std::string at = path.string() + ":";
  for (const std::string& expected : {
           at + "3:3: route.continue: the root route cannot have continue: true",
           at + "6:19: invalid matcher 'host=~\"^(?:web()$\"': invalid regex",
           at + "7:18: invalid matcher 'job=~\"[a-\"': invalid regex",
           at + "8:18: route.routes[0].matchers[1]: invalid matcher 'severity'",
           at + "10:21: inhibit_rules[0].source_match: invalid label name 'host-name'",
           at + "11:23: invalid target matcher 'c=~\"(\"': invalid regex",
       }) {
    EXPECT_NE(r.stderr_text.find(expected), std::string::npos) << "missing " << expected << " in:\n"
                                                               << r.stderr_text;
  }
}

// The real peer: amtool (Debian's prometheus-alertmanager) routes the same file to the same
// receivers. amtool lists a receiver once per matching route; tocsin lists each once (DESIGN.md),
// so amtool's answer is compared with its repeats removed.
TEST(routes_test_command, agrees_with_amtool) {
  const auto amtool = find_program("amtool");
  if (amtool.empty()) GTEST_SKIP() << "amtool is not installed (Debian: prometheus-alertmanager)";
  temp_dir dir("ops-routes-amtool");
  const auto path = dir.write_file("alertmanager.yml", alertmanager_tree);
  const auto dedupe = [](const std::string& line) {
    std::vector<std::string> seen;
    std::string out;
    std::size_t start = 0;
    while (start <= line.size()) {
      const std::size_t comma = std::min(line.find(',', start), line.size());
      const std::string name = line.substr(start, comma - start);
      if (std::find(seen.begin(), seen.end(), name) == seen.end()) {
        seen.push_back(name);
        out += (out.empty() ? "" : ",") + name;
      }
      start = comma + 1;
    }
    return out;
  };
  const auto checked = run_command({amtool.string(), "check-config", path.string()});
  ASSERT_EQ(checked.exit_code, 0) << checked.stdout_text << checked.stderr_text;
  for (const auto& [labels, expected] : alertmanager_tree_cases) {
    SCOPED_TRACE(::testing::PrintToString(labels));
    std::vector<std::string> am = {amtool.string(), "config", "routes", "test",
                                   "--config.file=" + path.string()};
    am.insert(am.end(), labels.begin(), labels.end());
    const auto theirs = run_command(am);
    ASSERT_EQ(theirs.exit_code, 0) << theirs.stderr_text;
    std::vector<std::string> args = {"routes", "test", "-c", path.string()};
    args.insert(args.end(), labels.begin(), labels.end());
    const auto ours = tocsin_cli(args);
    ASSERT_EQ(ours.exit_code, 0) << ours.stderr_text;
    std::string their_line = theirs.stdout_text;
    while (!their_line.empty() && their_line.back() == '\n') their_line.pop_back();
    EXPECT_EQ(ours.stdout_text, dedupe(their_line) + "\n");
    EXPECT_EQ(ours.stdout_text, expected + "\n");
  }
  // Label sets drawn (with a fixed seed) from values that sit on each matcher's edge.
  const auto tricky = dir.write_file("tricky.yml", tricky_tree);
  const std::vector<std::pair<std::string, std::vector<std::string>>> values = {
      {"tricky", {"~~", "~"}},
      {"trickier", {R"(=\=\=")", R"(=\=\=)"}},
      {"foo", {"bar}", "bar"}},
      {"host", {"web1", "web2", "web22", "db", "web", "ac", "b"}},
      {"a", {"x,y", "x"}},
      {"b", {"z"}},
      {"q", {R"(She said: "Hi")", "x"}},
      {"env", {"prod"}},
  };
  std::minstd_rand rng(7);
  for (int n = 0; n < 40; ++n) {
    std::vector<std::string> labels;
    for (const auto& [name, choices] : values) {
      if (rng() % 5 < 3) labels.push_back(label_arg(name, choices[rng() % choices.size()]));
    }
    SCOPED_TRACE(::testing::PrintToString(labels));
    std::vector<std::string> am = {amtool.string(), "config", "routes", "test",
                                   "--config.file=" + tricky.string()};
    am.insert(am.end(), labels.begin(), labels.end());
    const auto theirs = run_command(am);
    ASSERT_EQ(theirs.exit_code, 0) << theirs.stderr_text;
    std::vector<std::string> args = {"routes", "test", "-c", tricky.string()};
    args.insert(args.end(), labels.begin(), labels.end());
    const auto ours = tocsin_cli(args);
    ASSERT_EQ(ours.exit_code, 0) << ours.stderr_text;
    std::string their_line = theirs.stdout_text;
    while (!their_line.empty() && their_line.back() == '\n') their_line.pop_back();
    EXPECT_EQ(ours.stdout_text, dedupe(their_line) + "\n");
  }

  // Both refuse a root route with `continue` and a bad regex.
  for (const std::string& bad : {
           std::string("route: { receiver: a, continue: true }\nreceivers: [ { name: a } ]\n"),
           std::string("route:\n  receiver: a\n  routes: [ { receiver: a, match_re: { x: '(' } } "
                       "]\nreceivers: [ { name: a } ]\n"),
           std::string("route:\n  receiver: a\n  routes: [ { receiver: a, matchers: ['{x=~\"(\"}'] "
                       "} ]\nreceivers: [ { name: a } ]\n"),
       }) {
    const auto file = dir.write_file("bad.yml", bad);
    EXPECT_NE(run_command({amtool.string(), "check-config", file.string()}).exit_code, 0) << bad;
    EXPECT_EQ(tocsin_cli({"check-config", "-c", file.string()}).exit_code, 1) << bad;
  }
}

const std::string disk_rule =
    "rules:\n"
    "  - name: disk-full\n"
    "    match: { message: 'No space left on device' }\n";

// Rules, a route to one of two webhooks, and the admin API.
daemon_options reload_options(const http_capture& first, const http_capture& second) {
  daemon_options options;
  options.files["rules/main.yaml"] = disk_rule;
  options.extra_config =
      "rules_files: [\"rules/*.yaml\"]\n"
      "route: { receiver: first, group_by: ['...'], group_wait: 0s }\n"
      "receivers:\n"
      "  - { name: first, webhook: { url: \"" +
      first.url() +
      "\" } }\n"
      "  - { name: second, webhook: { url: \"" +
      second.url() + "\" } }\n";
  return options;
}

TEST(reload, switches_rules_and_routes_without_dropping_connections) {
  http_capture first, second;
  daemon_options options = reload_options(first, second);
  tocsin_daemon daemon(options);
  tcp_client conn(daemon.syslog_port());
  ASSERT_TRUE(
      conn.send_all(syslog_line("app", "No space left on device", {.pri = 11, .host = "h1"})));
  ASSERT_TRUE(first.wait_for(1, patience));

  // A new rule, and its alerts go to `second`: SIGHUP applies both.
  daemon.dir().write_file("rules/main.yaml", disk_rule +
                                                 "  - name: oom\n"
                                                 "    match: { message: 'Out of memory' }\n");
  std::string cfg = read_file(daemon.dir() / "tocsin.yaml");
  const std::string old_route = "route: { receiver: first,";
  ASSERT_NE(cfg.find(old_route), std::string::npos);
  cfg.replace(cfg.find(old_route), old_route.size(),
              "route: { routes: [ { matchers: ['alertname=\"oom\"'], receiver: second } ],"
              " receiver: first,");
  daemon.dir().write_file("tocsin.yaml", cfg);
  daemon.signal(SIGHUP);
  ASSERT_TRUE(daemon.wait_for_metric("tocsin_config_reloads_total", {{"result", "success"}},
                                     [](double v) { return v == 1; }))
      << daemon.log_text();
  EXPECT_EQ(daemon.metric("tocsin_config_last_reload_successful", {}), 1);

  // The same connection, still open, carries the line the new rule fires on.
  ASSERT_TRUE(conn.send_all(
      syslog_line("app", "Out of memory: Killed process 1 (x)", {.pri = 11, .host = "h2"})));
  ASSERT_TRUE(second.wait_for(1, patience)) << daemon.log_text();
  const json body = json::parse(second.requests()[0].body);
  EXPECT_EQ(body["alerts"][0]["labels"]["alertname"], "oom");
  // The alert `first` already had is not sent to it again after the regrouping. Nothing marks
  // "no resend coming", so this watches for one for a while (group_wait is 0s: it would be soon).
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(first.requests().size(), 1U);
  EXPECT_EQ(daemon.metric("tocsin_input_connections", {{"input", "syslog-tcp"}}), 1);
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(reload, an_invalid_config_is_refused_and_the_old_one_keeps_serving) {
  http_capture first, second;
  tocsin_daemon daemon(reload_options(first, second));
  const std::string good = read_file(daemon.dir() / "tocsin.yaml");
  daemon.dir().write_file("tocsin.yaml", good + "route_typo: 1\n");
  const auto refused = http_request("POST", "127.0.0.1", daemon.admin_port(), "/-/reload");
  EXPECT_EQ(refused.status, 500);
  EXPECT_NE(refused.body.find("tocsin.yaml:"), std::string::npos) << refused.body;
  EXPECT_NE(refused.body.find("route_typo"), std::string::npos) << refused.body;
  EXPECT_EQ(daemon.metric("tocsin_config_reloads_total", {{"result", "failure"}}), 1);
  EXPECT_EQ(daemon.metric("tocsin_config_last_reload_successful", {}), 0);
  EXPECT_EQ(http_get("127.0.0.1", daemon.admin_port(), "/-/reload").status, 405);

  // SIGHUP with the same broken file: refused too; the old rules and routes still work.
  daemon.signal(SIGHUP);
  ASSERT_TRUE(daemon.wait_for_metric("tocsin_config_reloads_total", {{"result", "failure"}},
                                     [](double v) { return v == 2; }));
  tcp_client conn(daemon.syslog_port());
  ASSERT_TRUE(
      conn.send_all(syslog_line("app", "No space left on device", {.pri = 11, .host = "h1"})));
  ASSERT_TRUE(first.wait_for(1, patience)) << daemon.log_text();
  EXPECT_TRUE(daemon.running());

  // A change that needs a restart is applied as far as it can be, and said so.
  daemon.dir().write_file("tocsin.yaml", "node_name: renamed\n" + good);
  const auto ok = http_request("POST", "127.0.0.1", daemon.admin_port(), "/-/reload");
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_NE(daemon.log_text().find("node_name changed; that takes a restart"), std::string::npos)
      << daemon.log_text();
  EXPECT_EQ(daemon.metric("tocsin_config_last_reload_successful", {}), 1);
}

TEST(reload, a_bad_receiver_setting_is_refused_at_its_key) {
  http_capture first, second;
  tocsin_daemon daemon(reload_options(first, second));
  std::string cfg = read_file(daemon.dir() / "tocsin.yaml");
  const std::string webhook = "webhook: { ";
  const auto at = cfg.find(webhook);
  ASSERT_NE(at, std::string::npos) << cfg;
  cfg.insert(at + webhook.size(), "timeout: soon, ");
  daemon.dir().write_file("tocsin.yaml", cfg);
  const auto refused = http_request("POST", "127.0.0.1", daemon.admin_port(), "/-/reload");
  EXPECT_EQ(refused.status, 500);
  EXPECT_NE(refused.body.find("receivers[0].webhook.timeout: invalid duration 'soon'"),
            std::string::npos)
      << refused.body;
  EXPECT_EQ(daemon.metric("tocsin_config_last_reload_successful", {}), 0);

  // The old receiver still delivers.
  tcp_client conn(daemon.syslog_port());
  ASSERT_TRUE(conn.send_all(syslog_line("h1", "No space left on device")));
  ASSERT_TRUE(first.wait_for(1, patience)) << daemon.log_text();
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(admin, a_token_guards_everything_but_healthz) {
  temp_dir secrets("ops-token");
  const auto token_file = secrets.write_file("admin.token", "let-me-in\n");
  daemon_options options;
  options.extra_admin = ", token_file: " + token_file.string();
  tocsin_daemon daemon(options);
  const auto port = daemon.admin_port();
  EXPECT_EQ(http_get("127.0.0.1", port, "/healthz").status, 200);
  for (const char* path : {"/metrics", "/readyz", "/api/v2/alerts", "/api/v2/status"}) {
    SCOPED_TRACE(path);
    EXPECT_EQ(http_get("127.0.0.1", port, path).status, 401);
    EXPECT_EQ(http_request("GET", "127.0.0.1", port, path, {}, {}, 10s,
                           {{"Authorization", "Bearer let-me-in"}})
                  .status,
              200);
  }
  EXPECT_EQ(http_request("POST", "127.0.0.1", port, "/-/reload").status, 401);
}

TEST(admin, readyz_once_inputs_are_bound) {
  tocsin_daemon daemon;
  const auto r = http_get("127.0.0.1", daemon.admin_port(), "/readyz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ready\n");
}

// SIGTERM waits, within shutdown_timeout, for a slow receiver to take what it holds: the
// notification in progress and the one queued behind it. Exit 0, and nothing is sent again
// after a restart.
TEST(shutdown, sigterm_drains_the_receivers_and_exits_zero) {
  http_capture slow, unused;
  slow.set_default_response({.status = 200, .body = "", .headers = {}, .delay = 1500ms});
  daemon_options options = reload_options(slow, unused);
  options.extra_config += "shutdown_timeout: 20s\n";
  options.files["rules/main.yaml"] = disk_rule +
                                     "  - name: oom\n"
                                     "    match: { message: 'Out of memory' }\n";
  tocsin_daemon daemon(options);
  tcp_client conn(daemon.syslog_port());
  ASSERT_TRUE(conn.send_all(
      syslog_line("app", "No space left on device", {.pri = 11, .host = "h1"}) +
      syslog_line("app", "Out of memory: Killed process 1 (x)", {.pri = 11, .host = "h1"})));
  ASSERT_TRUE(slow.wait_for(1, patience));  // the first is in progress, the second queued
  EXPECT_EQ(daemon.stop(), 0);
  EXPECT_EQ(slow.requests().size(), 2U) << "the queued notification was not sent before exit";
  EXPECT_NE(daemon.log_text().find("stopped"), std::string::npos);
  EXPECT_EQ(daemon.log_text().find("shutdown_timeout reached"), std::string::npos);

  daemon.restart();
  // A resend would follow the restart at once (group_wait is 0s); nothing marks its absence, so
  // this watches for one for a while.
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(slow.requests().size(), 2U) << "delivered before the exit, so not sent again";
}

TEST(reload, put_reloads_too_and_a_file_that_is_not_yaml_is_refused) {
  http_capture first, second;
  tocsin_daemon daemon(reload_options(first, second));
  const auto ok = http_request("PUT", "127.0.0.1", daemon.admin_port(), "/-/reload");
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.body, "1 rules, 2 receivers, 1 outputs\n");
  EXPECT_EQ(daemon.metric("tocsin_config_reloads_total", {{"result", "success"}}), 1);

  daemon.dir().write_file("tocsin.yaml", "inputs: [\n");
  const auto refused = http_request("POST", "127.0.0.1", daemon.admin_port(), "/-/reload");
  EXPECT_EQ(refused.status, 500);
  EXPECT_NE(refused.body.find("tocsin.yaml"), std::string::npos) << refused.body;
  EXPECT_EQ(daemon.metric("tocsin_config_reloads_total", {{"result", "failure"}}), 1);
  EXPECT_EQ(daemon.metric("tocsin_config_last_reload_successful", {}), 0);
  // The running config stays: its rule still alerts.
  tcp_client conn(daemon.syslog_port());
  ASSERT_TRUE(conn.send_all(syslog_line("h1", "No space left on device")));
  EXPECT_TRUE(first.wait_for(1, patience)) << daemon.log_text();
}

TEST(start, raises_the_soft_descriptor_limit_to_the_hard_one) {
  daemon_options options;
  options.launcher = {"/usr/bin/prlimit", "--nofile=256:2048", "--"};
  tocsin_daemon daemon(options);
  const std::string limits = read_file("/proc/" + std::to_string(daemon.pid()) + "/limits");
  EXPECT_TRUE(std::regex_search(limits, std::regex(R"(Max open files +2048 +2048 )"))) << limits;
  // 2048 less a quarter kept in reserve (256 would have given 192).
  EXPECT_NE(daemon.log_text().find("descriptors: 1536 for connections"), std::string::npos)
      << daemon.log_text();
}

TEST(shutdown, sigint_drains_and_exits_zero_like_sigterm) {
  tocsin_daemon daemon;
  tcp_client conn(daemon.syslog_port());
  ASSERT_TRUE(conn.send_all(syslog_line("app", "before SIGINT", {.host = "h1"})));
  ASSERT_TRUE(daemon.wait_for_event_with("message", "before SIGINT"));
  daemon.signal(SIGINT);
  ASSERT_TRUE(wait_until([&] { return !daemon.running(); }, patience));
  EXPECT_EQ(daemon.stop(), 0);
  EXPECT_NE(daemon.log_text().find("SIGINT: shutting down"), std::string::npos)
      << daemon.log_text();
  EXPECT_NE(daemon.log_text().find("stopped"), std::string::npos);
}

// A notification still in progress at shutdown_timeout: the daemon stops anyway (exit 0) and
// says it is sent again after the next start.
TEST(shutdown, a_receiver_slower_than_shutdown_timeout_is_left_for_the_next_start) {
  http_capture slow, unused;
  slow.set_default_response({.status = 200, .body = "", .headers = {}, .delay = 3s});
  daemon_options options = reload_options(slow, unused);
  options.extra_config += "shutdown_timeout: 1s\n";
  tocsin_daemon daemon(options);
  tcp_client conn(daemon.syslog_port());
  ASSERT_TRUE(
      conn.send_all(syslog_line("app", "No space left on device", {.pri = 11, .host = "h1"})));
  ASSERT_TRUE(slow.wait_for(1, patience));  // in progress for 3 s
  EXPECT_EQ(daemon.stop(), 0);
  EXPECT_NE(daemon.log_text().find("shutdown_timeout reached with notifications still being sent"),
            std::string::npos)
      << daemon.log_text();
}

}  // namespace
}  // namespace tocsin::test
