#pragma once
// Who a sender is, for per-source limits: an IPv4 address, or the /64 of a native IPv6 address
// (one subscriber or host usually holds a whole /64, and can pick any address in it).

#include <array>
#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <cstdint>

namespace tocsin::collector {

// 16 bytes: IPv4 as v4-mapped IPv6 (per address), native IPv6 with its low 64 bits zeroed.
using source_key = std::array<unsigned char, 16>;

inline source_key source_key_of(const boost::asio::ip::address& a) {
  namespace ip = boost::asio::ip;
  if (a.is_v4()) return ip::make_address_v6(ip::v4_mapped, a.to_v4()).to_bytes();
  source_key k = a.to_v6().to_bytes();
  // A v4-mapped address (an IPv4 sender on a dual-stack socket) is an IPv4 address: keep it
  // whole, or every IPv4 sender would share ::ffff:0:0/64.
  if (!a.to_v6().is_v4_mapped()) {
    for (std::size_t i = 8; i < k.size(); ++i) k[i] = 0;
  }
  return k;
}

struct source_key_hash {
  std::size_t operator()(const source_key& k) const noexcept {
    std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
    for (const unsigned char c : k) h = (h ^ c) * 1099511628211ULL;
    return static_cast<std::size_t>(h);
  }
};

}  // namespace tocsin::collector
