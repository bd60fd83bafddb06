// The per-source abuse limit keys of `limits:` (per_source_rate, burst,
// max_connections_per_source): defaults, values and errors.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config.hpp"
#include "tests/support/config_errors.hpp"

namespace tocsin::config {
namespace {

TEST(limits_config, per_source_defaults) {
  const auto cfg = load_string("limits: { max_connections: 10 }\n", "t.yaml");
  EXPECT_EQ(cfg.limits.per_source_rate, 0u);
  EXPECT_EQ(cfg.limits.burst, 0u);
  EXPECT_EQ(cfg.limits.max_connections_per_source, 64u);
  EXPECT_EQ(cfg.limits.gelf_chunk_bytes_per_source, 4u << 20);
  EXPECT_EQ(load_string("{}\n", "t.yaml").limits.max_connections_per_source, 64u);
}

TEST(limits_config, zero_turns_the_per_source_connection_cap_off) {
  const auto cfg = load_string("limits: { max_connections_per_source: 0 }\n", "t.yaml");
  EXPECT_EQ(cfg.limits.max_connections_per_source, 0u);
}

TEST(limits_config, gelf_chunk_bytes_per_source_is_read) {
  const auto cfg = load_string("limits: { gelf_chunk_bytes_per_source: 1048576 }\n", "t.yaml");
  EXPECT_EQ(cfg.limits.gelf_chunk_bytes_per_source, 1048576u);
  EXPECT_EQ(test::errors_of(load_string, "limits: { gelf_chunk_bytes_per_source: 0 }\n").size(),
            1u);
}

TEST(limits_config, proxy_protocol_is_per_stream_input) {
  const auto cfg = load_string(
      "inputs:\n"
      "  - { name: a, type: syslog, transport: tcp, listen: 127.0.0.1:0, proxy_protocol: true }\n"
      "  - { name: b, type: gelf, transport: http, listen: 127.0.0.1:0, proxy_protocol: true }\n"
      "  - { name: c, type: syslog, transport: tcp, listen: 127.0.0.1:0 }\n",
      "t.yaml");
  ASSERT_EQ(cfg.inputs.size(), 3u);
  EXPECT_TRUE(cfg.inputs[0].proxy_protocol);
  EXPECT_TRUE(cfg.inputs[1].proxy_protocol);
  EXPECT_FALSE(cfg.inputs[2].proxy_protocol);
  const auto udp = test::errors_of(
      load_string,
      "inputs:\n"
      "  - { name: u, type: syslog, transport: udp, listen: 127.0.0.1:0, proxy_protocol: true }\n");
  ASSERT_EQ(udp.size(), 1u);
  EXPECT_NE(udp[0].find("proxy_protocol: only valid with transport: tcp, tls or http"),
            std::string::npos)
      << udp[0];
  EXPECT_EQ(test::errors_of(load_string,
                            "inputs:\n"
                            "  - { name: u, type: syslog, transport: tcp, listen: 127.0.0.1:0, "
                            "proxy_protocol: maybe }\n")
                .size(),
            1u);
}

TEST(limits_config, receive_buffer_is_per_udp_input) {
  const auto cfg = load_string(
      "inputs:\n"
      "  - { name: a, type: syslog, transport: udp, listen: 127.0.0.1:0, receive_buffer: 33554432 "
      "}\n"
      "  - { name: b, type: gelf, transport: udp, listen: 127.0.0.1:0 }\n",
      "t.yaml");
  ASSERT_EQ(cfg.inputs.size(), 2u);
  EXPECT_EQ(cfg.inputs[0].receive_buffer, 33554432u);
  EXPECT_EQ(cfg.inputs[1].receive_buffer, std::size_t{8} << 20) << "the default";
  const auto tcp = test::errors_of(load_string,
                                   "inputs:\n"
                                   "  - { name: t, type: syslog, transport: tcp, listen: "
                                   "127.0.0.1:0, receive_buffer: 1048576 }\n");
  ASSERT_EQ(tcp.size(), 1u);
  EXPECT_NE(tcp[0].find("receive_buffer: only valid with transport: udp"), std::string::npos)
      << tcp[0];
  EXPECT_EQ(test::errors_of(load_string,
                            "inputs:\n"
                            "  - { name: u, type: syslog, transport: udp, listen: 127.0.0.1:0, "
                            "receive_buffer: 1000 }\n")
                .size(),
            1u)
      << "below 64 KiB";
}

TEST(limits_config, per_source_limits_are_read) {
  const auto cfg = load_string(
      "limits:\n  per_source_rate: 500\n  burst: 2000\n  max_connections_per_source: 8\n",
      "t.yaml");
  EXPECT_EQ(cfg.limits.per_source_rate, 500u);
  EXPECT_EQ(cfg.limits.burst, 2000u);
  EXPECT_EQ(cfg.limits.max_connections_per_source, 8u);
  EXPECT_EQ(cfg.limits.max_connections, 1024u) << "other limits keep their defaults";
}

TEST(limits_config, errors_name_the_line_and_column) {
  EXPECT_EQ(
      test::errors_of(load_string, "limits: { burst: 10 }\n"),
      (std::vector<std::string>{
          "t.yaml:1:11: limits.burst: needs per_source_rate (a bucket size without a rate)"}));
  const auto negative = test::errors_of(load_string, "limits:\n  per_source_rate: -1\n");
  ASSERT_EQ(negative.size(), 1u);
  EXPECT_EQ(negative[0].rfind("t.yaml:2:20: limits.per_source_rate:", 0), 0u) << negative[0];
  const auto zero_burst =
      test::errors_of(load_string, "limits: { per_source_rate: 5, burst: 0 }\n");
  ASSERT_EQ(zero_burst.size(), 1u);
  EXPECT_EQ(zero_burst[0].rfind("t.yaml:1:38: limits.burst:", 0), 0u) << zero_burst[0];
  const auto typo = test::errors_of(load_string, "limits: { max_connection_per_source: 5 }\n");
  ASSERT_EQ(typo.size(), 1u);
  EXPECT_NE(typo[0].find("did you mean 'max_connections_per_source'?"), std::string::npos)
      << typo[0];
}

}  // namespace
}  // namespace tocsin::config
