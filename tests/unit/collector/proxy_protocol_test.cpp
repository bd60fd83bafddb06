// Tests for collector/proxy_protocol.hpp: the examples of HAProxy's doc/proxy-protocol.txt,
// every prefix of a valid header (need_more, never invalid), and malformed headers.

#include "collector/proxy_protocol.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tocsin::collector {
namespace {

using state = proxy_parse_result::state_t;

std::string endpoint_text(const std::optional<boost::asio::ip::tcp::endpoint>& e) {
  if (!e) return "-";
  return e->address().to_string() + " " + std::to_string(e->port());
}

// A v2 header: signature, version/command, family/transport, length, then `body`.
std::string v2(std::uint8_t ver_cmd, std::uint8_t fam, const std::string& body) {
  std::string h("\r\n\r\n\0\r\nQUIT\n", 12);
  h += static_cast<char>(ver_cmd);
  h += static_cast<char>(fam);
  h += static_cast<char>(body.size() >> 8);
  h += static_cast<char>(body.size() & 0xff);
  return h + body;
}

std::string bytes(std::initializer_list<int> b) {
  std::string out;
  for (const int c : b) out += static_cast<char>(c);
  return out;
}

std::string tlv(int type, const std::string& value) {
  return bytes({type, static_cast<int>(value.size() >> 8), static_cast<int>(value.size() & 0xff)}) +
         value;
}

// 10.0.0.1:1234 -> 10.0.0.2:514
const std::string inet_addresses = bytes({10, 0, 0, 1, 10, 0, 0, 2, 0x04, 0xd2, 0x02, 0x02});

struct good_case {
  const char* name;
  std::string header;
  int version;
  std::string source, destination;
  std::size_t tlvs = 0;
};

std::vector<good_case> good_cases() {
  std::string inet6(36, '\0');
  inet6[15] = 1;                                      // ::1
  inet6[16] = 0x20, inet6[17] = 0x01, inet6[31] = 2;  // 2001::2
  inet6[32] = 0x9c, inet6[33] = 0x40;                 // 40000
  inet6[34] = 0x02, inet6[35] = 0x02;                 // 514
  return {
      {"v1 tcp4", "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n", 1, "192.168.0.1 56324",
       "192.168.0.11 443"},
      {"v1 tcp6", "PROXY TCP6 2001:db8::1 2001:db8::2 4000 514\r\n", 1, "2001:db8::1 4000",
       "2001:db8::2 514"},
      {"v1 ports 0 and 65535", "PROXY TCP4 1.2.3.4 5.6.7.8 0 65535\r\n", 1, "1.2.3.4 0",
       "5.6.7.8 65535"},
      {"v1 unknown", "PROXY UNKNOWN\r\n", 1, "-", "-"},
      // The spec's worst case: 107 bytes, whatever follows UNKNOWN is ignored.
      {"v1 unknown, longest line",
       "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
       "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n",
       1, "-", "-"},
      {"v2 proxy inet stream", v2(0x21, 0x11, inet_addresses), 2, "10.0.0.1 1234", "10.0.0.2 514"},
      {"v2 proxy inet6 stream", v2(0x21, 0x21, inet6), 2, "::1 40000", "2001::2 514"},
      {"v2 local (health check)", v2(0x20, 0x00, ""), 2, "-", "-"},
      {"v2 local with addresses", v2(0x20, 0x11, inet_addresses), 2, "-", "-"},
      {"v2 proxy unspec", v2(0x21, 0x00, ""), 2, "-", "-"},
      {"v2 proxy unix", v2(0x21, 0x31, std::string(216, 'x')), 2, "-", "-"},
      {"v2 with TLVs (authority, unique id, noop padding)",
       v2(0x21, 0x11,
          inet_addresses + tlv(0x02, "logs.example.com") + tlv(0x05, "abc") +
              tlv(0x04, std::string(5, '\0'))),
       2, "10.0.0.1 1234", "10.0.0.2 514", 3},
      {"v2 empty TLV", v2(0x21, 0x11, inet_addresses + tlv(0x04, "")), 2, "10.0.0.1 1234",
       "10.0.0.2 514", 1},
      // Captured from Debian's HAProxy 2.6 (send-proxy; send-proxy-v2 with
      // proxy-v2-options unique-id; send-proxy-v2 from an IPv6 client).
      {"haproxy 2.6 send-proxy", "PROXY TCP4 127.0.0.2 127.0.0.1 52647 41001\r\n", 1,
       "127.0.0.2 52647", "127.0.0.1 41001"},
      {"haproxy 2.6 send-proxy-v2 with a unique-id TLV",
       bytes({0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54,
              0x0a, 0x21, 0x11, 0x00, 0x0f, 0x7f, 0x00, 0x00, 0x03, 0x7f, 0x00,
              0x00, 0x01, 0x89, 0xb3, 0xa0, 0x2b, 0x05, 0x00, 0x00}),
       2, "127.0.0.3 35251", "127.0.0.1 41003", 1},
      {"haproxy 2.6 send-proxy-v2 tcp6",
       v2(0x21, 0x21,
          std::string(15, '\0') + "\x01" + std::string(15, '\0') + "\x01" +
              bytes({0x98, 0x6a, 0xa0, 0x2d})),
       2, "::1 39018", "::1 41005"},
  };
}

TEST(proxy_protocol, valid_headers_are_decoded_and_the_payload_is_left_alone) {
  for (const auto& c : good_cases()) {
    SCOPED_TRACE(c.name);
    const std::string payload = "<13>1 2026-11-26T04:10:55Z h app - - - hello\n";
    const auto r = parse_proxy_header(c.header + payload);
    ASSERT_EQ(r.state, state::complete) << (r.error ? r.error : "");
    EXPECT_EQ(r.header.version, c.version);
    EXPECT_EQ(r.header.length, c.header.size());
    EXPECT_EQ(endpoint_text(r.header.source), c.source);
    EXPECT_EQ(endpoint_text(r.header.destination), c.destination);
    EXPECT_EQ(r.header.tlv_count, c.tlvs);
    // Exactly the header, nothing after it: the same.
    EXPECT_EQ(parse_proxy_header(c.header).header.length, c.header.size());
  }
}

TEST(proxy_protocol, every_prefix_of_a_valid_header_needs_more) {
  for (const auto& c : good_cases()) {
    SCOPED_TRACE(c.name);
    for (std::size_t n = 0; n < c.header.size(); ++n) {
      const auto r = parse_proxy_header(std::string_view(c.header).substr(0, n));
      EXPECT_EQ(r.state, state::need_more)
          << "prefix of " << n << " bytes: " << (r.error ? r.error : "");
    }
  }
}

TEST(proxy_protocol, malformed_headers_are_invalid) {
  const std::vector<std::pair<const char*, std::string>> cases = {
      {"plain syslog", "<13>1 2026-11-26T04:10:55Z h app - - - hello\n"},
      {"HTTP request", "POST /gelf HTTP/1.1\r\n"},
      {"TLS client hello", bytes({0x16, 0x03, 0x01, 0x02, 0x00})},
      {"lower case", "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n"},
      {"unknown protocol", "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n"},
      {"v6 address on TCP4", "PROXY TCP4 ::1 ::2 1 2\r\n"},
      {"v4 address on TCP6", "PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n"},
      {"scoped v6 address", "PROXY TCP6 fe80::1%eth0 fe80::2 1 2\r\n"},
      {"leading zero in an address", "PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n"},
      {"port too large", "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"},
      {"port with leading zero", "PROXY TCP4 1.2.3.4 5.6.7.8 0514 2\r\n"},
      {"port with a sign", "PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n"},
      {"missing port", "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"},
      {"extra field", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"},
      {"double space", "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n"},
      {"LF without CR", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"},
      {"CR in the middle", "PROXY TCP4 1.2.3.4\r 5.6.7.8 1 2\r\n"},
      {"NUL in the line", std::string("PROXY TCP4 1.2.3.4\0 5.6.7.8 1 2\r\n", 33)},
      {"no CRLF within 107 bytes", "PROXY UNKNOWN " + std::string(100, 'a')},
      {"empty protocol", "PROXY \r\n"},
      {"v2 version 1", v2(0x11, 0x11, inet_addresses)},
      {"v2 version 3, known early", v2(0x31, 0x11, inet_addresses).substr(0, 13)},
      {"v2 command 2", v2(0x22, 0x11, inet_addresses)},
      {"v2 family 4", v2(0x21, 0x41, inet_addresses)},
      {"v2 transport 3", v2(0x21, 0x13, inet_addresses)},
      {"v2 inet block too short", v2(0x21, 0x11, inet_addresses.substr(0, 11))},
      {"v2 inet6 block too short", v2(0x21, 0x21, std::string(35, '\0'))},
      {"v2 TLV header truncated", v2(0x21, 0x11, inet_addresses + bytes({0x02, 0x00}))},
      {"v2 TLV value overruns", v2(0x21, 0x11, inet_addresses + bytes({0x02, 0x00, 0x05, 'a'}))},
      // Refused as soon as the length is known, before buffering it.
      {"v2 longer than 4 KiB", v2(0x21, 0x11, std::string(5000, '\0')).substr(0, 16)},
      {"broken v2 signature", std::string("\r\n\r\n\0\r\nQUIT\r", 12)},
      {"signature prefix then junk", "\r\nX"},
  };
  for (const auto& [name, data] : cases) {
    SCOPED_TRACE(name);
    const auto r = parse_proxy_header(data);
    EXPECT_EQ(r.state, state::invalid);
    EXPECT_NE(r.error, nullptr);
  }
}

TEST(proxy_protocol, the_largest_accepted_v2_header) {
  const std::string body = inet_addresses + tlv(0xe0, std::string(4096 - 12 - 3, 'x'));
  const std::string h = v2(0x21, 0x11, body);
  ASSERT_EQ(h.size(), proxy_v2_max_bytes);
  const auto r = parse_proxy_header(h);
  ASSERT_EQ(r.state, state::complete) << (r.error ? r.error : "");
  EXPECT_EQ(r.header.length, proxy_v2_max_bytes);
}

}  // namespace
}  // namespace tocsin::collector
