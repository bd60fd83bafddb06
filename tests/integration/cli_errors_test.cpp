// The subcommands' refusals, run as an operator would: what each prints and its exit status
// when an argument, the config or the peer it talks to is wrong. And `oncall ack` against a fake
// admin API (a capture server), for the answers a real daemon rarely gives.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/support.hpp"

namespace tocsin::test {
namespace {

using json = nlohmann::json;

class cli_errors : public ::testing::Test {
 protected:
  command_result tocsin(std::vector<std::string> args, std::string_view input = {}) const {
    args.insert(args.begin(), tocsin_binary().string());
    return run_command(args, input);
  }
  std::string config(const std::string& yaml) const {
    return dir_.write_file("tocsin.yaml", yaml).string();
  }

  temp_dir dir_{"cli-errors"};
};

constexpr const char* routed =
    "route: { receiver: ops }\n"
    "receivers: [ { name: ops } ]\n";

TEST_F(cli_errors, routes_test_takes_only_equality_labels) {
  const std::string cfg = config(routed);
  const auto not_equal = tocsin({"routes", "test", "-c", cfg, "severity!=page"});
  EXPECT_EQ(not_equal.exit_code, 2);
  EXPECT_EQ(not_equal.stdout_text, "");
  EXPECT_EQ(not_equal.stderr_text,
            "routes test: 'severity!=page' is not label=value: labels must be given as "
            "name=value\n");
  const auto garbage = tocsin({"routes", "test", "-c", cfg, "=x"});
  EXPECT_EQ(garbage.exit_code, 2);
  EXPECT_NE(garbage.stderr_text.find("routes test: '=x' is not label=value: "), std::string::npos)
      << garbage.stderr_text;
  const auto ok = tocsin({"routes", "test", "-c", cfg, "severity=page"});
  EXPECT_EQ(ok.exit_code, 0) << ok.stderr_text;
  EXPECT_EQ(ok.stdout_text, "ops\n");
}

TEST_F(cli_errors, routes_test_without_a_route_or_with_a_broken_config) {
  const std::string cfg = config("receivers: [ { name: ops } ]\n");
  const auto no_route = tocsin({"routes", "test", "-c", cfg, "a=b"});
  EXPECT_EQ(no_route.exit_code, 1);
  EXPECT_EQ(no_route.stderr_text, cfg + ": no route: alerts reach no receiver\n");
  config("route: { receiver: ops }\nreceivers: [ { name: ops } ]\nroutez: 1\n");
  const auto broken = tocsin({"routes", "test", "-c", cfg, "a=b"});
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_EQ(broken.stdout_text, "");
  EXPECT_NE(broken.stderr_text.find(cfg + ":3:"), std::string::npos) << broken.stderr_text;
  EXPECT_NE(broken.stderr_text.find("routez"), std::string::npos) << broken.stderr_text;
}

TEST_F(cli_errors, test_rules_with_a_broken_config_exits_1) {
  const std::string cfg = config("rules_filez: [x]\n");
  const auto r = tocsin({"test-rules", "-c", cfg}, "<13>1 - h a - - - hello\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.stdout_text, "");
  EXPECT_NE(r.stderr_text.find(cfg + ":1:"), std::string::npos) << r.stderr_text;
  EXPECT_NE(r.stderr_text.find("rules_filez"), std::string::npos) << r.stderr_text;
}

TEST_F(cli_errors, test_rules_counts_undecodable_lines_and_dates_untimed_ones_now) {
  dir_.write_file("rules.yaml",
                  "rules:\n  - { name: disk-full, match: { message: 'No space' } }\n");
  const std::string cfg = config("rules_files: [rules.yaml]\n");
  // The first decodable line has no timestamp (RFC 5424's "-"): its alert starts now, not at
  // the epoch.
  const auto r = tocsin({"test-rules", "-c", cfg},
                        "{not json\n<11>1 - web1 app - - - No space left on device\n{\n");
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(r.stderr_text, "test-rules: 2 line(s) could not be decoded\n");
  std::istringstream lines(r.stdout_text);
  std::vector<json> alerts;
  for (std::string l; std::getline(lines, l);) alerts.push_back(json::parse(l));
  ASSERT_EQ(alerts.size(), 1U) << r.stdout_text;
  EXPECT_EQ(alerts[0]["labels"]["alertname"], "disk-full");
  const std::string starts = alerts[0].value("startsAt", "");
  ASSERT_GE(starts.size(), 4U) << alerts[0].dump();
  EXPECT_GE(std::stoi(starts.substr(0, 4)), 2024) << alerts[0].dump();
}

TEST_F(cli_errors, test_rules_gives_an_untimed_line_the_previous_lines_time) {
  dir_.write_file("rules.yaml",
                  "rules:\n  - { name: disk-full, match: { message: 'No space' } }\n");
  const std::string cfg = config("rules_files: [rules.yaml]\n");
  const auto r = tocsin({"test-rules", "-c", cfg},
                        "<11>1 2026-11-26T10:00:00Z web1 app - - - No space left\n"
                        "   \n"
                        "<11>1 - web2 app - - - No space left\n");
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(r.stderr_text, "") << "a blank line decodes (as RFC 3164)";
  std::istringstream lines(r.stdout_text);
  std::vector<json> alerts;
  for (std::string l; std::getline(lines, l);) alerts.push_back(json::parse(l));
  ASSERT_EQ(alerts.size(), 2U) << r.stdout_text;
  for (const json& a : alerts) {
    EXPECT_EQ(a.value("startsAt", "").substr(0, 19), "2026-11-26T10:00:00") << a.dump();
  }
}

TEST_F(cli_errors, parse_refuses_an_unknown_timezone) {
  const auto r = tocsin({"parse", "--timezone", "Mars/Olympus_Mons"}, "<13>1 - h a - - - x\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE((r.stdout_text + r.stderr_text).find("unknown timezone 'Mars/Olympus_Mons'"),
            std::string::npos)
      << r.stdout_text << r.stderr_text;
  EXPECT_EQ(r.stdout_text.find("\"message\""), std::string::npos) << "nothing was decoded";
}

TEST_F(cli_errors, parse_with_a_fixed_format_decodes_only_that_format) {
  const std::string rfc5424 = "<13>1 2024-05-01T10:00:00Z h a - - - five\n";
  const std::string rfc3164 = "<13>May  1 10:00:00 h b: three\n";
  const auto strict = tocsin({"parse", "--format", "rfc5424"}, rfc5424 + rfc3164);
  EXPECT_EQ(strict.exit_code, 1) << "the RFC 3164 line is refused";
  std::istringstream strict_lines(strict.stdout_text);
  std::vector<json> out;
  for (std::string l; std::getline(strict_lines, l);) out.push_back(json::parse(l));
  ASSERT_EQ(out.size(), 2U) << strict.stdout_text;
  EXPECT_EQ(out[0].value("message", ""), "five");
  EXPECT_TRUE(out[1].contains("error")) << out[1].dump();

  const auto legacy = tocsin({"parse", "--format", "rfc3164", "--timezone", "UTC"}, rfc3164);
  EXPECT_EQ(legacy.exit_code, 0) << legacy.stdout_text;
  const json ev = json::parse(legacy.stdout_text);
  EXPECT_EQ(ev.value("app", ""), "b");
  EXPECT_EQ(ev.value("message", ""), "three");
}

TEST_F(cli_errors, parse_auto_reads_a_blank_line_as_syslog_not_gelf) {
  const auto r = tocsin({"parse"},
                        " \t\n<13>1 - h a - - - after\n"
                        " {\"version\":\"1.1\",\"host\":\"h\",\"short_message\":\"gelf\"}\n");
  EXPECT_EQ(r.exit_code, 0) << r.stdout_text;
  std::istringstream lines(r.stdout_text);
  std::vector<json> out;
  for (std::string l; std::getline(lines, l);) out.push_back(json::parse(l));
  ASSERT_EQ(out.size(), 3U) << r.stdout_text;
  EXPECT_EQ(out[0].value("format", ""), "rfc3164") << out[0].dump();
  EXPECT_EQ(out[0].value("message", ""), " \t") << out[0].dump();
  EXPECT_EQ(out[1].value("message", ""), "after");
  EXPECT_EQ(out[2].value("format", ""), "gelf") << "a line starting with '{' is GELF";
  EXPECT_EQ(out[2].value("message", ""), "gelf");
}

TEST_F(cli_errors, collector_and_router_need_a_kafka_bus) {
  const std::string cfg = config("data_dir: " + (dir_ / "lib").string() + "\n" + routed);
  for (const char* role : {"collector", "router"}) {
    SCOPED_TRACE(role);
    const auto r = tocsin({role, "-c", cfg});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE((r.stdout_text + r.stderr_text)
                  .find(std::string("tocsin ") + role + " needs bus.type kafka in " + cfg),
              std::string::npos)
        << r.stdout_text << r.stderr_text;
  }
}

TEST_F(cli_errors, a_command_without_a_subcommand_is_a_usage_error) {
  const auto none = tocsin({});
  EXPECT_NE(none.exit_code, 0);
  EXPECT_NE((none.stdout_text + none.stderr_text).find("subcommand"), std::string::npos)
      << none.stdout_text << none.stderr_text;
  // Nor is a group without its subcommand: it does not fall through to another one.
  for (const char* group : {"routes", "oncall"}) {
    SCOPED_TRACE(group);
    const auto r = tocsin({group});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_EQ(r.stdout_text.find("boost"), std::string::npos) << r.stdout_text;
  }
  const auto days = tocsin({"oncall", "schedule", "-c", config(""), "ops", "--days", "0"});
  EXPECT_NE(days.exit_code, 0);
  EXPECT_EQ(days.stdout_text.find("START"), std::string::npos);
}

// --- oncall who / schedule ----------------------------------------------------------------------

TEST_F(cli_errors, oncall_who_with_nobody_in_sight_prints_dashes) {
  const std::string cfg = config(
      "oncall:\n"
      "  users: [ {name: alice} ]\n"
      "  schedules:\n"
      "    - { name: later, time_zone: UTC,\n"
      "        layers: [ { start: 2030-01-01T00:00, rotation: 1w, users: [alice] } ] }\n");
  const auto r = tocsin({"oncall", "who", "-c", cfg, "--at", "2026-01-01T00:00:00Z"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(r.stdout_text, "later  -  -\n");
}

TEST_F(cli_errors, oncall_schedule_refusals) {
  const std::string cfg = config("oncall: { users: [ {name: alice} ] }\n");
  const auto none = tocsin({"oncall", "schedule", "-c", cfg, "ops"});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_EQ(none.stderr_text,
            "oncall schedule: " + cfg + " has no schedule 'ops' (schedules: none)\n");
  const auto bad_time = tocsin({"oncall", "schedule", "-c", cfg, "ops", "--at", "soon"});
  EXPECT_EQ(bad_time.exit_code, 1);
  EXPECT_EQ(bad_time.stderr_text, "--at soon: not an RFC 3339 time\n");
  config("oncall: { userz: [] }\n");
  const auto broken = tocsin({"oncall", "schedule", "-c", cfg, "ops"});
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_EQ(broken.stdout_text, "");
  EXPECT_NE(broken.stderr_text.find("userz"), std::string::npos) << broken.stderr_text;
}

// --- oncall ack ----------------------------------------------------------------------------------

TEST_F(cli_errors, oncall_ack_needs_an_admin_listener_and_a_readable_token) {
  const auto no_admin = tocsin({"oncall", "ack", "-c", config(routed), "p1", "--by", "alice"});
  EXPECT_EQ(no_admin.exit_code, 1);
  EXPECT_NE(no_admin.stderr_text.find("has no admin listener to send the ack to"),
            std::string::npos)
      << no_admin.stderr_text;

  const std::string cfg = config("admin: { listen: 127.0.0.1:9, token_file: missing.token }\n");
  const auto no_token = tocsin({"oncall", "ack", "-c", cfg, "p1", "--by", "alice"});
  EXPECT_EQ(no_token.exit_code, 1);
  EXPECT_NE(no_token.stderr_text.find("admin.token_file missing.token: "), std::string::npos)
      << no_token.stderr_text;

  config("admin: { listen: 127.0.0.1:9 }\nadminz: 1\n");
  const auto broken = tocsin({"oncall", "ack", "-c", cfg, "p1", "--by", "alice"});
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_NE(broken.stderr_text.find("adminz"), std::string::npos) << broken.stderr_text;
}

TEST_F(cli_errors, oncall_ack_to_a_wildcard_listener_goes_to_loopback_with_the_token) {
  http_capture admin;
  admin.push_response({.status = 500, .body = "router.db is read-only", .headers = {}});
  admin.push_response({.status = 200, .body = "not json", .headers = {}});
  admin.push_response({.status = 200, .body = R"({"acked_by":"bob"})", .headers = {}});
  dir_.write_file("admin.token", "s3cret\n");
  const std::string cfg = config("admin: { listen: 0.0.0.0:" + std::to_string(admin.port()) +
                                 ", token_file: admin.token }\n");
  const std::vector<std::string> ack = {"oncall", "ack",   "-c",        cfg,    "p1",
                                        "--by",   "alice", "--comment", "on it"};

  const auto refused = tocsin(ack);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(refused.stderr_text, "oncall ack: http://127.0.0.1:" + std::to_string(admin.port()) +
                                     "/api/v1/oncall/ack answered 500: router.db is read-only\n");
  const auto requests = admin.requests();
  ASSERT_EQ(requests.size(), 1U);
  const auto& sent = requests[0];
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.target, "/api/v1/oncall/ack");
  EXPECT_EQ(sent.headers.at("authorization"), "Bearer s3cret");
  EXPECT_EQ(json::parse(sent.body),
            (json{{"page_id", "p1"}, {"by", "alice"}, {"comment", "on it"}}));

  // A 200 whose body is not the API's JSON: the ack is taken as the caller's.
  const auto odd = tocsin(ack);
  EXPECT_EQ(odd.exit_code, 0) << odd.stderr_text;
  EXPECT_EQ(odd.stdout_text, "p1 acknowledged by alice\n");
  // The API's answer names who acknowledged (a user's own token makes it theirs).
  const auto taken = tocsin(ack);
  EXPECT_EQ(taken.exit_code, 0) << taken.stderr_text;
  EXPECT_EQ(taken.stdout_text, "p1 acknowledged by bob\n");
}

TEST_F(cli_errors, oncall_ack_with_nothing_listening_names_the_url) {
  // An IPv6 wildcard listener is reached on ::1; nothing listens there.
  const std::uint16_t port = free_port();
  const std::string cfg =
      config("admin: { listen: \"[::]:" + std::to_string(port) + "\", insecure: true }\n");
  const auto r = tocsin({"oncall", "ack", "-c", cfg, "p1", "--by", "alice"});
  EXPECT_EQ(r.exit_code, 1);
  const std::string url = "http://[::1]:" + std::to_string(port) + "/api/v1/oncall/ack: ";
  EXPECT_EQ(r.stderr_text.rfind("oncall ack: " + url, 0), 0U) << r.stderr_text;
  EXPECT_GT(r.stderr_text.size(), ("oncall ack: " + url + "\n").size()) << "with the reason";
}

}  // namespace
}  // namespace tocsin::test
