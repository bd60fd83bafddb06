#include "config/section_reader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "tests/support/temp_dir.hpp"

namespace tocsin::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The first receiver of a config holding `receivers:` as written in `yaml`, loaded as if from
// `file`.
receiver_config receiver_of(const std::string& yaml,
                            const std::filesystem::path& file = "/etc/tocsin/t.yaml") {
  loaded out = load_string_with_errors(yaml, file);
  EXPECT_THAT(out.errors, ::testing::IsEmpty());
  if (out.cfg.receivers.empty()) {
    ADD_FAILURE() << "no receiver in\n" << yaml;
    return {};
  }
  return out.cfg.receivers.front();
}

// The errors check() throws; empty when it does not throw.
std::vector<std::string> errors_of(const section_reader& reader) {
  try {
    reader.check();
  } catch (const config_error& e) {
    return e.errors();
  }
  return {};
}

constexpr std::string_view hook_keys[] = {"url",   "mode",    "verbose", "retries", "timeout",
                                          "proxy", "tags",    "headers", "cert",    "token_file",
                                          "auth",  "channel", "user"};

TEST(section_reader, reads_every_kind_of_value) {
  const receiver_config receiver = receiver_of(R"(receivers:
  - name: hook
    webhook:
      url: https://example.invalid/alerts
      mode: fast
      verbose: true
      retries: 3
      timeout: 1m30s
      proxy: 127.0.0.1:3128
      tags: [a, b]
      headers: {X-One: "1", X-Empty: ""}
      cert: certs/client.pem
)");
  section_reader reader(receiver, hook_keys);
  constexpr std::string_view modes[] = {"fast", "slow"};
  EXPECT_TRUE(reader.has("url"));
  EXPECT_FALSE(reader.has("auth"));
  EXPECT_EQ(reader.url("url"), "https://example.invalid/alerts");
  EXPECT_EQ(reader.choice("mode", modes), "fast");
  EXPECT_EQ(reader.flag("verbose"), true);
  EXPECT_EQ(reader.count("retries", 1, 10), 3u);
  EXPECT_EQ(reader.span("timeout"), std::chrono::seconds(90));
  EXPECT_EQ(reader.address("proxy"), (endpoint{"127.0.0.1", 3128}));
  EXPECT_EQ(reader.text_list("tags"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(reader.text_map("headers"),
            (std::map<std::string, std::string>{{"X-Empty", ""}, {"X-One", "1"}}));
  // A relative file name is taken from the config file's folder, not the working directory.
  EXPECT_EQ(reader.path("cert"), std::filesystem::path("/etc/tocsin/certs/client.pem"));
  EXPECT_EQ(reader.text("cert"), "certs/client.pem");
  EXPECT_NO_THROW(reader.check());
}

TEST(section_reader, absent_keys_read_as_nothing_without_a_problem) {
  const receiver_config receiver = receiver_of(R"(receivers:
  - name: hook
    webhook: {}
)");
  section_reader reader(receiver, hook_keys);
  constexpr std::string_view modes[] = {"fast"};
  EXPECT_EQ(reader.text("user"), std::nullopt);
  EXPECT_EQ(reader.url("url"), std::nullopt);
  EXPECT_EQ(reader.choice("mode", modes), std::nullopt);
  EXPECT_EQ(reader.flag("verbose"), std::nullopt);
  EXPECT_EQ(reader.count("retries", 0, 5), std::nullopt);
  EXPECT_EQ(reader.span("timeout"), std::nullopt);
  EXPECT_EQ(reader.address("proxy"), std::nullopt);
  EXPECT_EQ(reader.text_list("tags"), std::nullopt);
  EXPECT_EQ(reader.text_map("headers"), std::nullopt);
  EXPECT_EQ(reader.path("cert"), std::nullopt);
  EXPECT_EQ(reader.secret_file("token_file"), std::nullopt);
  EXPECT_TRUE(errors_of(reader).empty());
}

TEST(section_reader, reports_every_bad_value_at_its_key_sorted_by_position) {
  const receiver_config receiver = receiver_of(R"(receivers:
  - name: hook
    webhook:
      url: ftp://example.invalid
      mode: fsat
      verbose: maybe
      retries: 11
      timeout: soon
      proxy: nowhere
      tags: {a: b}
      headers: [x]
      cert: ""
)",
                                               "t.yaml");
  section_reader reader(receiver, hook_keys);
  constexpr std::string_view modes[] = {"fast", "slow"};
  EXPECT_EQ(reader.url("url"), std::nullopt);
  EXPECT_EQ(reader.choice("mode", modes), std::nullopt);
  EXPECT_EQ(reader.flag("verbose"), std::nullopt);
  EXPECT_EQ(reader.count("retries", 1, 10), std::nullopt);
  EXPECT_EQ(reader.span("timeout"), std::nullopt);
  EXPECT_EQ(reader.address("proxy"), std::nullopt);
  EXPECT_EQ(reader.text_list("tags"), std::nullopt);
  EXPECT_EQ(reader.text_map("headers"), std::nullopt);
  // The first problem is not thrown alone: check() throws them all, in file order.
  EXPECT_EQ(reader.path("cert"), std::nullopt);
  const auto errors = errors_of(reader);
  ASSERT_EQ(errors.size(), 9u) << ::testing::PrintToString(errors);
  EXPECT_EQ(errors[0],
            "t.yaml:4:12: receivers[0].webhook.url: invalid URL 'ftp://example.invalid': expected "
            "http:// or https://");
  EXPECT_EQ(errors[1],
            "t.yaml:5:13: receivers[0].webhook.mode: invalid value 'fsat'; expected one of fast, "
            "slow; did you mean 'fast'?");
  EXPECT_EQ(errors[2],
            "t.yaml:6:16: receivers[0].webhook.verbose: expected true or false, got "
            "'maybe'");
  EXPECT_EQ(errors[3], "t.yaml:7:16: receivers[0].webhook.retries: '11' is too large (at most 10)");
  EXPECT_THAT(errors[4], HasSubstr("t.yaml:8:16: receivers[0].webhook.timeout: invalid duration "
                                   "'soon'"));
  EXPECT_THAT(errors[5],
              HasSubstr("t.yaml:9:14: receivers[0].webhook.proxy: invalid endpoint 'nowhere'"));
  EXPECT_EQ(errors[6], "t.yaml:10:13: receivers[0].webhook.tags: expected a list, got a mapping");
  EXPECT_EQ(errors[7],
            "t.yaml:11:16: receivers[0].webhook.headers: expected a mapping, got a list");
  EXPECT_EQ(errors[8], "t.yaml:12:13: receivers[0].webhook.cert: must not be empty");
}

TEST(section_reader, unknown_and_duplicate_keys_are_reported_when_it_is_made) {
  const receiver_config receiver = receiver_of(R"(receivers:
  - name: hook
    webhook:
      ulr: https://example.invalid
      url: https://example.invalid
)",
                                               "t.yaml");
  section_reader reader(receiver, hook_keys);
  EXPECT_THAT(errors_of(reader),
              ElementsAre("t.yaml:4:7: unknown key 'ulr' in receivers[0].webhook; did you mean "
                          "'url'?"));
  EXPECT_EQ(reader.url("url"), "https://example.invalid");
}

TEST(section_reader, a_section_that_is_not_a_mapping_is_reported_once_and_misses_nothing) {
  const receiver_config receiver = receiver_of(R"(receivers:
  - name: hook
    webhook: [url]
)",
                                               "t.yaml");
  section_reader reader(receiver, hook_keys);
  constexpr std::string_view url_key[] = {"url"};
  reader.require(url_key);
  reader.require_one_of(hook_keys);
  EXPECT_FALSE(reader.has("url"));
  EXPECT_THAT(errors_of(reader),
              ElementsAre("t.yaml:3:14: receivers[0].webhook: expected a mapping, got a list"));
}

TEST(section_reader, require_reports_each_missing_key_at_the_section) {
  const receiver_config receiver = receiver_of(R"(receivers:
  - name: hook
    webhook:
      mode: fast
)",
                                               "t.yaml");
  section_reader reader(receiver, hook_keys);
  constexpr std::string_view required[] = {"mode", "url", "channel"};
  reader.require(required);
  EXPECT_THAT(errors_of(reader),
              ElementsAre("t.yaml:4:7: missing required key 'url' in receivers[0].webhook",
                          "t.yaml:4:7: missing required key 'channel' in receivers[0].webhook"));
}

TEST(section_reader, require_one_of_names_every_alternative) {
  const receiver_config receiver = receiver_of(R"(receivers:
  - name: hook
    webhook:
      mode: fast
)",
                                               "t.yaml");
  section_reader reader(receiver, hook_keys);
  constexpr std::string_view present[] = {"url", "mode"};
  reader.require_one_of(present);
  EXPECT_TRUE(errors_of(reader).empty());
  constexpr std::string_view absent[] = {"url", "token_file", "user"};
  reader.require_one_of(absent);
  EXPECT_THAT(errors_of(reader),
              ElementsAre("t.yaml:4:7: missing required key 'url' or 'token_file' or 'user' in "
                          "receivers[0].webhook"));
}

TEST(section_reader, a_receiver_built_in_code_reads_as_an_empty_section_at_its_location) {
  receiver_config receiver;
  receiver.name = "coded";
  receiver.integration = "webhook";
  receiver.where = {"/srv/tocsin.yaml", 7, 3};
  EXPECT_EQ(integration_where(receiver).line, 7);
  EXPECT_EQ(integration_where(receiver).column, 3);
  EXPECT_EQ(integration_where(receiver).file, "/srv/tocsin.yaml");
  section_reader reader(receiver, hook_keys);
  EXPECT_FALSE(reader.has("url"));
  constexpr std::string_view url_key[] = {"url"};
  reader.require(url_key);
  EXPECT_THAT(errors_of(reader), ElementsAre("/srv/tocsin.yaml:7:3: missing required key 'url'"));
}

TEST(section_reader, integration_where_is_the_integration_key) {
  const receiver_config receiver = receiver_of(R"(receivers:
  - name: hook
    webhook:
      url: https://example.invalid
)",
                                               "t.yaml");
  const source_location where = integration_where(receiver);
  EXPECT_EQ(where.file, "t.yaml");
  EXPECT_EQ(where.line, 3);
  EXPECT_EQ(where.column, 5);
}

TEST(section_reader, error_is_at_the_key_or_else_at_the_section) {
  const receiver_config receiver = receiver_of(R"(receivers:
  - name: hook
    webhook:
      channel: "#ops"
)",
                                               "t.yaml");
  section_reader reader(receiver, hook_keys);
  reader.error("channel", "no such channel");
  reader.error("user", "a user is needed with a channel");
  EXPECT_THAT(errors_of(reader),
              ElementsAre("t.yaml:4:7: receivers[0].webhook: a user is needed with a channel",
                          "t.yaml:4:16: receivers[0].webhook.channel: no such channel"));
}

TEST(section_reader, nested_sections_share_the_problems_of_their_parent) {
  const receiver_config receiver = receiver_of(R"(receivers:
  - name: hook
    webhook:
      auth:
        user: ops
        password: ""
        realm: x
)",
                                               "t.yaml");
  section_reader reader(receiver, hook_keys);
  constexpr std::string_view auth_keys[] = {"user", "password"};
  section_reader auth = reader.section("auth", auth_keys);
  EXPECT_EQ(auth.text("user"), "ops");
  EXPECT_EQ(auth.text("password"), std::nullopt);
  // The parent's check() throws the section's problems too.
  EXPECT_THAT(errors_of(reader),
              ElementsAre("t.yaml:6:19: receivers[0].webhook.auth.password: must not be empty",
                          "t.yaml:7:9: unknown key 'realm' in receivers[0].webhook.auth"));
}

TEST(section_reader, an_absent_section_reads_as_empty_under_the_name_it_would_have) {
  const receiver_config receiver = receiver_of(R"(receivers:
  - name: hook
    webhook:
      url: https://example.invalid
)",
                                               "t.yaml");
  section_reader reader(receiver, hook_keys);
  constexpr std::string_view auth_keys[] = {"user", "password"};
  section_reader auth = reader.section("auth", auth_keys);
  EXPECT_FALSE(auth.has("user"));
  auth.require(auth_keys);
  EXPECT_THAT(errors_of(reader),
              ElementsAre("t.yaml:4:7: missing required key 'user' in receivers[0].webhook.auth",
                          "t.yaml:4:7: missing required key 'password' in "
                          "receivers[0].webhook.auth"));
}

TEST(section_reader, a_section_of_a_section_built_in_code_is_named_by_its_key_alone) {
  receiver_config receiver;
  receiver.integration = "webhook";
  receiver.where = {"code.yaml", 1, 1};
  section_reader reader(receiver, hook_keys);
  constexpr std::string_view auth_keys[] = {"user"};
  section_reader auth = reader.section("auth", auth_keys);
  auth.require(auth_keys);
  EXPECT_THAT(errors_of(auth), ElementsAre("code.yaml:1:1: missing required key 'user' in auth"));
}

TEST(section_reader, secret_file_reads_the_secret_relative_to_the_config) {
  test::temp_dir dir;
  std::ofstream(dir.path() / "token") << "t0ken\n";
  std::ofstream(dir.path() / "two-lines") << "a\nb\n";
  const receiver_config receiver = receiver_of(R"(receivers:
  - name: hook
    webhook:
      token_file: token
      user: two-lines
      channel: missing
)",
                                               dir.path() / "tocsin.yaml");
  section_reader reader(receiver, hook_keys);
  EXPECT_EQ(reader.secret_file("token_file"), "t0ken");
  EXPECT_TRUE(errors_of(reader).empty());
  EXPECT_EQ(reader.secret_file("user"), std::nullopt);
  EXPECT_EQ(reader.secret_file("channel"), std::nullopt);
  const std::string file = (dir.path() / "tocsin.yaml").string();
  const std::string folder = dir.path().string();
  EXPECT_THAT(errors_of(reader),
              ElementsAre(file + ":5:13: receivers[0].webhook.user: cannot read '" + folder +
                              "/two-lines': the secret must be one line (the file has more)",
                          file + ":6:16: receivers[0].webhook.channel: cannot read '" + folder +
                              "/missing': No such file or directory"));
}

TEST(section_reader, moves_keep_the_state) {
  const receiver_config receiver = receiver_of(R"(receivers:
  - name: hook
    webhook:
      url: https://example.invalid
)");
  section_reader first(receiver, hook_keys);
  section_reader second(std::move(first));
  EXPECT_TRUE(second.has("url"));
  section_reader third(receiver_config{}, hook_keys);
  third = std::move(second);
  EXPECT_EQ(third.url("url"), "https://example.invalid");
}

TEST(quote, escapes_control_characters_and_cuts_long_text) {
  EXPECT_EQ(quote("a\nb\tc\x01\x7f"), "'a\\nb\\tc\\x01\\x7f'");
  EXPECT_EQ(quote(std::string(61, 'x')), "'" + std::string(60, 'x') + "...'");
  EXPECT_EQ(quote(std::string(60, 'x')), "'" + std::string(60, 'x') + "'");
}

TEST(suggestion, proposes_only_close_enough_candidates) {
  constexpr std::string_view candidates[] = {"listen", "bus", "limits"};
  EXPECT_EQ(suggestion("lsiten", candidates), "; did you mean 'listen'?");
  EXPECT_EQ(suggestion("b", candidates), "");
  EXPECT_EQ(suggestion("limtis", candidates), "; did you mean 'limits'?");
  EXPECT_EQ(suggestion("zzzzzz", candidates), "");
}

TEST(section_reader, a_choice_may_allow_an_empty_value) {
  const receiver_config receiver = receiver_of(R"(receivers:
  - name: hook
    webhook:
      mode: ""
      channel: ""
      user: loud
)");
  section_reader reader(receiver, hook_keys);
  constexpr std::string_view modes[] = {"fast", ""};
  constexpr std::string_view nonempty_modes[] = {"fast", "slow"};
  EXPECT_EQ(reader.choice("mode", modes), "");
  EXPECT_EQ(reader.choice("channel", nonempty_modes), std::nullopt);
  EXPECT_EQ(reader.choice("user", modes), std::nullopt);
  EXPECT_THAT(
      errors_of(reader),
      ElementsAre("/etc/tocsin/t.yaml:5:16: receivers[0].webhook.channel: must not be empty",
                  "/etc/tocsin/t.yaml:6:13: receivers[0].webhook.user: invalid value "
                  "'loud'; expected one of fast, \"\""));
}

TEST(section_reader, section_list_reads_each_mapping_with_its_own_position) {
  const receiver_config receiver = receiver_of(R"(receivers:
  - name: hook
    webhook:
      auth:
        - {user: a, channel: x}
        - {usr: b}
        - plain
)");
  section_reader reader(receiver, hook_keys);
  constexpr std::string_view item_keys[] = {"user", "channel"};
  auto items = reader.section_list("auth", item_keys);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].text("user"), "a");
  EXPECT_EQ(items[0].text("channel"), "x");
  EXPECT_FALSE(items[1].has("user"));
  EXPECT_TRUE(reader.section_list("channel", item_keys).empty());  // absent: none
  EXPECT_THAT(errors_of(reader),
              ElementsAre("/etc/tocsin/t.yaml:6:12: unknown key 'usr' in "
                          "receivers[0].webhook.auth[1]; did you mean 'user'?",
                          "/etc/tocsin/t.yaml:7:11: receivers[0].webhook.auth[2]: expected a "
                          "mapping, got 'plain'"));
}

}  // namespace
}  // namespace tocsin::config
