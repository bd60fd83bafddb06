// The one-shot commands of the real binary: `tocsin parse`, `tocsin version`,
// `tocsin check-config`.

#include "tests/integration/tocsin_daemon.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace tocsin::test {
namespace {

const std::regex received_at_format(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)");

std::vector<json> json_lines(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(json::parse(line));
  return out;
}

// Every field of `actual` but received_at, which must be there and well-formed.
json without_received_at(json actual) {
  EXPECT_TRUE(actual.contains("received_at")) << actual.dump();
  if (actual.contains("received_at")) {
    EXPECT_TRUE(std::regex_match(actual["received_at"].get<std::string>(), received_at_format));
    actual.erase("received_at");
  }
  return actual;
}

struct parse_case {
  std::string name;
  std::vector<std::string> args;  // after "parse"
  std::string line;
  json expected;  // without received_at
};

void PrintTo(const parse_case& c, std::ostream* os) { *os << c.name; }

const std::vector<parse_case> parse_cases = {
    // RFC 5424 §6.5, example 4 (with the UTF-8 BOM before MSG, which is removed).
    {"rfc5424_example_sd_bom",
     {},
     "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 "
     "iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] \xEF\xBB\xBF"
     "An application event log entry...",
     {{"timestamp", "2003-10-11T22:14:15.003Z"},
      {"host", "mymachine.example.com"},
      {"app", "evntslog"},
      {"msgid", "ID47"},
      {"facility", "local4"},
      {"severity", "notice"},
      {"message", "An application event log entry..."},
      {"sd",
       {{"exampleSDID@32473",
         {{"iut", "3"}, {"eventSource", "Application"}, {"eventID", "1011"}}}}},
      {"format", "rfc5424"}}},
    // RFC 5424 §6.5, example 2: offset and microseconds kept as sent, procid, no SD.
    {"rfc5424_example_offset",
     {"--format", "rfc5424"},
     "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the "
     "do-nuts.",
     {{"timestamp", "2003-08-24T05:14:15.000003-07:00"},
      {"host", "192.0.2.1"},
      {"app", "myproc"},
      {"procid", "8710"},
      {"facility", "local4"},
      {"severity", "notice"},
      {"message", "%% It's time to make the do-nuts."},
      {"format", "rfc5424"}}},
    // RFC 5424 §6.5 example 3: two SD elements, the second with escaped characters, no MSG.
    {"rfc5424_sd_escapes",
     {},
     R"(<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3"][examplePriority@32473 class="high" note="a \"quoted\" \] and \\"])",
     {{"timestamp", "2003-10-11T22:14:15.003Z"},
      {"host", "mymachine.example.com"},
      {"app", "evntslog"},
      {"msgid", "ID47"},
      {"facility", "local4"},
      {"severity", "notice"},
      {"sd",
       {{"exampleSDID@32473", {{"iut", "3"}}},
        {"examplePriority@32473", {{"class", "high"}, {"note", R"(a "quoted" ] and \)"}}}}},
      {"format", "rfc5424"}}},
    // RFC 3164 §5.4 example 1, with the year and zone fixed by --timezone UTC.
    // VMware ESXi: RFC 5424 with unquoted SD values. Auto mode keeps every field and says why.
    {"rfc5424_best_effort_esxi",
     {},
     "<166>1 2021-03-04T10:12:33.123Z esx01 Hostd 2098989 - [Originator@6876 "
     "sub=Vimsvc.TaskManager opID=esxui-4c5e] Task Created",
     {{"timestamp", "2021-03-04T10:12:33.123Z"},
      {"host", "esx01"},
      {"app", "Hostd"},
      {"procid", "2098989"},
      {"facility", "local4"},
      {"severity", "info"},
      {"message", "Task Created"},
      {"sd", {{"Originator@6876", {{"sub", "Vimsvc.TaskManager"}, {"opID", "esxui-4c5e"}}}}},
      {"format", "rfc5424"},
      {"parse_error", "bad_structured_data"}}},
    {"rfc3164_example",
     {"--format", "rfc3164", "--timezone", "UTC"},
     "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
     {{"host", "mymachine"},
      {"app", "su"},
      {"facility", "auth"},
      {"severity", "crit"},
      {"message", "'su root' failed for lonvick on /dev/pts/8"},
      {"format", "rfc3164"}}},
    {"gelf_explicit",
     {"--format", "gelf"},
     R"({"version":"1.1","host":"example.org","short_message":"A short message","full_message":"Backtrace here","level":1,"timestamp":1385053862.3072,"_user_id":9001,"_some_info":"foo","_id":"dropped","_app":"shop"})",
     {{"timestamp", "2013-11-21T17:11:02.307Z"},
      {"host", "example.org"},
      {"app", "shop"},
      {"severity", "alert"},
      {"message", "A short message"},
      {"fields", {{"full_message", "Backtrace here"}, {"user_id", 9001}, {"some_info", "foo"}}},
      {"format", "gelf"}}},
};

class parse_command : public ::testing::TestWithParam<parse_case> {};

TEST_P(parse_command, prints_the_event) {
  const parse_case& c = GetParam();
  std::vector<std::string> argv = {tocsin_binary().string(), "parse"};
  argv.insert(argv.end(), c.args.begin(), c.args.end());
  const auto r = run_command(argv, c.line + "\n");
  ASSERT_EQ(r.exit_code, 0) << r.stdout_text << r.stderr_text;
  const auto out = json_lines(r.stdout_text);
  ASSERT_EQ(out.size(), 1u) << r.stdout_text;
  json actual = without_received_at(out[0]);
  if (c.name == "rfc3164_example") {
    // The year comes from the clock; the rest of the timestamp must be the sender's.
    const std::string ts = text_field(actual, "timestamp");
    EXPECT_TRUE(std::regex_match(ts, std::regex(R"(\d{4}-10-11T22:14:15(Z|\+00:00))"))) << ts;
    actual.erase("timestamp");
  }
  if (c.name == "gelf_explicit" && actual.contains("timestamp")) {
    // Milliseconds or finer are both fine: compare the instant to the millisecond.
    const std::string ts = text_field(actual, "timestamp");
    EXPECT_EQ(ts.substr(0, 23), "2013-11-21T17:11:02.307") << ts;
    EXPECT_EQ(ts.back(), 'Z') << ts;
    actual["timestamp"] = "2013-11-21T17:11:02.307Z";
  }
  if (c.name == "gelf_explicit" && actual["fields"].is_object() &&
      actual["fields"].contains("app")) {
    // `_app` names the app; keeping it in fields as well is allowed (DESIGN: `_x`→fields.x).
    EXPECT_EQ(actual["fields"]["app"], "shop");
    actual["fields"].erase("app");
  }
  EXPECT_EQ(actual, c.expected) << "actual:   " << actual.dump()
                                << "\nexpected: " << c.expected.dump();
}

INSTANTIATE_TEST_SUITE_P(cli, parse_command, ::testing::ValuesIn(parse_cases),
                         [](const auto& info) { return info.param.name; });

TEST(parse_command_errors, rejected_line_prints_error_and_exits_1) {
  for (const auto& [args, line] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--format", "rfc5424"}, "<999>1 - - - - - - bad pri"},
           {{"--format", "rfc5424"}, "this is not syslog at all"},
           {{"--format", "rfc5424"},
            "<166>1 2021-03-04T10:12:33Z esx01 Hostd - - [Originator@6876 sub=Vimsvc] strict"},
           {{"--format", "rfc5424"}, "<13>1 2003-13-45T99:99:99Z host app - - - impossible date"},
           {{"--format", "rfc5424"},
            "<13>1 2003-10-11T22:14:15Z h a - - [x@1 a=\"1\"][x@1 b=\"2\"] dup"},
           {{}, "<999>1 - - - - - - bad pri in auto mode too"},
           {{"--format", "gelf"}, "[1,2,3]"},
           {{"--format", "gelf"}, R"({"version":"1.1","short_message":"no host"})"},
       }) {
    SCOPED_TRACE(line);
    std::vector<std::string> argv = {tocsin_binary().string(), "parse"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = run_command(argv, line + "\n");
    EXPECT_EQ(r.exit_code, 1);
    const auto out = json_lines(r.stdout_text);
    ASSERT_EQ(out.size(), 1u) << r.stdout_text;
    ASSERT_TRUE(out[0].contains("error")) << out[0].dump();
    EXPECT_TRUE(out[0]["error"].is_string());
    EXPECT_FALSE(out[0]["error"].get<std::string>().empty());
    EXPECT_FALSE(out[0].contains("message"));
  }
}

TEST(parse_command_errors, mixed_stdin_keeps_one_line_out_per_line_in) {
  const std::string input =
      "<13>1 2024-05-01T10:00:00Z web1 nginx - - - first good\n"
      "<777>garbage that cannot be a message\n"
      "<13>1 2024-05-01T10:00:01Z web1 nginx - - - second good\n";
  const auto r = run_command({tocsin_binary().string(), "parse"}, input);
  EXPECT_EQ(r.exit_code, 1) << "one rejected line makes the exit status 1";
  const auto out = json_lines(r.stdout_text);
  ASSERT_EQ(out.size(), 3u) << r.stdout_text;
  EXPECT_EQ(text_field(out[0], "message"), "first good");
  EXPECT_TRUE(out[1].contains("error")) << out[1].dump();
  EXPECT_EQ(text_field(out[2], "message"), "second good");
  EXPECT_EQ(text_field(out[2], "timestamp"), "2024-05-01T10:00:01Z");
}

TEST(parse_command_errors, all_good_exits_0_and_empty_input_prints_nothing) {
  const auto good = run_command({tocsin_binary().string(), "parse"},
                                "<13>1 - h a - - - one\n<14>1 - h a - - - two\n");
  EXPECT_EQ(good.exit_code, 0);
  EXPECT_EQ(json_lines(good.stdout_text).size(), 2u);
  const auto empty = run_command({tocsin_binary().string(), "parse"}, "");
  EXPECT_EQ(empty.exit_code, 0);
  EXPECT_EQ(empty.stdout_text, "");
}

TEST(version_command, prints_tocsin_and_exits_0) {
  const auto r = run_command({tocsin_binary().string(), "version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.stdout_text.find("tocsin"), std::string::npos) << r.stdout_text;
  EXPECT_TRUE(std::regex_search(r.stdout_text, std::regex(R"(\d+\.\d+\.\d+)"))) << r.stdout_text;
}

TEST(check_config_command, example_config_is_valid) {
  const auto example = source_dir() / "config" / "examples" / "tocsin.yaml";
  // From another directory: rules_files are relative to the config file, not the cwd.
  process_options po;
  po.cwd = "/";
  const auto r =
      run_command({tocsin_binary().string(), "check-config", "-c", example.string()}, {}, po);
  EXPECT_EQ(r.exit_code, 0) << r.stdout_text << r.stderr_text;
}

struct broken_config {
  std::string name;
  std::string yaml;
  int line;             // where the error must be reported
  std::string mention;  // a word the message must contain
};

TEST(check_config_command, broken_configs_name_file_line_column) {
  const std::vector<broken_config> cases = {
      {"unknown_key",
       "admin: { listen: 127.0.0.1:9095 }\n"
       "inputs:\n"
       "  - { name: a, type: syslog, transport: udp, listen: 127.0.0.1:5514, bogus: 1 }\n",
       3, "bogus"},
      {"bad_number", "limits:\n  max_message_bytes: lots\n", 2, "max_message_bytes"},
      {"yaml_syntax", "inputs:\n  - { name: a, type: syslog\n  x: [\n", 0, ""},
      {"typo_in_top_level_key", "data_dir: /tmp\nimputs: []\n", 2, "imputs"},
  };
  temp_dir dir("tocsin-it-config");
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto path = dir.write_file(c.name + ".yaml", c.yaml);
    const auto r = run_command({tocsin_binary().string(), "check-config", "-c", path.string()});
    EXPECT_EQ(r.exit_code, 1);
    const std::string all = r.stdout_text + r.stderr_text;
    const std::regex where("(^|\\n)" + path.string() + ":([0-9]+):([0-9]+): ");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(all, m, where)) << all;
    if (c.line > 0) {
      EXPECT_EQ(std::stoi(m[2].str()), c.line) << all;
    }
    EXPECT_GE(std::stoi(m[3].str()), 1) << all;
    if (!c.mention.empty()) EXPECT_NE(all.find(c.mention), std::string::npos) << all;
  }
}

TEST(check_config_command, missing_file_fails) {
  const auto r =
      run_command({tocsin_binary().string(), "check-config", "-c", "/nonexistent/tocsin.yaml"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE((r.stdout_text + r.stderr_text).find("/nonexistent/tocsin.yaml"), std::string::npos);
}

}  // namespace
}  // namespace tocsin::test
