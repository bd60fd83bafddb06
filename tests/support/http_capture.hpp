#pragma once
// An HTTP server on 127.0.0.1 that records every request and answers from a script: the test
// plays the receiver (Slack, PagerDuty, a webhook) and asserts on what tocsin sent.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tocsin::test {

class http_capture {
 public:
  struct request {
    std::string method, target;
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
    std::chrono::steady_clock::time_point received;
  };
  struct response {
    int status = 200;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // e.g. {"Retry-After", "1"}
    std::chrono::milliseconds delay{0};  // before answering, to play a slow peer
  };

  // Listens on 127.0.0.1, an OS-chosen port, and serves on its own thread until destroyed.
  http_capture();
  ~http_capture();
  http_capture(const http_capture&) = delete;
  http_capture& operator=(const http_capture&) = delete;

  [[nodiscard]] std::uint16_t port() const;
  // "http://127.0.0.1:PORT" + path.
  [[nodiscard]] std::string url(std::string_view path = "/") const;

  // The next requests get these responses in order; after them, the default (200, empty body).
  void push_response(response r);
  void set_default_response(response r);

  // True once at least `n` requests have arrived; false after `timeout`.
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout) const;
  [[nodiscard]] std::vector<request> requests() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace tocsin::test
