#pragma once
// The HAProxy PROXY protocol header (versions 1 and 2) that a load balancer sends at the start of
// each connection to say who the real sender is. Spec: haproxy's doc/proxy-protocol.txt.

#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <optional>
#include <string_view>

namespace tocsin::collector {

struct proxy_header {
  int version = 0;  // 1 or 2
  // The original connection's endpoints. Absent for v1 UNKNOWN, v2 LOCAL (health checks) and
  // v2 families other than INET/INET6: then the connection's own address is the source.
  std::optional<boost::asio::ip::tcp::endpoint> source;
  std::optional<boost::asio::ip::tcp::endpoint> destination;
  std::size_t tlv_count = 0;  // v2 TLVs skipped (their contents are not used)
  std::size_t length = 0;     // bytes of the header; the payload starts after them
};

struct proxy_parse_result {
  enum state_t { complete, need_more, invalid };
  state_t state = need_more;
  proxy_header header;          // when complete
  const char* error = nullptr;  // when invalid: why, for the log
};

// v1 lines are at most 107 bytes with their CRLF (spec, 2.1).
inline constexpr std::size_t proxy_v1_max_bytes = 107;
// v2 headers may carry TLVs up to 64 KiB; more than this is refused (a load balancer sends a few
// hundred bytes at most, and a connection's header is buffered until it is whole).
inline constexpr std::size_t proxy_v2_max_bytes = 16 + 4096;

// Decodes the header at the start of `data`, which holds what the connection sent so far.
// need_more: `data` is a strict prefix of a possibly valid header, so every byte of it belongs
// to the header (a reader may consume it all). complete: the header is `header.length` bytes.
// invalid: not a PROXY header, or a malformed one. Never throws; never reads beyond `data`.
proxy_parse_result parse_proxy_header(std::string_view data);

}  // namespace tocsin::collector
