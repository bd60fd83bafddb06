#include "pipeline/oncall_secrets.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tests/support/temp_dir.hpp"

namespace tocsin::pipeline {
namespace {

using ::testing::HasSubstr;

class oncall_secrets_test : public ::testing::Test {
 protected:
  config::config load(const std::string& yaml) const {
    return config::load_string(yaml, dir_ / "tocsin.yaml");
  }
  static std::vector<std::string> errors_of(const std::function<void()>& fn) {
    try {
      fn();
    } catch (const config::config_error& e) {
      return e.errors();
    }
    return {};
  }

  test::temp_dir dir_{"tocsin-oncall-secrets"};
};

TEST_F(oncall_secrets_test, the_signing_key_file_is_relative_to_the_config) {
  dir_.write_file("ack.key", "0123456789abcdef0123456789abcdef\n");
  const auto signer = make_ack_signer(load("oncall: { signing_key_file: ack.key }\n"));
  const oncall::ack_signer same("0123456789abcdef0123456789abcdef");
  EXPECT_EQ(signer->sign("p1", 1000), same.sign("p1", 1000));
}

TEST_F(oncall_secrets_test, without_a_key_file_each_signer_has_its_own_key) {
  const config::config cfg = load("oncall: { users: [ {name: alice} ] }\n");
  const auto a = make_ack_signer(cfg);
  const auto b = make_ack_signer(cfg);
  EXPECT_NE(a->sign("p1", 1000), b->sign("p1", 1000));
  EXPECT_TRUE(a->verify("p1", 1000, a->sign("p1", 1000)));

  // With escalations (whose pages carry ack links) too; the log says the links end at a restart.
  const config::config paging = load(
      "oncall:\n"
      "  users: [ {name: alice} ]\n"
      "  escalation_policies:\n"
      "    - { name: ops, steps: [ { after: 0s, notify: [ { user: alice } ] } ] }\n");
  ASSERT_FALSE(paging.oncall.escalation_policies.empty());
  const auto c = make_ack_signer(paging);
  EXPECT_NE(c->sign("p1", 1000), a->sign("p1", 1000));
}

TEST_F(oncall_secrets_test, an_unreadable_or_short_key_is_a_config_error_at_its_key) {
  const config::config missing = load("oncall:\n  signing_key_file: nowhere.key\n");
  const auto errors = errors_of([&] { (void)make_ack_signer(missing); });
  ASSERT_EQ(errors.size(), 1U);
  EXPECT_THAT(errors[0], HasSubstr("tocsin.yaml:"));
  EXPECT_THAT(errors[0], HasSubstr("nowhere.key"));

  dir_.write_file("short.key", "tiny\n");
  const config::config short_key = load("oncall:\n  signing_key_file: short.key\n");
  EXPECT_EQ(errors_of([&] { (void)make_ack_signer(short_key); }).size(), 1U);
}

TEST_F(oncall_secrets_test, user_tokens_map_each_token_to_its_user) {
  dir_.write_file("alice.token", "alice-token\n");
  dir_.write_file("bob.token", "bob-token\n");
  const auto tokens =
      read_user_tokens(load("oncall:\n  users:\n"
                            "    - { name: alice, token_file: alice.token }\n"
                            "    - { name: bob, token_file: bob.token }\n"
                            "    - { name: carol }\n"));
  EXPECT_EQ(tokens,
            (std::map<std::string, std::string>{{"alice-token", "alice"}, {"bob-token", "bob"}}));
}

TEST_F(oncall_secrets_test, every_unreadable_and_shared_token_is_named) {
  dir_.write_file("shared.token", "same\n");
  const config::config cfg = load(
      "oncall:\n  users:\n"
      "    - { name: alice, token_file: shared.token }\n"
      "    - { name: bob, token_file: shared.token }\n"
      "    - { name: carol, token_file: gone.token }\n");
  const auto errors = errors_of([&] { (void)read_user_tokens(cfg); });
  ASSERT_EQ(errors.size(), 2U);
  EXPECT_THAT(errors[0], HasSubstr("oncall.users bob: token_file holds the same token as user "
                                   "alice's"));
  EXPECT_THAT(errors[1], HasSubstr("oncall.users carol: token_file gone.token: "));
}

}  // namespace
}  // namespace tocsin::pipeline
