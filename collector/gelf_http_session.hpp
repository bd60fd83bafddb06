#pragma once
// GELF over HTTP, as Graylog's GELF HTTP input serves it: `POST /gelf` with one GELF document
// as the body (plain JSON, gzip or zlib — detected by its leading bytes, whatever the
// Content-Encoding header says) → 202 Accepted with an empty body. Keep-alive; one request at a
// time per connection.

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string_view>

#include "collector/event.hpp"

namespace tocsin::collector {

// What a GELF HTTP connection needs from its input. ingest_server implements it (decoding,
// counters, per-source limits), so the session itself is only HTTP.
class gelf_http_input {
 public:
  virtual ~gelf_http_input() = default;
  // False while the outputs are full: no further request is read until it is true again.
  [[nodiscard]] virtual bool accepting() const = 0;
  // Bytes of requests read from the connection.
  virtual void received(std::size_t bytes) = 0;
  // Decodes one request body and hands the event on. A failure is counted by the callee; its
  // status becomes the 400 response's reason.
  virtual decode_status deliver(std::string_view body) = 0;
  // Counts (and logs, rate-limited) a request refused before decoding: 404, 405, 413, 415, or
  // a malformed request.
  virtual void reject(const char* code, const char* what) = 0;
  // Called before each request is read: how long to wait first because the sender is over its
  // rate (zero: read now).
  virtual std::chrono::steady_clock::duration pause_before_read() = 0;
};

struct gelf_http_options {
  std::size_t max_body_bytes = 65536;  // larger bodies get 413 (limits.max_message_bytes)
  // A connection with no complete request for this long is closed; zero: never.
  std::chrono::steady_clock::duration idle_timeout = std::chrono::minutes(5);
};

// Serves one accepted connection on its socket's executor until the peer closes, idles or
// sends something that ends the connection. Never throws.
void serve_gelf_http(boost::asio::ip::tcp::socket socket, std::unique_ptr<gelf_http_input> input,
                     const gelf_http_options& options);

}  // namespace tocsin::collector
