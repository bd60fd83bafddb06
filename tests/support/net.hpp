#pragma once
// Loopback networking for integration tests: free ports, waiting for a listener, a tiny HTTP
// client.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace tocsin::test {

using namespace std::chrono_literals;

// A port on 127.0.0.1 that is free for both TCP and UDP right now (both were bound to it). Another
// process may still take it before the test uses it; that is rare and shows as a bind error.
// Throws std::runtime_error if no such port is found.
std::uint16_t free_port();

// True once a TCP connect to host:port succeeds; false after `timeout`.
bool wait_for_tcp(std::uint16_t port, std::chrono::milliseconds timeout,
                  const std::string& host = "127.0.0.1");

struct http_response {
  int status = 0;  // 0: no (valid) response: connection refused, timeout, garbage
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;                            // chunked transfer coding already removed
};

// One blocking HTTP/1.1 request with "Connection: close"; never throws. `host` is an IPv4
// address (tests talk to 127.0.0.1).
http_response http_request(std::string_view method, const std::string& host, std::uint16_t port,
                           std::string_view path, std::string_view body = {},
                           std::string_view content_type = "application/json",
                           std::chrono::milliseconds timeout = 10s,
                           const std::map<std::string, std::string>& headers = {});

inline http_response http_get(const std::string& host, std::uint16_t port, std::string_view path,
                              std::chrono::milliseconds timeout = 10s) {
  return http_request("GET", host, port, path, {}, {}, timeout);
}

}  // namespace tocsin::test
