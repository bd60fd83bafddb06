#include "collector/proxy_protocol.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <string>

namespace tocsin::collector {
namespace {

namespace ip = boost::asio::ip;
using tcp = ip::tcp;

constexpr std::string_view v1_prefix = "PROXY ";
constexpr std::string_view v2_signature{"\r\n\r\n\0\r\nQUIT\n", 12};
constexpr std::size_t v2_fixed = 16;

proxy_parse_result fail(const char* why) {
  proxy_parse_result r;
  r.state = proxy_parse_result::invalid;
  r.error = why;
  return r;
}

// True when `data` is a (possibly empty) prefix of `whole`.
bool is_prefix_of(std::string_view data, std::string_view whole) {
  return data.size() <= whole.size() && whole.substr(0, data.size()) == data;
}

// A decimal port, 0..65535, no sign, no leading zero (as HAProxy writes them).
std::optional<unsigned short> parse_port(std::string_view s) {
  if (s.empty() || s.size() > 5 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  unsigned value = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) return std::nullopt;
  return static_cast<unsigned short>(value);
}

std::optional<ip::address> parse_address(std::string_view s, bool v6) {
  if (s.empty() || s.size() > 45) return std::nullopt;
  boost::system::error_code ec;
  const std::string text(s);
  if (v6) {
    const auto a = ip::make_address_v6(text, ec);
    if (ec || a.scope_id() != 0) return std::nullopt;
    return ip::address(a);
  }
  const auto a = ip::make_address_v4(text, ec);
  if (ec) return std::nullopt;
  return ip::address(a);
}

proxy_parse_result parse_v1(std::string_view data) {
  const auto lf = data.substr(0, proxy_v1_max_bytes).find('\n');
  if (lf == std::string_view::npos) {
    if (data.size() >= proxy_v1_max_bytes) return fail("PROXY v1 line longer than 107 bytes");
    // Nothing but printable text can come before the CRLF: fail early on binary junk.
    for (const char c : data) {
      if ((c < 0x20 || c > 0x7e) && c != '\r') return fail("PROXY v1 line is not text");
    }
    if (data.find('\r') != std::string_view::npos && data.back() != '\r') {
      return fail("PROXY v1 line has a CR before its end");
    }
    proxy_parse_result r;
    r.state = proxy_parse_result::need_more;
    return r;
  }
  if (lf == 0 || data[lf - 1] != '\r') return fail("PROXY v1 line does not end in CRLF");
  const std::string_view line = data.substr(0, lf - 1);  // without CRLF
  for (const char c : line) {
    if (c < 0x20 || c > 0x7e) return fail("PROXY v1 line is not text");
  }
  // "PROXY" SP proto [SP src SP dst SP sport SP dport]
  std::array<std::string_view, 7> fields;
  std::size_t n = 0, start = 0;
  for (;;) {
    const auto sp = line.find(' ', start);
    const std::string_view field =
        line.substr(start, sp == std::string_view::npos ? sp : sp - start);
    if (n == fields.size()) return fail("PROXY v1 line has too many fields");
    fields[n++] = field;
    if (sp == std::string_view::npos) break;
    start = sp + 1;
    // UNKNOWN: whatever follows is ignored (spec: the receiver must ignore it).
    if (n == 2 && fields[1] == "UNKNOWN") break;
  }
  proxy_parse_result r;
  r.header.version = 1;
  r.header.length = lf + 1;
  if (n >= 2 && fields[1] == "UNKNOWN") {
    r.state = proxy_parse_result::complete;
    return r;
  }
  if (n < 2 || (fields[1] != "TCP4" && fields[1] != "TCP6")) {
    return fail("PROXY v1 protocol is not TCP4, TCP6 or UNKNOWN");
  }
  if (n != 6) return fail("PROXY v1 line needs source, destination and both ports");
  const bool v6 = fields[1] == "TCP6";
  const auto src = parse_address(fields[2], v6);
  const auto dst = parse_address(fields[3], v6);
  if (!src || !dst) return fail("PROXY v1 address does not match its protocol");
  const auto sport = parse_port(fields[4]);
  const auto dport = parse_port(fields[5]);
  if (!sport || !dport) return fail("PROXY v1 port is not a number in 0..65535");
  r.header.source = tcp::endpoint(*src, *sport);
  r.header.destination = tcp::endpoint(*dst, *dport);
  r.state = proxy_parse_result::complete;
  return r;
}

std::uint16_t be16(const unsigned char* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

proxy_parse_result parse_v2(std::string_view data) {
  proxy_parse_result more;
  more.state = proxy_parse_result::need_more;
  if (data.size() < v2_fixed) {
    // Check what is there already, so junk after the signature fails at once.
    if (data.size() > 12 && (static_cast<unsigned char>(data[12]) >> 4) != 2) {
      return fail("PROXY v2 version is not 2");
    }
    return more;
  }
  const auto* b = reinterpret_cast<const unsigned char*>(data.data());
  const unsigned version = b[12] >> 4, command = b[12] & 0x0f;
  const unsigned family = b[13] >> 4, transport = b[13] & 0x0f;
  const std::size_t length = be16(b + 14);
  if (version != 2) return fail("PROXY v2 version is not 2");
  if (command > 1) return fail("PROXY v2 command is neither LOCAL nor PROXY");
  if (family > 3 || transport > 2) return fail("PROXY v2 address family or transport unknown");
  if (v2_fixed + length > proxy_v2_max_bytes) return fail("PROXY v2 header larger than 4 KiB");
  if (data.size() < v2_fixed + length) return more;

  proxy_parse_result r;
  r.header.version = 2;
  r.header.length = v2_fixed + length;
  const unsigned char* p = b + v2_fixed;
  std::size_t addresses = 0;
  switch (family) {
    case 1:  // AF_INET
      addresses = 12;
      break;
    case 2:  // AF_INET6
      addresses = 36;
      break;
    case 3:  // AF_UNIX
      addresses = 216;
      break;
    default:  // AF_UNSPEC: no addresses
      break;
  }
  if (length < addresses) return fail("PROXY v2 address block shorter than its family needs");
  if (command == 1 && (family == 1 || family == 2)) {
    if (family == 1) {
      ip::address_v4::bytes_type src{}, dst{};
      std::copy(p, p + 4, src.begin());
      std::copy(p + 4, p + 8, dst.begin());
      r.header.source = tcp::endpoint(ip::address_v4(src), be16(p + 8));
      r.header.destination = tcp::endpoint(ip::address_v4(dst), be16(p + 10));
    } else {
      ip::address_v6::bytes_type src{}, dst{};
      std::copy(p, p + 16, src.begin());
      std::copy(p + 16, p + 32, dst.begin());
      r.header.source = tcp::endpoint(ip::address_v6(src), be16(p + 32));
      r.header.destination = tcp::endpoint(ip::address_v6(dst), be16(p + 34));
    }
  }
  // TLVs: type (1), length (2), value. They must tile the rest of the header exactly.
  std::size_t at = addresses;
  while (at < length) {
    if (length - at < 3) return fail("PROXY v2 TLV truncated");
    const std::size_t value = be16(p + at + 1);
    if (length - at - 3 < value) return fail("PROXY v2 TLV longer than the header");
    at += 3 + value;
    ++r.header.tlv_count;
  }
  r.state = proxy_parse_result::complete;
  return r;
}

}  // namespace

proxy_parse_result parse_proxy_header(std::string_view data) {
  if (data.empty()) return {};
  if (data[0] == '\r') {
    if (data.size() < v2_signature.size()) {
      if (is_prefix_of(data, v2_signature)) return {};
      return fail("not a PROXY protocol header");
    }
    if (data.substr(0, v2_signature.size()) != v2_signature) {
      return fail("not a PROXY protocol header");
    }
    return parse_v2(data);
  }
  if (data.size() < v1_prefix.size()) {
    if (is_prefix_of(data, v1_prefix)) return {};
    return fail("not a PROXY protocol header");
  }
  if (data.substr(0, v1_prefix.size()) != v1_prefix) return fail("not a PROXY protocol header");
  return parse_v1(data);
}

}  // namespace tocsin::collector
